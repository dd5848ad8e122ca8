"""The Twilio channel, unit by unit and through a real Sanic server on a free port."""

import asyncio
import base64
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
from aiohttp import web
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
    await output.send_text_message(PHONE, "Een zin die lang genoeg is. " * 20)
    assert [(m["from_"], m["body"]) for m in output.unsent[:2]] == [
        ("whatsapp:+3197000000001", "Hallo\n\nTweede deel"),  # short: one message
        ("+3197000000001", "Per sms"),
    ]
    long = [m["body"] for m in output.unsent[2:]]
    assert len(long) == 2 and all(len(part) <= 306 for part in long)  # cut by sms_split.py
    assert " ".join(long) == ("Een zin die lang genoeg is. " * 20).strip()


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


# --- the relay to the handover API, with files fetched from a fake Twilio ----------------------

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(range(256)) * 8
PDF = b"%PDF-1.7\n" + b"1 0 obj << >> endobj\n" * 50
ORGANISATION = "Wijkteam Noord"
REFERENCE = "VD-2026-0042"
MATCHED = {
    "matched": True,
    "handover_id": "h-1",
    "reference": REFERENCE,
    "organisation_name": ORGANISATION,
}
NOT_MATCHED = {"matched": False, "handover_id": None, "reference": None, "organisation_name": None}


@dataclass
class FakeTwilioMedia:
    """Twilio's media URLs (basic auth, then a redirect) and the CDN they redirect to."""

    base: str = ""
    cdn: str = ""
    api_auth: list[str | None] = field(default_factory=list)
    cdn_auth: list[str | None] = field(default_factory=list)
    streamed: dict[str, int] = field(default_factory=dict)  # name -> bytes written
    finished: set[str] = field(default_factory=set)

    def url(self, name: str) -> str:
        return f"{self.base}/2010-04-01/Accounts/ACtest/Messages/MM1/Media/{name}"


@dataclass
class FakeHandoverApi:
    base: str = ""
    answer: dict[str, Any] = field(default_factory=lambda: dict(NOT_MATCHED))
    status: int = 200
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    authorization: list[str | None] = field(default_factory=list)


@contextlib.asynccontextmanager
async def _web(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def fake_twilio_media() -> AsyncIterator[FakeTwilioMedia]:
    fake = FakeTwilioMedia()
    expected = "Basic " + base64.b64encode(b"ACtest:secret").decode()

    async def media(request: web.Request) -> web.StreamResponse:
        fake.api_auth.append(request.headers.get("Authorization"))
        if request.headers.get("Authorization") != expected:
            return web.Response(status=401)
        name = request.match_info["name"]
        if name == "error":
            return web.Response(status=500)
        raise web.HTTPTemporaryRedirect(f"{fake.cdn}/cdn/{name}?X-Amz-Signature=abc")

    async def cdn(request: web.Request) -> web.StreamResponse:
        fake.cdn_auth.append(request.headers.get("Authorization"))
        name = request.match_info["name"]
        if name in ("photo", "photo2"):
            return web.Response(body=JPEG, content_type="image/jpeg")
        if name == "doc":
            return web.Response(body=PDF, content_type="application/pdf")
        if name == "html":  # an error page where a photo was promised
            return web.Response(text="<html>error</html>", content_type="text/html")
        if name == "slow":
            await asyncio.sleep(5)
            return web.Response(body=JPEG, content_type="image/jpeg")
        if name == "declared_big":
            resp = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
            resp.content_length = 11 * 1024 * 1024
            await resp.prepare(request)
            await resp.write(JPEG)
            await asyncio.sleep(1)
            return resp
        assert name == "big"  # 50 MB without Content-Length: the reader has to stop by itself
        resp = web.StreamResponse(headers={"Content-Type": "image/jpeg"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        fake.streamed[name] = 0
        chunk = JPEG[:4] + bytes(256 * 1024 - 4)
        for _ in range(200):
            await resp.write(chunk)
            fake.streamed[name] += len(chunk)
        fake.finished.add(name)
        return resp

    media_app, cdn_app = web.Application(), web.Application()
    media_app.router.add_get("/2010-04-01/Accounts/ACtest/Messages/MM1/Media/{name}", media)
    cdn_app.router.add_get("/cdn/{name}", cdn)
    async with _web(media_app) as base, _web(cdn_app) as cdn_base:
        fake.base, fake.cdn = base, cdn_base
        yield fake


@contextlib.asynccontextmanager
async def fake_handover_api() -> AsyncIterator[FakeHandoverApi]:
    fake = FakeHandoverApi()

    async def inbound(request: web.Request) -> web.Response:
        fake.authorization.append(request.headers.get("Authorization"))
        payload = await request.json()
        fake.requests.append(payload)
        if fake.delay:
            await asyncio.sleep(fake.delay)
        if fake.status != 200:
            return web.Response(status=fake.status, text="kapot")
        answer = dict(fake.answer)
        if answer["matched"]:
            answer.setdefault("stored_media", len(payload["media"]))
        answer.setdefault("stored_media", 0)
        answer.setdefault("refused_media", [])
        return web.json_response(answer)

    app = web.Application(client_max_size=100 * 1024 * 1024)
    app.router.add_post("/api/v1/inbound-messages", inbound)
    async with _web(app) as base:
        fake.base = base
        yield fake


@contextlib.asynccontextmanager
async def relayed(
    rasa: Rasa | None = None, **credentials: str
) -> AsyncIterator[tuple[Server, FakeHandoverApi, FakeTwilioMedia]]:
    async with fake_handover_api() as api, fake_twilio_media() as media:
        options = {
            "relay_url": api.base,
            "relay_token": "service-token-for-tests",
            "media_base_url": media.base,
            "relay_timeout": "1",
            "relay_media_timeout": "1",
            "relay_fetch_timeout": "2",
            **credentials,
        }
        async with serve(rasa=rasa, **options) as server:
            yield server, api, media


def _media_form(media: FakeTwilioMedia, *items: tuple[str, str], **extra: str) -> dict[str, str]:
    form = _form(**{"Body": "", "MessageSid": "MM1", "NumMedia": str(len(items)), **extra})
    for i, (name, content_type) in enumerate(items):
        form[f"MediaUrl{i}"] = media.url(name)
        form[f"MediaContentType{i}"] = content_type
    return form


def _assert_private(log: str, media: FakeTwilioMedia) -> None:
    assert media.base not in log and media.cdn not in log and "/Media/" not in log
    assert "31612345678" not in log and "X-Amz" not in log


def test_the_relay_is_configured_in_the_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _channel().relay is None
    assert _channel(relay_url="off").relay is None
    monkeypatch.setenv("VOORDEUR_SERVICE_TOKEN", "from-the-environment")
    channel = _channel(relay_url="http://api.internal:8000/", relay_timeout="1.5")
    assert channel.relay is not None
    assert channel.relay.url == "http://api.internal:8000/api/v1/inbound-messages"
    assert channel.relay.token == "from-the-environment" and channel.relay.timeout == 1.5
    assert channel.relay.media_base_url == "https://api.twilio.com/"
    assert channel.relay.auth_token == "secret" and channel.relay.account_sid == "ACtest"


async def test_a_reply_to_a_professional_goes_to_the_thread_not_to_the_assistant(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with relayed() as (server, api, media):
        api.answer = dict(MATCHED)
        text = "Ja, morgen om 10 uur kan ik. Mijn bsn is 123456782."
        with caplog.at_level(logging.DEBUG):
            assert await server.post(_form(From="whatsapp:+31612345678", Body=text)) == 204
        assert server.texts == []  # Rasa never saw it
        assert server.sent == [
            f"Uw bericht is doorgestuurd naar {ORGANISATION}. U krijgt antwoord van de medewerker."
        ]
        (request,) = api.requests
        assert api.authorization == ["Bearer service-token-for-tests"]
        assert request["channel"] == "whatsapp" and request["from_phone"] == PHONE
        assert request["message_sid"] == "SM1" and request["media"] == []
        assert request["body"].startswith("Ja, morgen om 10 uur kan ik.")
        assert "123456782" not in request["body"]  # the BSN never reaches the transcript
        assert "morgen" not in caplog.text
        _assert_private(caplog.text, media)


async def test_a_crisis_in_a_reply_to_a_professional_also_reaches_the_assistant() -> None:
    async with relayed() as (server, api, _):
        api.answer = dict(MATCHED)
        assert await server.post(_form(Body="ik wil niet meer leven")) == 204
        assert server.texts == ["ik wil niet meer leven"]  # national numbers from the assistant
        assert len(api.requests) == 1  # and the professional has it in the thread
        assert server.sent == [
            "Antwoord",
            f"Uw bericht is doorgestuurd naar {ORGANISATION}. U krijgt antwoord van de medewerker.",
        ]


async def test_without_a_thread_the_assistant_answers_as_before() -> None:
    async with relayed() as (server, api, media):
        assert await server.post(_form()) == 204
        assert server.texts == ["hallo"] and server.sent == ["Antwoord"]
        form = _media_form(media, ("photo", "image/jpeg"), Body="hier is mijn brief")
        assert await server.post(form) == 204
        assert server.texts == ["hallo", "hier is mijn brief"]
        assert server.sent == ["Antwoord", "Antwoord", MEDIA_WITH_TEXT_REPLY]
        photo = _media_form(media, ("photo", "image/jpeg"), MessageSid="MM2")
        assert await server.post(photo) == 204
        assert server.sent[-1] == MEDIA_ONLY_REPLY
        assert [len(r["media"]) for r in api.requests] == [0, 1, 1]  # offered, not stored


@pytest.mark.parametrize("failure", ["down", "500", "slow", "nonsense"])
async def test_when_the_api_fails_the_assistant_gets_the_message(
    failure: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with relayed() as (server, api, media):
        if failure == "down":
            assert server.channel.relay is not None
            server.channel.relay.url = "http://127.0.0.1:9/api/v1/inbound-messages"
        elif failure == "500":
            api.status = 500
        elif failure == "slow":
            api.answer, api.delay = dict(MATCHED), 3.0  # the relay waits 1 s
        else:
            api.answer = {"unexpected": True}
        with caplog.at_level(logging.DEBUG):
            assert await server.post(_form(Body="mijn huur is te hoog")) == 204
            form = _media_form(media, ("photo", "image/jpeg"), Body="en mijn brief")
            assert await server.post(form) == 204
        assert server.texts == ["mijn huur is te hoog", "en mijn brief"]
        assert server.sent[:2] == ["Antwoord", "Antwoord"]
        assert server.sent[2].startswith("Uw foto of document is niet goed aangekomen.")
        assert "handover API did not take Twilio message SM1" in caplog.text
        assert "huur" not in caplog.text
        _assert_private(caplog.text, media)


async def test_photos_and_documents_are_fetched_and_stored_with_the_handover(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with relayed() as (server, api, media):
        api.answer = dict(MATCHED)
        with caplog.at_level(logging.DEBUG):
            one = _media_form(media, ("photo", "image/jpeg"), From="whatsapp:+31612345678")
            assert await server.post(one) == 204
            two = _media_form(
                media, ("photo", "image/jpeg"), ("doc", "application/pdf"), MessageSid="MM2"
            )
            assert await server.post(two) == 204
        assert server.texts == []
        assert server.sent == [
            f"Uw foto/document is doorgestuurd naar {ORGANISATION} (kenmerk {REFERENCE}).",
            f"Uw 2 foto's/documenten zijn doorgestuurd naar {ORGANISATION} (kenmerk {REFERENCE}).",
        ]
        first, second = api.requests
        assert first["channel"] == "whatsapp" and first["body"] == ""
        assert [(m["content_type"], m["filename"]) for m in second["media"]] == [
            ("image/jpeg", None),
            ("application/pdf", None),
        ]
        assert [base64.b64decode(m["data_base64"]) for m in second["media"]] == [JPEG, PDF]
        expected = "Basic " + base64.b64encode(b"ACtest:secret").decode()
        assert media.api_auth == [expected] * 3  # Twilio's URLs with the account's credentials
        assert media.cdn_auth == [None] * 3  # the CDN never gets them
        _assert_private(caplog.text, media)


async def test_files_that_cannot_be_received_are_reported_and_the_rest_stored(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with relayed() as (server, api, media):
        api.answer = dict(MATCHED)
        form = _media_form(
            media,
            ("photo", "image/jpeg"),
            ("big", "image/jpeg"),  # 50 MB
            ("gif", "image/gif"),  # not an allowed type: not even fetched
            ("html", "image/jpeg"),  # an error page posing as a photo
            ("error", "image/png"),  # Twilio answers 500
            ("photo2", "image/jpeg"),  # the 6th and 7th: too many
            ("photo2", "image/jpeg"),
            Body="Hierbij de papieren",
        )
        with caplog.at_level(logging.DEBUG):
            assert await server.post(form) == 204
        (request,) = api.requests
        assert [base64.b64decode(m["data_base64"]) for m in request["media"]] == [JPEG]
        assert request["body"] == "Hierbij de papieren"
        assert server.texts == []
        # one text, cut into two SMS at a paragraph boundary (sms_split.py)
        assert [len(part) <= 306 for part in server.sent] == [True, True]
        assert "\n\n".join(server.sent).split("\n\n") == [
            f"Uw bericht is doorgestuurd naar {ORGANISATION}. U krijgt antwoord van de medewerker.",
            f"Uw foto/document is doorgestuurd naar {ORGANISATION} (kenmerk {REFERENCE}).",
            "6 foto's of documenten zijn niet goed aangekomen. "
            "Stuur niet meer dan 5 bestanden in een bericht. "
            "Een bestand mag niet groter zijn dan 10 MB. "
            "Stuur een foto (JPG, PNG of HEIC) of een pdf. "
            "Wilt u het later nog een keer proberen?",
        ]
        assert "big" not in media.finished  # reading stopped beyond 10 MB
        assert media.streamed["big"] < 40 * 1024 * 1024
        assert "gif" not in str(media.cdn_auth) and len(media.api_auth) == 4
        assert "HTTP 500" in caplog.text
        _assert_private(caplog.text, media)


async def test_a_declared_oversize_or_slow_file_is_not_waited_for() -> None:
    async with relayed() as (server, api, media):
        api.answer = dict(MATCHED)
        form = _media_form(media, ("declared_big", "image/jpeg"), ("slow", "image/jpeg"))
        started = asyncio.get_running_loop().time()
        assert await server.post(form) == 204
        assert asyncio.get_running_loop().time() - started < 4.5  # the slow one takes 5 s
        assert api.requests[0]["media"] == []
        assert server.sent == [
            "2 foto's of documenten zijn niet goed aangekomen. "
            "Een bestand mag niet groter zijn dan 10 MB. "
            "Wilt u het later nog een keer proberen?"
        ]


async def test_refusals_by_the_api_are_reported() -> None:
    async with relayed() as (server, api, media):
        api.answer = {
            **MATCHED,
            "stored_media": 0,
            "refused_media": [{"content_type": "image/jpeg", "reason": "file too large"}],
        }
        assert await server.post(_media_form(media, ("photo", "image/jpeg"))) == 204
        assert server.sent == [
            "Uw foto of document is niet goed aangekomen. "
            "Een bestand mag niet groter zijn dan 10 MB."
        ]


async def test_a_replay_is_relayed_and_handled_once() -> None:
    async with relayed() as (server, api, media):
        assert await server.post(_form()) == 204
        assert await server.post(_form()) == 204
        api.answer = dict(MATCHED)
        photo = _media_form(media, ("photo", "image/jpeg"))
        assert await server.post(photo) == 204
        assert await server.post(photo) == 204
        assert [r["message_sid"] for r in api.requests] == ["SM1", "MM1"]
        assert server.texts == ["hallo"]
        assert len(server.sent) == 2 and len(media.api_auth) == 1


async def test_a_lost_acknowledgement_does_not_undo_a_forwarded_message() -> None:
    async with relayed() as (server, api, _):
        api.answer = dict(MATCHED)

        async def twilio_down(*_: Any, **__: Any) -> None:
            raise ConnectionError("Twilio API unreachable")

        server.output.send_text_message = twilio_down  # type: ignore[method-assign]
        assert await server.post(_form()) == 204  # the professional has it; no retry
        assert await server.post(_form()) == 204
        assert len(api.requests) == 1 and server.texts == []
