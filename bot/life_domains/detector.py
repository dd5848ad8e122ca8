"""The detector: text in; life domains, crisis and urgency with the resident's words out.

Steps for one text:

1. tokenise with a blank Dutch spaCy pipeline and set NORM / LEMMA (``normalise``);
2. run every pattern of data/life_domains/*.yml (``patterns``);
3. settle negation; a crisis.yml ``together`` entry whose parts all matched becomes one crisis
   match; settle third parties, topics and past/hypothetical cues (``context``);
4. pick the most pressing crisis (first person before third party, then crisis.yml's
   ``priority``), the first urgent signal in crisis.yml's order, and merge overlapping domain
   matches into one span each, adding the domains a crisis or urgent signal implies.

No Rasa here: the Rasa component (``bot.components.life_domains``) is a thin shell around
``get_detector``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.life_domains import context
from bot.life_domains.normalise import Normaliser, blank_dutch_pipeline
from bot.life_domains.patterns import (
    CRISIS,
    DEFAULT_CRISIS,
    DEFAULT_PATTERNS,
    DOMAIN,
    TOGETHER,
    URGENT,
    Match,
    PatternInfo,
    PatternMatcher,
    crisis_words,
    load_yaml,
    parse_together_label,
    pattern_specs,
    resolve_path,
    together_entries,
    trigger_words,
)
from bot.life_domains.words import WordSets

Span = tuple[int, int]
DomainSpan = tuple[str, str, int, int]  # (code, evidence words, start char, end char)


@dataclass(frozen=True)
class Detection:
    """What one text reveals.

    domains: (code, evidence words, start char, end char), in text order; one entry per
        span and code. Implied domains (e.g. huisvesting for an acute loss of housing) carry the
        crisis/urgency words as evidence.
    crisis: (type, third_party) of the most pressing crisis, or None.
    urgent: "dreigende_uitzetting" | "dreigende_afsluiting" | None.
    """

    domains: list[DomainSpan] = field(default_factory=list)
    crisis: tuple[str, bool] | None = None
    urgent: str | None = None
    crisis_span: tuple[str, int, int] | None = None  # (words, start, end)
    urgent_span: tuple[str, int, int] | None = None
    negated: list[DomainSpan] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        """The distinct domain codes, in order of first mention."""
        return list(dict.fromkeys(code for code, *_ in self.domains))


class LifeDomainDetector:
    """Compiled patterns plus the spaCy pipeline; thread-safe after construction."""

    def __init__(
        self, patterns_path: str | Path = DEFAULT_PATTERNS, crisis_path: str | Path = DEFAULT_CRISIS
    ) -> None:
        self.patterns_path = resolve_path(patterns_path)
        self.crisis_path = resolve_path(crisis_path)
        data = load_yaml(self.patterns_path)
        crisis = load_yaml(self.crisis_path)

        self.nlp = blank_dutch_pipeline()
        self.words = WordSets.from_crisis_file(crisis)
        self.crisis_priority: list[str] = list(crisis.get("priority") or [])
        self.crisis_cfg: dict[str, dict[str, Any]] = dict(crisis.get("crisis_types") or {})
        self.urgent_cfg: dict[str, dict[str, Any]] = dict(crisis.get("urgent") or {})
        self.domain_codes: list[str] = list((data.get("domains") or {}).keys())
        self.together: dict[tuple[str, int], dict[str, Any]] = {
            (ctype, e): entry
            for ctype, cfg in self.crisis_cfg.items()
            for e, entry in enumerate(together_entries(cfg or {}))
        }

        specs = pattern_specs(data, crisis)
        self.normaliser = Normaliser.from_pattern_files(
            data, crisis, trigger_words=trigger_words(specs), crisis_words=crisis_words(specs)
        )
        self.patterns = PatternMatcher(self.nlp, specs, self.normaliser, self.words)

    def normalise_word(self, text: str) -> str:
        """NORM of one word, as the patterns see it."""
        return self.normaliser.normalise_word(text)

    def lemma(self, norm: str) -> str:
        """LEMMA of a NORM, as the patterns see it."""
        return self.normaliser.lemma(norm)

    def detect(self, text: str) -> Detection:
        """Life domains, crisis and urgency in `text`."""
        if not text or not text.strip():
            return Detection()
        doc = self.normaliser.annotate(self.nlp(text))
        matches = self.patterns.find(doc)
        context.resolve_negation(doc, matches, self.words)
        matches += self._together(doc, matches)

        crisis, crisis_span, implied = self._crisis(doc, matches)
        urgent, urgent_span, implied_by_urgent = self._urgent(doc, matches)

        candidates = [(m.info.label, m) for m in matches if m.info.kind == DOMAIN and not m.negated]
        candidates += implied + implied_by_urgent
        domains = merge_spans(doc, candidates)
        negated = merge_spans(
            doc, [(m.info.label, m) for m in matches if m.info.kind == DOMAIN and m.negated]
        )
        found = {code for code, *_ in domains}
        negated = [n for n in negated if n[0] not in found]
        return Detection(
            domains=domains,
            crisis=crisis,
            urgent=urgent,
            crisis_span=crisis_span,
            urgent_span=urgent_span,
            negated=negated,
        )

    def _crisis(
        self, doc: Any, matches: list[Match]
    ) -> tuple[tuple[str, bool] | None, tuple[str, int, int] | None, list[tuple[str, Match]]]:
        """The most pressing crisis: first person before third party, then by priority.

        Also the domains first-person crises imply (huisvesting for acute homelessness).
        """
        crisis: tuple[str, bool] | None = None
        crisis_span = None
        best: tuple[int, int, int] | None = None
        implied_domains: list[tuple[str, Match]] = []
        for m in matches:
            if m.info.kind != CRISIS or m.negated or context.cancelled(doc, m, self.words):
                continue
            third = context.third_party(doc, m, self.words)
            rank = (
                self.crisis_priority.index(m.info.label)
                if (m.info.label in self.crisis_priority)
                else len(self.crisis_priority)
            )
            key = (int(third), rank, m.start)
            if best is None or key < best:
                best, crisis, crisis_span = key, (m.info.label, third), _span(doc, m)
            implied = (self.crisis_cfg.get(m.info.label) or {}).get("implies_domain")
            if implied and not third:
                implied_domains.append((implied, m))
        return crisis, crisis_span, implied_domains

    def _together(self, doc: Any, matches: list[Match]) -> list[Match]:
        """One crisis match per ``together`` entry of crisis.yml whose parts all matched.

        Hints that are only a crisis together ("ik heb mijn gitaar weggegeven" + "heb ze straks
        niet meer nodig") often stand in different sentences, which a trigger cannot span. A
        denied part does not count, and an ``unless`` word anywhere in the text ("verhuizen")
        cancels the entry (so an entry of one part is a trigger with exceptions). The match runs
        from the start of the sentence of the first part to the end of the last part, so that the
        third-party rule sees its subject ("ik", "mijn zus").
        """
        found: dict[tuple[str, int], dict[int, Match]] = {}
        for m in matches:
            if m.info.kind != TOGETHER or m.negated:
                continue
            ctype, entry, part = parse_together_label(m.info.label)
            parts = found.setdefault((ctype, entry), {})
            if part not in parts or m.start < parts[part].start:
                parts[part] = m
        norms = {tok.norm_ for tok in doc} | {tok.lemma_ for tok in doc}
        out: list[Match] = []
        for (ctype, entry), parts in found.items():
            cfg = self.together[(ctype, entry)]
            if len(parts) < len(cfg["parts"]) or norms & cfg["unless"]:
                continue
            start = context.sentence_start(doc, min(m.start for m in parts.values()))
            end = max(m.end for m in parts.values())
            info = PatternInfo(CRISIS, ctype, f"together #{entry}", frozenset(), False)
            out.append(Match(info, start, end))
        return out

    def _urgent(
        self, doc: Any, matches: list[Match]
    ) -> tuple[str | None, tuple[str, int, int] | None, list[tuple[str, Match]]]:
        """The first urgent signal in crisis.yml's order, and the domains urgent signals imply."""
        urgent: str | None = None
        urgent_span = None
        implied_domains: list[tuple[str, Match]] = []
        urgent_order = list(self.urgent_cfg)
        for m in sorted(
            (m for m in matches if m.info.kind == URGENT and not m.negated),
            key=lambda m: (urgent_order.index(m.info.label), m.start),
        ):
            if urgent is None:
                urgent, urgent_span = m.info.label, _span(doc, m)
            implied = (self.urgent_cfg.get(m.info.label) or {}).get("implies_domain")
            if implied:
                implied_domains.append((implied, m))
        return urgent, urgent_span, implied_domains


def _span(doc: Any, m: Match) -> tuple[str, int, int]:
    s = doc[m.start : m.end]
    return s.text, s.start_char, s.end_char


def merge_spans(doc: Any, found: list[tuple[str, Match]]) -> list[DomainSpan]:
    """Overlapping matches of one code become one span (the union), sorted by position."""
    by_code: dict[str, list[Span]] = {}
    for code, m in found:
        by_code.setdefault(code, []).append((m.start, m.end))
    out: list[DomainSpan] = []
    for code, spans in by_code.items():
        spans.sort()
        merged: list[list[int]] = []
        for s, e in spans:
            if merged and s < merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        for s, e in merged:
            sp = doc[s:e]
            out.append((code, sp.text, sp.start_char, sp.end_char))
    out.sort(key=lambda d: (d[2], d[0]))
    return out


_DETECTORS: dict[tuple[Path, Path], LifeDomainDetector] = {}
_DETECTORS_LOCK = threading.Lock()


def get_detector(
    patterns_path: str | Path = DEFAULT_PATTERNS, crisis_path: str | Path = DEFAULT_CRISIS
) -> LifeDomainDetector:
    """The process-wide detector for these pattern files (built once, ~1-2 s)."""
    key = (resolve_path(patterns_path), resolve_path(crisis_path))
    with _DETECTORS_LOCK:
        if key not in _DETECTORS:
            _DETECTORS[key] = LifeDomainDetector(*key)
        return _DETECTORS[key]


def detect(text: str) -> Detection:
    """Life domains, crisis and urgency in `text`, with the default pattern files."""
    return get_detector().detect(text)
