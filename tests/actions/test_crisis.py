"""The crisis answer: the right national number at once, then "gaat het om uzelf?" when the
words name someone else, or an urgent handover offer (both as the one pending question)."""

import re
from pathlib import Path

import pytest
import yaml

from actions.crisis import (
    ASK_WHO,
    DURING_FORM,
    OFFER_AFTER_EMERGENCY,
    OFFER_SELF,
    OFFER_THIRD_PARTY,
    OFFER_VIOLENCE,
    WHO_QUESTION,
    ActionCrisisResponse,
    urgency_events,
)
from tests.actions.conftest import make_tracker

REPO = Path(__file__).resolve().parents[2]
DOMAIN_RESPONSES = yaml.safe_load((REPO / "bot" / "domain" / "crisis.yml").read_text())["responses"]
CRISIS_DATA = yaml.safe_load((REPO / "data" / "life_domains" / "crisis.yml").read_text())

# GSM 03.38 basic character set: texts made of these cost 153 characters per concatenated SMS
# segment (anything else, e.g. "ë", switches the whole message to UCS-2: 67 per segment).
GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
TWO_SEGMENTS = 2 * 153


def _slots(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def _text(response: str) -> str:
    return DOMAIN_RESPONSES[response][0]["text"]


def crisis_tracker(ctype=None, third_party=False, channel="web", **kwargs):
    entities = (
        [
            {
                "entity": "crisis",
                "value": ctype,
                "third_party": third_party,
                "start": 0,
                "end": 5,
                "extractor": "LifeDomainExtractor",
            }
        ]
        if ctype
        else []
    )
    entities += kwargs.pop("extra_entities", [])
    return make_tracker(
        text=kwargs.pop("text", "..."),
        intent="crisis",
        entities=entities,
        channel=channel,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("ctype", "third_party", "response", "numbers"),
    [
        ("suicidaliteit", False, "utter_crisis_suicidaliteit", ["113", "0800-0113", "112"]),
        ("suicidaliteit", True, "utter_crisis_suicidaliteit_derde", ["113", "0800-0113", "112"]),
        ("huiselijk_geweld", False, "utter_crisis_huiselijk_geweld", ["0800-2000", "112"]),
        ("huiselijk_geweld", True, "utter_crisis_huiselijk_geweld_derde", ["0800-2000", "112"]),
        ("acute_dakloosheid", False, "utter_crisis_acute_dakloosheid", ["112"]),
        ("acute_dakloosheid", True, "utter_crisis_acute_dakloosheid_derde", ["112"]),
        ("medisch_spoed", False, "utter_crisis_medisch_spoed", ["112"]),
        ("medisch_spoed", True, "utter_crisis_medisch_spoed", ["112"]),
    ],
)
async def test_each_crisis_gets_its_number_first(
    dispatcher, ctype, third_party, response, numbers
) -> None:
    events = await ActionCrisisResponse().run(dispatcher, crisis_tracker(ctype, third_party), {})
    assert dispatcher.messages[0]["response"] == response
    text = _text(response)
    for number in numbers:
        assert number in text
    # numbers first: a phone number within the first two short sentences
    assert re.search(r"\b(112|113)\b", text[:60]), text
    slots = _slots(events)
    assert slots["crisis_type"] == ctype
    assert slots["urgent_signal"] is True
    # one pending question: who is at risk (words about someone else), else the offer
    assert slots["awaiting_reply"] is True
    assert slots["pending"] == ("crisis_who" if third_party and ctype in ASK_WHO else "handover")


def test_texts_name_the_contracts_services() -> None:
    # contract/life_domains.yml: 113 Zelfmoordpreventie (113 of 0800-0113). The resident's own
    # text (rewritten 2026-12-02) names the service by its number and site; the text for a
    # relative names it in full.
    zelf = _text("utter_crisis_suicidaliteit")
    assert "113" in zelf and "0800-0113" in zelf and "113.nl" in zelf
    assert "113 Zelfmoordpreventie" in _text("utter_crisis_suicidaliteit_derde")
    assert "Veilig Thuis" in _text("utter_crisis_huiselijk_geweld")
    derde = _text("utter_crisis_huiselijk_geweld_derde")
    assert "Veilig Thuis" in derde and "melding" in derde and "anoniem" in derde
    dakloos = _text("utter_crisis_acute_dakloosheid")
    assert "lokale team" in dakloos and "voorrang" in dakloos
    assert _text("utter_crisis_medisch_spoed").startswith("Bel nu 112")
    algemeen = _text("utter_crisis_algemeen")
    for number in ("112", "113", "0800-0113", "0800-2000"):
        assert number in algemeen


def test_domain_texts_equal_the_answers_in_crisis_yml() -> None:
    answers = CRISIS_DATA["answers"]
    assert set(answers) == set(DOMAIN_RESPONSES)
    for name, text in answers.items():
        assert _text(name) == text


@pytest.mark.parametrize("response", sorted(DOMAIN_RESPONSES))
def test_crisis_texts_fit_two_sms_segments(response) -> None:
    text = _text(response)
    assert set(text) <= GSM7, set(text) - GSM7
    assert len(text) <= TWO_SEGMENTS
    assert re.search(r"\b[Uu]w?\b", text), "the resident is addressed with 'u'"


async def test_first_person_gets_an_urgent_handover_offer_with_buttons(dispatcher) -> None:
    events = await ActionCrisisResponse().run(dispatcher, crisis_tracker("suicidaliteit"), {})
    offer = dispatcher.messages[1]
    assert offer["text"] == OFFER_SELF
    assert [b["payload"] for b in offer["buttons"]] == ["/affirm", "/deny"]
    slots = _slots(events)
    assert slots["pending"] == "handover" and slots["pending_question"] == OFFER_SELF


async def test_violence_offer_says_safe_contact_is_asked_first(dispatcher) -> None:
    events = await ActionCrisisResponse().run(dispatcher, crisis_tracker("huiselijk_geweld"), {})
    assert dispatcher.messages[0]["response"] == "utter_crisis_huiselijk_geweld"
    offer = dispatcher.messages[1]
    assert offer["text"] == OFFER_VIOLENCE
    assert "veilig" in offer["text"]
    assert [b["payload"] for b in offer["buttons"]] == ["/affirm", "/deny"]
    assert _slots(events)["pending"] == "handover"


async def test_sms_offer_is_numbered_and_short(dispatcher) -> None:
    await ActionCrisisResponse().run(dispatcher, crisis_tracker("suicidaliteit", channel="sms"), {})
    offer = dispatcher.messages[1]
    assert offer["text"] == f"{OFFER_SELF}\n1. Ja\n2. Nee"
    assert not offer.get("buttons")
    assert len(offer["text"]) <= TWO_SEGMENTS and set(offer["text"]) <= GSM7


async def test_third_party_is_told_how_to_report_and_asked_who_is_at_risk(dispatcher) -> None:
    events = await ActionCrisisResponse().run(
        dispatcher, crisis_tracker("huiselijk_geweld", third_party=True, channel="whatsapp"), {}
    )
    assert dispatcher.messages[0]["response"] == "utter_crisis_huiselijk_geweld_derde"
    # "de pillen van mn moeder": it may still be about the resident, so ask before offering
    assert dispatcher.messages[1]["text"] == f"{WHO_QUESTION}\n1. Om mij\n2. Om iemand anders"
    # nothing is created here: only a question; a handover needs "ja" and the consent form
    slots = _slots(events)
    assert slots["pending"] == "crisis_who" and slots["awaiting_reply"] is True
    assert slots["pending_choices"] == [["Om mij", "/affirm"], ["Om iemand anders", "/deny"]]
    assert len(dispatcher.messages) == 2


async def test_third_party_medical_emergency_is_offered_a_talk(dispatcher) -> None:
    events = await ActionCrisisResponse().run(
        dispatcher, crisis_tracker("medisch_spoed", third_party=True), {}
    )
    assert dispatcher.messages[0]["response"] == "utter_crisis_medisch_spoed"
    assert dispatcher.messages[1]["text"] == OFFER_THIRD_PARTY
    assert "toestemming" in OFFER_THIRD_PARTY
    assert _slots(events)["pending"] == "handover"
    assert len(dispatcher.messages) == 2


async def test_no_bed_tonight_gets_the_shelter_route_before_the_offer(dispatcher) -> None:
    tracker = crisis_tracker("acute_dakloosheid", slots={"gemeente_code": "GM0794"})
    events = await ActionCrisisResponse().run(dispatcher, tracker, {})
    answer, route, offer = dispatcher.messages
    assert answer["response"] == "utter_crisis_acute_dakloosheid"
    assert "SMO Helmond" in route["text"] and "0492 52 50 98" in route["text"]
    assert offer["text"] == OFFER_SELF
    assert _slots(events)["pending"] == "handover"


async def test_medical_emergency_sends_to_112_before_any_offer(dispatcher) -> None:
    await ActionCrisisResponse().run(dispatcher, crisis_tracker("medisch_spoed"), {})
    assert dispatcher.messages[0]["response"] == "utter_crisis_medisch_spoed"
    assert dispatcher.messages[1]["text"] == OFFER_AFTER_EMERGENCY


async def test_crisis_during_the_form_gets_priority_without_a_second_offer(dispatcher) -> None:
    tracker = crisis_tracker(
        "acute_dakloosheid",
        active_loop="handover_form",
        slots={"requested_slot": "contact_phone"},
    )
    events = await ActionCrisisResponse().run(dispatcher, tracker, {})
    assert [m.get("response") or m.get("text") for m in dispatcher.messages] == [
        "utter_crisis_acute_dakloosheid",
        DURING_FORM,
    ]
    slots = _slots(events)
    assert slots["crisis_type"] == "acute_dakloosheid"
    assert slots["urgent_signal"] is True
    assert "pending" not in slots and "awaiting_reply" not in slots


async def test_crisis_intent_without_type_gets_all_numbers(dispatcher) -> None:
    events = await ActionCrisisResponse().run(dispatcher, crisis_tracker(None), {})
    assert dispatcher.messages[0]["response"] == "utter_crisis_algemeen"
    assert _slots(events)["crisis_type"] == "onbekend"


async def test_crisis_message_keeps_its_life_domains_as_evidence(dispatcher) -> None:
    text = "ik heb schulden en wil niet meer leven"
    tracker = crisis_tracker(
        "suicidaliteit",
        text=text,
        extra_entities=[
            {"entity": "leefgebied", "value": "schulden", "start": 7, "end": 15},
            {"entity": "leefgebied", "value": "geestelijke_gezondheid", "start": 19, "end": 38},
        ],
        slots={"leefgebieden": ["inkomen"], "leefgebied_bewijs": {"inkomen": ["geen geld"]}},
    )
    slots = _slots(await ActionCrisisResponse().run(dispatcher, tracker, {}))
    assert slots["leefgebieden"] == ["inkomen", "schulden", "geestelijke_gezondheid"]
    assert slots["leefgebied_bewijs"]["schulden"] == ["schulden"]
    assert slots["leefgebied_bewijs"]["geestelijke_gezondheid"] == ["wil niet meer leven"]


def test_urgency_entity_sets_urgent_signal() -> None:
    tracker = make_tracker(
        text="ze sluiten het gas af",
        intent="describe_situation",
        entities=[{"entity": "urgentie", "value": "dreigende_afsluiting", "start": 3, "end": 21}],
    )
    assert _slots(urgency_events(tracker)) == {"urgent_signal": True}
    assert urgency_events(make_tracker(text="ik heb schulden", intent="describe_situation")) == []
