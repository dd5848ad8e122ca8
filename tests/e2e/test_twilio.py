"""The Twilio webhook of the running Rasa server: signatures checked, replays ignored."""

import base64
import hashlib
import hmac
import time
import uuid

import httpx

from tests.e2e.conftest import twilio_auth_token
from voordeur_cli.stack import StackConfig


def twilio_signature(url: str, params: dict[str, str], token: str) -> str:
    """Twilio's scheme, written out independently of the twilio library the server uses."""
    payload = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _user_texts(stack: StackConfig, sender: str) -> list[str]:
    tracker = httpx.get(f"{stack.rasa_url}/conversations/{sender}/tracker", timeout=10).json()
    return [e["text"] for e in tracker["events"] if e["event"] == "user"]


def test_bad_signature_is_refused_and_changes_nothing(stack: StackConfig) -> None:
    url = f"{stack.rasa_url}/webhooks/twilio/webhook"
    form = {"From": "+31611111111", "Body": "hallo", "MessageSid": "SMbad"}
    resp = httpx.post(url, data=form, headers={"X-Twilio-Signature": "forged"}, timeout=30)
    assert resp.status_code == 403
    assert _user_texts(stack, "+31611111111") == []


def test_signed_sms_is_handled_once_even_when_replayed(stack: StackConfig) -> None:
    url = f"{stack.rasa_url}/webhooks/twilio/webhook"
    # MessageSids are unique at Twilio; the production profile remembers them in Redis for 48 h
    sid = f"SM{uuid.uuid4().hex}"
    form = {"From": "+31622222222", "Body": "kan ik bijstand krijgen?", "MessageSid": sid}
    headers = {"X-Twilio-Signature": twilio_signature(url, form, twilio_auth_token(stack))}
    for _ in range(2):
        resp = httpx.post(url, data=form, headers=headers, timeout=60)
        assert resp.status_code == 204
    time.sleep(1)
    assert _user_texts(stack, "+31622222222") == ["kan ik bijstand krijgen?"]


def test_media_only_message_gets_a_dutch_acknowledgement_not_an_empty_turn(
    stack: StackConfig,
) -> None:
    url = f"{stack.rasa_url}/webhooks/twilio/webhook"
    sender = "whatsapp:+31633333333"
    form = {
        "From": sender,
        "Body": "",
        "NumMedia": "1",
        "MediaUrl0": "https://api.twilio.com/media/ME1",
        "MediaContentType0": "image/jpeg",
        "MessageSid": f"MM{uuid.uuid4().hex}",
    }
    headers = {"X-Twilio-Signature": twilio_signature(url, form, twilio_auth_token(stack))}
    resp = httpx.post(url, data=form, headers=headers, timeout=60)
    assert resp.status_code in (200, 204)
    assert _user_texts(stack, sender) == [], "no empty message reaches the assistant"
