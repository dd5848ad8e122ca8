"""Multi-problem and crisis conversations through the real services."""

import httpx

from tests.e2e.conftest import Chat, staff_token
from voordeur_cli.stack import StackConfig


def _handover_for(stack: StackConfig, organisation: str, conversation_id: str) -> dict:
    token = staff_token(stack, f"e2e-{organisation}-{conversation_id}", organisation)
    headers = {"Authorization": f"Bearer {token}"}
    items = httpx.get(f"{stack.api_url}/api/v1/handovers", headers=headers, timeout=10).json()
    found = [h for h in items["items"] if h["conversation_id"] == conversation_id]
    assert len(found) == 1, items
    return httpx.get(
        f"{stack.api_url}/api/v1/handovers/{found[0]['id']}", headers=headers, timeout=10
    ).json()


def test_multi_problem_goes_as_one_case_to_the_local_team(stack: StackConfig) -> None:
    chat = Chat(stack, "e2e-multi-1")
    reply = Chat.text(
        chat.say(
            "ik ben mijn baan kwijt, de huur is al twee maanden niet betaald en ik slaap slecht "
            "van de stress"
        )
    )
    assert "wijkteam" in reply.lower() or "samen" in reply.lower()
    assert "gemeente" in Chat.text(chat.say("ja")).lower()
    assert "Mag ik dit delen?" in Chat.text(chat.say("Helmond"))
    assert "telefoonnummer" in Chat.text(chat.say("ja")).lower()
    assert "VD-" in Chat.text(chat.say("0612345678"))

    handover = _handover_for(stack, "gemeente-helmond", "e2e-multi-1")
    codes = {d["code"] for d in handover["life_domains"]}
    assert {"werk_opleiding", "huisvesting", "geestelijke_gezondheid"} <= codes
    assert all(d["evidence"] for d in handover["life_domains"]), "the resident's own words"
    assert handover["multi_problem"] is True
    assert handover["destination"]["level"] == "local"
    assert "regie" in handover["destination"]["reason"]


def test_crisis_gets_the_numbers_at_once_and_an_urgent_handover(stack: StackConfig) -> None:
    chat = Chat(stack, "e2e-crisis-1", channel="sms")
    reply = Chat.text(chat.say("ik wil niet meer leven"))
    assert "113" in reply and "0800-0113" in reply
    assert "1. Ja" in reply
    chat.say("1")
    chat.say("Deurne")
    chat.say("1")
    assert "VD-" in Chat.text(chat.say("06 12345678"))

    handover = _handover_for(stack, "gemeente-deurne", "e2e-crisis-1")
    assert handover["priority"] == "urgent"
    assert handover["crisis"] == {"type": "suicidaliteit"}
    assert handover["channel"] == "sms"
