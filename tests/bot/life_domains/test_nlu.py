"""Unit tests for bot.life_domains.nlu on hand-made detections (no spaCy, no Rasa)."""

from __future__ import annotations

from bot.life_domains import Detection, intent_override, merge_entities
from bot.life_domains.nlu import RESCUE_CONFIDENCE

DEBTS = Detection(domains=[("schulden", "schulden", 8, 16)])


def test_new_entities_carry_code_words_and_offsets() -> None:
    det = Detection(
        domains=[("schulden", "schulden", 8, 16)],
        urgent="dreigende_afsluiting",
        urgent_span=("gas af", 20, 26),
        crisis=("suicidaliteit", True),
        crisis_span=("wil dood", 30, 38),
    )
    kept, new = merge_entities([], det)
    assert kept == []
    assert new == [
        {"entity": "leefgebied", "value": "schulden", "start": 8, "end": 16, "text": "schulden"},
        {
            "entity": "urgentie",
            "value": "dreigende_afsluiting",
            "start": 20,
            "end": 26,
            "text": "gas af",
        },
        {
            "entity": "crisis",
            "value": "suicidaliteit",
            "third_party": True,
            "start": 30,
            "end": 38,
            "text": "wil dood",
        },
    ]


def test_negated_domains_of_other_extractors_are_dropped_unless_asked_not_to() -> None:
    det = Detection(negated=[("schulden", "schulden", 12, 20)])
    other = {"entity": "leefgebied", "value": "schulden", "start": 12, "end": 20}
    assert merge_entities([other], det) == ([], [])
    assert merge_entities([other], det, drop_negated=False) == ([other], [])


def test_a_domain_another_extractor_found_is_not_added_twice() -> None:
    other = {"entity": "leefgebied", "value": "schulden", "start": 10, "end": 16}
    kept, new = merge_entities([other], DEBTS)
    assert kept == [other] and new == []


def test_intent_override() -> None:
    crisis = Detection(crisis=("medisch_spoed", False), crisis_span=("geen lucht", 0, 10))
    assert intent_override(crisis, "greet") == ("crisis", 1.0)
    assert intent_override(crisis, "greet", crisis_intent=None) is None
    assert intent_override(DEBTS, "nlu_fallback") == ("describe_situation", RESCUE_CONFIDENCE)
    assert intent_override(DEBTS, "nlu_fallback", rescue_intent=None) is None
    assert intent_override(DEBTS, "ask_schuldhulp") is None
    assert intent_override(Detection(), "nlu_fallback") is None
