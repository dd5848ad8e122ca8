from actions.answers import ActionAnswerQuestion
from actions.session import ActionSessionStart
from tests.actions.conftest import make_tracker


def _slots(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def test_bijstand_question_is_answered_and_a_handover_offered(dispatcher) -> None:
    tracker = make_tracker(text="kan ik bijstand krijgen?", intent="ask_bijstand")
    events = await ActionAnswerQuestion().run(dispatcher, tracker, {})
    answer, offer = dispatcher.messages
    assert "bijstand" in answer["text"].lower()
    assert "Meer weten? https://" in answer["text"]
    assert [b["payload"] for b in offer["buttons"]] == ["/affirm", "/deny"]
    slots = _slots(events)
    assert slots["topic"] == "bijstand"
    assert slots["service"] == "bijstand_intake"
    assert slots["handover_offered"] is True


async def test_municipality_named_in_the_question_is_remembered(dispatcher) -> None:
    tracker = make_tracker(
        text="bijstand in Mierlo",
        intent="ask_bijstand",
        entities=[{"entity": "gemeente", "value": "Geldrop-Mierlo", "start": 12, "end": 18}],
    )
    slots = _slots(await ActionAnswerQuestion().run(dispatcher, tracker, {}))
    assert slots["gemeente_code"] == "GM1771"
    assert slots["gemeente"] == "Geldrop-Mierlo"


async def test_sms_answer_has_no_link_and_numbered_choices(dispatcher) -> None:
    tracker = make_tracker(text="bijstand?", intent="ask_bijstand", channel="sms")
    await ActionAnswerQuestion().run(dispatcher, tracker, {})
    answer, offer = dispatcher.messages
    assert "http" not in answer["text"]
    assert offer["text"].endswith("1. Ja\n2. Nee")


async def test_out_of_scope_is_referred_without_a_handover_offer(dispatcher) -> None:
    tracker = make_tracker(text="mijn paspoort verlengen", intent="out_of_scope")
    events = await ActionAnswerQuestion().run(dispatcher, tracker, {})
    assert len(dispatcher.messages) == 1
    assert _slots(events)["handover_offered"] is False


async def test_every_conversation_opens_with_the_ai_disclosure(dispatcher) -> None:
    events = await ActionSessionStart().run(dispatcher, make_tracker(), {})
    assert dispatcher.messages[0]["response"] == "utter_ai_disclosure"
    assert [e["event"] for e in events] == ["session_started", "action"]
