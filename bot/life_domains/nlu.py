"""What a Detection changes in an NLU parse result: entities and, sometimes, the intent.

Kept apart from the Rasa component so that these rules (which entities another extractor
keeps, when a crisis or a rescued fallback replaces the intent) are plain functions on plain
dicts, testable without Rasa.
"""

from __future__ import annotations

from typing import Any

from bot.life_domains.detector import Detection, Span

# entity names (contract/life_domains.yml)
LEEFGEBIED = "leefgebied"
CRISIS = "crisis"
URGENTIE = "urgentie"

CRISIS_INTENT = "crisis"
FALLBACK_INTENT = "nlu_fallback"
RESCUE_INTENT = "describe_situation"
CRISIS_CONFIDENCE = 1.0
RESCUE_CONFIDENCE = 0.9  # below a crisis' 1.0: the patterns are sure, the intent is a best guess


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def merge_entities(
    existing: list[dict[str, Any]], detection: Detection, drop_negated: bool = True
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(entities to keep from other extractors, new entities of this detector).

    Another extractor's leefgebied on a span this detector found negated is dropped (when
    drop_negated): "ik heb geen schulden" must not reach the handover as a problem. A domain
    another extractor already reported on an overlapping span is not added twice.
    """
    kept = []
    for ent in existing:
        if drop_negated and ent.get("entity") == LEEFGEBIED and isinstance(ent.get("start"), int):
            span = (ent["start"], ent["end"])
            if any(
                code == ent.get("value") and _overlaps(span, (s, e))
                for code, _, s, e in detection.negated
            ):
                continue
        kept.append(ent)
    new: list[dict[str, Any]] = []
    for code, words, start, end in detection.domains:
        if any(
            ent.get("entity") == LEEFGEBIED
            and ent.get("value") == code
            and isinstance(ent.get("start"), int)
            and _overlaps((start, end), (ent["start"], ent["end"]))
            for ent in kept
        ):
            continue
        new.append({"entity": LEEFGEBIED, "value": code, "start": start, "end": end, "text": words})
    if detection.urgent and detection.urgent_span:
        words, start, end = detection.urgent_span
        new.append(
            {
                "entity": URGENTIE,
                "value": detection.urgent,
                "start": start,
                "end": end,
                "text": words,
            }
        )
    if detection.crisis and detection.crisis_span:
        words, start, end = detection.crisis_span
        ctype, third = detection.crisis
        new.append(
            {
                "entity": CRISIS,
                "value": ctype,
                "third_party": third,
                "start": start,
                "end": end,
                "text": words,
            }
        )
    return kept, new


def intent_override(
    detection: Detection,
    current_intent: str | None,
    *,
    crisis_intent: str | None = CRISIS_INTENT,
    rescue_intent: str | None = RESCUE_INTENT,
) -> tuple[str, float] | None:
    """(intent, confidence) to set instead of `current_intent`, or None to leave it.

    A crisis always wins (a crisis must never depend on the trained classifier). A message the
    classifiers gave up on (nlu_fallback) but that clearly tells about the resident's life
    ("ze sluiten het gas af") is rescued as `rescue_intent` instead of "Sorry, dat begreep ik
    niet". A None intent name switches that rule off.
    """
    if detection.crisis and crisis_intent:
        return crisis_intent, CRISIS_CONFIDENCE
    if (
        current_intent == FALLBACK_INTENT
        and rescue_intent
        and (detection.domains or detection.urgent)
    ):
        return rescue_intent, RESCUE_CONFIDENCE
    return None
