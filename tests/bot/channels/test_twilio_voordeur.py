"""The Twilio channel, unit by unit and through a real Sanic server on a free port."""

import asyncio
import contextlib
import logging
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.twilio import TwilioOutput
from sanic import Sanic
from twilio.request_validator import RequestValidator

from bot.channels.twilio_dedup import MemoryDedupStore, SqliteDedupStore
from bot.channels.twilio_voordeur import (
    MAX_MESSAGE_CHARS,
    MEDIA_ONLY_REPLY,
    MEDIA_WITH_TEXT_REPLY,
    VoordeurTwilioInput,
    VoordeurTwilioOutput,
    flat_form,
    media_count,
    signed_url,
)

URL = "https://chat.example.nl/webhooks/twilio/webhook"
PHONE = "+31612345678"
MEDIA_URL = "https://api.twilio.com/2010-04-01/Accounts/ACtest/Messages/MM1/Media/ME1"


def _channel(**credentials: str) -> VoordeurTwilioInput:
    return VoordeurTwilioInput.from_credentials(  # type: ignore[return-value]
        {
            "account_sid": "ACtest",
            "auth_token": "secret",
            "twilio_number": "+3197000000001",
            "whatsapp_number": "whatsapp:+3197000000001",
            "send": "false",
            "dedup_url": "memory://",
            **credentials,
        }
    )


def _form(**extra: str) -> dict[str, str]:
    return {"From": PHONE, "Body": "hallo", "MessageSid": "SM1", **extra}


# --- units -----------------------------------------------------------------------------------


def test_only_twilio_signed_requests_are_authentic() -> None:
    channel = _channel()
    form = _form()
    good = RequestValidator("secret").compute_signature(URL, form)
    assert channel.is_authentic(URL, form, good)
    assert not channel.is_authentic(URL, form, "forged")
    assert not channel.is_authentic(URL, form, "")
    assert not channel.is_authentic(URL, {**form, "Body": "changed"}, good)
    assert not channel.is_authentic(URL + "?x=1", form, good)


def test_the_signed_url_keeps_the_query_string() -> None:
    path, local = "/webhooks/twilio/webhook", "http://10.0.0.5:5005/webhooks/twilio/webhook"
    assert signed_url("https://chat.example.nl/", path, "tenant=helmond", local) == (
        f"{URL}?tenant=helmond"
    )
    assert signed_url("https://chat.example.nl", path, "", local) == URL
    assert signed_url(None, path, "tenant=helmond", f"{local}?tenant=helmond") == (
        f"{local}?tenant=helmond"
    )


def test_sms_and_whatsapp_are_told_apart() -> None:
    channel = _channel()
    sms = channel.user_message(_form())
    whatsapp = channel.user_message(_form(From="whatsapp:+31612345678", MessageSid="SM2"))
    assert sms is not None and sms.metadata == {"channel": "sms"}
    assert whatsapp is not None and whatsapp.metadata == {"channel": "whatsapp"}
    assert sms.sender_id == PHONE and sms.input_channel == "twilio"


def test_very_long_and_empty_messages() -> None:
    channel = _channel()
    long = channel.user_message(_form(Body="a" * 10_000))
    assert long is not None and len(long.text) == MAX_MESSAGE_CHARS
    assert channel.user_message({"Body": "no sender"}) is None
    assert channel.user_message(_form(Body="  ")) is None  # never empty text to Rasa
    at = channel.user_message(_form(Body="mail naar jan¡example.nl"))
    assert at is not None and at.text == "mail naar jan@example.nl"


def test_form_values_are_flattened_as_twilio_signs_them() -> None:
    assert flat_form({"Body": ["hoi", "x"], "From": []}) == {"Body": "hoi", "From": ""}
    assert media_count({"NumMedia": "2"}) == 2
    assert media_count({"NumMedia": "veel"}) == media_count({}) == 0


def test_credentials_choose_the_dedup_store(tmp_path: Path) -> None:
    channel = _channel(dedup_url=f"sqlite:///{tmp_path / 'seen.sqlite3'}")
    assert isinstance(channel.dedup, SqliteDedupStore)
    assert channel.dedup.path == tmp_path / "seen.sqlite3"


async def test_replies_go_from_the_matching_number_and_nothing_is_sent_when_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_twilio(*_: Any, **__: Any) -> None:
        raise AssertionError("Twilio's API was called while sending is off")

    monkeypatch.setattr(TwilioOutput, "_send_message", no_twilio)
    output = _channel().get_output_channel()
    assert isinstance(output, VoordeurTwilioOutput)
    await output.send_text_message("whatsapp:+31612345678", "Hallo\n\nTweede deel")
    await output.send_text_message(PHONE, "Per sms")
    assert [(m["from_"], m["body"]) for m in output.unsent] == [
        ("whatsapp:+3197000000001", "Hallo"),
        ("whatsapp:+3197000000001", "Tweede deel"),
        ("+3197000000001", "Per sms"),
    ]


# --- the webhook, through a real Sanic server ---------------------------------------------------


@dataclass
class Rasa:
    """Stands in for Rasa's agent: records what it was handed, can fail or wait."""

    handled: list[UserMessage] = field(default_factory=list)
    fail_next: int = 0
    gate: asyncio.Event | None = None
    started: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, message: UserMessage) -> None:
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError(f"tracker store down while handling {message.text!r}")
        self.handled.append(message)
        await message.output_channel.send_text_message(message.sender_id, "Antwoord")


@dataclass
class Server:
    base: str
    channel: VoordeurTwilioInput
    rasa: Rasa
    output: VoordeurTwilioOutput
    session: aiohttp.ClientSession

    @property
    def url(self) -> str:
        return f"{self.base}/webhooks/twilio/webhook"

    async def post(
        self,
        form: dict[str, str],
        query: str = "",
        signed_as: str | None = None,
    ) -> int:
        """Posts `form` signed as Twilio signs it (for `signed_as`, default the URL called)."""
        called = f"{self.url}?{query}" if query else self.url
        signature = RequestValidator("secret").compute_signature(signed_as or called, form)
        async with self.session.post(
            called, data=form, headers={"X-Twilio-Signature": signature}
        ) as resp:
            return resp.status

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.rasa.handled]

    @property
    def sent(self) -> list[str]:
        return [m["body"] for m in self.output.unsent]


@pytest.fixture(autouse=True)
def sanic_test_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sanic 21.12 rewrites its protocol methods at each start-up; test mode keeps the originals
    so that several apps can start in one process."""
    monkeypatch.setattr(Sanic, "test_mode", True)


@contextlib.asynccontextmanager
async def serve(
    public_url: str | None = None, rasa: Rasa | None = None, **credentials: str
) -> AsyncIterator[Server]:
    """The channel's blueprint mounted as Rasa mounts it, on 127.0.0.1 and a free port."""
    channel = _channel(**credentials)
    channel.public_url = public_url
    output = channel.get_output_channel()
    assert isinstance(output, VoordeurTwilioOutput)
    channel.get_output_channel = lambda: output  # type: ignore[method-assign]
    rasa = rasa or Rasa()
    app = Sanic(f"twilio_test_{uuid.uuid4().hex}")
    app.config.ACCESS_LOG = False
    on_new_message: Callable[[UserMessage], Awaitable[Any]] = rasa
    app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/twilio")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = await app.create_server(sock=sock, return_asyncio_server=True)
    assert server is not None
    await server.startup()
    await server.start_serving()
    try:
        async with aiohttp.ClientSession() as session:
            yield Server(f"http://127.0.0.1:{port}", channel, rasa, output, session)
    finally:
        server.close()
        await server.wait_closed()


async def test_bad_signature_is_refused_and_changes_nothing() -> None:
    async with serve() as server:
        async with server.session.post(
            server.url, data=_form(), headers={"X-Twilio-Signature": "forged"}
        ) as resp:
            assert resp.status == 403
        assert await server.post(_form(), signed_as="https://elders.example.nl/") == 403
        assert server.texts == [] and server.sent == []
        assert await server.post(_form()) == 204  # the sid was not used up by the forgeries
        assert server.texts == ["hallo"]


async def test_a_replayed_webhook_is_handled_once() -> None:
    async with serve() as server:
        assert await server.post(_form()) == 204
        assert await server.post(_form()) == 204
        assert await server.post(_form(MessageSid="SM9", Body="nog iets")) == 204
        assert server.texts == ["hallo", "nog iets"]
        assert server.sent == ["Antwoord", "Antwoord"]


async def test_a_failed_message_is_answered_5xx_and_its_retry_is_handled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with serve(rasa=Rasa(fail_next=1)) as server:
        with caplog.at_level(logging.DEBUG):
            assert await server.post(_form(Body="mijn huur is te hoog")) == 500
        assert server.texts == []
        assert "SM1" in caplog.text and "RuntimeError" in caplog.text
        assert "huur" not in caplog.text and PHONE not in caplog.text
        assert await server.post(_form(Body="mijn huur is te hoog")) == 204  # Twilio's retry
        assert await server.post(_form(Body="mijn huur is te hoog")) == 204  # and a replay
        assert server.texts == ["mijn huur is te hoog"]


async def test_a_concurrent_duplicate_is_not_handled_twice() -> None:
    rasa = Rasa(gate=asyncio.Event())
    assert rasa.gate is not None
    async with serve(rasa=rasa) as server:
        first = asyncio.create_task(server.post(_form()))
        await asyncio.wait_for(rasa.started.wait(), 10)
        assert await server.post(_form()) == 503  # Twilio may try again later
        rasa.gate.set()
        assert await first == 204
        assert await server.post(_form()) == 204
        assert server.texts == ["hallo"]


async def test_two_replicas_sharing_a_sqlite_store_handle_a_message_once(tmp_path: Path) -> None:
    dedup_url = f"sqlite:///{tmp_path / 'seen.sqlite3'}"
    async with serve(dedup_url=dedup_url) as one, serve(dedup_url=dedup_url) as two:
        assert await one.post(_form()) == 204
        assert await two.post(_form()) == 204
        assert one.texts == ["hallo"] and two.texts == []
    async with serve(dedup_url=dedup_url) as restarted:
        assert await restarted.post(_form()) == 204
        assert restarted.texts == []


async def test_the_signature_covers_the_query_string_behind_a_proxy() -> None:
    public = "https://chat.example.nl"
    async with serve(public_url=public) as server:
        form = _form()
        assert await server.post(form, "tenant=helmond", f"{URL}?tenant=helmond") == 204
        assert server.texts == ["hallo"]
        tampered = _form(MessageSid="SM2")
        assert await server.post(tampered, "tenant=eindhoven", f"{URL}?tenant=helmond") == 403
        assert await server.post(tampered, "tenant=helmond", URL) == 403  # query dropped
        assert server.texts == ["hallo"]


async def test_the_signature_covers_the_query_string_without_a_proxy() -> None:
    async with serve() as server:
        assert await server.post(_form(), "tenant=helmond") == 204
        signed = f"{server.url}?tenant=helmond"
        assert await server.post(_form(MessageSid="SM2"), "tenant=x", signed) == 403
        assert server.texts == ["hallo"]


async def test_a_photo_without_text_gets_an_acknowledgement_and_never_reaches_rasa(
    caplog: pytest.LogCaptureFixture,
) -> None:
    photo = _form(
        From="whatsapp:+31612345678",
        Body="",
        NumMedia="1",
        MediaUrl0=MEDIA_URL,
        MediaContentType0="image/jpeg",
    )
    async with serve() as server:
        with caplog.at_level(logging.DEBUG):
            assert await server.post(photo) == 204
            assert await server.post(photo) == 204  # a replay is not acknowledged twice
        assert server.texts == []
        assert server.sent == [MEDIA_ONLY_REPLY]
        assert server.output.unsent[0]["from_"] == "whatsapp:+3197000000001"
        assert MEDIA_URL not in caplog.text and "MediaUrl" not in caplog.text


async def test_text_with_a_document_is_handled_and_the_document_acknowledged() -> None:
    async with serve() as server:
        form = _form(Body="hier is mijn brief", NumMedia="1", MediaUrl0=MEDIA_URL)
        assert await server.post(form) == 204
        assert server.texts == ["hier is mijn brief"]
        assert server.sent == ["Antwoord", MEDIA_WITH_TEXT_REPLY]


async def test_an_acknowledgement_that_cannot_be_sent_is_retried() -> None:
    async with serve() as server:
        calls = 0
        original = server.output.send_text_message

        async def flaky(recipient_id: str, text: str, **kwargs: Any) -> None:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise ConnectionError("Twilio API unreachable")
            await original(recipient_id, text, **kwargs)

        server.output.send_text_message = flaky  # type: ignore[method-assign]
        photo = _form(Body="", NumMedia="1", MediaUrl0=MEDIA_URL)
        assert await server.post(photo) == 500
        assert await server.post(photo) == 204
        assert server.sent == [MEDIA_ONLY_REPLY]


async def test_nothing_to_handle_and_a_broken_store() -> None:
    class BrokenStore(MemoryDedupStore):
        async def claim(self, sid: str) -> Any:
            raise ConnectionError("redis down")

    async with serve() as server:
        assert await server.post(_form(Body="")) == 204  # no text, no media
        assert server.texts == [] and server.sent == []
        server.channel.dedup = BrokenStore()
        assert await server.post(_form()) == 204  # better answered twice than lost
        assert server.texts == ["hallo"]
