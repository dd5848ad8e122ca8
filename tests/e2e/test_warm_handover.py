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
    assert "Senzer" in Chat.text(for_helmond), "the answer is given again for Helmond"
    assert any(m.get("buttons") for m in for_helmond), "a handover must be offered"

    consent_question = Chat.text(chat.say("ja"))
    assert "Mag ik dit delen?" in consent_question, "the municipality is not asked twice"
    assert "Senzer" in consent_question
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
    assert handover["consent"]["text_version"] == "toestemming-2026-12-v2"
    assert handover["municipality"] == {"code": "GM0794", "name": "Helmond"}
    assert handover["destination"]["level"] == "regional"
    assert "Helmond" in handover["summary"]

    detail = httpx.get(
        f"{stack.api_url}/api/v1/handovers/{handover['id']}", headers=headers, timeout=10
    ).json()
    assert detail["contact"]["phone"] == "0612345678"
    assert "e2e-resident-1" not in detail["conversation_id"], "conversation ids are opaque"
    transcript = httpx.get(
        f"{stack.api_url}/api/v1/handovers/{handover['id']}/transcript",
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
    # Other tests in this session hand over IJmond cases to it; a Helmond case never shows.
    assert not any(h["municipality"]["name"] == "Helmond" for h in listing.json()["items"])


def _handovers_of(stack: StackConfig, token: str) -> list[dict]:
    return httpx.get(
        f"{stack.api_url}/api/v1/handovers",
        headers={"Authorization": f"Bearer {token}"},
        params={"page_size": 100},
        timeout=10,
    ).json()["items"]


def test_declining_consent_shares_nothing(stack: StackConfig) -> None:
    token = staff_token(stack, "e2e-peel61-b", "peel61")
    before = {h["id"] for h in _handovers_of(stack, token)}
    chat = Chat(stack, "e2e-resident-2", channel="sms")
    first = chat.say("ik wil graag een medewerker spreken")
    assert "computerprogramma (AI)" in Chat.text(first)
    chat.say("Deurne")
    refused = Chat.text(chat.say("2"))
    assert "Ik deel niets" in refused
    assert {h["id"] for h in _handovers_of(stack, token)} == before  # nothing new was shared


def test_one_resident_two_organisations_each_read_only_their_own(stack: StackConfig) -> None:
    """The same WhatsApp number, two conversation sessions, two handovers to two
    organisations: each organisation reads only the conversation shared with it."""
    sender = "whatsapp:+31611112222"
    chat = Chat(stack, sender, channel="whatsapp")
    chat.say("ik heb geen inkomen meer, kan ik bijstand krijgen?")
    chat.say("Helmond")
    chat.say("1")
    chat.say("1")
    first = REFERENCE.search(Chat.text(chat.say("06 11112222")))
    assert first, "first handover made"

    chat.say("/session_start")  # a new conversation session, as on another day
    second_reply = Chat.text(chat.say("ik wil niet meer leven"))
    assert "113" in second_reply
    chat.say("1")
    chat.say("Helmond")
    chat.say("1")
    second = REFERENCE.search(Chat.text(chat.say("06 11112222")))
    assert second, "second handover made"

    peel = {"Authorization": f"Bearer {staff_token(stack, 'e2e-peel61-two', 'peel61')}"}
    helmond = {
        "Authorization": f"Bearer {staff_token(stack, 'e2e-helmond-two', 'gemeente-helmond')}"
    }
    api = f"{stack.api_url}/api/v1"
    to_peel = [
        h
        for h in httpx.get(f"{api}/handovers", headers=peel, timeout=10).json()["items"]
        if h["reference"] == first.group(0)
    ]
    to_helmond = [
        h
        for h in httpx.get(f"{api}/handovers", headers=helmond, timeout=10).json()["items"]
        if h["reference"] == second.group(0)
    ]
    assert len(to_peel) == 1 and len(to_helmond) == 1
    peel_case, helmond_case = to_peel[0], to_helmond[0]
    assert peel_case["conversation_id"] != helmond_case["conversation_id"]
    for case in (peel_case, helmond_case):
        assert (
            "3161111" not in case["conversation_id"] and "whatsapp" not in case["conversation_id"]
        )

    peel_lines = httpx.get(
        f"{api}/handovers/{peel_case['id']}/transcript", headers=peel, timeout=10
    ).json()["events"]
    assert any("bijstand" in e["text"] for e in peel_lines)
    assert not any("niet meer leven" in e["text"] for e in peel_lines), "told only to Helmond"

    # Neither organisation reaches the other's handover or its conversation.
    for headers, other in ((peel, helmond_case), (helmond, peel_case)):
        assert httpx.get(f"{api}/handovers/{other['id']}", headers=headers).status_code == 404
        assert (
            httpx.get(f"{api}/handovers/{other['id']}/transcript", headers=headers).status_code
            == 404
        )
        assert (
            httpx.get(
                f"{api}/conversations/{other['conversation_id']}/transcript", headers=headers
            ).status_code
            == 404
        )


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
