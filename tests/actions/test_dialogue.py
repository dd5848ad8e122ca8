from rasa_sdk.events import SlotSet

from actions.dialogue import ActionNotUnderstood, consecutive_fallbacks
from tests.actions.conftest import make_tracker


def _user(intent: str, text: str = "...") -> dict:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def test_counts_only_the_latest_run_of_fallbacks() -> None:
    events = [
        _user("nlu_fallback"),
        _user("greet"),
        {"event": "bot", "text": "Hallo"},
        _user("nlu_fallback"),
        {"event": "bot", "text": "Sorry"},
        _user("nlu_fallback"),
    ]
    assert consecutive_fallbacks(make_tracker(events=events)) == 2
    assert consecutive_fallbacks(make_tracker(events=[_user("greet")])) == 0


async def test_first_time_asks_to_rephrase(dispatcher) -> None:
    tracker = make_tracker(events=[_user("greet"), _user("nlu_fallback")])
    assert await ActionNotUnderstood().run(dispatcher, tracker, {}) == []
    assert dispatcher.messages[0]["response"] == "utter_default"


async def test_second_time_in_a_row_offers_a_person(dispatcher) -> None:
    tracker = make_tracker(events=[_user("nlu_fallback"), _user("nlu_fallback")], channel="sms")
    events = await ActionNotUnderstood().run(dispatcher, tracker, {})
    assert "medewerker" in dispatcher.messages[0]["text"]
    assert dispatcher.messages[0]["text"].endswith("1. Ja\n2. Nee")
    question = dispatcher.messages[0]["text"].removesuffix("\n1. Ja\n2. Nee")
    assert events == [
        SlotSet("awaiting_reply", True),
        SlotSet("pending", "handover"),
        SlotSet("pending_question", question),
        SlotSet("pending_choices", [["Ja", "/affirm"], ["Nee", "/deny"]]),
        SlotSet("pending_retries", 0),
    ]
