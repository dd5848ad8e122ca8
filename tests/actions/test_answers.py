from actions.answers import ActionAnswerForMunicipality, ActionAnswerMore, ActionAnswerQuestion
from actions.knowledge import gsm7_length
from actions.session import ActionSessionStart
from tests.actions.conftest import make_tracker

HELMOND = {"gemeente_code": "GM0794", "gemeente": "Helmond"}


def _slots(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def test_bijstand_question_is_answered_and_a_handover_offered(dispatcher) -> None:
    tracker = make_tracker(text="kan ik bijstand krijgen?", intent="ask_bijstand", slots=HELMOND)
    events = await ActionAnswerQuestion().run(dispatcher, tracker, {})
    answer, offer = dispatcher.messages
    assert "Peel 6.1" in answer["text"]
    assert "Meer weten? Typ 'meer' voor meer uitleg. https://" in answer["text"]
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
    assert slots["handover_offered"] is True


async def test_unknown_municipality_is_asked_once_then_the_answer_is_given_for_it(
    dispatcher,
) -> None:
    first = make_tracker(text="hoe vraag ik bijstand aan", intent="ask_bijstand")
    slots = _slots(await ActionAnswerQuestion().run(dispatcher, first, {}))
    assert "In welke gemeente woont u?" in dispatcher.messages[-1]["text"]
    assert slots["awaiting_municipality"] is True and slots["municipality_asked"] is True

    dispatcher.messages.clear()
    reply = make_tracker(
        text="ik woon in Velserbroek",
        intent="inform",
        slots={"awaiting_municipality": True, "municipality_asked": True, "topic": "bijstand"},
    )
    slots = _slots(await ActionAnswerForMunicipality().run(dispatcher, reply, {}))
    assert slots["gemeente_code"] == "GM0453"
    assert "Werkplein IJmond" in dispatcher.messages[0]["text"]
    assert slots["awaiting_municipality"] is False
    assert slots["handover_offered"] is True

    dispatcher.messages.clear()
    again = make_tracker(
        text="bijzondere bijstand?",
        intent="ask_bijzondere_bijstand",
        slots={"municipality_asked": True},
    )
    await ActionAnswerQuestion().run(dispatcher, again, {})
    assert all("In welke gemeente" not in m["text"] for m in dispatcher.messages)


async def test_sms_answer_fits_two_segments_without_link_and_with_numbered_choices(
    dispatcher,
) -> None:
    tracker = make_tracker(text="bijstand?", intent="ask_bijstand", channel="sms", slots=HELMOND)
    await ActionAnswerQuestion().run(dispatcher, tracker, {})
    answer, offer = dispatcher.messages
    assert "http" not in answer["text"]
    assert gsm7_length(answer["text"]) <= 306
    assert offer["text"].endswith("1. Ja\n2. Nee")


async def test_out_of_scope_is_referred_without_a_handover_offer(dispatcher) -> None:
    tracker = make_tracker(text="mijn paspoort verlengen", intent="out_of_scope", slots=HELMOND)
    events = await ActionAnswerQuestion().run(dispatcher, tracker, {})
    assert len(dispatcher.messages) == 1
    assert "paspoort" in dispatcher.messages[0]["text"]
    assert _slots(events)["handover_offered"] is False


async def test_meer_gives_the_follow_up_of_the_last_topic(dispatcher) -> None:
    tracker = make_tracker(text="meer", intent="more_info", slots={**HELMOND, "topic": "bijstand"})
    await ActionAnswerMore().run(dispatcher, tracker, {})
    assert "vermogen" in dispatcher.messages[0]["text"]


async def test_meer_without_a_topic_asks_what_about(dispatcher) -> None:
    await ActionAnswerMore().run(dispatcher, make_tracker(text="meer", intent="more_info"), {})
    assert dispatcher.messages[0]["response"] == "utter_ask_what_more"


async def test_every_conversation_opens_with_the_ai_disclosure(dispatcher) -> None:
    events = await ActionSessionStart().run(dispatcher, make_tracker(), {})
    assert dispatcher.messages[0]["response"] == "utter_ai_disclosure"
    assert [e["event"] for e in events] == ["session_started", "slot", "action"]


async def test_each_session_gets_an_opaque_conversation_id(dispatcher) -> None:
    """The id sent to the handover API never holds the sender id (a phone number on SMS) and
    is new for every session (API contract v2)."""
    sender = "whatsapp:+31612345678"
    ids = []
    for _ in range(2):
        events = await ActionSessionStart().run(dispatcher, make_tracker(sender_id=sender), {})
        (slot,) = [e for e in events if e["event"] == "slot"]
        assert slot["name"] == "conversation_ref"
        ids.append(slot["value"])
    assert ids[0] != ids[1]
    for value in ids:
        assert value.startswith("c-") and "31612345678" not in value and "whatsapp" not in value
