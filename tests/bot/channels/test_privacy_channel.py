"""A BSN never enters Voordeur: the input channels remove it before Rasa sees the message
(bot/channels/privacy.py), unit by unit and through a real Sanic server on a free port."""

import contextlib
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput
from sanic import Sanic

from bot.channels.privacy import PrivateRestInput, PrivateSocketIOInput, without_bsn
from privacy.redaction import BSN as BSN_REMOVED  # the channels mark a removed BSN "[BSN]"


@dataclass
class Rasa:
    """Stands in for Rasa's agent: records the messages it was handed."""

    handled: list[UserMessage] = field(default_factory=list)

    async def __call__(self, message: UserMessage) -> None:
        self.handled.append(message)
        if message.output_channel is not None:
            await message.output_channel.send_text_message(message.sender_id, "Antwoord")

    @property
    def texts(self) -> list[str | None]:
        return [m.text for m in self.handled]


def _message(text: str | None) -> UserMessage:
    return UserMessage(text, CollectingOutputChannel(), "resident-1", input_channel="rest")


# --- the wrapper ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seen"),
    [
        ("mijn bsn is 123456782", f"mijn bsn is {BSN_REMOVED}"),
        ("burgerservicenummer: 1234.56.782", f"burgerservicenummer: {BSN_REMOVED}"),
        ("123456782", BSN_REMOVED),  # passes the elfproef: a BSN even without the word
        (
            "mijn bsn is 123456782 en bel me op 06-12345678",
            f"mijn bsn is {BSN_REMOVED} en bel me op 06-12345678",
        ),
    ],
)
async def test_the_wrapped_handler_never_sees_the_bsn(text: str, seen: str) -> None:
    rasa = Rasa()
    await without_bsn(rasa)(_message(text))
    assert rasa.texts == [seen]
    assert "123456782" not in str(rasa.handled[0].text)
    assert "1234.56.782" not in str(rasa.handled[0].text)


@pytest.mark.parametrize(
    "text",
    [
        "bel me op 06 12345678",
        "mijn nummer is +31 6 12345678",
        "0492 123456",
        "kenmerk VD-7K3P-92",
        "ik heb 1500 euro schuld",
    ],
)
async def test_phone_numbers_and_other_text_survive(text: str) -> None:
    rasa = Rasa()
    await without_bsn(rasa)(_message(text))
    assert rasa.texts == [text]


async def test_a_message_without_text_is_passed_on_unchanged() -> None:
    rasa = Rasa()
    message = _message(None)
    await without_bsn(rasa)(message)
    assert rasa.handled == [message] and message.text is None


async def test_the_rest_of_the_message_is_kept() -> None:
    rasa = Rasa()
    message = UserMessage(
        "mijn bsn is 123456782",
        CollectingOutputChannel(),
        "resident-1",
        input_channel="rest",
        metadata={"channel": "web"},
    )
    returned = await without_bsn(rasa)(message)
    assert returned is None
    (seen,) = rasa.handled
    assert seen.sender_id == "resident-1" and seen.metadata == {"channel": "web"}
    assert seen.output_channel is message.output_channel


@pytest.mark.parametrize(
    ("private", "parent"),
    [(PrivateRestInput, RestInput), (PrivateSocketIOInput, SocketIOInput)],
)
async def test_each_channel_hands_rasa_the_guarded_handler(
    monkeypatch: pytest.MonkeyPatch, private: type, parent: type
) -> None:
    handed: list[Any] = []
    monkeypatch.setattr(
        parent, "blueprint", lambda self, on_new_message: handed.append(on_new_message)
    )
    rasa = Rasa()
    private().blueprint(rasa)
    (guarded,) = handed
    assert guarded is not rasa
    await guarded(_message("mijn bsn is 123456782, bel 06 12345678"))
    assert rasa.texts == [f"mijn bsn is {BSN_REMOVED}, bel 06 12345678"]


def test_the_channels_keep_rasas_names() -> None:
    # bot/credentials.yml names these classes; the URLs stay /webhooks/rest and /socket.io
    assert PrivateRestInput.name() == RestInput.name() == "rest"
    assert PrivateSocketIOInput.name() == SocketIOInput.name() == "socketio"


# --- the REST webhook, through a real Sanic server ------------------------------------------


@pytest.fixture(autouse=True)
def sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sanic 21.12 rewrites its protocol methods at each start-up; test mode keeps the originals
    so that several apps can start in one process."""
    monkeypatch.setattr(Sanic, "test_mode", True)


@contextlib.asynccontextmanager
async def serve_rest(rasa: Callable[[UserMessage], Awaitable[None]]) -> AsyncIterator[str]:
    """PrivateRestInput mounted as Rasa mounts it; yields the webhook URL."""
    app = Sanic(f"rest_test_{uuid.uuid4().hex}")
    app.config.ACCESS_LOG = False
    app.blueprint(PrivateRestInput().blueprint(rasa), url_prefix="/webhooks/rest")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = await app.create_server(sock=sock, return_asyncio_server=True)
    assert server is not None
    await server.startup()
    await server.start_serving()
    try:
        yield f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    finally:
        server.close()
        await server.wait_closed()


async def test_rest_webhook_removes_the_bsn_before_rasa_sees_it() -> None:
    rasa = Rasa()
    async with serve_rest(rasa) as url, aiohttp.ClientSession() as session:
        for text in ("mijn bsn is 123456782", "bel me op 06 12345678"):
            async with session.post(url, json={"sender": "resident-1", "message": text}) as resp:
                assert resp.status == 200
                assert await resp.json() == [{"recipient_id": "resident-1", "text": "Antwoord"}]
    assert rasa.texts == [f"mijn bsn is {BSN_REMOVED}", "bel me op 06 12345678"]


async def test_a_failing_message_is_not_logged_with_its_bsn(capsys, caplog) -> None:
    async def tracker_store_down(message: UserMessage) -> None:
        raise RuntimeError("tracker store down")

    async with serve_rest(tracker_store_down) as url, aiohttp.ClientSession() as session:
        message = {"sender": "resident-1", "message": "mijn bsn is 123456782"}
        async with session.post(url, json=message) as resp:
            assert resp.status == 200
    captured = capsys.readouterr()
    assert "123456782" not in captured.out + captured.err + caplog.text
