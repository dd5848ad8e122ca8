"""Multi-problem and crisis conversations through the real services."""

import re

import httpx

from tests.e2e.conftest import Chat, staff_token
from voordeur_cli.stack import StackConfig

REFERENCE = re.compile(r"VD-[A-Z0-9]{4}-\d{2}")


def _handover_for(stack: StackConfig, organisation: str, reply: str) -> dict:
    """The handover whose reference the resident was told in ``reply``."""
    match = REFERENCE.search(reply)
    assert match, reply
    token = staff_token(stack, f"e2e-{organisation}-{match.group(0)}", organisation)
    headers = {"Authorization": f"Bearer {token}"}
    items = httpx.get(f"{stack.api_url}/api/v1/handovers", headers=headers, timeout=10).json()
    found = [h for h in items["items"] if h["reference"] == match.group(0)]
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
    done = Chat.text(chat.say("0612345678"))

    handover = _handover_for(stack, "gemeente-helmond", done)
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
    done = Chat.text(chat.say("06 12345678"))

    handover = _handover_for(stack, "gemeente-deurne", done)
    assert handover["priority"] == "urgent"
    assert handover["crisis"] == {"type": "suicidaliteit"}
    assert handover["channel"] == "sms"
