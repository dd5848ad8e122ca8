"""SMS and WhatsApp through Twilio, safely.

Rasa's own Twilio channel trusts every POST. This one, at the same path
(`POST /webhooks/twilio/webhook`):
1. checks `X-Twilio-Signature` with twilio's RequestValidator — a bad signature gets 403 and
   changes nothing;
2. ignores a replayed webhook (same MessageSid) — Twilio retries when we answer slowly, and a
   resident must not get every answer twice;
3. tells the actions whether this is "sms" or "whatsapp" (metadata.channel), so choices are
   rendered as numbered lines and answers stay within two SMS segments;
4. replies from the matching number (the WhatsApp sender for WhatsApp conversations).
"""

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 5_000  # longer than any concatenated SMS; protects the NLU from abuse
SEEN_LIMIT = 10_000


class SeenMessages:
    """A bounded memory of MessageSids already handled by this process."""

    def __init__(self, limit: int = SEEN_LIMIT) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._limit = limit

    def first_time(self, message_sid: str) -> bool:
        if message_sid in self._seen:
            return False
        self._seen[message_sid] = None
        if len(self._seen) > self._limit:
            self._seen.popitem(last=False)
        return True


def channel_of(sender: str) -> str:
    return "whatsapp" if sender.startswith("whatsapp:") else "sms"


def flat_form(form: Mapping[str, list[str]]) -> dict[str, str]:
    """Sanic gives lists per field; Twilio signs the first value of each."""
    return {key: values[0] if values else "" for key, values in form.items()}


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
            auth_token=credentials.get("auth_token"),
            twilio_number=credentials.get("twilio_number"),
            whatsapp_number=credentials.get("whatsapp_number"),
            public_url=credentials.get("public_url"),
            send=str(credentials.get("send", "true")).lower() in ("1", "true", "yes"),
        )

    def __init__(
        self,
        account_sid: str | None,
        auth_token: str,
        twilio_number: str | None,
        whatsapp_number: str | None = None,
        public_url: str | None = None,
        send: bool = True,
    ) -> None:
        super().__init__(account_sid, auth_token, twilio_number, debug_mode=False)
        self.send = send
        self.whatsapp_number = whatsapp_number
        self.public_url = public_url  # the URL Twilio calls, when behind a proxy
        self.validator = RequestValidator(auth_token)
        self.seen = SeenMessages()

    def get_output_channel(self) -> OutputChannel:
        return VoordeurTwilioOutput(
            self.account_sid, self.auth_token, self.twilio_number, self.whatsapp_number, self.send
        )

    def is_authentic(self, url: str, form: dict[str, str], signature: str) -> bool:
        return bool(signature) and bool(self.validator.validate(url, form, signature))

    def user_message(self, form: dict[str, str]) -> UserMessage | None:
        """The message to hand to Rasa, or None when there is nothing (new) to handle."""
        sender, text, sid = form.get("From"), form.get("Body"), form.get("MessageSid", "")
        if not sender or text is None:
            return None
        if sid and not self.seen.first_time(sid):
            logger.info("ignoring replayed Twilio webhook")
            return None
        return UserMessage(
            text.replace("¡", "@")[:MAX_MESSAGE_CHARS],  # @ gets corrupted by some carriers
            self.get_output_channel(),
            sender,
            input_channel=self.name(),
            metadata={"channel": channel_of(sender)},
        )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("voordeur_twilio_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            form = flat_form(request.form)
            url = (
                f"{self.public_url.rstrip('/')}/webhooks/twilio/webhook"
                if self.public_url
                else request.url
            )
            if not self.is_authentic(url, form, request.headers.get("X-Twilio-Signature", "")):
                logger.warning("Twilio webhook with a bad signature refused")
                return response.text("invalid signature", status=403)
            user_message = self.user_message(form)
            if user_message is not None:
                try:
                    await on_new_message(user_message)
                except Exception:  # Twilio would retry; the error is ours, not the resident's
                    logger.exception("handling a Twilio message failed")
            return response.text("", status=204)

        return hook
