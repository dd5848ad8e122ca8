"""Issue 12 through the whole running system: a resident who came in by SMS and was handed
over gets a message from the professional by SMS, and the resident's SMS reply reaches that
professional instead of the assistant.

Every SMS is a webhook signed like Twilio signs it (twilio's RequestValidator with the token
the Rasa server checks). The handover API really sends the professional's message, to the
local fake of Twilio's REST API (`fake_twilio`, see conftest.send_through_fake_twilio), and
takes the signed delivery status Twilio would post back.

The Rasa server runs with TWILIO_SEND=false (its Twilio client cannot be pointed at the fake):
what it says to the resident is read from its tracker (the assistant's turns) and from its
log (the acknowledgement of a forwarded message, which never enters the tracker).
"""

import re
import time
import uuid

import httpx
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from tests.e2e.conftest import (
    E2E_TWILIO_ACCOUNT_SID,
    conversation_database,
    staff_token,
    twilio_auth_token,
)
from tests.handover_api.fake_twilio import FakeTwilio
from voordeur_cli.stack import StackConfig

REFERENCE = re.compile(r"VD-[A-Z0-9]{4}-\d{2}")
RESIDENT = "+31655501234"  # the number the resident texts from
TYPED_PHONE = "06 55501234"  # the same number, as the resident types it for the handover
PROFESSIONAL_TEXT = (
    "Goedemiddag, u kunt dinsdag om 10:00 uur langskomen bij Senzer. Neemt u uw loonstroken mee?"
)
RESIDENT_REPLY = "Dank u, dinsdag om 10 uur kan ik. Ik neem de loonstroken mee."
# bot/channels/twilio_voordeur.py FORWARDED_TEXT_REPLY (the API venv has no Rasa to import it)
ACKNOWLEDGEMENT = (
    "Uw bericht is doorgestuurd naar {organisation}. U krijgt antwoord van de medewerker."
)


class SmsResident:
    """A resident texting the Rasa server's Twilio webhook, as Twilio delivers it."""

    def __init__(self, stack: StackConfig, phone: str) -> None:
        self.stack = stack
        self.phone = phone
        self.url = f"{stack.rasa_url}/webhooks/twilio/webhook"
        self.validator = RequestValidator(twilio_auth_token(stack))
        # Turns seen so far. Not read before the first message: reading the tracker of a new
        # sender starts its session there, and the AI disclosure would go to nobody.
        self.seen = 0

    def text(self, body: str) -> str:
        """Sends `body`; returns its MessageSid once the webhook has handled it."""
        sid = f"SM{uuid.uuid4().hex}"
        form = {
            "AccountSid": E2E_TWILIO_ACCOUNT_SID,
            "ApiVersion": "2010-04-01",
            "Body": body,
            "From": self.phone,
            "MessageSid": sid,
            "NumMedia": "0",
            "SmsMessageSid": sid,
            "To": self.stack.environment()["TWILIO_NUMBER"],
        }
        signature = self.validator.compute_signature(self.url, form)
        resp = httpx.post(
            self.url, data=form, headers={"X-Twilio-Signature": signature}, timeout=60
        )
        assert resp.status_code == 204, (resp.status_code, resp.text)
        return sid

    def events(self) -> list[dict]:
        resp = httpx.get(f"{self.stack.rasa_url}/conversations/{self.phone}/tracker", timeout=10)
        resp.raise_for_status()
        return [e for e in resp.json()["events"] if e["event"] in ("user", "bot")]

    def say(self, body: str) -> str:
        """Sends `body` and returns what the assistant said in reply (from its tracker),
        including what a new session opens with."""
        self.text(body)
        new = self.events()[self.seen :]
        self.seen += len(new)
        assert [e["text"] for e in new if e["event"] == "user"] == [body], new
        return "\n".join(e.get("text") or "" for e in new if e["event"] == "bot")


def rasa_log(stack: StackConfig) -> str:
    return (stack.var_dir / "logs" / "rasa.log").read_text(errors="replace")


def wait_for_log(stack: StackConfig, start: int, needle: str, seconds: float = 10) -> str:
    """The Rasa log written since offset `start`, once it contains `needle`."""
    deadline = time.monotonic() + seconds
    while True:
        written = rasa_log(stack)[start:]
        if needle in written or time.monotonic() > deadline:
            return written
        time.sleep(0.2)


def twilio_sid_of(stack: StackConfig, message_id: str) -> str | None:
    """The sid Twilio (the fake) gave the message: stored by the API, not in its JSON."""
    from handover_api.models import HandoverMessage

    engine = conversation_database(stack)
    try:
        with engine.connect() as conn:
            return conn.scalar(
                select(HandoverMessage.twilio_sid).where(
                    HandoverMessage.id == uuid.UUID(message_id)
                )
            )
    finally:
        engine.dispose()


def test_professional_and_resident_write_each_other_by_sms(
    stack: StackConfig, fake_twilio: FakeTwilio
) -> None:
    assert stack.rasa_environment()["TWILIO_SEND"] == "false", "the assistant never sends"
    resident = SmsResident(stack, RESIDENT)

    # 1. A warm handover over SMS: question, municipality, handover, consent, phone number.
    first = resident.say("ik heb geen inkomen meer, kan ik bijstand krijgen?")
    assert "computerprogramma (AI)" in first, "first message must disclose the AI assistant"
    assert "In welke gemeente woont u?" in first
    assert "Senzer" in resident.say("Helmond")
    assert "Mag ik dit delen?" in resident.say("1")
    assert "telefoonnummer" in resident.say("1").lower()
    match = REFERENCE.search(resident.say(TYPED_PHONE))
    assert match, "the handover is made and its reference given"

    token = staff_token(stack, "e2e-peel61-sms", "peel61")
    staff = {"Authorization": f"Bearer {token}"}
    api = f"{stack.api_url}/api/v1"
    listing = httpx.get(f"{api}/handovers", headers=staff, params={"page_size": 100}, timeout=10)
    assert listing.status_code == 200
    cases = [h for h in listing.json()["items"] if h["reference"] == match.group(0)]
    assert len(cases) == 1
    case = cases[0]
    assert case["channel"] == "sms"
    assert case["destination"]["organisation"] == "peel61"
    messages_url = f"{api}/handovers/{case['id']}/messages"

    # 2. The professional writes; the API hands it to (fake) Twilio.
    sent_before = len(fake_twilio.requests)
    resp = httpx.post(messages_url, headers=staff, json={"text": PROFESSIONAL_TEXT}, timeout=30)
    assert resp.status_code == 201, resp.text
    out = resp.json()
    assert (out["direction"], out["channel"], out["status"]) == ("out", "sms", "queued")
    assert out["status_reason"] is None and out["author_username"] == "e2e-peel61-sms"

    to_twilio = fake_twilio.requests[sent_before:]
    assert len(to_twilio) == 1, "exactly one message went to Twilio"
    request = to_twilio[0]
    assert request.path == f"/2010-04-01/Accounts/{E2E_TWILIO_ACCOUNT_SID}/Messages.json"
    assert request.account == E2E_TWILIO_ACCOUNT_SID, "HTTP basic auth with the account"
    assert request.form["To"] == RESIDENT, "to the number the resident gave, in E.164"
    assert request.form["From"] == stack.environment()["TWILIO_NUMBER"]
    assert request.form["Body"] == PROFESSIONAL_TEXT
    status_url = request.form["StatusCallback"]
    assert status_url == f"{stack.api_url}/api/v1/twilio/status"

    thread = httpx.get(messages_url, headers=staff, timeout=10).json()
    assert [(m["id"], m["status"]) for m in thread["items"]] == [(out["id"], "queued")]

    # 3. Twilio's delivery status, signed with the API's auth token over the callback URL.
    sid = twilio_sid_of(stack, out["id"])
    assert sid and sid.startswith("SM")
    callback = {
        "AccountSid": E2E_TWILIO_ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "From": request.form["From"],
        "MessageSid": sid,
        "MessageStatus": "delivered",
        "SmsSid": sid,
        "SmsStatus": "delivered",
        "To": RESIDENT,
    }
    api_validator = RequestValidator(stack.environment()["TWILIO_AUTH_TOKEN"])
    forged = RequestValidator("not-the-auth-token").compute_signature(status_url, callback)
    refused = httpx.post(
        status_url, data=callback, headers={"X-Twilio-Signature": forged}, timeout=10
    )
    assert refused.status_code == 403
    assert httpx.get(messages_url, headers=staff, timeout=10).json()["items"][0]["status"] == (
        "queued"
    ), "a forged callback changes nothing"
    signed = {"X-Twilio-Signature": api_validator.compute_signature(status_url, callback)}
    assert httpx.post(status_url, data=callback, headers=signed, timeout=10).status_code == 204
    late = {**callback, "MessageStatus": "sent", "SmsStatus": "sent"}
    late_signed = {"X-Twilio-Signature": api_validator.compute_signature(status_url, late)}
    assert httpx.post(status_url, data=late, headers=late_signed, timeout=10).status_code == 204
    assert httpx.get(messages_url, headers=staff, timeout=10).json()["items"][0]["status"] == (
        "delivered"
    ), "the status moves forward only"

    # 4. The resident answers by SMS: it goes to the professional, not to the assistant.
    turns_before = resident.events()
    log_start = len(rasa_log(stack))
    reply_sid = resident.text(RESIDENT_REPLY)

    assert resident.events() == turns_before, "the assistant neither got nor answered it"
    thread = httpx.get(messages_url, headers=staff, timeout=10).json()
    assert [m["direction"] for m in thread["items"]] == ["out", "in"]
    inbound = thread["items"][1]
    assert (inbound["channel"], inbound["status"], inbound["body"]) == (
        "sms",
        "received",
        RESIDENT_REPLY,
    )
    assert inbound["author"] is None
    transcript = httpx.get(f"{api}/handovers/{case['id']}/transcript", headers=staff, timeout=10)
    assert transcript.status_code == 200
    user_lines = [e["text"] for e in transcript.json()["events"] if e["sender"] == "user"]
    assert user_lines[-1] == RESIDENT_REPLY, "the reply is appended to the transcript"

    # What the channel was told (the same sid again: the same answer, nothing stored twice).
    relayed = httpx.post(
        f"{api}/inbound-messages",
        headers={"Authorization": f"Bearer {stack.service_token}"},
        json={
            "channel": "sms",
            "from_phone": RESIDENT,
            "message_sid": reply_sid,
            "body": RESIDENT_REPLY,
        },
        timeout=10,
    ).json()
    assert relayed["matched"] is True and relayed["handover_id"] == case["id"]
    assert relayed["organisation_name"] == "Senzer"
    assert len(httpx.get(messages_url, headers=staff, timeout=10).json()["items"]) == 2

    # The resident's acknowledgement names the organisation: with sending off the channel only
    # logs its length (never a text), and it is the one message the channel sent.
    acknowledgement = ACKNOWLEDGEMENT.format(organisation=relayed["organisation_name"])
    written = wait_for_log(stack, log_start, "not sent")
    assert f"Twilio message {reply_sid} offered to the handover API: matched=True" in written
    not_sent = re.findall(r"Twilio sending is off; (\d+) characters not sent", written)
    assert not_sent == [str(len(acknowledgement))], written[-2000:]
