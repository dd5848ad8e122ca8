"""Messages between a professional and the resident, through the resident's own channel.

Outbound (``send_message``), for a case of the professional's organisation:

1. Refused (``MessageRefused``, 409, in English and Dutch) when the case is returned or closed,
   when consent does not cover the organisation (withdrawn, or a returned case without it),
   when there is no phone number, and on WhatsApp outside the 24-hour window without an
   approved template (or with an example template in production).
2. SMS and WhatsApp go through Twilio's official client to ``contact.phone`` in E.164
   (``whatsapp:+31...`` for WhatsApp), from ``TWILIO_NUMBER`` / ``TWILIO_WHATSAPP_NUMBER``, with
   ``StatusCallback`` ``VOORDEUR_PUBLIC_API_URL/api/v1/twilio/status`` when that is set.
3. WhatsApp's 24-hour rule: free text only within 24 hours of the resident's last message (the
   latest of: the conversation's user events, the handover's transcript, inbound thread
   messages). Later, the organisation's approved template (``whatsapp_template_content_sid``
   in the region file) goes with ContentVariables ``{"1": organisation name, "2": reference}``
   and the message is marked ``via_template``; the professional's own text is then kept in the
   case but not sent (the resident answers the template; then free text is possible again).
4. The web chat: the API cannot push to a browser, but an open chat asks for messages every
   15 seconds (``GET /api/v1/webchat/messages``, ``webchat_pickup``), which sets the
   conversation's ``webchat_seen_at``. Asked within the last ``WEBCHAT_OPEN`` (10 minutes):
   the message is stored as ``queued`` and becomes ``delivered`` when the chat picks it up.
   Otherwise the chat is closed: ``not_sent`` with reason ``webchat``, and the professional is
   told to call or write otherwise. Likewise ``TWILIO_SEND=false`` stores ``not_sent`` with
   reason ``sending_off`` (local runs).
5. A Twilio error stores the message as ``failed`` with its ErrorCode (``twilio_error``), an
   unreachable Twilio as ``failed`` with ``twilio_unreachable``: the professional sees it.

Delivery status (``apply_status``): Twilio's StatusCallback moves ``status`` forward only
(queued < sent < delivered < read); ``failed`` and ``undelivered`` are final, and so is
``read``.

Inbound (``receive``): the assistant's Twilio channel offers every SMS/WhatsApp message first.
It belongs to a thread when an open handover (not returned or closed, consent covering the
organisation) of the same channel and phone number (last nine digits) had a professional's
message in the last ``THREAD_DAYS`` days; the most recent such thread wins. The text is stored
in the thread and appended to the handover's transcript (so the professional reads it there
too), the files as ``HandoverMedia`` (``services/media.py``). Idempotent on ``message_sid``.

Nothing here logs a phone number, a web chat's sender id or a text; audit rows hold ids and
counts only.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from requests import RequestException
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from twilio.base.exceptions import TwilioException, TwilioRestException  # type: ignore[import-untyped]
from twilio.http.http_client import TwilioHttpClient  # type: ignore[import-untyped]
from twilio.http.response import Response as TwilioResponse  # type: ignore[import-untyped]
from twilio.rest import Client  # type: ignore[import-untyped]

from handover_api.core.config import Settings
from handover_api.models import (
    FINISHED_STATUSES,
    OPEN_STATUSES,
    Conversation,
    ConversationEvent,
    Handover,
    HandoverMedia,
    HandoverMessage,
    TranscriptEvent,
    utcnow,
)
from handover_api.schemas import (
    InboundMessageIn,
    InboundMessageResult,
    MediaOut,
    MessageOut,
    MessagePlan,
    RefusedMediaOut,
)
from handover_api.services import audit, events, media
from handover_api.services.directory import Directory
from handover_api.services.errors import ConflictError, InvalidRequestError
from handover_api.services.handovers import phone_digits
from handover_api.services.principals import Principal
from handover_api.services.redaction import strip_bsn

logger = logging.getLogger(__name__)
# Twilio's client logs every request's URL and headers at INFO: only its warnings here.
_http_logger = logging.getLogger("handover_api.twilio_http")
_http_logger.setLevel(logging.WARNING)

TWILIO_API = "https://api.twilio.com"
STATUS_PATH = "/api/v1/twilio/status"
WHATSAPP_WINDOW = timedelta(hours=24)
THREAD_DAYS = 14
TWILIO_TIMEOUT_SECONDS = 10.0
MAX_TEXT = 1600
# The web chat counts as open this long after it last asked for messages (it asks every 15 s).
WEBCHAT_OPEN = timedelta(minutes=10)
# ``webchat_seen_at`` is written at most this often per conversation (fewer writes per poll).
WEBCHAT_SEEN_GRANULARITY = timedelta(seconds=60)

# Twilio's message statuses as ours: everything before "sent" is queued, canceled failed.
TWILIO_STATUSES = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}
PROGRESS = {"queued": 0, "sent": 1, "delivered": 2, "read": 3}
FINAL = frozenset({"read", "failed", "undelivered"})
THREAD_OPENING = ("queued", "sent", "delivered", "read", "not_sent")

# Why a message cannot go (409): (English, Dutch).
REFUSALS: dict[str, tuple[str, str]] = {
    "finished": (
        "this handover is returned or closed: no more messages to the resident",
        "Deze zaak is afgerond of teruggelegd: er kunnen geen berichten meer naar de inwoner.",
    ),
    "no_consent": (
        "consent does not cover your organisation (withdrawn, or not given for it): the "
        "resident cannot be messaged from this case",
        "De toestemming van de inwoner geldt niet (meer) voor uw organisatie: u kunt de "
        "inwoner vanuit deze zaak geen bericht sturen.",
    ),
    "no_phone": (
        "the handover holds no usable phone number to message the resident",
        "Er is geen bruikbaar telefoonnummer van de inwoner om een bericht naar te sturen.",
    ),
    "no_template": (
        "WhatsApp allows free text only within 24 hours of the resident's last message; after "
        "that only an approved template, and none is configured for your organisation "
        "(whatsapp_template_content_sid in the region file)",
        "WhatsApp staat vrije tekst alleen toe binnen 24 uur na het laatste bericht van de "
        "inwoner; daarna alleen een goedgekeurde sjabloontekst, en voor uw organisatie is "
        "geen sjabloon ingesteld. Bel de inwoner of stuur een SMS.",
    ),
    "example_template": (
        "the WhatsApp template configured for your organisation is example configuration, "
        "not an approved template; it is never sent in production",
        "Het WhatsApp-sjabloon van uw organisatie is een voorbeeld, geen goedgekeurd sjabloon: "
        "het wordt niet verstuurd. Bel de inwoner of stuur een SMS.",
    ),
}
# Why a message was stored but not sent, or failed (``status_reason``), in Dutch.
REASON_LABELS = {
    "webchat": "De chat van de inwoner is gesloten: het bericht is bewaard in de zaak, niet "
    "verstuurd. Bel de inwoner of stuur een e-mail.",
    # Not a failure: the next message goes to the resident's open web chat (plan reason).
    "webchat_open": "De chat van de inwoner is nu open: uw bericht wacht tot de chat het "
    "ophaalt (binnen een halve minuut) en verschijnt dan in de chat van de inwoner.",
    "no_channel": "Deze zaak kwam niet via SMS of WhatsApp binnen: het bericht is niet verstuurd.",
    "sending_off": "Versturen staat uit (TWILIO_SEND=false): het bericht is alleen bewaard.",
    "no_sender_number": "Er is geen afzendernummer ingesteld voor dit kanaal: het bericht is "
    "niet verstuurd.",
    "twilio_error": "Twilio weigerde het bericht.",
    "twilio_unreachable": "Twilio was niet bereikbaar: probeer het later opnieuw.",
}


class MessageRefused(ConflictError):
    """409: the message cannot go; ``dutch`` is what the staff page shows."""

    def __init__(self, code: str) -> None:
        english, dutch = REFUSALS[code]
        super().__init__(f"{english} ({dutch})")
        self.code = code
        self.dutch = dutch


# --- the Twilio client --------------------------------------------------------------------------


class BaseUrlHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """Twilio's HTTP client with ``https://api.twilio.com`` replaced by ``base_url`` (a local
    fake of Twilio's REST API in tests: ``TWILIO_API_BASE_URL``)."""

    def __init__(self, base_url: str, timeout: float = TWILIO_TIMEOUT_SECONDS) -> None:
        super().__init__(timeout=timeout, logger=_http_logger)
        self.base_url = base_url.rstrip("/")

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        if url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )


def twilio_client(settings: Settings) -> Any:
    """The official Twilio client for the configured account (``twilio.rest.Client``)."""
    token = settings.TWILIO_AUTH_TOKEN.get_secret_value() if settings.TWILIO_AUTH_TOKEN else None
    http_client = (
        BaseUrlHttpClient(settings.TWILIO_API_BASE_URL)
        if settings.TWILIO_API_BASE_URL
        else TwilioHttpClient(timeout=TWILIO_TIMEOUT_SECONDS, logger=_http_logger)
    )
    return Client(settings.TWILIO_ACCOUNT_SID, token, http_client=http_client)


# --- addresses and the 24-hour window -----------------------------------------------------------


def e164(phone: object) -> str | None:
    """A Dutch phone number as E.164 (``06-12345678`` → ``+31612345678``), or None."""
    raw = str(phone or "").strip()
    digits = "".join(ch for ch in raw if ch.isdigit())
    if raw.startswith("+"):
        number = digits
    elif digits.startswith("00"):
        number = digits[2:]
    elif digits.startswith("0") and len(digits) == 10:
        number = "31" + digits[1:]
    else:
        return None
    return f"+{number}" if 8 <= len(number) <= 15 and not number.startswith("0") else None


def last_inbound_at(session: Session, *, handover: Handover) -> datetime | None:
    """When the resident last wrote: conversation events, transcript, thread replies."""
    moments = [
        session.scalar(
            select(func.max(ConversationEvent.at)).where(
                ConversationEvent.conversation_id == handover.conversation_id,
                ConversationEvent.sender == "user",
            )
        ),
        session.scalar(
            select(func.max(TranscriptEvent.at)).where(
                TranscriptEvent.handover_id == handover.id, TranscriptEvent.sender == "user"
            )
        ),
        session.scalar(
            select(func.max(HandoverMessage.created_at)).where(
                HandoverMessage.handover_id == handover.id, HandoverMessage.direction == "in"
            )
        ),
    ]
    # SQLite returns an aggregate of a UTC column as a naive value or a string.
    known = [_aware(m) for m in moments if m is not None]
    return max(known) if known else None


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)


@dataclass(frozen=True)
class Plan:
    """How a professional's next message goes; ``refusal`` set: it cannot go (409)."""

    channel: str
    refusal: str | None = None
    not_sent_reason: str | None = None
    via_template: bool = False
    content_sid: str | None = None
    template_example: bool = False
    to: str | None = None
    last_inbound_at: datetime | None = None
    # Not refused, not "not sent": said to the professional ("webchat_open").
    notice: str | None = None

    @property
    def mode(self) -> Literal["text", "template", "not_sent", "refused"]:
        if self.refusal:
            return "refused"
        if self.not_sent_reason:
            return "not_sent"
        return "template" if self.via_template else "text"

    def out(self) -> MessagePlan:
        reason = self.refusal or self.not_sent_reason or self.notice
        return MessagePlan(
            mode=self.mode,
            reason=reason,
            last_inbound_at=self.last_inbound_at,
            template_example=self.template_example,
        )


def plan_for(
    session: Session,
    *,
    handover: Handover,
    settings: Settings | None,
    directory: Directory,
    now: datetime | None = None,
) -> Plan:
    """How the next message goes. Without ``settings`` (a page re-rendered after an error)
    only the case, consent and WhatsApp window are considered, not the sending setup."""
    now = now or utcnow()
    channel = handover.channel if handover.channel in ("sms", "whatsapp") else "web"
    if handover.status in FINISHED_STATUSES:
        return Plan(channel, refusal="finished")
    if not handover.consent_covers_destination:
        return Plan(channel, refusal="no_consent")
    if channel == "web":
        if handover.channel != "web":
            return Plan(channel, not_sent_reason="no_channel")
        if webchat_open(session, handover=handover, now=now):
            return Plan(channel, notice="webchat_open")
        return Plan(channel, not_sent_reason="webchat")
    to = e164((handover.contact or {}).get("phone"))
    if to is None:
        return Plan(channel, refusal="no_phone")
    last = None
    via_template = False
    content_sid = None
    example = False
    if channel == "whatsapp":
        to = f"whatsapp:{to}"
        last = last_inbound_at(session, handover=handover)
        if last is None or now - last > WHATSAPP_WINDOW:
            organisation = directory.organisation(handover.destination_organisation)
            content_sid = organisation.whatsapp_template_content_sid if organisation else None
            example = bool(organisation and organisation.whatsapp_template_example)
            if content_sid is None:
                return Plan(channel, refusal="no_template", last_inbound_at=last)
            if example and settings is not None and settings.is_production:
                return Plan(
                    channel, refusal="example_template", last_inbound_at=last, template_example=True
                )
            via_template = True
    reason = None
    if settings is not None and not settings.TWILIO_SEND:
        reason = "sending_off"
    elif settings is not None and _sender(settings, channel) is None:
        reason = "no_sender_number"
    return Plan(
        channel,
        not_sent_reason=reason,
        via_template=via_template,
        content_sid=content_sid,
        template_example=example,
        to=to,
        last_inbound_at=last,
    )


def webchat_open(session: Session, *, handover: Handover, now: datetime) -> bool:
    """Whether the resident's web chat asked for messages in the last ``WEBCHAT_OPEN``."""
    seen = session.scalar(
        select(Conversation.webchat_seen_at).where(
            Conversation.id == handover.conversation_id, Conversation.erased_at.is_(None)
        )
    )
    return seen is not None and now - _aware(seen) <= WEBCHAT_OPEN


def _sender(settings: Settings, channel: str) -> str | None:
    if channel == "sms":
        return settings.TWILIO_NUMBER
    number = settings.TWILIO_WHATSAPP_NUMBER
    if not number:
        return None
    return number if number.startswith("whatsapp:") else f"whatsapp:{number}"


def status_callback_url(settings: Settings) -> str | None:
    if not settings.VOORDEUR_PUBLIC_API_URL:
        return None
    return settings.VOORDEUR_PUBLIC_API_URL.rstrip("/") + STATUS_PATH


# --- sending ----------------------------------------------------------------------------------


def send_message(
    session: Session,
    *,
    handover: Handover,
    text: str,
    principal: Principal,
    settings: Settings,
    directory: Directory,
    now: datetime | None = None,
    client: Any = None,
) -> HandoverMessage:
    """Send (or store) a professional's message to the resident; ``handover`` is the caller's
    own, locked for update. Commits. MessageRefused (409) / InvalidRequestError (422)."""
    now = now or utcnow()
    body = strip_bsn(text.strip())
    if not body:
        raise InvalidRequestError("text must not be empty")
    if len(body) > MAX_TEXT:
        raise InvalidRequestError(f"text must be at most {MAX_TEXT} characters")
    plan = plan_for(session, handover=handover, settings=settings, directory=directory, now=now)
    if plan.refusal:
        raise MessageRefused(plan.refusal)
    message = HandoverMessage(
        id=uuid.uuid4(),
        handover_id=handover.id,
        direction="out",
        channel=plan.channel,
        body=body,
        author_username=principal.username,
        author_display_name=principal.display_name,
        created_at=now,
        status="not_sent",
        status_at=now,
        status_reason=plan.not_sent_reason,
        via_template=plan.via_template,
        content_sid=plan.content_sid,
    )
    if plan.not_sent_reason is None and plan.channel == "web":
        message.status = "queued"  # until the open chat picks it up (webchat_pickup)
    elif plan.not_sent_reason is None:
        _deliver(message, plan, handover, settings, directory, client)
    session.add(message)
    handover.updated_at = now
    events.record(
        session,
        handover,
        "message_sent",
        actor=principal.actor,
        actor_name=principal.display_name,
        detail={
            "channel": message.channel,
            "status": message.status,
            "via_template": message.via_template,
            "message_id": str(message.id),
        },
        at=now,
    )
    audit.record_message_sent(
        session,
        actor=principal.actor,
        handover_id=str(handover.id),
        message_id=str(message.id),
        channel=message.channel,
        status=message.status,
        via_template=message.via_template,
    )
    session.commit()
    logger.info(
        "handover %s: message %s by %s (%s, %s%s)",
        handover.reference,
        message.id,
        principal.actor,
        message.channel,
        message.status,
        ", template" if message.via_template else "",
    )
    return message


def _deliver(
    message: HandoverMessage,
    plan: Plan,
    handover: Handover,
    settings: Settings,
    directory: Directory,
    client: Any,
) -> None:
    """Hand the message to Twilio; the outcome lands on ``message``."""
    params: dict[str, Any] = {"to": plan.to, "from_": _sender(settings, plan.channel)}
    callback = status_callback_url(settings)
    if callback:
        params["status_callback"] = callback
    if plan.via_template:
        params["content_sid"] = plan.content_sid
        params["content_variables"] = json.dumps(
            {
                "1": directory.display_name(handover.destination_organisation),
                "2": handover.reference,
            }
        )
    else:
        params["body"] = message.body
    try:
        sent = (client or twilio_client(settings)).messages.create(**params)
    except TwilioRestException as exc:
        message.status = "failed"
        message.status_reason = "twilio_error"
        message.error_code = str(exc.code) if exc.code is not None else str(exc.status)
        logger.warning("Twilio refused message %s (code %s)", message.id, message.error_code)
        return
    except (TwilioException, RequestException, OSError) as exc:
        message.status = "failed"
        message.status_reason = "twilio_unreachable"
        logger.warning("Twilio unreachable for message %s (%s)", message.id, type(exc).__name__)
        return
    message.twilio_sid = sent.sid
    message.status = TWILIO_STATUSES.get(str(sent.status or "queued"), "queued")
    if sent.error_code:
        message.error_code = str(sent.error_code)
    if message.status in ("failed", "undelivered"):
        message.status_reason = "twilio_error"


# --- the web chat picks up -------------------------------------------------------------------


@dataclass(frozen=True)
class WebchatMessage:
    """A professional's message as the resident's web chat shows it."""

    id: uuid.UUID
    organisation_name: str
    author: str
    body: str
    at: datetime


def first_name(display_name: str | None) -> str:
    """The author's first name for the resident, or "een medewerker"."""
    parts = (display_name or "").split()
    return parts[0] if parts else "een medewerker"


def webchat_pickup(
    session: Session, *, sender_key: str, directory: Directory, now: datetime | None = None
) -> list[WebchatMessage]:
    """The professionals' messages waiting for the web chat of ``sender_key`` (an HMAC of the
    widget's sender id), oldest first, now marked ``delivered``; and the chat's conversations
    marked as seen (``webchat_seen_at``), so the next message waits for it. Only web chat
    handovers whose consent still covers the organisation. Commits."""
    now = now or utcnow()
    rows = session.execute(
        select(HandoverMessage, Handover.destination_organisation)
        .join(Handover, Handover.id == HandoverMessage.handover_id)
        .join(Conversation, Conversation.id == Handover.conversation_id)
        .where(
            Conversation.sender_key == sender_key,
            Conversation.erased_at.is_(None),
            Handover.channel == "web",
            Handover.consent_given.is_(True),
            Handover.consent_withdrawn_at.is_(None),
            Handover.consent_organisation == Handover.destination_organisation,
            HandoverMessage.direction == "out",
            HandoverMessage.channel == "web",
            HandoverMessage.status == "queued",
        )
        .order_by(HandoverMessage.created_at, HandoverMessage.id)
        # Two polls at once: each message goes out once (the other skips the locked rows).
        .with_for_update(of=HandoverMessage, skip_locked=True)
    ).all()
    picked: list[WebchatMessage] = []
    for message, organisation in rows:
        message.status = "delivered"
        message.status_at = now
        picked.append(
            WebchatMessage(
                id=message.id,
                organisation_name=directory.display_name(organisation),
                author=first_name(message.author_display_name),
                body=message.body,
                at=message.created_at,
            )
        )
    stale = now - WEBCHAT_SEEN_GRANULARITY
    for conversation in session.scalars(
        select(Conversation).where(
            Conversation.sender_key == sender_key,
            Conversation.erased_at.is_(None),
            (Conversation.webchat_seen_at.is_(None)) | (Conversation.webchat_seen_at < stale),
        )
    ):
        conversation.webchat_seen_at = now
    session.commit()
    if picked:
        logger.info(
            "web chat picked up %d message(s): %s",
            len(picked),
            ", ".join(str(m.id) for m in picked),
        )
    return picked


# --- delivery status ----------------------------------------------------------------------------


def apply_status(
    session: Session,
    *,
    sid: str,
    twilio_status: str,
    error_code: str | None,
    now: datetime | None = None,
) -> HandoverMessage | None:
    """Twilio's StatusCallback: move the message's status forward. None: unknown sid. Commits
    when something changed."""
    message = session.scalars(
        select(HandoverMessage)
        .where(HandoverMessage.twilio_sid == sid, HandoverMessage.direction == "out")
        .with_for_update()
    ).first()
    if message is None:
        return None
    new = TWILIO_STATUSES.get(twilio_status.strip().lower())
    if new is None or message.status in FINAL or message.status not in PROGRESS:
        return message
    if new in FINAL - {"read"} or PROGRESS.get(new, -1) > PROGRESS[message.status]:
        message.status = new
        message.status_at = now or utcnow()
        if error_code:
            message.error_code = error_code[:20]
        if new in ("failed", "undelivered"):
            message.status_reason = "twilio_error"
        session.commit()
    return message


# --- inbound ------------------------------------------------------------------------------------


def _clean(text: str) -> str:
    """The resident's text without control characters (newlines and tabs stay)."""
    return "".join(ch for ch in text if ch in "\n\t" or (ch >= " " and ch != "\x7f")).strip()


def match_thread(
    session: Session, *, channel: str, from_phone: str, now: datetime
) -> Handover | None:
    """The open handover whose professional last wrote to this number on this channel."""
    digits = phone_digits(from_phone)
    if digits is None:
        return None
    last = func.max(HandoverMessage.created_at).label("last")
    row = session.execute(
        select(HandoverMessage.handover_id, last)
        .join(Handover, Handover.id == HandoverMessage.handover_id)
        .where(
            Handover.search_phone == digits,
            Handover.channel == channel,
            Handover.status.in_(OPEN_STATUSES),
            Handover.consent_given.is_(True),
            Handover.consent_withdrawn_at.is_(None),
            Handover.consent_organisation == Handover.destination_organisation,
            HandoverMessage.direction == "out",
            HandoverMessage.status.in_(THREAD_OPENING),
            HandoverMessage.created_at >= now - timedelta(days=THREAD_DAYS),
        )
        .group_by(HandoverMessage.handover_id)
        .order_by(last.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return session.scalars(
        select(Handover)
        .where(Handover.id == row.handover_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def _result(
    handover: Handover, directory: Directory, stored: int, refused: list[media.RefusedFile]
) -> InboundMessageResult:
    organisation = directory.organisation(handover.destination_organisation)
    return InboundMessageResult(
        matched=True,
        handover_id=handover.id,
        reference=handover.reference,
        organisation_name=organisation.name if organisation else None,
        stored_media=stored,
        refused_media=[
            RefusedMediaOut(content_type=r.content_type, reason=r.reason) for r in refused
        ],
    )


def _media_note(count: int) -> str:
    return "(1 bestand gestuurd)" if count == 1 else f"({count} bestanden gestuurd)"


def receive(
    session: Session,
    *,
    payload: InboundMessageIn,
    directory: Directory,
    actor: str,
    now: datetime | None = None,
) -> InboundMessageResult:
    """A resident's SMS/WhatsApp message as the assistant relays it. Commits when matched."""
    now = now or utcnow()
    accepted, refused = media.check(
        [media.IncomingFile(m.content_type, m.filename, m.data_base64) for m in payload.media]
    )
    existing = _existing(session, payload.message_sid)
    if existing is not None:
        return existing_result(session, existing, directory, refused)
    handover = match_thread(
        session, channel=payload.channel, from_phone=payload.from_phone, now=now
    )
    if handover is None:
        return InboundMessageResult(matched=False)
    body = strip_bsn(_clean(payload.body))
    message = HandoverMessage(
        id=uuid.uuid4(),
        handover_id=handover.id,
        direction="in",
        channel=payload.channel,
        body=body,
        created_at=now,
        twilio_sid=payload.message_sid,
        status="received",
        status_at=now,
    )
    try:
        with session.begin_nested():
            session.add(message)
            session.flush()
    except IntegrityError:
        # The same message relayed twice at once: the other request stored it.
        existing = _existing(session, payload.message_sid)
        if existing is None:
            raise
        return existing_result(session, existing, directory, refused)
    for index, file in enumerate(accepted):
        session.add(
            HandoverMedia(
                id=uuid.uuid4(),
                handover_id=handover.id,
                message_id=message.id,
                content_type=file.content_type,
                size=len(file.data),
                filename=file.filename,
                data=file.data,
                # A microsecond apart: the files keep the order in which they were sent.
                received_at=now + timedelta(microseconds=index),
                twilio_message_sid=payload.message_sid,
            )
        )
    note = _media_note(len(accepted)) if accepted else ""
    transcript_text = "\n".join(part for part in (body, note) if part)
    if transcript_text:
        session.add(
            TranscriptEvent(
                handover_id=handover.id,
                event_id=payload.message_sid,
                sender="user",
                text=transcript_text,
                at=now,
            )
        )
    handover.updated_at = now
    events.record(
        session,
        handover,
        "message_received",
        actor=actor,
        detail={
            "channel": payload.channel,
            "files": len(accepted),
            "message_id": str(message.id),
        },
        at=now,
    )
    audit.record_message_received(
        session,
        actor=actor,
        handover_id=str(handover.id),
        message_id=str(message.id),
        channel=payload.channel,
        stored_media=len(accepted),
        refused_media=len(refused),
    )
    session.commit()
    logger.info(
        "handover %s: resident's message %s received (%d files, %d refused)",
        handover.reference,
        message.id,
        len(accepted),
        len(refused),
    )
    return _result(handover, directory, len(accepted), refused)


def _existing(session: Session, sid: str) -> HandoverMessage | None:
    return session.scalars(
        select(HandoverMessage).where(
            HandoverMessage.twilio_sid == sid, HandoverMessage.direction == "in"
        )
    ).first()


def existing_result(
    session: Session,
    message: HandoverMessage,
    directory: Directory,
    refused: list[media.RefusedFile],
) -> InboundMessageResult:
    """The answer to a message relayed before: the same as the first time."""
    handover = session.get(Handover, message.handover_id)
    assert handover is not None
    stored = session.scalar(
        select(func.count())
        .select_from(HandoverMedia)
        .where(HandoverMedia.message_id == message.id)
    )
    return _result(handover, directory, int(stored or 0), refused)


# --- reading ------------------------------------------------------------------------------------


def thread(session: Session, *, handover: Handover) -> list[MessageOut]:
    """The case's messages, oldest first, with their files. While consent does not cover the
    organisation, bodies are empty and files are not listed (metadata only)."""
    messages = session.scalars(
        select(HandoverMessage)
        .where(HandoverMessage.handover_id == handover.id)
        .order_by(HandoverMessage.created_at, HandoverMessage.id)
    ).all()
    covered = handover.consent_covers_destination
    files: dict[uuid.UUID | None, list[MediaOut]] = {}
    if covered:
        for row in session.execute(
            select(
                HandoverMedia.id,
                HandoverMedia.message_id,
                HandoverMedia.content_type,
                HandoverMedia.size,
                HandoverMedia.filename,
                HandoverMedia.received_at,
            )
            .where(HandoverMedia.handover_id == handover.id)
            .order_by(HandoverMedia.received_at, HandoverMedia.id)
        ):
            files.setdefault(row.message_id, []).append(
                MediaOut(
                    id=row.id,
                    content_type=row.content_type,
                    size=row.size,
                    filename=row.filename,
                    received_at=row.received_at,
                    message_id=row.message_id,
                )
            )
    return [
        MessageOut(
            id=m.id,
            direction=m.direction,  # type: ignore[arg-type]
            channel=m.channel,  # type: ignore[arg-type]
            body=m.body if covered else "",
            author=m.author_display_name,
            author_username=m.author_username,
            created_at=m.created_at,
            status=m.status,  # type: ignore[arg-type]
            status_at=m.status_at,
            status_reason=m.status_reason,
            error_code=m.error_code,
            via_template=m.via_template,
            media=files.get(m.id, []),
        )
        for m in messages
    ]


def to_out(session: Session, message: HandoverMessage) -> MessageOut:
    return MessageOut(
        id=message.id,
        direction=message.direction,  # type: ignore[arg-type]
        channel=message.channel,  # type: ignore[arg-type]
        body=message.body,
        author=message.author_display_name,
        author_username=message.author_username,
        created_at=message.created_at,
        status=message.status,  # type: ignore[arg-type]
        status_at=message.status_at,
        status_reason=message.status_reason,
        error_code=message.error_code,
        via_template=message.via_template,
        media=[],
    )


def media_for_organisation(
    session: Session, *, handover: Handover, media_id: uuid.UUID
) -> HandoverMedia | None:
    """One file of the caller's own handover; None when it is not this case's, or consent no
    longer covers the organisation."""
    if not handover.consent_covers_destination:
        return None
    return session.scalars(
        select(HandoverMedia).where(
            HandoverMedia.id == media_id, HandoverMedia.handover_id == handover.id
        )
    ).first()
