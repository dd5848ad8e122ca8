"""Issue 13 through the whole running system: a handover made in the chat is announced to the
receiving team at once, by e-mail, with the reference and a link and nothing of the resident.

The stack runs a local SMTP server (aiosmtpd) that keeps every e-mail in `<var_dir>/mail`
(a Maildir, see voordeur_cli.stack) and notifies the example configuration of Senzer's team
(`notify:` in data/regions/peelland.yml); the worker process retries what the API's immediate
attempt could not send.
"""

import mailbox
import re
import time
from email.message import Message

import httpx

from tests.e2e.conftest import Chat, staff_token
from voordeur_cli.stack import StackConfig

REFERENCE = re.compile(r"VD-[A-Z0-9]{4}-\d{2}")


def _mails_about(stack: StackConfig, reference: str, timeout: float = 30) -> list[Message]:
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in mailbox.Maildir(stack.mail_dir) if reference in (m["Subject"] or "")]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def test_the_team_is_mailed_when_a_handover_arrives(stack: StackConfig) -> None:
    chat = Chat(stack, "e2e-notify-1")
    chat.say("ik heb geen inkomen meer, kan ik bijstand krijgen?")
    chat.say("Helmond")
    chat.say("ja")
    chat.say("ja")
    done = Chat.text(chat.say("06 12345678"))
    match = REFERENCE.search(done)
    assert match, done
    reference = match.group(0)

    mails = _mails_about(stack, reference)
    assert len(mails) == 1, "one announcement, never two"
    mail = mails[0]
    assert mail["To"] == "overdrachten@senzer.example.nl"
    assert mail["Subject"].startswith("Nieuwe overdracht")
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert f"{stack.api_url}/staff/handovers/" in body
    for private in ("12345678", "0612345678", "inkomen", "Helmond"):
        # Helmond is the resident's municipality: also not in a mail that may be forwarded.
        assert private not in body, private

    token = staff_token(stack, "e2e-notify-peel61", "peel61")
    headers = {"Authorization": f"Bearer {token}"}
    listing = httpx.get(
        f"{stack.api_url}/api/v1/handovers", params={"q": reference}, headers=headers, timeout=10
    ).json()["items"]
    assert len(listing) == 1 and listing[0]["claim_due_at"] is not None
    events = httpx.get(
        f"{stack.api_url}/api/v1/handovers/{listing[0]['id']}/events", headers=headers, timeout=10
    ).json()
    kinds = [e["kind"] for e in events]
    assert kinds[:2] == ["consent_given", "created"] and "team_notified" in kinds
