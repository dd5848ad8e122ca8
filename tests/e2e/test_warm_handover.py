"""A resident asks about bijstand, consents and leaves a number; a professional of the
receiving organisation sees the handover with summary, consent and transcript."""

import re

import httpx

from tests.e2e.conftest import Chat, staff_token
from voordeur_cli.stack import StackConfig

REFERENCE = re.compile(r"VD-[A-Z0-9]{4}-\d{2}")


def test_bijstand_question_reaches_the_regional_organisation(stack: StackConfig) -> None:
    chat = Chat(stack, "e2e-resident-1")

    first = chat.say("ik heb geen inkomen meer, kan ik bijstand krijgen?")
    text = Chat.text(first)
    assert "computerprogramma (AI)" in text, "first message must disclose the AI assistant"
    assert "medewerker" in text
    assert "bijstand" in text.lower()
    assert "In welke gemeente woont u?" in text, "the municipality is asked once"

    for_helmond = chat.say("Helmond")
    assert "Peel 6.1" in Chat.text(for_helmond), "the answer is given again for Helmond"
    assert any(m.get("buttons") for m in for_helmond), "a handover must be offered"

    consent_question = Chat.text(chat.say("ja"))
    assert "Mag ik dit delen?" in consent_question, "the municipality is not asked twice"
    assert "Peel 6.1" in consent_question
    assert "telefoonnummer" in Chat.text(chat.say("ja")).lower()
    done = Chat.text(chat.say("06 12345678"))
    match = REFERENCE.search(done)
    assert match, done
    reference = match.group(0)

    token = staff_token(stack, "e2e-peel61", "peel61")
    headers = {"Authorization": f"Bearer {token}"}
    listing = httpx.get(f"{stack.api_url}/api/v1/handovers", headers=headers, timeout=10)
    assert listing.status_code == 200
    items = [h for h in listing.json()["items"] if h["reference"] == reference]
    assert len(items) == 1
    handover = items[0]
    assert handover["channel"] == "web"
    assert handover["consent"]["given"] is True
    assert handover["consent"]["text_version"] == "toestemming-2026-11-v1"
    assert handover["municipality"] == {"code": "GM0794", "name": "Helmond"}
    assert handover["destination"]["level"] == "regional"
    assert "Helmond" in handover["summary"]

    detail = httpx.get(
        f"{stack.api_url}/api/v1/handovers/{handover['id']}", headers=headers, timeout=10
    ).json()
    assert detail["contact"]["phone"] == "0612345678"
    transcript = httpx.get(
        f"{stack.api_url}/api/v1/conversations/e2e-resident-1/transcript",
        headers=headers,
        timeout=10,
    )
    assert transcript.status_code == 200
    lines = transcript.json()["events"]
    user_lines = [e["text"] for e in lines if e["sender"] == "user"]
    assert "ik heb geen inkomen meer, kan ik bijstand krijgen?" in user_lines
    assert any("[telefoon]" in t for t in user_lines), "phone numbers are redacted by default"


def test_other_organisations_do_not_see_the_handover(stack: StackConfig) -> None:
    token = staff_token(stack, "e2e-other", "werkplein-ijmond")
    listing = httpx.get(
        f"{stack.api_url}/api/v1/handovers",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert listing.status_code == 200
    assert listing.json()["items"] == []


def test_declining_consent_shares_nothing(stack: StackConfig) -> None:
    chat = Chat(stack, "e2e-resident-2", channel="sms")
    first = chat.say("ik wil graag een medewerker spreken")
    assert "computerprogramma (AI)" in Chat.text(first)
    chat.say("Deurne")
    refused = Chat.text(chat.say("2"))
    assert "Ik deel niets" in refused
    token = staff_token(stack, "e2e-peel61-b", "peel61")
    listing = httpx.get(
        f"{stack.api_url}/api/v1/handovers",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    assert all(h["conversation_id"] != "e2e-resident-2" for h in listing["items"])


def test_production_profile_keeps_the_conversation_in_postgresql(stack: StackConfig) -> None:
    """On the production profile Rasa's tracker store is PostgreSQL; locally it is SQLite."""
    if not (stack.database_url or "").startswith("postgresql"):
        assert (stack.var_dir / "tracker.sqlite3").exists()
        return
    import psycopg

    url = stack.database_url.replace("postgresql+psycopg://", "postgresql://") + "_tracker"
    with psycopg.connect(url) as conn:
        (count,) = conn.execute(
            "SELECT COUNT(*) FROM events WHERE sender_id = %s", ("e2e-resident-1",)
        ).fetchone()
    assert count > 10
