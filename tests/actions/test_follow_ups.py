"""Short follow-ups get the fact they ask for ("is dat gratis?" after the Kindertelefoon),
in every step of the conversation: after an answer, at an offer, and inside the handover form."""

import pytest
from pydantic import ValidationError
from rasa_sdk.events import FollowupAction

from actions.answers import ActionAnswerQuestion
from actions.aspects import aspects_of
from actions.dialogue import ActionNotUnderstood, ActionReply
from actions.follow_ups import answer_follow_up, current_topic
from actions.handover import ValidateHandoverForm
from actions.knowledge import PartialAnswer
from actions.situation import ActionRespondSituation
from tests.actions.conftest import make_tracker


def _slots(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def _texts(dispatcher) -> str:
    return "\n".join(m.get("text") or "" for m in dispatcher.messages)


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("is dat gratis?", "kosten"),
        ("kost dat geld?", "kosten"),
        ("moet ik daar voor betalen?", "kosten"),
        ("en als dat niet lukt?", "afgewezen"),
        ("ok en als ik de huur nu niet kan betalen? woon in helmond", "niet_betalen"),
        ("en blijft peel 6.1 dan gewoon betalen?", "wie_betaalt"),
        ("maar hoeveel krijg ik nou", "bedrag"),
        ("moet ik mijn DigiD klaar houden als ze bellen?", "digid"),
        ("is er iets zoals jeugdfonds sport of leergeld?", "sport_cultuur"),
        ("waar kan ik het anoniem melden", "anoniem"),
        ("hij is niet gevaarlijk hoor, gewoon erg in de war", "geen_gevaar"),
    ],
)
def test_aspects_are_recognised_in_resident_wording(text: str, first: str) -> None:
    assert aspects_of(text)[0] == first


def test_a_long_story_is_no_follow_up() -> None:
    story = (
        "ik heb al drie maanden geen inkomen en de huur kan ik niet betalen, mijn vriend is weg "
        "en de kinderen moeten naar school"
    )
    assert aspects_of(story) == []


def test_a_fact_under_an_unknown_aspect_is_refused() -> None:
    """A fact no resident wording can reach would never be said: the loader refuses it."""
    with pytest.raises(ValidationError, match="unknown aspect"):
        PartialAnswer(facts={"openingstijden": "Van 9 tot 5."})


async def test_is_dat_gratis_after_the_kindertelefoon_gets_its_fact(dispatcher) -> None:
    tracker = make_tracker(
        text="is dat gratis?",
        intent="ask_contact",  # what the classifier made of three words
        slots={"topic": "kindertelefoon", "answered_topics": ["kindertelefoon"]},
        channel="whatsapp",
    )
    events = await ActionAnswerQuestion().run(dispatcher, tracker, {})
    said = _texts(dispatcher)
    assert "gratis" in said.lower()
    assert "0800-0432" in said or "Kindertelefoon" in said
    assert _slots(events)["topic"] == "kindertelefoon"


async def test_kost_dat_geld_at_the_wmo_offer_then_the_offer_once_more(dispatcher) -> None:
    tracker = make_tracker(
        text="kost dat geld?",
        intent="nlu_fallback",
        slots={
            "topic": "wmo",
            "service": "wmo",
            "gemeente_code": "GM0847",
            "awaiting_reply": True,
            "pending": "handover",
            "pending_question": "Wilt u dat een medewerker contact met u opneemt over uw vraag?",
            "pending_choices": [["Ja", "/affirm"], ["Nee", "/deny"]],
            "pending_retries": 0,
        },
    )
    events = await ActionReply().run(dispatcher, tracker, {})
    fact, again = dispatcher.messages
    assert "CAK" in fact["text"] or "eigen bijdrage" in fact["text"]
    assert "medewerker contact" in again["text"] and again["buttons"]
    assert _slots(events)["pending_retries"] == 1


async def test_a_question_naming_another_topic_is_not_taken_as_a_follow_up(dispatcher) -> None:
    tracker = make_tracker(
        text="hoeveel bijzondere bijstand krijg ik voor een bril?",
        intent="ask_bijzondere_bijstand",
        slots={"topic": "bijstand", "gemeente_code": "GM0794"},
    )
    assert answer_follow_up(dispatcher, tracker) is None
    assert dispatcher.messages == []


async def test_a_long_new_question_the_classifier_is_sure_of_is_no_follow_up(dispatcher) -> None:
    tracker = make_tracker(
        text="kan ik hulp krijgen bij het betalen van mijn energierekening van deze winter?",
        intent="ask_schuldhulp",
        slots={"topic": "wmo"},
    )
    assert answer_follow_up(dispatcher, tracker) is None


async def test_a_municipality_named_in_the_follow_up_is_used_and_remembered(dispatcher) -> None:
    tracker = make_tracker(
        text="ok en als ik de huur nu niet kan betalen? woon in helmond",
        intent="nlu_fallback",
        slots={"topic": "toeslagen", "answered_topics": ["toeslagen"]},
        channel="sms",
    )
    events = await ActionNotUnderstood().run(dispatcher, tracker, {})
    assert "Senzer" in _texts(dispatcher)
    assert _slots(events)["gemeente_code"] == "GM0794"


def test_the_topic_of_a_story_is_the_entry_of_the_service_wanted() -> None:
    offered = {"awaiting_reply": True, "pending": "handover"}
    assert current_topic(make_tracker(slots={**offered, "service": "bijstand_intake"})) == (
        "bijstand"
    )
    assert current_topic(make_tracker(slots={**offered, "leefgebieden": ["adl"]})) == "wmo"
    assert current_topic(make_tracker(slots={"topic": "uwv", "service": "wmo"})) == "uwv"
    assert current_topic(make_tracker()) is None


async def test_a_first_question_gets_the_whole_answer_not_a_fact(dispatcher) -> None:
    """ "hoeveel bijstand krijg ik als alleenstaande?" names the scheme (a `regeling`), but
    nothing was answered yet: no follow-up, so the answer and the offer follow."""
    tracker = make_tracker(
        text="hoeveel bijstand krijg ik als alleenstaande? woon in deurne",
        intent="ask_bijstand",
        slots={"regeling": "bijstand"},
    )
    assert answer_follow_up(dispatcher, tracker) is None


async def test_a_fact_of_a_related_topic_answers_when_the_topic_has_none(dispatcher) -> None:
    """ "blijft peel 6.1 dan gewoon betalen?" after the answer on reporting a move."""
    tracker = make_tracker(
        text="en blijft peel 6.1 dan gewoon betalen?",
        intent="nlu_fallback",
        slots={"topic": "wijziging_doorgeven", "gemeente_code": "GM0762"},
        channel="whatsapp",
    )
    events = answer_follow_up(dispatcher, tracker)
    assert events is not None
    said = _texts(dispatcher)
    assert "Senzer" in said and "nieuwe gemeente" in said


async def test_digid_question_at_the_phone_question_is_answered_and_asked_again(
    dispatcher,
) -> None:
    tracker = make_tracker(
        text="moet ik mijn DigiD klaar houden als ze bellen?",
        intent="ask_hulp_formulieren",
        slots={
            "service": "bijstand_intake",
            "gemeente_code": "GM0383",
            "consent_given": True,
            "requested_slot": "contact_phone",
        },
        active_loop="handover_form",
    )
    events = await ValidateHandoverForm().run(dispatcher, tracker, {"slots": {}, "forms": {}})
    assert "DigiD" in _texts(dispatcher)
    slots = _slots(events)
    assert slots["contact_phone"] is None  # not answered: the form asks for the number again
    assert slots["topic"] == "bijstand"


async def test_no_money_for_food_in_a_story_names_the_food_bank_before_the_offer(
    dispatcher,
) -> None:
    tracker = make_tracker(
        text="ik heb gn geld meer voor eten. woon in helmond",
        intent="describe_situation",
        channel="sms",
    )
    events = await ActionRespondSituation().run(dispatcher, tracker, {})
    fact, *rest = dispatcher.messages
    assert "voedselbank" in fact["text"].lower()
    assert "Senzer" in fact["text"]  # the municipality named in the same message
    assert _slots(events)["pending"] == "handover"  # and then a person is offered
    assert rest


async def test_a_story_without_a_need_gets_no_food_bank(dispatcher) -> None:
    tracker = make_tracker(
        text="ik ben mijn baan kwijt en weet niet hoe het verder moet",
        intent="describe_situation",
    )
    await ActionRespondSituation().run(dispatcher, tracker, {})
    assert "voedselbank" not in _texts(dispatcher).lower()


async def test_an_angry_story_with_a_question_gets_both_the_acknowledgement_and_the_answer(
    dispatcher,
) -> None:
    tracker = make_tracker(
        text="ik word gek van al die formulieren, kan iemand me helpen met invullen?",
        intent="describe_situation",
    )
    tracker.latest_message["intent_ranking"] = [
        {"name": "describe_situation", "confidence": 0.9},
        {"name": "ask_hulp_formulieren", "confidence": 0.44},
    ]
    await ActionRespondSituation().run(dispatcher, tracker, {})
    said = _texts(dispatcher)
    assert "boos" in said
    assert "formulier" in said.lower() or "Informatiepunt" in said


async def test_i_want_to_apply_in_a_story_starts_the_handover(dispatcher) -> None:
    tracker = make_tracker(
        text="goedendag ik wil bijstand aanvragen want mijn ww stopt. woon in stiphout",
        intent="describe_situation",
    )
    events = await ActionRespondSituation().run(dispatcher, tracker, {})
    assert events[-1] == FollowupAction("handover_form")


async def test_a_decision_fact_is_not_borrowed_from_a_related_topic(dispatcher) -> None:
    """ "als het niet lukt" after the Toeslagen answer: not the bezwaar fact of bijzondere
    bijstand (toeslagen points to it), which is about another decision."""
    tracker = make_tracker(
        text="ik woon in castricum, kan de gemeente helpen als het niet lukt?",
        intent="nlu_fallback",
        slots={"topic": "toeslagen"},
    )
    assert answer_follow_up(dispatcher, tracker) is None
