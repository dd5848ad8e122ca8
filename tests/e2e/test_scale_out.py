"""The production profile scaled out (tests/e2e/scaled_stack.py): two Rasa instances behind
nginx share the PostgreSQL tracker store, the Redis lock store and the RabbitMQ event broker,
so a conversation may move between them at every turn and keeps its state; the balancer
spreads turns over both, keeps Twilio's signed URL intact and pins socket.io sessions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from pathlib import Path

import httpx
import pytest

from tests.e2e.scaled_stack import (
    TURNS,
    ScaledStack,
    assert_complete,
    new_sender,
    say,
    scaled_stack,
    turn,
)


@pytest.fixture(scope="module")
def scaled(request: pytest.FixtureRequest) -> ScaledStack:
    return scaled_stack(request)


def _user_texts(url: str, sender: str) -> list[str]:
    tracker = httpx.get(f"{url}/conversations/{sender}/tracker", timeout=30).json()
    return [e["text"] for e in tracker["events"] if e["event"] == "user"]


def test_a_conversation_moves_between_instances_and_keeps_its_state(scaled: ScaledStack) -> None:
    cfg = scaled.cfg
    first, second = cfg.rasa_instance_urls
    assert cfg.rasa_url not in (first, second), "the balancer has a port of its own"
    route = [first, second, cfg.rasa_url, first, second]  # instance 1, 2, balancer, 1, 2
    sender = new_sender("moving")
    answers = [turn(url, sender, number) for number, url in enumerate(route)]
    assert_complete(scaled, sender, answers[-1])
    # Both instances read the same conversation from the shared tracker store.
    assert _user_texts(first, sender) == _user_texts(second, sender) == list(TURNS)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, clock ticks


def test_the_balancer_spreads_turns_over_both_instances(scaled: ScaledStack) -> None:
    cfg = scaled.cfg
    before = {name: _cpu_seconds(cfg.pids[name]) for name in ("rasa-1", "rasa-2")}
    for number in range(12):
        assert "computerprogramma (AI)" in say(cfg.rasa_url, new_sender(f"spread{number}"), "hallo")
    used = {name: _cpu_seconds(cfg.pids[name]) - before[name] for name in before}
    # Judged by shares, not by absolute seconds (a turn costs 20-60 ms of CPU depending on the
    # machine): an instance that got no turns would use a few milliseconds while idle, far
    # below a quarter of what the turns cost together.
    total = sum(used.values())
    assert total > 0, used
    assert all(seconds >= 0.25 * total for seconds in used.values()), used


def _twilio_signature(url: str, params: dict[str, str], token: str) -> str:
    payload = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    return base64.b64encode(
        hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    ).decode()


def test_twilio_signatures_hold_through_the_balancer(scaled: ScaledStack) -> None:
    """Twilio signs the URL it called (the balancer's, port included); the instance behind
    nginx must check the same URL."""
    cfg = scaled.cfg
    url = f"{cfg.rasa_url}/webhooks/twilio/webhook"
    phone = f"+316{uuid.uuid4().int % 10**8:08d}"
    form = {
        "From": phone,
        "Body": "kan ik bijstand krijgen?",
        "MessageSid": f"SM{uuid.uuid4().hex}",
    }
    token = cfg.environment()["TWILIO_AUTH_TOKEN"]
    signed = {"X-Twilio-Signature": _twilio_signature(url, form, token)}
    assert httpx.post(url, data=form, headers=signed, timeout=60).status_code == 204
    forged = {"X-Twilio-Signature": _twilio_signature(url + "x", form, token)}
    assert httpx.post(url, data=form, headers=forged, timeout=60).status_code == 403
    assert _user_texts(cfg.rasa_instance_urls[0], phone) == ["kan ik bijstand krijgen?"]


def test_a_socketio_session_stays_on_one_instance(scaled: ScaledStack) -> None:
    """socket.io keeps its session in one process; long polling through the balancer works
    because nginx pins a client's socket.io requests to one instance."""
    url = f"{scaled.cfg.rasa_url}/socket.io/"
    with httpx.Client(timeout=30) as client:
        handshake = client.get(url, params={"EIO": "4", "transport": "polling"})
        assert handshake.status_code == 200, handshake.text
        sid = json.loads(handshake.text[1:])["sid"]
        for _ in range(4):  # each would be refused (400) by the other instance
            joined = client.post(
                url, params={"EIO": "4", "transport": "polling", "sid": sid}, content="40"
            )
            assert joined.status_code == 200, joined.text
