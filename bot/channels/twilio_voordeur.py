"""SMS and WhatsApp through Twilio, without losing or duplicating a resident's message.

Rasa's own Twilio channel trusts every POST and forgets what it handled. This one, at the same
path (`POST /webhooks/twilio/webhook`), does this with every webhook:

1. Checks `X-Twilio-Signature` with twilio's RequestValidator against the URL Twilio called,
   query string included (`public_url` + path + query when Rasa runs behind a proxy, else the
   request URL), and against the form as Twilio signed it, blank fields included (a photo
   comes with `Body=`). A bad signature gets 403 and changes nothing.
2. Reads sender, text (capped at MAX_MESSAGE_CHARS, `¡` back to `@`) and NumMedia. Without a
   sender, or without text and media, there is nothing to do: 204.
3. Claims the MessageSid in the dedup store (twilio_dedup.py: Redis, SQLite or memory, chosen by
   `VOORDEUR_TWILIO_DEDUP_URL` / `dedup_url`) with a short lease (60 s):
   - handled before (a replay: Twilio retries when we answer slowly) → 204, nothing handled;
   - another request is handling it right now → 503 with Retry-After, nothing handled, so
     Twilio may try again once the first attempt has either succeeded or given the sid back;
   - the store itself fails → the message is handled anyway: better answered twice than lost.
4. Hands the text to Rasa with `metadata.channel` "sms" or "whatsapp", so actions render
   choices as numbered lines and keep answers within two SMS segments. Replies go out from the
   matching number (the WhatsApp sender for WhatsApp conversations); with `send` off (local
   runs, tests) nothing reaches Twilio.
5. With the relay on (`relay_url`, inbound_relay.py), the message is first offered to the
   handover API (its BSNs replaced by `[BSN verwijderd]`), with its photos and documents
   fetched from Twilio (at most 5, 10 MB each, JPEG/PNG/HEIC/PDF). When the resident is in a
   thread with a professional (`matched`), the API has added text and files to that handover:
   the resident gets a short Dutch acknowledgement naming the organisation, and Rasa does NOT
   get the text, unless the rule-based detector (bot.life_domains) finds a crisis in it: the
   assistant answers that with national numbers whatever else is going on. Not matched, relay
   off or the API unreachable: Rasa gets the text as before (never lose a message); only the
   error type is logged. A forwarded message whose acknowledgement cannot be sent still
   succeeds (the professional has it).
6. Photos and documents never reach Rasa. Not matched (or relay off): a media-only message gets
   a short Dutch acknowledgement that the assistant cannot look at files; text with an
   attachment is handled as text and then gets that note about the attachment. Stored with a
   handover: "Uw foto/document is doorgestuurd naar ... (kenmerk ...)". A file that could not be
   received (type, size, too many, Twilio or the API failing): a Dutch note saying so, and the
   text is still handled. Media URLs and files are never logged.
7. Replies are cut into messages by sms_split.py: on SMS at paragraph and sentence boundaries
   into parts of at most two segments where possible (numbered choices kept together), never
   over Twilio's 1600 characters; on WhatsApp only beyond that limit.
8. Success → the sid is marked done for 48 hours → 204.
   Failure → the claim is released, the MessageSid and the error type are logged (never the
   text, phone number or media) → 500, so Twilio's retry is handled as new.
"""

import asyncio
import logging
import os
import traceback
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from bot.channels.inbound_relay import (
    NOT_FETCHED,
    TOO_LARGE,
    TOO_MANY,
    WRONG_TYPE,
    FetchedMedia,
    InboundRelay,
    RefusedMedia,
    RelayError,
    RelayResult,
)
from bot.channels.privacy import without_bsn
from bot.channels.sms_split import split_message
from bot.channels.twilio_dedup import (
    CLAIM_LEASE_SECONDS,
    Claim,
    ClaimOutcome,
    DedupStore,
    dedup_store_from_url,
)
from privacy.redaction import strip_bsn

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 5_000  # longer than any concatenated SMS; protects the NLU from abuse
WEBHOOK_PATH = "/webhooks/twilio/webhook"

MEDIA_ONLY_REPLY = (
    "Dank u voor uw bericht. Foto's en documenten kan ik in deze chat niet bekijken. "
    "Wilt u uw vraag in een bericht typen? "
    "Heeft u een document voor een medewerker? Die kan het later bij u opvragen."
)
MEDIA_WITH_TEXT_REPLY = (
    "Uw bijlage kan ik in deze chat niet bekijken. "
    "Heeft u een document voor een medewerker? Die kan het later bij u opvragen."
)
FORWARDED_TEXT_REPLY = (
    "Uw bericht is doorgestuurd naar {organisation}. U krijgt antwoord van de medewerker."
)
FORWARDED_MEDIA_REPLY = "Uw foto/document is doorgestuurd naar {organisation}{reference}."
FORWARDED_MANY_MEDIA_REPLY = (
    "Uw {count} foto's/documenten zijn doorgestuurd naar {organisation}{reference}."
)
MEDIA_NOT_RECEIVED_REPLY = "Uw foto of document is niet goed aangekomen."
MANY_MEDIA_NOT_RECEIVED_REPLY = "{count} foto's of documenten zijn niet goed aangekomen."
MEDIA_ADVICE = {
    WRONG_TYPE: "Stuur een foto (JPG, PNG of HEIC) of een pdf.",
    TOO_LARGE: "Een bestand mag niet groter zijn dan 10 MB.",
    TOO_MANY: "Stuur niet meer dan 5 bestanden in een bericht.",
    NOT_FETCHED: "Wilt u het later nog een keer proberen?",
}
UNKNOWN_ORGANISATION = "de organisatie"


def channel_of(sender: str) -> str:
    return "whatsapp" if sender.startswith("whatsapp:") else "sms"


def flat_form(form: Mapping[str, list[str]]) -> dict[str, str]:
    """Sanic gives lists per field; Twilio signs the first value of each."""
    return {key: values[0] if values else "" for key, values in form.items()}


def twilio_form(request: Request) -> dict[str, str]:
    """The form as Twilio signed it, blank fields included.

    Sanic's `request.form` drops blank values, but a photo arrives with `Body=` and Twilio signs
    that empty Body: without it every media-only message would fail the signature check.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/x-www-form-urlencoded":
        body = request.body.decode("utf-8", errors="replace")
        return flat_form(parse_qs(body, keep_blank_values=True))
    return flat_form(request.form)


def media_count(form: Mapping[str, str]) -> int:
    """NumMedia as a number; anything unreadable counts as no media."""
    try:
        return max(int(form.get("NumMedia") or 0), 0)
    except ValueError:
        return 0


def signed_url(public_url: str | None, path: str, query_string: str, request_url: str) -> str:
    """The URL Twilio signed: the one it called, query string included.

    Behind a proxy Rasa sees another host (and scheme), so `public_url` replaces them; the path
    and query are the request's own.
    """
    if not public_url:
        return request_url
    query = f"?{query_string}" if query_string else ""
    return f"{public_url.rstrip('/')}{path}{query}"


def _advice_key(reason: str) -> str:
    """One of MEDIA_ADVICE's keys for a reason of ours or of the API."""
    reason = reason.lower()
    if reason in MEDIA_ADVICE:
        return reason
    if "large" in reason or "size" in reason or "big" in reason:
        return TOO_LARGE
    if "type" in reason:
        return WRONG_TYPE
    if "many" in reason or "count" in reason:
        return TOO_MANY
    return NOT_FETCHED


def not_received_reply(refused: list[RefusedMedia]) -> str:
    """The Dutch note about files that did not arrive, with what the resident can do."""
    first = (
        MEDIA_NOT_RECEIVED_REPLY
        if len(refused) <= 1
        else MANY_MEDIA_NOT_RECEIVED_REPLY.format(count=len(refused))
    )
    advice = dict.fromkeys(_advice_key(r.reason) for r in refused) or {NOT_FETCHED: None}
    return " ".join([first, *(MEDIA_ADVICE[key] for key in advice)])


def forwarded_replies(result: RelayResult, text: bool, refused: list[RefusedMedia]) -> list[str]:
    """What the resident hears when the message was added to a professional's thread."""
    organisation = result.organisation_name or UNKNOWN_ORGANISATION
    replies = []
    if text:
        replies.append(FORWARDED_TEXT_REPLY.format(organisation=organisation))
    reference = f" (kenmerk {result.reference})" if result.reference else ""
    if result.stored_media == 1:
        replies.append(FORWARDED_MEDIA_REPLY.format(organisation=organisation, reference=reference))
    elif result.stored_media > 1:
        replies.append(
            FORWARDED_MANY_MEDIA_REPLY.format(
                count=result.stored_media, organisation=organisation, reference=reference
            )
        )
    if refused:
        replies.append(not_received_reply(refused))
    return replies


def has_crisis(text: str) -> bool:
    """Whether the rule-based detector finds a crisis (also a third party's); when it cannot
    tell, the answer is yes: the assistant then sees the message."""
    try:
        from bot.life_domains import get_detector  # spaCy: loaded only when needed

        return get_detector().detect(text).crisis is not None
    except Exception as exc:
        logger.error("crisis check failed (%s); the assistant gets the text", type(exc).__name__)
        return True


def _warm_up_detector() -> None:
    has_crisis("")


class VoordeurTwilioOutput(TwilioOutput):
    """Sends through Twilio's API, or — when `send` is off (local runs, tests) — only logs,
    so no development machine ever messages a real phone or calls Twilio."""

    def __init__(
        self,
        account_sid: str | None,
        auth_token: str | None,
        twilio_number: str | None,
        whatsapp_number: str | None,
        send: bool = True,
    ) -> None:
        super().__init__(account_sid, auth_token, twilio_number)
        self.whatsapp_number = whatsapp_number
        self.send = send
        self.unsent: list[dict[str, Any]] = []

    async def _send_message(self, message_data: dict[str, Any]) -> Any:
        if not self.send:
            self.unsent.append(message_data)
            logger.info("Twilio sending is off; %d characters not sent", len(message_data["body"]))
            return None
        return await super()._send_message(message_data)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Sends `text` as one message or, when too long, as parts cut by sms_split.py."""
        sender = self.whatsapp_number if recipient_id.startswith("whatsapp:") else None
        sender = sender or self.twilio_number
        for part in split_message(text, channel_of(recipient_id)):
            await self._send_message({"to": recipient_id, "from_": sender, "body": part})


def relay_from_credentials(credentials: Mapping[str, Any]) -> InboundRelay | None:
    """The relay to the handover API; None when `relay_url` is empty or "off"."""
    url = str(credentials.get("relay_url") or "").strip()
    if not url or url.lower() in ("off", "false", "no", "0"):
        return None
    token = str(credentials.get("relay_token") or "").strip() or os.environ.get(
        "VOORDEUR_SERVICE_TOKEN", "dev-service-token"
    )
    options: dict[str, Any] = {}
    for key in ("timeout", "media_timeout", "fetch_timeout"):
        if credentials.get(f"relay_{key}") not in (None, ""):
            options[key] = float(credentials[f"relay_{key}"])
    if credentials.get("media_base_url"):
        options["media_base_url"] = str(credentials["media_base_url"])
    return InboundRelay(
        url,
        token,
        account_sid=credentials.get("account_sid"),
        auth_token=credentials.get("auth_token"),
        **options,
    )


class VoordeurTwilioInput(TwilioInput):
    @classmethod
    def name(cls) -> str:
        return "twilio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials or not credentials.get("auth_token"):
            raise ValueError("the twilio channel needs at least an auth_token to check signatures")
        return cls(
            account_sid=credentials.get("account_sid"),
            auth_token=str(credentials["auth_token"]),
            twilio_number=credentials.get("twilio_number"),
            whatsapp_number=credentials.get("whatsapp_number"),
            public_url=credentials.get("public_url"),
            send=str(credentials.get("send", "true")).lower() in ("1", "true", "yes"),
            dedup_store=dedup_store_from_url(credentials.get("dedup_url")),
            relay=relay_from_credentials(credentials),
        )

    def __init__(
        self,
        account_sid: str | None,
        auth_token: str,
        twilio_number: str | None,
        whatsapp_number: str | None = None,
        public_url: str | None = None,
        send: bool = True,
        dedup_store: DedupStore | None = None,
        relay: InboundRelay | None = None,
    ) -> None:
        super().__init__(account_sid, auth_token, twilio_number, debug_mode=False)
        self.send = send
        self.whatsapp_number = whatsapp_number
        self.public_url = public_url  # the base URL Twilio calls, when behind a proxy
        self.validator = RequestValidator(auth_token)
        self.dedup: DedupStore = dedup_store or dedup_store_from_url()
        self.relay = relay  # None: no handover API (every text goes to Rasa, files unread)
        self.crisis_check = has_crisis

    def get_output_channel(self) -> OutputChannel:
        return VoordeurTwilioOutput(
            self.account_sid, self.auth_token, self.twilio_number, self.whatsapp_number, self.send
        )

    def is_authentic(self, url: str, form: dict[str, str], signature: str) -> bool:
        return bool(signature) and bool(self.validator.validate(url, form, signature))

    def user_message(
        self, form: dict[str, str], output: OutputChannel | None = None
    ) -> UserMessage | None:
        """The text to hand to Rasa, or None when the message carries no text."""
        sender, text = form.get("From"), (form.get("Body") or "").strip()
        if not sender or not text:
            return None
        return UserMessage(
            text.replace("¡", "@")[:MAX_MESSAGE_CHARS],  # @ gets corrupted by some carriers
            output or self.get_output_channel(),
            sender,
            input_channel=self.name(),
            metadata={"channel": channel_of(sender)},
        )

    async def _claim(self, sid: str) -> Claim | None:
        """The claim on `sid`; None when there is no sid or the store failed (handle anyway)."""
        if not sid:
            return None
        try:
            return await self.dedup.claim(sid)
        except Exception as exc:
            logger.error(
                "Twilio dedup store unavailable (%s); handling %s without replay protection",
                type(exc).__name__,
                sid,
            )
            return None

    async def _finish(self, sid: str, claim: Claim | None, succeeded: bool) -> None:
        """Marks the sid done after success, or gives the claim back after a failure."""
        if claim is None:
            return
        try:
            if succeeded:
                await self.dedup.mark_done(sid, claim.token)
            else:
                await self.dedup.release(sid, claim.token)
        except Exception as exc:  # the lease expires by itself; nothing more to do here
            logger.error("Twilio dedup store failed to record %s (%s)", sid, type(exc).__name__)

    async def _offer(
        self, form: dict[str, str], sender: str, sid: str, text: str, media: int
    ) -> tuple[RelayResult | None, FetchedMedia]:
        """Fetches the files and offers the message to the handover API (step 5).

        Returns the API's answer, or None when the API gave none (then the message is handled
        as if there were no relay, and the files count as not received)."""
        assert self.relay is not None
        fetched = FetchedMedia()
        if media:
            fetched = await self.relay.fetch_media(form, media, sid)
        try:
            result = await self.relay.relay(
                channel_of(sender), sender, sid, strip_bsn(text), fetched.media
            )
        except RelayError as exc:
            logger.error("handover API did not take Twilio message %s (%s)", sid, exc)
            return None, fetched
        logger.info(
            "Twilio message %s offered to the handover API: matched=%s, %d file(s) stored",
            sid,
            result.matched,
            result.stored_media,
        )
        return result, fetched

    async def _plan(
        self, form: dict[str, str], sender: str, sid: str, text: str, media: int
    ) -> tuple[bool, list[str], list[str]]:
        """Whether Rasa gets the text, the replies that must reach the resident (else Twilio
        retries) and the replies sent after Rasa whose loss is only logged."""
        if self.relay is None:
            result, fetched = None, FetchedMedia()
        else:
            result, fetched = await self._offer(form, sender, sid, text, media)
        if result is not None and result.matched:
            refused = fetched.refused + list(result.refused_media)
            if media and not result.stored_media and not refused:
                refused = [RefusedMedia("", NOT_FETCHED)]
            replies = forwarded_replies(result, bool(text), refused if media else [])
            crisis = bool(text) and await asyncio.to_thread(self.crisis_check, text)
            return crisis, [], replies
        if not media:
            return bool(text), [], []
        if self.relay is not None and result is None:  # the API failed: the files are lost
            note = not_received_reply(fetched.refused or [RefusedMedia("", NOT_FETCHED)])
        else:
            note = MEDIA_WITH_TEXT_REPLY if text else MEDIA_ONLY_REPLY
        return bool(text), ([] if text else [note]), ([note] if text else [])

    async def handle(
        self, form: dict[str, str], on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        """Steps 2–8 of the module docstring, for a form whose signature was checked."""
        sender, sid = form.get("From") or "", form.get("MessageSid", "")
        output = self.get_output_channel()
        user_message = self.user_message(form, output)
        media = media_count(form)
        if not sender or (user_message is None and not media):
            return response.text("", status=204)

        claim = await self._claim(sid)
        if claim is not None and claim.outcome is ClaimOutcome.DONE:
            logger.info("ignoring replayed Twilio webhook %s", sid)
            return response.text("", status=204)
        if claim is not None and claim.outcome is ClaimOutcome.IN_PROGRESS:
            logger.info("Twilio webhook %s is being handled by another request", sid)
            return response.text(
                "", status=503, headers={"Retry-After": str(int(CLAIM_LEASE_SECONDS))}
            )

        text = user_message.text if user_message is not None else ""
        try:
            to_rasa, replies, notes = await self._plan(form, sender, sid, text, media)
            if to_rasa and user_message is not None:
                await on_new_message(user_message)
            for reply in replies:
                await output.send_text_message(sender, reply)
        except Exception as exc:
            # Only the sid, the type and the frames: the message or number may sit in str(exc).
            logger.error(
                "handling Twilio message %s failed (%s); Twilio may retry it\n%s",
                sid,
                type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            await self._finish(sid, claim, succeeded=False)
            return response.text("", status=500)

        if notes:
            try:  # the message was handled: a lost note about it must not undo that
                await output.send_text_message(sender, "\n\n".join(notes))
            except Exception as exc:
                logger.error("note for %s not sent (%s)", sid, type(exc).__name__)
        await self._finish(sid, claim, succeeded=True)
        return response.text("", status=204)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("voordeur_twilio_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            form = twilio_form(request)
            url = signed_url(self.public_url, request.path, request.query_string, request.url)
            if not self.is_authentic(url, form, request.headers.get("X-Twilio-Signature", "")):
                logger.warning("Twilio webhook with a bad signature refused")
                return response.text("invalid signature", status=403)
            return await self.handle(form, guarded)

        @hook.listener("after_server_start")
        async def warm_up(*_: Any) -> None:
            if self.relay is not None:  # the crisis check must not make the first reply slow
                asyncio.get_running_loop().run_in_executor(None, _warm_up_detector)

        guarded = without_bsn(on_new_message)
        return hook
