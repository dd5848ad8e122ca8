"""The word sets of crisis.yml that steer negation, clauses, third parties and cancellation.

They are loaded once, folded, into small frozen dataclasses so that the rules in
``context.py`` read as Dutch grammar ("a negator a few words before, in the same clause")
instead of as dictionary look-ups, and so that a test can build a detector's vocabulary
without spaCy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.life_domains.normalise import fold_all


@dataclass(frozen=True)
class ClauseBounds:
    """Words that end a clause or a negation's scope (crisis.yml ``clause_boundaries``).

    hard: end a clause like punctuation and line breaks ("maar", "want", "omdat"); a pattern
        gap cannot cross them.
    soft: coordinations that end a clause and a negation's scope, unless a continue head came
        first ("geen last van angst of stress").
    scope: end only a negation's scope: "ik heb geen werk door mijn depressie".
    """

    hard: frozenset[str] = frozenset()
    soft: frozenset[str] = frozenset()
    scope: frozenset[str] = frozenset()

    def is_hard(self, token: Any) -> bool:
        """Punctuation, a line break or a hard boundary word."""
        return bool(token.is_punct) or token.norm_ in self.hard or "\n" in token.text

    def ends_clause(self, token: Any) -> bool:
        return self.is_hard(token) or token.norm_ in self.soft


@dataclass(frozen=True)
class NegationWords:
    """crisis.yml ``negation``: what denies a life domain or crisis, and how far it reaches."""

    negators: frozenset[str] = frozenset()
    window_before: int = 5
    window_after: int = 3
    post_fillers: frozenset[str] = frozenset()  # may stand between trigger and a later negator
    need_words: frozenset[str] = frozenset()  # "geen slaapplek nodig": no need, no problem
    want_words: frozenset[str] = frozenset()  # "ik zoek geen werk": no wish, no problem
    post_exceptions: frozenset[str] = frozenset()  # "... is niet weg": not a denial
    continue_heads: frozenset[str] = frozenset()  # "geen problemen met alcohol of drugs"


@dataclass(frozen=True)
class ThirdPartyWords:
    """crisis.yml ``third_party``: who the crisis happens to, the resident or someone else."""

    first_person: frozenset[str] = frozenset()
    first_person_subject: frozenset[str] = frozenset()
    witness_verbs: frozenset[str] = frozenset()  # "hoor ik gegil": the resident only witnesses
    people: frozenset[str] = frozenset()
    household: frozenset[str] = frozenset()
    pronouns: frozenset[str] = frozenset()
    pronouns_violence: frozenset[str] = frozenset()

    @property
    def violence_outsiders(self) -> frozenset[str]:
        """Violence by the own household is the resident's crisis; by others, a third party's."""
        return (self.people - self.household) | self.pronouns_violence


@dataclass(frozen=True)
class TopicWords:
    """crisis.yml ``topic``: 'een film over zelfmoord' names a subject, not an event."""

    words: frozenset[str] = frozenset()
    prepositions: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CrisisCues:
    """Per crisis type: words that make its triggers past or hypothetical, or immediate."""

    cancel: frozenset[str] = frozenset()  # anywhere in the sentence: "vorig jaar", "bang dat"
    cancel_before: frozenset[str] = frozenset()  # only before the trigger: "na mijn hartaanval"
    immediate: frozenset[str] = frozenset()  # overrule a cancel cue: "vannacht", "nu"


@dataclass(frozen=True)
class WordSets:
    """All word sets of one crisis.yml."""

    negation: NegationWords = NegationWords()
    clauses: ClauseBounds = ClauseBounds()
    third_party: ThirdPartyWords = ThirdPartyWords()
    topic: TopicWords = TopicWords()
    cues: dict[str, CrisisCues] = field(default_factory=dict)  # by crisis type

    def cues_for(self, crisis_type: str) -> CrisisCues:
        return self.cues.get(crisis_type) or CrisisCues()

    @classmethod
    def from_crisis_file(cls, crisis: dict[str, Any]) -> WordSets:
        """The word sets of a parsed crisis.yml, folded like the text they are compared with."""

        def folded(section: dict[str, Any], key: str) -> frozenset[str]:
            return frozenset(fold_all(section.get(key)))

        neg = crisis.get("negation") or {}
        bounds = crisis.get("clause_boundaries") or {}
        third = crisis.get("third_party") or {}
        topic = crisis.get("topic") or {}
        return cls(
            negation=NegationWords(
                negators=folded(neg, "negators"),
                window_before=int(neg.get("window_before", 5)),
                window_after=int(neg.get("window_after", 3)),
                post_fillers=folded(neg, "post_fillers"),
                need_words=folded(neg, "need_words"),
                want_words=folded(neg, "want_words"),
                post_exceptions=folded(neg, "post_exceptions"),
                continue_heads=folded(neg, "continue_heads"),
            ),
            clauses=ClauseBounds(
                hard=folded(bounds, "hard"),
                soft=folded(bounds, "soft"),
                scope=folded(bounds, "scope"),
            ),
            third_party=ThirdPartyWords(
                first_person=folded(third, "first_person"),
                first_person_subject=folded(third, "first_person_subject"),
                witness_verbs=folded(third, "witness_verbs"),
                people=folded(third, "people"),
                household=folded(third, "household"),
                pronouns=folded(third, "pronouns"),
                pronouns_violence=folded(third, "pronouns_violence"),
            ),
            topic=TopicWords(
                words=folded(topic, "words"),
                prepositions=folded(topic, "prepositions"),
            ),
            cues={
                ctype: CrisisCues(
                    cancel=folded(cfg or {}, "cancel_cues"),
                    cancel_before=folded(cfg or {}, "cancel_cues_before"),
                    immediate=folded(cfg or {}, "immediate_cues"),
                )
                for ctype, cfg in (crisis.get("crisis_types") or {}).items()
            },
        )
