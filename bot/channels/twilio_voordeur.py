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
5. Photos and documents (NumMedia > 0) never reach Rasa: a media-only message gets a short
   Dutch acknowledgement instead; text with an attachment is handled as text and then gets the
   acknowledgement about the attachment. Media URLs are never logged.
6. Success → the sid is marked done for 48 hours → 204.
   Failure → the claim is released, the MessageSid and the error type are logged (never the
   text, phone number or media) → 500, so Twilio's retry is handled as new.
"""

import logging
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

from bot.channels.privacy import without_bsn
from bot.channels.twilio_dedup import (
    CLAIM_LEASE_SECONDS,
    Claim,
    ClaimOutcome,
    DedupStore,
    dedup_store_from_url,
)

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
        sender = self.whatsapp_number if recipient_id.startswith("whatsapp:") else None
        sender = sender or self.twilio_number
        for part in text.strip().split("\n\n"):
            await self._send_message({"to": recipient_id, "from_": sender, "body": part})


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
    ) -> None:
        super().__init__(account_sid, auth_token, twilio_number, debug_mode=False)
        self.send = send
        self.whatsapp_number = whatsapp_number
        self.public_url = public_url  # the base URL Twilio calls, when behind a proxy
        self.validator = RequestValidator(auth_token)
        self.dedup: DedupStore = dedup_store or dedup_store_from_url()

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

    async def handle(
        self, form: dict[str, str], on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        """Steps 2–6 of the module docstring, for a form whose signature was checked."""
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

        try:
            if user_message is not None:
                await on_new_message(user_message)
            elif media:
                await output.send_text_message(sender, MEDIA_ONLY_REPLY)
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

        if user_message is not None and media:
            try:  # the text was handled: a lost note about the attachment must not undo that
                await output.send_text_message(sender, MEDIA_WITH_TEXT_REPLY)
            except Exception as exc:
                logger.error("attachment note for %s not sent (%s)", sid, type(exc).__name__)
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

        guarded = without_bsn(on_new_message)
        return hook
