"""The one pending question and the replies to it (actions/pending.py, actions/dialogue.py)."""

from typing import Any

import pytest
from rasa_sdk.events import FollowupAction, SlotSet

from actions.crisis import (
    FOR_SOMEONE_ELSE,
    OFFER_SELF,
    OFFER_THIRD_PARTY,
    WHO_CHOICES,
    WHO_QUESTION,
)
from actions.dialogue import (
    UNCLEAR_LEAD,
    ActionAcknowledgeAnger,
    ActionNotUnderstood,
    ActionReply,
)
from actions.pending import ask, ask_again, clear, pending_kind
from actions.privacy_requests import CONFIRM_ERASE, CONFIRM_WITHDRAW
from actions.turns import ANGER_ACK
from actions.way_forward import LATER_HINT
from tests.actions.conftest import make_tracker

OFFER = "Wilt u dat een medewerker contact met u opneemt over uw vraag?"
YES_NO = [["Ja", "/affirm"], ["Nee", "/deny"]]
HELMOND_BIJSTAND = {"gemeente_code": "GM0794", "gemeente": "Helmond", "service": "bijstand_intake"}


def _slots(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The slot values after the events (a later SlotSet wins, as in Rasa)."""
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def _pending(kind: str, question: str = OFFER, choices=None, retries: int = 0, **slots):
    return {
        "awaiting_reply": True,
        "pending": kind,
        "pending_question": question,
        "pending_choices": choices or YES_NO,
        "pending_retries": retries,
        **slots,
    }


def _texts(dispatcher) -> list[str]:
    return [m.get("text") or m.get("response") for m in dispatcher.messages]


async def _reply(dispatcher, text: str, intent: str, slots: dict[str, Any], **kwargs):
    tracker = make_tracker(text=text, intent=intent, slots=slots, **kwargs)
    return await ActionReply().run(dispatcher, tracker, {})


# --- pending.py ----------------------------------------------------------------------------


def test_ask_remembers_the_question_and_shows_the_choices(dispatcher) -> None:
    events = ask(dispatcher, make_tracker(channel="sms"), "crisis_who", WHO_QUESTION, WHO_CHOICES)
    assert dispatcher.messages[0]["text"] == f"{WHO_QUESTION}\n1. Om mij\n2. Om iemand anders"
    assert _slots(events) == {
        "awaiting_reply": True,
        "pending": "crisis_who",
        "pending_question": WHO_QUESTION,
        "pending_choices": [["Om mij", "/affirm"], ["Om iemand anders", "/deny"]],
        "pending_retries": 0,
    }


def test_only_known_kinds_can_be_pending(dispatcher) -> None:
    with pytest.raises(AssertionError):
        ask(dispatcher, make_tracker(), "handover_offered", "?")
    assert pending_kind(make_tracker(slots=_pending("handover"))) == "handover"
    assert pending_kind(make_tracker(slots={"awaiting_reply": True, "pending": "x"})) is None


def test_pending_kind_needs_awaiting_reply() -> None:
    answered = {**_pending("handover"), "awaiting_reply": False}
    assert pending_kind(make_tracker(slots=answered)) is None
    assert pending_kind(make_tracker(slots={"pending": "handover"})) is None


def test_ask_again_repeats_the_question_with_its_choices_and_counts(dispatcher) -> None:
    slots = _pending("crisis_who", WHO_QUESTION, [list(c) for c in WHO_CHOICES], retries=0)
    events = ask_again(dispatcher, make_tracker(slots=slots), "En dan nog mijn vraag:")
    message = dispatcher.messages[0]
    assert message["text"] == f"En dan nog mijn vraag: {WHO_QUESTION}"
    assert [b["payload"] for b in message["buttons"]] == ["/affirm", "/deny"]
    assert events == [SlotSet("pending_retries", 1)]


def test_clear_forgets_everything_pending() -> None:
    assert _slots(clear()) == {
        "awaiting_reply": False,
        "pending": None,
        "pending_question": None,
        "pending_choices": None,
        "pending_retries": 0,
    }


# --- ActionReply: the handover offer -----------------------------------------------------


@pytest.mark.parametrize(("text", "intent"), [("ja", "affirm"), ("1", "nlu_fallback")])
async def test_yes_starts_the_handover_form(dispatcher, text, intent) -> None:
    events = await _reply(dispatcher, text, intent, _pending("handover", **HELMOND_BIJSTAND))
    assert _texts(dispatcher) == ["utter_handover_intro"]
    assert events[-1] == FollowupAction("handover_form")
    slots = _slots(events)
    assert slots["awaiting_reply"] is False and slots["pending"] is None
    assert "resident_notes" not in slots


async def test_yes_with_a_condition_passes_the_condition_on(dispatcher) -> None:
    slots = _pending("handover", **HELMOND_BIJSTAND)
    events = await _reply(dispatcher, "ja maar hij mag het niet weten", "nlu_fallback", slots)
    assert dispatcher.messages[0]["text"] == (
        'Goed. Dit geef ik door aan de medewerker: "hij mag het niet weten".'
    )
    assert dispatcher.messages[1]["response"] == "utter_handover_intro"
    assert events[-1] == FollowupAction("handover_form")
    result = _slots(events)
    assert result["resident_notes"] == ["hij mag het niet weten"]
    assert result["pending"] is None and result["awaiting_reply"] is False


async def test_yes_with_a_moment_is_also_the_safe_moment(dispatcher) -> None:
    events = await _reply(dispatcher, "ja maar pas na 15 uur", "affirm", _pending("handover"))
    result = _slots(events)
    assert result["resident_notes"] == ["pas na 15 uur"]
    assert result["safe_contact"] == "pas na 15 uur"


@pytest.mark.parametrize(
    ("text", "intent"),
    [("nee", "deny"), ("2", "nlu_fallback"), ("laat maar", "stop_form"), ("nee toch niet", "deny")],
)
async def test_no_or_stop_ends_with_a_way_forward(dispatcher, text, intent) -> None:
    events = await _reply(dispatcher, text, intent, _pending("handover", **HELMOND_BIJSTAND))
    (message,) = dispatcher.messages
    assert message["text"].startswith("Dat is goed. Wilt u later toch hulp?")
    assert "Senzer: kijk op www.senzer.nl" in message["text"]  # verified details only
    assert "0000" not in message["text"]
    assert LATER_HINT in message["text"]
    assert "Heeft u nog een andere vraag" not in message["text"]
    assert _slots(events) == _slots(clear())
    assert not any(e.get("name") == "handover_form" for e in events)  # no form started


async def test_no_without_a_municipality_still_gives_a_way_forward(dispatcher) -> None:
    await _reply(dispatcher, "nee", "deny", _pending("handover"))
    text = dispatcher.messages[0]["text"]
    assert "website van uw gemeente" in text and LATER_HINT in text


async def test_unclear_is_asked_once_more_then_ends_with_a_way_forward(dispatcher) -> None:
    slots = _pending("handover", **HELMOND_BIJSTAND)
    events = await _reply(dispatcher, "misschien", "nlu_fallback", slots)
    assert dispatcher.messages[0]["text"] == f"{UNCLEAR_LEAD} {OFFER}"
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/affirm", "/deny"]
    assert events == [SlotSet("pending_retries", 1), FollowupAction("action_listen")]

    dispatcher.messages.clear()
    events = await _reply(
        dispatcher, "hmm weet niet", "nlu_fallback", {**slots, "pending_retries": 1}
    )
    (message,) = dispatcher.messages
    assert message["text"].startswith("Geen probleem. Wilt u later toch hulp?")
    assert "Heeft u nog een andere vraag" not in message["text"]
    assert _slots(events)["pending"] is None and _slots(events)["awaiting_reply"] is False


async def test_unclear_on_sms_repeats_the_numbered_choices(dispatcher) -> None:
    await _reply(dispatcher, "misschien", "nlu_fallback", _pending("handover"), channel="sms")
    assert dispatcher.messages[0]["text"] == f"{UNCLEAR_LEAD} {OFFER}\n1. Ja\n2. Nee"


async def test_a_corrected_municipality_is_taken_and_the_question_asked_again(
    dispatcher,
) -> None:
    slots = _pending("handover", gemeente_code="GM0794", gemeente="Helmond")
    events = await _reply(dispatcher, "castricum zei ik toch", "inform", slots)
    assert dispatcher.messages[0]["text"] == "Dank u, ik noteer gemeente Castricum."
    assert dispatcher.messages[1]["text"] == OFFER
    result = _slots(events)
    assert result["gemeente_code"] == "GM0383" and result["gemeente"] == "Castricum"
    assert "pending" not in result  # still waiting for the answer to the offer


async def test_a_request_for_a_person_starts_the_form(dispatcher) -> None:
    events = await _reply(
        dispatcher, "ik wil een mens spreken", "request_human", _pending("handover")
    )
    assert events[-1] == FollowupAction("handover_form")


async def test_thanks_ends_with_a_way_forward(dispatcher) -> None:
    await _reply(dispatcher, "dank u", "thank", _pending("handover", **HELMOND_BIJSTAND))
    text = dispatcher.messages[0]["text"]
    assert text.startswith("Graag gedaan. Wilt u later toch hulp?")


async def test_anger_at_the_offer_is_acknowledged_first(dispatcher) -> None:
    events = await _reply(
        dispatcher,
        "dit is belachelijk, al weken niks gehoord",
        "express_anger",
        _pending("handover"),
    )
    assert dispatcher.messages[0]["text"] == ANGER_ACK
    assert _slots(events)["pending"] == "handover"


async def test_a_withdrawal_while_an_offer_is_pending_is_confirmed_first(dispatcher) -> None:
    events = await _reply(
        dispatcher, "ik wil mijn toestemming intrekken", "withdraw_consent", _pending("handover")
    )
    assert dispatcher.messages[0]["text"] == CONFIRM_WITHDRAW
    assert _slots(events)["pending"] == "withdraw"


# --- ActionReply: "gaat het om uzelf?" after a crisis framed for someone else ---------------


def _who_slots(crisis: str = "suicidaliteit", retries: int = 0) -> dict[str, Any]:
    return _pending(
        "crisis_who",
        WHO_QUESTION,
        [list(c) for c in WHO_CHOICES],
        retries=retries,
        crisis_type=crisis,
        urgent_signal=True,
    )


@pytest.mark.parametrize(
    ("text", "intent"), [("nee het gaat om mij", "deny"), ("om mij", "affirm")]
)
async def test_it_is_about_me_gets_the_self_answer_and_an_urgent_offer(
    dispatcher, text, intent
) -> None:
    events = await _reply(dispatcher, text, intent, _who_slots())
    assert dispatcher.messages[0]["response"] == "utter_crisis_suicidaliteit"
    offer = dispatcher.messages[1]
    assert offer["text"] == OFFER_SELF
    assert [b["payload"] for b in offer["buttons"]] == ["/affirm", "/deny"]
    result = _slots(events)
    assert result["pending"] == "handover" and result["awaiting_reply"] is True
    assert result["pending_question"] == OFFER_SELF and result["pending_retries"] == 0


async def test_about_my_mother_gets_the_offer_for_a_relative(dispatcher) -> None:
    events = await _reply(dispatcher, "om mijn moeder", "inform", _who_slots())
    assert "naaste" in dispatcher.messages[0]["text"]
    assert dispatcher.messages[1]["text"] == OFFER_THIRD_PARTY
    assert not any(m.get("response") == "utter_crisis_suicidaliteit" for m in dispatcher.messages)
    result = _slots(events)
    assert result["pending"] == "handover" and result["pending_question"] == OFFER_THIRD_PARTY


async def test_no_bed_tonight_for_myself_gets_the_shelter_route(dispatcher) -> None:
    slots = {**_who_slots("acute_dakloosheid"), "gemeente_code": "GM0794"}
    await _reply(dispatcher, "nee het gaat om mij", "deny", slots)
    assert dispatcher.messages[0]["response"] == "utter_crisis_acute_dakloosheid"
    assert "SMO Helmond" in dispatcher.messages[1]["text"]
    assert dispatcher.messages[2]["text"] == OFFER_SELF


async def test_who_unclear_is_asked_once_more_then_treated_as_self(dispatcher) -> None:
    events = await _reply(dispatcher, "weet ik niet", "nlu_fallback", _who_slots())
    assert dispatcher.messages[0]["text"] == WHO_QUESTION
    assert events == [SlotSet("pending_retries", 1), FollowupAction("action_listen")]

    dispatcher.messages.clear()
    events = await _reply(dispatcher, "weet ik niet", "nlu_fallback", _who_slots(retries=1))
    assert dispatcher.messages[0]["response"] == "utter_crisis_suicidaliteit"
    assert _slots(events)["pending"] == "handover"


# --- ActionAcknowledgeAnger --------------------------------------------------------------


async def test_anger_without_a_handover_is_acknowledged_and_a_person_offered(dispatcher) -> None:
    tracker = make_tracker(text="waardeloos dit", intent="express_anger")
    events = await ActionAcknowledgeAnger().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"] == ANGER_ACK
    offer = dispatcher.messages[1]
    assert "medewerker" in offer["text"]
    assert [b["payload"] for b in offer["buttons"]] == ["/affirm", "/deny"]
    result = _slots(events)
    assert result["pending"] == "handover" and result["pending_question"] == offer["text"]


async def test_anger_after_a_handover_gets_the_reference_not_a_second_offer(dispatcher) -> None:
    destination = {
        "level": "local",
        "organisation": "gemeente-deurne",
        "team": "sociaal-team",
        "reason": "wmo",
    }
    tracker = make_tracker(
        text="IK WACHT AL DRIE WEKEN OP ANTWOORD",
        intent="express_anger",
        slots={
            "handover_reference": "VD-ABCD-12",
            "handover_destination": destination,
            "handovers_made": [
                {"id": "id-1", "key": "k", "reference": "VD-ABCD-12", "service": "wmo"}
            ],
        },
    )
    events = await ActionAcknowledgeAnger().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"] == ANGER_ACK
    (after,) = dispatcher.messages[1:]
    assert "kenmerk VD-ABCD-12" in after["text"]
    assert "Eerder contact nodig?" in after["text"] and "0493 387 387" in after["text"]
    assert not after.get("buttons")
    assert _slots(events)["pending"] is None


async def test_anger_during_the_form_lets_the_form_go_on(dispatcher) -> None:
    tracker = make_tracker(text="schiet op", intent="express_anger", active_loop="handover_form")
    events = await ActionAcknowledgeAnger().run(dispatcher, tracker, {})
    assert not any(
        e.get("name") in ("pending", "awaiting_reply") for e in events
    )  # no new question
    assert _texts(dispatcher) == [ANGER_ACK, "Ik help u zo snel mogelijk verder."]


# --- ActionNotUnderstood -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "question"),
    [
        ("verwijder mijn gegevens", "erase", CONFIRM_ERASE),
        ("ik wil mijn toestemming intrekken", "withdraw", CONFIRM_WITHDRAW),
    ],
)
async def test_not_understood_still_recognises_privacy_requests(
    dispatcher, text, kind, question
) -> None:
    tracker = make_tracker(text=text, intent="nlu_fallback")
    events = await ActionNotUnderstood().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"] == question
    assert [b["payload"] for b in dispatcher.messages[0]["buttons"]] == ["/affirm", "/deny"]
    assert _slots(events)["pending"] == kind


async def test_not_understood_but_angry_is_acknowledged(dispatcher) -> None:
    tracker = make_tracker(text="WAAROM HELPT NIEMAND MIJ", intent="nlu_fallback")
    events = await ActionNotUnderstood().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"] == ANGER_ACK
    assert _slots(events)["pending"] == "handover"


# --- the language choice --------------------------------------------------------------------


async def test_the_language_choice_is_recorded(dispatcher) -> None:
    slots = _pending(
        "language",
        "English or Dutch?",
        [["English", "/affirm"], ["Eenvoudig Nederlands", "/deny"]],
        held_intent="ask_bijstand",
    )
    events = await _reply(dispatcher, "English", "affirm", slots)
    assert isinstance(events, list)
    assert _slots(events)["language"] == "en"


async def test_a_question_about_own_rights_at_the_who_question_is_answered(dispatcher) -> None:
    """ "castricum zei ik toch. krijg ik nou bijstand of niet": about themself; the question
    gets its answer for Castricum instead of "gaat het om uzelf?" once more."""
    tracker = make_tracker(
        text="castricum zei ik toch. krijg ik nou bijstand of niet",
        intent="ask_bijstand",
        entities=[{"entity": "gemeente", "value": "Castricum", "start": 0, "end": 9}],
        slots={**_who_slots(crisis="onbekend"), "leeftijd": 19},
        channel="sms",
    )
    tracker.latest_message["intent_ranking"] = [{"name": "ask_bijstand", "confidence": 0.8}]
    events = await ActionReply().run(dispatcher, tracker, {})
    said = " ".join(_texts(dispatcher))
    assert WHO_QUESTION not in said
    assert "Zaffier" in said
    slots = _slots(events)
    assert slots["gemeente_code"] == "GM0383"
    assert slots["pending"] == "handover"  # the bijstand offer, not the who question


async def test_a_question_for_someone_else_at_the_who_question_is_not_taken_as_self(
    dispatcher,
) -> None:
    tracker = make_tracker(
        text="kan ik voor mijn zus hulp aanvragen?",
        intent="ask_wmo",
        slots=_who_slots(),
    )
    tracker.latest_message["intent_ranking"] = [{"name": "ask_wmo", "confidence": 0.8}]
    events = await ActionReply().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"] == FOR_SOMEONE_ELSE["suicidaliteit"]
    assert _slots(events)["pending_question"] == OFFER_THIRD_PARTY


async def test_of_niet_in_an_own_question_is_no_answer_to_the_who_question(dispatcher) -> None:
    tracker = make_tracker(
        text="krijg ik nou bijstand of niet",
        intent="ask_bijstand",
        slots={**_who_slots(crisis="onbekend"), "gemeente_code": "GM0383"},
    )
    tracker.latest_message["intent_ranking"] = [{"name": "ask_bijstand", "confidence": 0.7}]
    events = await ActionReply().run(dispatcher, tracker, {})
    assert "Zaffier" in " ".join(_texts(dispatcher))
    assert _slots(events)["pending"] == "handover"
