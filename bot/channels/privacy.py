"""A BSN never enters Voordeur: it is removed from a resident's message before Rasa sees it.

Residents type their BSN despite the warning at the start ("mijn bsn is 123456782"). Removing
it in the input channel, before the message reaches NLU, the tracker store, the event broker or
any log, is the only place where "not stored" holds for every later step. The text then carries
the marker ``[BSN]`` (not "[BSN verwijderd]": the NLU reads "verwijder" as a request to erase
data), which the action server answers with a short warning
(actions/privacy_requests.py). The same wrapper guards every channel: REST, socket.io (the web
widget) and Twilio (SMS/WhatsApp, bot/channels/twilio_voordeur.py).
"""

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint
from sanic.request import Request

from privacy.redaction import BSN, strip_bsn

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


def without_bsn(on_new_message: OnNewMessage) -> OnNewMessage:
    """Wrap Rasa's message handler so that every incoming text has its BSNs removed."""

    async def handle(message: UserMessage) -> Any:
        if message.text:
            message.text = strip_bsn(message.text, BSN)
        return await on_new_message(message)

    return handle


class PrivateRestInput(RestInput):
    """Rasa's REST channel (same name and URL: /webhooks/rest/webhook), BSN-free — also in
    what the channel itself logs when handling a message fails."""

    def _extract_message(self, req: Request) -> str | None:
        text = super()._extract_message(req)
        return strip_bsn(text, BSN) if text else text

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        return super().blueprint(without_bsn(on_new_message))


class PrivateSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel (the web widget), BSN-free."""

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        return super().blueprint(without_bsn(on_new_message))
