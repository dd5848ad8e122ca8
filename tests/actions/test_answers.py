import pytest
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import (
    ANGER_ACK,
    ANGRY_OFFER,
    ASK_MUNICIPALITY,
    MORE_BUTTON,
    OFFER_TEXT,
    REPEATED,
    UNDER_18_TOPIC,
    ActionAnswerForMunicipality,
    ActionAnswerMore,
    ActionAnswerQuestion,
    outside_text,
)
from actions.knowledge import gsm7_length
from actions.privacy_requests import BSN_WARNING
from actions.session import ActionSessionStart
from actions.turns import question_intent
from privacy.redaction import BSN_REMOVED
from tests.actions.conftest import make_tracker

HELMOND = {"gemeente_code": "GM0794", "gemeente": "Helmond"}


def _slots(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


async def test_bijstand_question_is_answered_and_a_handover_offered(dispatcher) -> None:
    tracker = make_tracker(text="kan ik bijstand krijgen?", intent="ask_bijstand", slots=HELMOND)
    events = await ActionAnswerQuestion().run(dispatcher, tracker, {})
    answer, offer = dispatcher.messages
    assert "Senzer" in answer["text"]
    # web: the link stays in the text (the widget makes it a link), 'meer' is a button
    assert "Meer weten? https://" in answer["text"]
    assert "Typ 'meer'" not in answer["text"]
    assert answer["buttons"] == [{"title": "Meer uitleg", "payload": "meer"}]
    assert [b["payload"] for b in offer["buttons"]] == ["/affirm", "/deny"]
    slots = _slots(events)
    assert slots["topic"] == "bijstand"
    assert slots["service"] == "bijstand_intake"
    # the offer is the one pending question, so "ja maar ..." is read in its context
    assert slots["awaiting_reply"] is True
    assert slots["pending"] == "handover"
    assert slots["pending_question"] == OFFER_TEXT
    assert slots["pending_choices"] == [["Ja", "/affirm"], ["Nee", "/deny"]]
    assert slots["pending_retries"] == 0


async def test_municipality_named_in_the_question_is_remembered(dispatcher) -> None:
    tracker = make_tracker(
        text="bijstand in Mierlo",
        intent="ask_bijstand",
        entities=[{"entity": "gemeente", "value": "Geldrop-Mierlo", "start": 12, "end": 18}],
    )
    slots = _slots(await ActionAnswerQuestion().run(dispatcher, tracker, {}))
    assert slots["gemeente_code"] == "GM1771"
    assert slots["gemeente"] == "Geldrop-Mierlo"
    assert slots["pending"] == "handover" and slots["awaiting_reply"] is True


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
    assert slots["pending"] == "handover" and slots["awaiting_reply"] is True

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
    slots = _slots(events)
    assert "pending" not in slots and "awaiting_reply" not in slots


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


# --- what comes after an answer (the reworked contract of 2026-12-02) ------------------------

OFFER_PENDING = {
    "awaiting_reply": True,
    "pending": "handover",
    "pending_question": OFFER_TEXT,
    "pending_choices": [["Ja", "/affirm"], ["Nee", "/deny"]],
    "pending_retries": 0,
}
MADE_BIJSTAND = [
    {
        "id": "id-1",
        "key": "k",
        "reference": "VD-ABCD-12",
        "service": "bijstand_intake",
        "crisis": None,
        "organisation_name": "Senzer",
    }
]


def _questions(dispatcher) -> list[str]:
    """Messages that ask the resident something they must answer (the web chat's 'Meer
    uitleg' button under an answer is an offer to read on, not a question)."""
    return [
        m["text"]
        for m in dispatcher.messages
        if (m.get("buttons") and m["buttons"] != [MORE_BUTTON]) or m.get("text") == ASK_MUNICIPALITY
    ]


async def test_a_side_question_is_answered_then_the_pending_question_asked_again(
    dispatcher,
) -> None:
    tracker = make_tracker(
        text="wat is bijzondere bijstand?",
        intent="ask_bijzondere_bijstand",
        slots={**HELMOND, **OFFER_PENDING},
    )
    events = await ActionAnswerQuestion().run(dispatcher, tracker, {})
    answer, again = dispatcher.messages
    assert "bijzondere bijstand" in answer["text"]
    assert again["text"] == f"En dan nog mijn vraag: {OFFER_TEXT}"
    assert [b["payload"] for b in again["buttons"]] == ["/affirm", "/deny"]
    slots = _slots(events)
    assert slots["pending_retries"] == 1
    assert "pending" not in slots and "service" not in slots  # no new question on top


async def test_an_answer_during_the_form_does_not_offer_or_reroute(dispatcher) -> None:
    tracker = make_tracker(
        text="wat is bijzondere bijstand?",
        intent="ask_bijzondere_bijstand",
        slots={**HELMOND, "service": "bijstand_intake"},
        active_loop="handover_form",
    )
    events = await ActionAnswerQuestion().run(dispatcher, tracker, {})
    assert len(dispatcher.messages) == 1  # the answer; the form asks its own question next
    slots = _slots(events)
    assert "pending" not in slots and "service" not in slots


async def test_after_a_handover_for_the_same_question_the_reference_not_a_new_offer(
    dispatcher,
) -> None:
    tracker = make_tracker(
        text="bijstand?", intent="ask_bijstand", slots={**HELMOND, "handovers_made": MADE_BIJSTAND}
    )
    events = await ActionAnswerQuestion().run(dispatcher, tracker, {})
    assert "al doorgegeven (kenmerk VD-ABCD-12)" in dispatcher.messages[-1]["text"]
    assert not any(m.get("buttons") not in (None, [], [MORE_BUTTON]) for m in dispatcher.messages)
    assert "pending" not in _slots(events)

    dispatcher.messages.clear()
    other = make_tracker(
        text="wmo?", intent="ask_wmo", slots={**HELMOND, "handovers_made": MADE_BIJSTAND}
    )
    assert _slots(await ActionAnswerQuestion().run(dispatcher, other, {}))["pending"] == "handover"


async def test_the_same_question_again_never_gets_the_same_paragraph(dispatcher) -> None:
    """Asked again: the longer text; again: the short answer (not what was just said); and
    right after the short answer: a pointer instead of the same paragraph."""
    asked = {**HELMOND, "topic": "bijstand", "answered_topics": ["bijstand"]}
    tracker = make_tracker(text="bijstand?", intent="ask_bijstand", slots=asked)
    events = await ActionAnswerQuestion().run(dispatcher, tracker, {})
    first = dispatcher.messages[0]["text"]
    assert "vermogen" in first  # the longer explanation
    assert _slots(events)["answered_topics"] == ["bijstand", "bijstand+meer"]

    dispatcher.messages.clear()
    more_given = {**asked, "answered_topics": ["bijstand", "bijstand+meer"]}
    tracker = make_tracker(text="bijstand?", intent="ask_bijstand", slots=more_given)
    await ActionAnswerQuestion().run(dispatcher, tracker, {})
    short = dispatcher.messages[0]["text"]
    assert short != first and "Senzer" in short

    dispatcher.messages.clear()
    just_said = [
        {"event": "user", "text": "bijstand?", "parse_data": {}},
        {"event": "bot", "text": short},
        {"event": "user", "text": "bijstand?", "parse_data": {}},
    ]
    tracker = make_tracker(
        text="bijstand?", intent="ask_bijstand", slots=more_given, events=just_said
    )
    await ActionAnswerQuestion().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"] == REPEATED


async def test_under_18_gets_what_applies_to_them(dispatcher) -> None:
    tracker = make_tracker(
        text="ik ben 17, kan ik bijstand krijgen?", intent="ask_bijstand", slots=HELMOND
    )
    slots = _slots(await ActionAnswerQuestion().run(dispatcher, tracker, {}))
    assert slots["leeftijd"] == 17
    assert slots["topic"] == UNDER_18_TOPIC
    assert "jonger dan 18" in dispatcher.messages[0]["text"]
    assert slots["service"] != "bijstand_intake"

    dispatcher.messages.clear()
    adult = make_tracker(
        text="ik woon hier 17 jaar, bijstand?", intent="ask_bijstand", slots=HELMOND
    )
    slots = _slots(await ActionAnswerQuestion().run(dispatcher, adult, {}))
    assert slots["topic"] == "bijstand" and "leeftijd" not in slots


async def test_a_place_outside_the_regions_is_named_without_an_offer(dispatcher) -> None:
    tracker = make_tracker(
        text="bijstand in Amsterdam",
        intent="ask_bijstand",
        entities=[{"entity": "gemeente", "value": "Amsterdam", "start": 12, "end": 21}],
    )
    events = await ActionAnswerQuestion().run(dispatcher, tracker, {})
    assert dispatcher.messages[-1]["text"] == outside_text("Amsterdam")
    assert "ligt niet in onze regio" in dispatcher.messages[-1]["text"]
    slots = _slots(events)
    assert "pending" not in slots and slots["municipality_asked"] is True
    assert "gemeente_code" not in slots


async def test_a_bsn_in_a_question_gets_the_warning_first(dispatcher) -> None:
    tracker = make_tracker(
        text=f"mijn bsn is {BSN_REMOVED}, kan ik bijstand krijgen",
        intent="ask_bijstand",
        slots=HELMOND,
    )
    await ActionAnswerQuestion().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"] == BSN_WARNING
    assert "bijstand" in dispatcher.messages[1]["text"]


async def test_an_english_first_message_gets_the_language_choice(dispatcher) -> None:
    tracker = make_tracker(
        text="Hello, can I get benefit money please", intent="ask_bijstand", slots=HELMOND
    )
    slots = _slots(await ActionAnswerQuestion().run(dispatcher, tracker, {}))
    assert dispatcher.messages[0]["text"].startswith("Hello!")
    assert slots["pending"] == "language" and slots["held_intent"] == "ask_bijstand"


async def test_anger_is_acknowledged_before_the_answer_and_one_offer(dispatcher) -> None:
    tracker = make_tracker(
        text="belachelijk, hoe lang duurt bijstand aanvragen nog",
        intent="ask_bijstand",
        slots=HELMOND,
    )
    events = await ActionAnswerQuestion().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"] == ANGER_ACK
    assert len(_questions(dispatcher)) == 1
    assert _slots(events)["pending"] == "handover"


# Suspected bugs (reported 2026-12-02): the angry path adds ANGRY_OFFER whenever the answer
# itself did not set `pending`, so it is stacked on a re-asked question, on "In welke gemeente
# woont u?", after "al doorgegeven" and after "ligt niet in onze regio".
@pytest.mark.parametrize(
    ("text", "intent", "slots", "entities"),
    [
        (
            "belachelijk, wat is bijzondere bijstand",
            "ask_bijzondere_bijstand",
            {**HELMOND, **OFFER_PENDING},
            [],
        ),
        ("belachelijk, hoe vraag ik bijstand aan", "ask_bijstand", {}, []),
        (
            "belachelijk, hoe zit het met mijn bijstand",
            "ask_bijstand",
            {**HELMOND, "handovers_made": MADE_BIJSTAND},
            [],
        ),
        (
            "belachelijk, bijstand in Amsterdam",
            "ask_bijstand",
            {},
            [{"entity": "gemeente", "value": "Amsterdam"}],
        ),
    ],
)
async def test_anger_never_stacks_a_second_question(
    dispatcher, text, intent, slots, entities
) -> None:
    tracker = make_tracker(text=text, intent=intent, slots=slots, entities=entities)
    await ActionAnswerQuestion().run(dispatcher, tracker, {})
    assert dispatcher.messages[0]["text"] == ANGER_ACK
    assert len(_questions(dispatcher)) <= 1, _questions(dispatcher)
    assert not any(m["text"] == ANGRY_OFFER for m in dispatcher.messages[1:-1])
    texts = " ".join(m["text"] for m in dispatcher.messages)
    if "al doorgegeven" in texts or "niet in onze regio" in texts:
        assert ANGRY_OFFER not in texts


async def test_after_asking_the_municipality_the_answer_is_given_again_for_it(dispatcher) -> None:
    """Not a repetition: the same topic, now with the municipality's own organisation."""
    asked = {"topic": "bijstand", "answered_topics": ["bijstand"], "awaiting_municipality": True}
    tracker = make_tracker(
        text="Helmond",
        intent="inform",
        entities=[{"entity": "gemeente", "value": "Helmond"}],
        slots=asked,
    )
    await ActionAnswerForMunicipality().run(dispatcher, tracker, {})
    assert "Senzer" in dispatcher.messages[0]["text"]


async def test_a_person_asked_for_with_a_question_another_body_answers_is_offered(
    dispatcher,
) -> None:
    """A long story about toeslagen that ends "kunnen jullie me bellen na 15 uur?": the
    Toeslagen answer has no service of its own, yet the person asked for is offered."""
    tracker = make_tracker(
        text="ze houden het in op mijn toeslagen. ik woon in helmond. kunnen jullie me bellen na "
        "15 uur?",
        intent="ask_toeslagen",
        slots=HELMOND,
    )
    events = await ActionAnswerQuestion().run(dispatcher, tracker, {})
    assert "Toeslagen" in dispatcher.messages[0]["text"]
    assert dispatcher.messages[-1]["text"] == OFFER_TEXT
    assert _slots(events)["pending"] == "handover"


def test_a_weak_guess_is_no_question_but_a_named_scheme_is() -> None:
    def tracker(ranking, entities=()):
        t = make_tracker(
            text="ik heb een brief dat ze gas en stroom afsluiten. kan ik hulp krijgen?",
            intent="describe_situation",
            entities=list(entities),
        )
        t.latest_message["intent_ranking"] = ranking
        return t

    weak = [
        {"name": "describe_situation", "confidence": 0.9},
        {"name": "ask_status_aanvraag", "confidence": 0.23},
    ]
    assert question_intent(tracker(weak)) is None
    named = [{"entity": "regeling", "value": "schuldhulp"}]
    assert question_intent(tracker(weak, named)) == "ask_schuldhulp"
    sure = [{"name": "ask_schuldhulp", "confidence": 0.6}]
    assert question_intent(tracker(sure)) == "ask_schuldhulp"


async def test_an_adult_age_overrules_the_under_18_reading(dispatcher) -> None:
    """ "ik ben 84 ... het huis schoon te houden" read as ask_onder_18: the Wmo answer."""
    tracker = make_tracker(
        text="ik ben 84 en woon alleen in heiloo. het lukt niet meer om het huis schoon te houden",
        intent="ask_onder_18",
        entities=[{"entity": "leefgebied", "value": "adl"}],
    )
    events = await ActionAnswerQuestion().run(dispatcher, tracker, {})
    said = " ".join(m.get("text") or "" for m in dispatcher.messages)
    assert "Jonger dan 18" not in said
    assert _slots(events)["topic"] == "wmo"


async def test_more_after_everything_was_said_gives_what_the_topic_points_to(dispatcher) -> None:
    tracker = make_tracker(
        text="meer",
        intent="more_info",
        slots={"topic": "bezwaar", "answered_topics": ["bezwaar", "bezwaar+meer"]},
    )
    events = await ActionAnswerMore().run(dispatcher, tracker, {})
    assert "Juridisch Loket" in dispatcher.messages[0]["text"]
    assert "juridisch_loket" in _slots(events)["answered_topics"]


@pytest.mark.parametrize(
    "text",
    [
        "mijn moeder van 88 woont in montfoort en heeft hulp nodig bij het douchen",
        "mijn vrouw heeft dementie. ik kan de zorg niet meer alleen aan, ik ben zelf ook 78",
    ],
)
async def test_an_under_18_reading_without_anyone_young_becomes_the_story(dispatcher, text) -> None:
    tracker = make_tracker(
        text=text, intent="ask_onder_18", entities=[{"entity": "leefgebied", "value": "adl"}]
    )
    events = await ActionAnswerQuestion().run(dispatcher, tracker, {})
    said = " ".join(m.get("text") or "" for m in dispatcher.messages)
    assert "18" not in said
    assert _slots(events)["topic"] == "wmo"


async def test_a_story_no_entry_fits_is_listened_to_as_a_story(dispatcher) -> None:
    tracker = make_tracker(
        text="mijn vrouw heeft dementie en ik sta er alleen voor, ik ben zelf ook 78",
        intent="ask_onder_18",
        entities=[{"entity": "leefgebied", "value": "sociaal_netwerk"}],
    )
    events = await ActionAnswerQuestion().run(dispatcher, tracker, {})
    assert events == [FollowupAction("action_respond_situation")]
    assert dispatcher.messages == []


async def test_an_own_question_at_the_who_question_is_answered_for_the_resident(
    dispatcher,
) -> None:
    slots = {
        "awaiting_reply": True,
        "pending": "crisis_who",
        "pending_question": "Gaat het om uzelf, of om iemand anders?",
        "crisis_type": "onbekend",
    }
    tracker = make_tracker(
        text="castricum zei ik toch. krijg ik nou bijstand of niet",
        intent="ask_bijstand",
        entities=[{"entity": "gemeente", "value": "Castricum"}],
        slots=slots,
    )
    events = await ActionAnswerQuestion().run(dispatcher, tracker, {})
    said = " ".join(m.get("text") or "" for m in dispatcher.messages)
    assert "Zaffier" in said and "zorgen maakt" not in said
    assert _slots(events)["pending"] == "handover"


async def test_a_place_outside_the_regions_at_the_municipality_question_ends_the_form(
    dispatcher,
) -> None:
    tracker = make_tracker(
        text="ik woon in amsterdam",
        intent="out_of_scope",
        slots={"requested_slot": "gemeente_code"},
        active_loop="handover_form",
    )
    events = await ActionAnswerQuestion().run(dispatcher, tracker, {})
    assert len(dispatcher.messages) == 1
    assert "Amsterdam ligt niet in onze regio" in dispatcher.messages[0]["text"]
    assert _slots(events) == {"handover_cancelled": True, "buiten_regio": "Amsterdam"}


async def test_a_19_year_old_asking_for_bijstand_hears_about_the_search_period(dispatcher) -> None:
    tracker = make_tracker(
        text="krijg ik nou bijstand of niet", intent="ask_bijstand", slots={"leeftijd": 19}
    )
    events = await ActionAnswerQuestion().run(dispatcher, tracker, {})
    assert "27" in dispatcher.messages[0]["text"]
    assert _slots(events)["topic"] == "zoektermijn_jongeren"


async def test_the_meer_hint_stays_text_outside_the_web_chat(dispatcher) -> None:
    """The REST channel (terminal chat, other front ends) keeps the typed hint; SMS keeps its
    numbered-lines world with 'Typ MEER' and no buttons."""
    tracker = make_tracker(
        text="kan ik bijstand krijgen?", intent="ask_bijstand", slots=HELMOND, channel="rest"
    )
    await ActionAnswerQuestion().run(dispatcher, tracker, {})
    assert "Meer weten? Typ 'meer' voor meer uitleg. https://" in dispatcher.messages[0]["text"]
    assert not dispatcher.messages[0].get("buttons")
    sms = CollectingDispatcher()
    tracker = make_tracker(
        text="kan ik bijstand krijgen?", intent="ask_bijstand", slots=HELMOND, channel="sms"
    )
    await ActionAnswerQuestion().run(sms, tracker, {})
    assert all(not m.get("buttons") for m in sms.messages)


async def test_meer_button_on_web_shows_the_open_question_again_with_its_buttons(
    dispatcher,
) -> None:
    """'Meer uitleg' answers the buttons shown with the answer, the offer's Ja/Nee too: the
    offer comes back under the longer text, with the pending slots unchanged."""
    slots = {
        **HELMOND,
        "topic": "bijstand",
        "answered_topics": ["bijstand"],
        "awaiting_reply": True,
        "pending": "handover",
        "pending_question": OFFER_TEXT,
        "pending_choices": [["Ja", "/affirm"], ["Nee", "/deny"]],
        "pending_retries": 0,
    }
    tracker = make_tracker(text="meer", intent="more_info", slots=slots)
    events = await ActionAnswerMore().run(dispatcher, tracker, {})
    more, offer = dispatcher.messages
    assert not more.get("buttons")
    assert offer["text"] == OFFER_TEXT
    assert [b["payload"] for b in offer["buttons"]] == ["/affirm", "/deny"]
    assert set(_slots(events)) == {"answered_topics"}
    sms = CollectingDispatcher()
    await ActionAnswerMore().run(
        sms, make_tracker(text="meer", intent="more_info", slots=slots, channel="sms"), {}
    )
    assert len(sms.messages) == 1  # SMS: the reply to the offer is read as before
