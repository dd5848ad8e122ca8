"""The pattern language of data/life_domains/*.yml, its loading and its spaCy matchers.

Patterns are written by people who know the social domain, not spaCy, so they are one line of
words each; the language is documented at the top of ``data/life_domains/patterns.yml``:

* ``schuld`` a word, matched on LEMMA (so also "schulden"); ``a|b`` alternatives;
* ``=kwijt`` the exact NORM, no lemma; ``re:...`` a regular expression on NORM;
* ``?word`` optional; ``~`` / ``~2`` a gap of up to 3 / 2 words that cannot cross a hard
  clause boundary; a final ``$``: the match must end a clause.

Plain phrases go into a spaCy ``PhraseMatcher`` on LEMMA (fast), everything else into a
``Matcher``. A match records which negators the pattern names itself ("geen werk"), because
those do not deny it; a negator that falls in a gap does ("sluiten het gas niet af").
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from bot.life_domains.normalise import Normaliser, fold
from bot.life_domains.words import WordSets

REPO = Path(__file__).resolve().parents[2]
DEFAULT_PATTERNS = "data/life_domains/patterns.yml"
DEFAULT_CRISIS = "data/life_domains/crisis.yml"
DEFAULT_GAP = 3

# pattern kinds
DOMAIN = "d"
CRISIS = "c"
URGENT = "u"
PSEUDO = "p"  # pseudo-negation: the negator in "weet niet", "niet alleen" negates nothing else
TOGETHER = "t"  # one part of a crisis.yml `together` entry: a crisis only with all its parts


class PatternSpec(NamedTuple):
    kind: str
    label: str  # domain code, crisis type, urgent type or "pseudo"
    spec: str  # one line of the pattern language


@dataclass(frozen=True)
class PatternInfo:
    kind: str  # DOMAIN, CRISIS, URGENT, PSEUDO or TOGETHER
    label: str
    spec: str
    gaps: frozenset[int]  # pattern positions that are gap tokens
    clause_end: bool  # "$": the match must end a clause


@dataclass
class Match:
    """One pattern match; ``negated`` is settled later by the context rules."""

    info: PatternInfo
    start: int  # token indices
    end: int
    negated: bool = False
    own_negators: frozenset[int] = frozenset()  # negators the pattern itself names ("geen werk")


def resolve_path(path: str | Path) -> Path:
    """Relative pattern paths are relative to the repository root, as in bot/config.yml."""
    p = Path(path)
    return p if p.is_absolute() else REPO / p


def load_yaml(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return dict(yaml.safe_load(f) or {})


def pattern_specs(patterns: dict[str, Any], crisis: dict[str, Any]) -> list[PatternSpec]:
    """Every pattern of the parsed patterns.yml and crisis.yml, in file order."""
    specs: list[PatternSpec] = []
    for code, entries in (patterns.get("domains") or {}).items():
        specs += [PatternSpec(DOMAIN, code, s) for s in entries or []]
    for ctype, cfg in (crisis.get("crisis_types") or {}).items():
        specs += [PatternSpec(CRISIS, ctype, s) for s in cfg.get("triggers") or []]
        for e, entry in enumerate(together_entries(cfg)):
            specs += [
                PatternSpec(TOGETHER, together_label(ctype, e, p), s)
                for p, part in enumerate(entry["parts"])
                for s in part
            ]
    for utype, cfg in (crisis.get("urgent") or {}).items():
        specs += [PatternSpec(URGENT, utype, s) for s in cfg.get("triggers") or []]
    specs += [
        PatternSpec(PSEUDO, "pseudo", s) for s in (crisis.get("negation") or {}).get("pseudo") or []
    ]
    return specs


def together_entries(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """The `together` entries of one crisis type: {"parts": [[pattern, ...], ...], "unless":
    frozenset of words} (see crisis.yml). One part is a trigger that `unless` words cancel."""
    entries = []
    for entry in cfg.get("together") or []:
        parts = [[str(s) for s in part or []] for part in entry.get("parts") or []]
        if not parts or not all(parts):
            raise ValueError(f"a `together` entry needs one or more non-empty parts: {entry}")
        unless = [fold(str(w)) for w in entry.get("unless") or []]
        entries.append({"parts": parts, "unless": frozenset(unless)})
    return entries


def together_label(crisis_type: str, entry: int, part: int) -> str:
    """The label of a TOGETHER pattern: crisis type, entry and part ("suicidaliteit/0/1")."""
    return f"{crisis_type}/{entry}/{part}"


def parse_together_label(label: str) -> tuple[str, int, int]:
    """(crisis type, entry, part) of a TOGETHER pattern's label."""
    crisis_type, entry, part = label.rsplit("/", 2)
    return crisis_type, int(entry), int(part)


def literal_words(spec: str) -> Iterable[str]:
    """The folded words a pattern names (not its gaps and regular expressions)."""
    for tok in str(spec).split():
        tok = tok.lstrip("?").rstrip("$")
        if tok.startswith(("~", "re:")):
            continue
        for alt in tok.split("|"):
            if alt.lstrip("="):
                yield fold(alt.lstrip("="))


def trigger_words(specs: Iterable[PatternSpec]) -> set[str]:
    """Every literal word of every pattern: the vocabulary typos are corrected towards."""
    return {word for _, _, spec in specs for word in literal_words(spec)}


def crisis_words(specs: Iterable[PatternSpec]) -> list[str]:
    """Literal lemma words of the crisis patterns (not "=exact" ones): verb guesses aim here."""
    return [
        word
        for kind, _, spec in specs
        if kind in (CRISIS, TOGETHER)
        for tok in str(spec).split()
        if not tok.lstrip("?").startswith(("=", "~", "re:"))
        for word in literal_words(tok)
    ]


class PatternMatcher:
    """All patterns compiled into spaCy matchers; ``find`` is thread-safe."""

    def __init__(
        self,
        nlp: Any,
        specs: Sequence[PatternSpec],
        normaliser: Normaliser,
        words: WordSets,
    ) -> None:
        from spacy.matcher import Matcher, PhraseMatcher

        self.nlp = nlp
        self.normaliser = normaliser
        self.words = words
        self._gap_spec = {
            "IS_PUNCT": False,
            "NORM": {"NOT_IN": sorted(words.clauses.hard)},
            "OP": "?",
        }
        self.matcher = Matcher(nlp.vocab)
        self.phrase_matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self._info: dict[int, PatternInfo] = {}
        for n, (kind, label, spec) in enumerate(specs):
            self._add(kind, label, str(spec), n)
        self._lock = threading.Lock()  # spaCy's matchers are not documented as thread-safe

    def words_doc(self, words: Sequence[str]) -> Any:
        """A normalised Doc of already split words (how plain phrases are stored)."""
        from spacy.tokens import Doc

        return self.normaliser.annotate(Doc(self.nlp.vocab, words=list(words)))

    def compile(self, spec: str) -> tuple[list[dict[str, Any]], frozenset[int], bool]:
        """A spaCy Matcher pattern, its gap positions and whether it must end a clause."""
        tokens = spec.split()
        clause_end = bool(tokens) and tokens[-1].endswith("$") and not tokens[-1].startswith("re:")
        if clause_end:
            tokens[-1] = tokens[-1][:-1]
        out: list[dict[str, Any]] = []
        gaps: set[int] = set()
        for tok in tokens:
            if tok.startswith("~"):
                n = int(tok[1:] or DEFAULT_GAP)
                for _ in range(n):
                    gaps.add(len(out))
                    out.append(dict(self._gap_spec))
                continue
            optional = tok.startswith("?") and len(tok) > 1
            tok = tok[1:] if optional else tok
            if tok.startswith("re:"):
                item: dict[str, Any] = {"NORM": {"REGEX": f"^(?:{tok[3:]})$"}}
            elif tok.startswith("="):
                item = {"NORM": {"IN": sorted({fold(a) for a in tok[1:].split("|")})}}
            else:
                normaliser = self.normaliser
                alts = {
                    normaliser.lemma(normaliser.normalise_word(a.lstrip("=")))
                    for a in tok.split("|")
                }
                item = {"LEMMA": {"IN": sorted(alts)}}
            if optional:
                item["OP"] = "?"
            out.append(item)
        return out, frozenset(gaps), clause_end

    def _add(self, kind: str, label: str, spec: str, n: int) -> None:
        key = f"{kind}|{label}|{n}"
        plain = not re.search(r"[~|=?$]|re:", spec)
        if plain:
            info = PatternInfo(kind, label, spec, frozenset(), False)
            self.phrase_matcher.add(key, [self.words_doc(fold(spec).split())])
        else:
            pattern, gaps, clause_end = self.compile(spec)
            info = PatternInfo(kind, label, spec, gaps, clause_end)
            self.matcher.add(key, [pattern])
        self._info[self.nlp.vocab.strings[key]] = info

    def find(self, doc: Any) -> list[Match]:
        """Every match in a normalised Doc: Matcher matches first, then plain phrases."""
        negators = self.words.negation.negators
        found: list[Match] = []
        with self._lock:
            raw = self.matcher(doc, with_alignments=True)
            phrases = self.phrase_matcher(doc)
        for match_id, start, end, align in raw:
            info = self._info[match_id]
            in_match = [i for i in range(end - start) if doc[start + i].norm_ in negators]
            own = frozenset(start + i for i in in_match if align[i] not in info.gaps)
            # a negator in a gap negates the match: "wil niet dood", "sluiten het gas niet af"
            m = Match(info, start, end, negated=len(own) < len(in_match), own_negators=own)
            if info.clause_end and end < len(doc) and not self.words.clauses.ends_clause(doc[end]):
                continue
            found.append(m)
        for match_id, start, end in phrases:
            own = frozenset(i for i in range(start, end) if doc[i].norm_ in negators)
            found.append(Match(self._info[match_id], start, end, own_negators=own))
        return found
