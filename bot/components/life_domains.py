"""Life-domain (leefgebied), crisis and urgency detection for Voordeur.

Rule-based on purpose: what a resident says about their life must be found even in one short
SMS, with the same result every time, and a crisis must never depend on a trained model. The
detector works on a blank Dutch spaCy pipeline (tokenizer only) plus our own normalisation:

* NORM  = lower case, accents and inner hyphens removed ("burn-out" -> "burnout"), SMS
  spellings expanded ("mn" -> "mijn", "nie" -> "niet") and obvious typos of trigger words
  corrected ("sgulden" -> "schulden": edit distance 1-2, same first letter, only for words
  that are not Dutch words themselves);
* LEMMA = spaCy's Dutch lookup lemma of NORM (spacy-lookups-data, offline) plus our own
  additions, so "schulden"/"schuld" and "sloeg"/"slaat"/"slaan" match one pattern.

Patterns live in ``data/life_domains/patterns.yml`` (14 life domains) and
``data/life_domains/crisis.yml`` (crisis types, urgent signals, negation and third-party cues);
their small pattern language is documented at the top of patterns.yml. Plain phrases go into a
spaCy ``PhraseMatcher`` on LEMMA, everything else into a ``Matcher``.

``detect(text)`` is the pure entry point (tests, benchmark, no Rasa needed)::

    >>> detect("ik heb geen schulden maar slaap slecht").domains
    [('geestelijke_gezondheid', 'slaap slecht', 26, 38)]

``LifeDomainExtractor`` is the Rasa 3.6 NLU component. Put it LAST in the pipeline (after
FallbackClassifier, so that a crisis overrides nlu_fallback)::

    - name: bot.components.life_domains.LifeDomainExtractor
      # optional, these are the defaults (relative paths are relative to the repo root):
      patterns: data/life_domains/patterns.yml
      crisis: data/life_domains/crisis.yml
      crisis_intent: crisis     # intent set on a crisis (null: leave the intent alone)
      drop_negated: true        # drop other extractors' leefgebied entities on negated spans
      rescue_intent: describe_situation  # replaces nlu_fallback when life domains or an
                                         # urgent signal were found (null: never)

It adds entities ``leefgebied`` (value: domain code), ``urgentie`` (dreigende_uitzetting |
dreigende_afsluiting) and ``crisis`` (value: crisis type, plus ``third_party``), and on a crisis
sets the intent to ``crisis`` (confidence 1.0) with the previous ranking kept after it. A message
that the classifiers gave up on (nlu_fallback) but that clearly tells about the resident's life
("ze sluiten het gas af") becomes ``describe_situation`` instead of "Sorry, dat begreep ik niet".
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
DEFAULT_PATTERNS = "data/life_domains/patterns.yml"
DEFAULT_CRISIS = "data/life_domains/crisis.yml"

EXTRACTOR_NAME = "LifeDomainExtractor"
LEEFGEBIED = "leefgebied"
CRISIS = "crisis"
URGENTIE = "urgentie"
CRISIS_INTENT = "crisis"
FALLBACK_INTENT = "nlu_fallback"
RESCUE_CONFIDENCE = 0.9  # below a crisis' 1.0: the patterns are sure, the intent is a best guess

DEFAULT_GAP = 3
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})
_REPEATS = re.compile(r"(.)\1{2,}")
_INNER_HYPHEN = re.compile(r"(?<=\w)[-‐‑](?=\w)")

Span = tuple[int, int]
_MAAR_ADVERB = {"alleen", "nog", "pas", "even", "gewoon", "eens", "zomaar", "toch"}


@dataclass(frozen=True)
class Detection:
    """What one text reveals.

    domains: (code, evidence words, start char, end char), in text order; one entry per
        span and code. Implied domains (e.g. huisvesting for an acute loss of housing) carry the
        crisis/urgency words as evidence.
    crisis: (type, third_party) of the most pressing crisis, or None.
    urgent: "dreigende_uitzetting" | "dreigende_afsluiting" | None.
    """

    domains: list[tuple[str, str, int, int]] = field(default_factory=list)
    crisis: tuple[str, bool] | None = None
    urgent: str | None = None
    crisis_span: tuple[str, int, int] | None = None  # (words, start, end)
    urgent_span: tuple[str, int, int] | None = None
    negated: list[tuple[str, str, int, int]] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        """The distinct domain codes, in order of first mention."""
        return list(dict.fromkeys(code for code, *_ in self.domains))


@dataclass(frozen=True)
class _PatternInfo:
    kind: str  # "d" domain, "c" crisis, "u" urgent, "p" pseudo-negation
    label: str
    spec: str
    gaps: frozenset[int]  # pattern positions that are gap tokens
    clause_end: bool  # "$": the match must end a clause


@dataclass
class _Match:
    info: _PatternInfo
    start: int  # token indices
    end: int
    negated: bool = False
    own_negators: frozenset[int] = frozenset()  # negators the pattern itself names ("geen werk")


def fold(text: str) -> str:
    """Lower case without accents, typographic apostrophes made plain."""
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES).lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


_PHONETIC = [
    ("sch", "sg"),
    ("ch", "g"),
    ("ij", "ei"),
    ("y", "ei"),
    ("dt", "t"),
    ("ph", "f"),
    ("qu", "kw"),
    ("ou", "au"),
    ("c", "k"),
]


def phonetic(word: str) -> str:
    """A rough Dutch sound-alike key: 'sgulden' and 'schulden' both become 'sgulden'."""
    for a, b in _PHONETIC:
        word = word.replace(a, b)
    word = re.sub(r"(.)\1+", r"\1", word)
    return word[:-1] + "t" if word.endswith("d") else word


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a transposition counts 1), capped at limit + 1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _load_yaml(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return dict(yaml.safe_load(f) or {})


@lru_cache(maxsize=1)
def _lemma_lookup() -> dict[str, str]:
    """spaCy's Dutch lookup lemmas (spacy-lookups-data, offline): inflected form -> lemma."""
    try:
        import spacy_lookups_data
        import srsly

        path = Path(spacy_lookups_data.__file__).parent / "data" / "nl_lemma_lookup.json.gz"
        return {fold(k): fold(v) for k, v in srsly.read_gzip_json(path).items()}
    except Exception:  # pragma: no cover - depends on the venv
        logger.warning("spacy-lookups-data not available: matching without lemmas")
        return {}


def _resolve(path: str | Path) -> Path:
    p = Path(path)
    return p if p.is_absolute() else REPO / p


class LifeDomainDetector:
    """Compiled patterns plus the spaCy pipeline; thread-safe after construction."""

    def __init__(
        self, patterns_path: str | Path = DEFAULT_PATTERNS, crisis_path: str | Path = DEFAULT_CRISIS
    ) -> None:
        import spacy
        from spacy.matcher import Matcher, PhraseMatcher
        from spacy.util import compile_infix_regex

        self.patterns_path = _resolve(patterns_path)
        self.crisis_path = _resolve(crisis_path)
        data = _load_yaml(self.patterns_path)
        crisis = _load_yaml(self.crisis_path)

        self.nlp = spacy.blank("nl")
        # "dood.ik" (no space after a full stop, common in SMS) -> "dood", ".", "ik"
        infixes = [*self.nlp.Defaults.infixes, r"(?<=[a-z])\.(?=[a-z]{2,})"]
        self.nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
        self.nlp.tokenizer.url_match = None  # "dood.ik" is no web address here

        self._lemma_table = _lemma_lookup()
        self._lemma_extra = {fold(k): fold(v) for k, v in (data.get("lemmas") or {}).items()}
        for k, v in (crisis.get("lemmas") or {}).items():  # strong verb forms of crisis words
            self._lemma_extra.setdefault(fold(k), fold(v))
        self._lemma_values = set(self._lemma_table.values())
        self._crisis_lemmas: set[str] = set()  # filled below; targets of _guess_lemma
        self._sms = {fold(k): fold(v) for k, v in (data.get("sms") or {}).items()}

        neg = crisis.get("negation") or {}
        self.negators = {fold(w) for w in neg.get("negators", [])}
        self.neg_window_before = int(neg.get("window_before", 5))
        self.neg_window_after = int(neg.get("window_after", 3))
        self.post_fillers = {fold(w) for w in neg.get("post_fillers", [])}
        self.need_words = {fold(w) for w in neg.get("need_words", [])}
        self.want_words = {fold(w) for w in neg.get("want_words", [])}
        self.post_exceptions = {fold(w) for w in neg.get("post_exceptions", [])}
        self.continue_heads = {fold(w) for w in neg.get("continue_heads", [])}
        bounds = crisis.get("clause_boundaries") or {}
        self.hard_bounds = {fold(w) for w in bounds.get("hard", [])}
        self.soft_bounds = {fold(w) for w in bounds.get("soft", [])}
        self.scope_stops = {fold(w) for w in bounds.get("scope", [])}

        third = crisis.get("third_party") or {}
        self.first_person = {fold(w) for w in third.get("first_person", [])}
        self.first_person_subject = {fold(w) for w in third.get("first_person_subject", [])}
        self.witness_verbs = {fold(w) for w in third.get("witness_verbs", [])}
        self.people = {fold(w) for w in third.get("people", [])}
        self.household = {fold(w) for w in third.get("household", [])}
        self.pronouns = {fold(w) for w in third.get("pronouns", [])}
        self.pronouns_violence = {fold(w) for w in third.get("pronouns_violence", [])}

        topic = crisis.get("topic") or {}
        self.topic_words = {fold(w) for w in topic.get("words", [])}
        self.topic_prepositions = {fold(w) for w in topic.get("prepositions", [])}

        self.crisis_priority: list[str] = list(crisis.get("priority") or [])
        self.crisis_cfg: dict[str, dict[str, Any]] = dict(crisis.get("crisis_types") or {})
        self.urgent_cfg: dict[str, dict[str, Any]] = dict(crisis.get("urgent") or {})
        self.domain_codes: list[str] = list((data.get("domains") or {}).keys())

        # vocabulary that typos are corrected towards, and the Dutch lexicon they must not be in
        self._trigger_vocab: set[str] = {fold(w) for w in data.get("vocabulary") or []}
        self._lexicon: set[str] = set(self._lemma_table) | set(self._lemma_table.values())
        self._lexicon |= set(self._sms.values()) | set(self._lemma_extra)
        self._lexicon |= {fold(w) for w in data.get("not_typos") or []}
        self._lexicon |= {fold(w) for w in crisis.get("not_typos") or []}

        specs: list[tuple[str, str, str]] = []  # (kind, label, spec)
        for code, entries in (data.get("domains") or {}).items():
            specs += [("d", code, s) for s in entries or []]
        for ctype, cfg in self.crisis_cfg.items():
            specs += [("c", ctype, s) for s in cfg.get("triggers") or []]
        for utype, cfg in self.urgent_cfg.items():
            specs += [("u", utype, s) for s in cfg.get("triggers") or []]
        specs += [("p", "pseudo", s) for s in neg.get("pseudo") or []]
        for _, _, spec in specs:
            for word in self._literal_words(spec):
                self._trigger_vocab.add(word)
        self._vocab_by_initial: dict[str, list[tuple[str, str]]] = {}
        for word in sorted(self._trigger_vocab):
            if len(word) >= 5 and word.isalpha():
                self._vocab_by_initial.setdefault(word[0], []).append((word, phonetic(word)))
        self._lexicon |= self._trigger_vocab
        # inflections spaCy's lookup table lacks ("getrapt", "maak", "leve") are guessed only
        # towards the lemmas of crisis patterns, so the guess cannot blur other words
        self._crisis_lemmas = {
            self._lemma_extra.get(word) or self._lemma_table.get(word) or word
            for kind, _, spec in specs
            if kind == "c"
            for tok in str(spec).split()
            if not tok.lstrip("?").startswith(("=", "~", "re:"))
            for word in self._literal_words(tok)
        }

        self._gap_spec = {
            "IS_PUNCT": False,
            "NORM": {"NOT_IN": sorted(self.hard_bounds)},
            "OP": "?",
        }
        self.matcher = Matcher(self.nlp.vocab)
        self.phrase_matcher = PhraseMatcher(self.nlp.vocab, attr="LEMMA")
        self._info: dict[int, _PatternInfo] = {}
        for n, (kind, label, spec) in enumerate(specs):
            self._add(kind, label, str(spec), n)
        self._lock = threading.Lock()  # spaCy's matchers are not documented as thread-safe

    # --- normalisation -------------------------------------------------------------------

    def normalise_word(self, text: str) -> str:
        word = _INNER_HYPHEN.sub("", fold(text))
        word = _REPEATS.sub(r"\1\1", word)
        if word in self._sms:
            return self._sms[word]
        if word not in self._lexicon and _REPEATS.sub(r"\1", word) != word:
            single = re.sub(r"(.)\1+", r"\1", word)
            if single in self._lexicon:
                word = single
        return self._correct(word)

    @lru_cache(maxsize=20000)  # noqa: B019 - one detector per process, lives forever
    def _correct(self, word: str) -> str:
        if len(word) < 5 or not word.isalpha() or word in self._lexicon:
            return word
        if self._guess_lemma(word):  # "gepakt" is an inflection of "pakken", not a typo
            return word
        limit = 1 if len(word) < 10 else 2
        sound = phonetic(word)
        best, best_key = word, (limit + 1, 0, 0)
        for cand, cand_sound in self._vocab_by_initial.get(word[0], ()):
            d = _edit_distance(word, cand, limit)
            sound_d = _edit_distance(sound, cand_sound, 1)
            if d > 1 and sound_d <= 1:
                d = 1  # sounds alike: "sgulden" ~ "schulden"
            if d > limit:
                continue
            prefix = next(
                (i for i, (a, b) in enumerate(zip(word, cand, strict=False)) if a != b),
                min(len(word), len(cand)),
            )
            # ties: the longest shared beginning ("inkome" -> "inkomen"), then sounds most alike
            key = (d, -prefix, sound_d)
            if key < best_key:
                best, best_key = cand, key
        return best

    def lemma(self, norm: str) -> str:
        return (
            self._lemma_extra.get(norm)
            or self._lemma_table.get(norm)
            or self._guess_lemma(norm)
            or norm
        )

    _SEPARABLE = ("dood", "neer", "kapot", "op", "af", "uit", "in", "aan", "weg", "vast", "mee")

    @lru_cache(maxsize=20000)  # noqa: B019 - one detector per process, lives forever
    def _guess_lemma(self, word: str) -> str | None:
        """The infinitive of a verb form the lookup table lacks, if it is a crisis lemma.

        Regular Dutch morphology: participles ("getrapt", "gevallen", "afgepakt"), present and
        past forms ("trapt", "duwde"), bare stems ("maak" -> "maken", "stap" -> "stappen") and
        clipped SMS infinitives ("leve" -> "leven"). Words that are lemmas themselves ("dood")
        are only read as participles, so "dood" never becomes "doden".
        """
        if len(word) < 3 or not word.isalpha() or not self._crisis_lemmas:
            return None
        for prefix in ("", *self._SEPARABLE):
            if not word.startswith(prefix):
                continue
            rest = word[len(prefix) :]
            if rest.startswith("ge") and len(rest) > 4:
                core = rest[2:]
                stems = [core] if core.endswith("en") else [core[:-1]] if core[-1] in "td" else []
                for cand in (c for stem in stems for c in self._infinitives(stem)):
                    if prefix + cand in self._crisis_lemmas:
                        return prefix + cand
        if word in self._lemma_values:  # a lemma itself: "dood", "stap", "gewond"
            return None
        stems = [word]
        if word.endswith(("de", "te")):
            stems.append(word[:-2])
        elif word.endswith(("den", "ten")):
            stems.append(word[:-3])
        elif word.endswith("t"):
            stems.append(word[:-1])
        stems = [stem for stem in stems if len(stem) >= 3]
        for cand in (c for stem in stems for c in self._infinitives(stem)):
            if cand in self._crisis_lemmas and cand != word:
                return cand
        return None

    @staticmethod
    def _infinitives(stem: str) -> list[str]:
        """Candidate infinitives of a verb stem: maak -> maken, trap -> trappen, durf -> durven."""
        vowels = "aeiou"
        if stem.endswith("en") and len(stem) > 4:
            return [stem]
        if len(stem) < 2:
            return []
        if stem[-1] in vowels:  # clipped or vowel stems: leve -> leven, zie -> zien
            return [stem + "n"] if stem[-1] == "e" and stem[-2] != "e" else []
        last, prev = stem[-1], stem[-2]
        soft = {"f": "v", "s": "z"}.get(last, last)
        if prev not in vowels or last in "wj":  # cluster: stomp -> stompen, durf -> durven
            return [stem + "en", stem[:-1] + soft + "en"]
        before = stem[-3] if len(stem) >= 3 else ""
        if before == prev:  # long vowel: maak -> maken, leef -> leven
            return [stem[:-2] + soft + "en"]
        if before in vowels:  # diphthong: bijt -> bijten, kies -> kiezen
            return [stem + "en", stem[:-1] + soft + "en"]
        return [stem + last + "en"]  # short vowel: trap -> trappen, pak -> pakken

    def _prepare(self, doc: Any) -> Any:
        previous = ""
        for token in doc:
            norm = self.normalise_word(token.text)
            if norm == "maar" and previous in _MAAR_ADVERB:
                norm = "maar_"  # "alleen maar", "nog maar": not the conjunction "maar"
            previous = norm
            token.norm_ = norm
            token.lemma_ = self.lemma(norm)
        return doc

    def _words_doc(self, words: Sequence[str]) -> Any:
        from spacy.tokens import Doc

        return self._prepare(Doc(self.nlp.vocab, words=list(words)))

    # --- pattern language ----------------------------------------------------------------

    @staticmethod
    def _literal_words(spec: str) -> Iterable[str]:
        for tok in str(spec).split():
            tok = tok.lstrip("?").rstrip("$")
            if tok.startswith(("~", "re:")):
                continue
            for alt in tok.split("|"):
                if alt.lstrip("="):
                    yield fold(alt.lstrip("="))

    def _compile(self, spec: str) -> tuple[list[dict[str, Any]], frozenset[int], bool]:
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
                alts = {self.lemma(self.normalise_word(a.lstrip("="))) for a in tok.split("|")}
                item = {"LEMMA": {"IN": sorted(alts)}}
            if optional:
                item["OP"] = "?"
            out.append(item)
        return out, frozenset(gaps), clause_end

    def _add(self, kind: str, label: str, spec: str, n: int) -> None:
        key = f"{kind}|{label}|{n}"
        plain = not re.search(r"[~|=?$]|re:", spec)
        if plain:
            info = _PatternInfo(kind, label, spec, frozenset(), False)
            self.phrase_matcher.add(key, [self._words_doc(fold(spec).split())])
        else:
            pattern, gaps, clause_end = self._compile(spec)
            info = _PatternInfo(kind, label, spec, gaps, clause_end)
            self.matcher.add(key, [pattern])
        self._info[self.nlp.vocab.strings[key]] = info

    # --- matching ------------------------------------------------------------------------

    def _is_hard(self, token: Any) -> bool:
        return bool(token.is_punct) or token.norm_ in self.hard_bounds or "\n" in token.text

    def _matches(self, doc: Any) -> list[_Match]:
        found: list[_Match] = []
        with self._lock:
            raw = self.matcher(doc, with_alignments=True)
            phrases = self.phrase_matcher(doc)
        for match_id, start, end, align in raw:
            info = self._info[match_id]
            negators = [i for i in range(end - start) if doc[start + i].norm_ in self.negators]
            own = frozenset(start + i for i in negators if align[i] not in info.gaps)
            # a negator in a gap negates the match: "wil niet dood", "sluiten het gas niet af"
            m = _Match(info, start, end, negated=len(own) < len(negators), own_negators=own)
            if info.clause_end and end < len(doc) and not self._ends_clause(doc[end]):
                continue
            found.append(m)
        for match_id, start, end in phrases:
            own = frozenset(i for i in range(start, end) if doc[i].norm_ in self.negators)
            found.append(_Match(self._info[match_id], start, end, own_negators=own))
        return found

    def _pre_negated(self, doc: Any, start: int, shielded: set[int]) -> bool:
        """A negator a few tokens before `start`, in the same clause ('ik heb geen schulden').

        "en"/"of" end the scope, unless a head like "problemen" or "last" lies between the
        negator and the coordination: "geen problemen met alcohol of drugs".
        """
        crossed_soft = head_after_soft = False
        i, steps = start - 1, 0
        while i >= 0 and steps < self.neg_window_before:
            tok = doc[i]
            if self._is_hard(tok) or tok.norm_ in self.scope_stops:
                return False
            if tok.norm_ in self.soft_bounds:
                crossed_soft = True
            elif tok.norm_ in self.continue_heads and crossed_soft:
                head_after_soft = True
            elif tok.norm_ in self.negators and i not in shielded:
                return not crossed_soft or head_after_soft
            i -= 1
            steps += 1
        return False

    def _post_negated(self, doc: Any, end: int, shielded: set[int]) -> bool:
        """'schulden heb ik niet', 'hij slaat me niet': only fillers between trigger and negator."""
        for j in range(end, min(len(doc), end + self.neg_window_after)):
            tok = doc[j]
            if tok.norm_ in self.negators and j not in shielded:
                nxt = doc[j + 1].norm_ if j + 1 < len(doc) else ""
                return nxt not in self.post_exceptions
            if tok.norm_ not in self.post_fillers:
                return False
        return False

    def _clause(self, doc: Any, start: int, end: int) -> tuple[int, int]:
        """Token range of the clause around [start, end)."""
        lo, hi = start, end
        while lo > 0 and not self._ends_clause(doc[lo - 1]):
            lo -= 1
        while hi < len(doc) and not self._ends_clause(doc[hi]):
            hi += 1
        return lo, hi

    def _ends_clause(self, token: Any) -> bool:
        return self._is_hard(token) or token.norm_ in self.soft_bounds

    def _sentence_start(self, doc: Any, start: int) -> int:
        lo = start
        while lo > 0 and doc[lo - 1].text not in {".", "!", "?"} and "\n" not in doc[lo - 1].text:
            lo -= 1
        return lo

    def _third_party(self, doc: Any, m: _Match) -> bool:
        lo, hi = self._clause(doc, m.start, m.end)
        words = [doc[i].norm_ for i in range(lo, hi)]
        if any(w in self.first_person for w in words):
            return False
        for i in range(max(lo, m.start - 3), m.end):
            if doc[i].norm_ in self.first_person_subject:
                around = {doc[j].norm_ for j in (i - 1, i + 1) if 0 <= j < len(doc)}
                if not around & self.witness_verbs:  # "hoor ik gegil": a witness, not a victim
                    return False
        violence = m.info.label == "huiselijk_geweld"
        sent_lo = self._sentence_start(doc, m.start)
        context = [doc[i].norm_ for i in range(sent_lo, hi)]
        if violence:
            outsiders = (self.people - self.household) | self.pronouns_violence
            return any(w in outsiders for w in context)
        return any(w in self.people or w in self.pronouns for w in context)

    def _about_a_topic(self, doc: Any, m: _Match) -> bool:
        """'een film over zelfmoord', 'de spreekbeurt over huiselijk geweld': the crisis words
        are the subject of a film, news item or talk, not something happening."""
        lo, _ = self._clause(doc, m.start, m.end)
        # the preposition right before the words, or before one adjective: "over huiselijk geweld"
        for i in range(max(lo, m.start - 2), m.start):
            if doc[i].norm_ in self.topic_prepositions:
                return any(doc[j].lemma_ in self.topic_words for j in range(lo, i))
        return False

    def _cancelled(self, doc: Any, m: _Match) -> bool:
        """Past or hypothetical crisis words ('vorig jaar een hartaanval gehad', 'bang dat ik
        op straat kom'), unless an immediacy word ('vannacht', 'nu') is in the clause."""
        if self._about_a_topic(doc, m):
            return True
        cfg = self.crisis_cfg.get(m.info.label) or {}
        cues = {fold(w) for w in cfg.get("cancel_cues") or []}
        before_only = {fold(w) for w in cfg.get("cancel_cues_before") or []}
        if not cues and not before_only:
            return False
        immediate = {fold(w) for w in cfg.get("immediate_cues") or []}
        sent_lo = self._sentence_start(doc, m.start)
        _, hi = self._clause(doc, m.start, m.end)
        window = [doc[i].norm_ for i in range(sent_lo, min(len(doc), hi))]
        if any(w in immediate for w in window):
            return False
        # "na mijn hartaanval" is past, "zwelt op na een wespensteek" is not
        if any(doc[i].norm_ in before_only for i in range(sent_lo, m.start)):
            return True
        return any(w in cues for w in window)

    def detect(self, text: str) -> Detection:
        if not text or not text.strip():
            return Detection()
        doc = self._prepare(self.nlp(text))
        matches = self._matches(doc)
        pseudo: set[int] = set()
        for m in matches:
            if m.info.kind == "p":
                pseudo.update(range(m.start, m.end))
        # Pass 1: patterns that name their own negator ("geen werk", "huur niet betaald").
        # Pass 2: the rest; the negators of pass-1 matches that stand do not negate them
        # ("ik heb geen werk door mijn depressie").
        own_first = [m for m in matches if m.info.kind != "p" and m.own_negators]
        shielded: set[int] = set()
        for group in (own_first, [m for m in matches if m.info.kind != "p" and not m.own_negators]):
            for m in group:
                if m.negated:
                    continue
                others = (shielded - m.own_negators) | pseudo | m.own_negators
                m.negated = self._pre_negated(doc, m.start, others) or self._post_negated(
                    doc, m.end, others
                )
                if m.own_negators and any(
                    doc[j].norm_ in self.need_words for j in range(m.end, min(len(doc), m.end + 2))
                ):
                    m.negated = True  # "ik heb geen slaapplek nodig"
                if (
                    m.start in m.own_negators
                    and doc[m.start].norm_ == "geen"
                    and m.start > 0
                    and (doc[m.start - 1].norm_ in self.want_words)
                ):
                    m.negated = True  # "ik zoek geen werk"
            if group is own_first:
                for m in own_first:
                    if not m.negated:
                        shielded |= m.own_negators

        def span(m: _Match) -> tuple[str, int, int]:
            s = doc[m.start : m.end]
            return s.text, s.start_char, s.end_char

        # crisis: first person before third party, then by priority
        crisis: tuple[str, bool] | None = None
        crisis_span = None
        best: tuple[int, int, int] | None = None
        crisis_domains: list[tuple[str, _Match]] = []
        for m in matches:
            if m.info.kind != "c" or m.negated or self._cancelled(doc, m):
                continue
            third = self._third_party(doc, m)
            rank = (
                self.crisis_priority.index(m.info.label)
                if (m.info.label in self.crisis_priority)
                else len(self.crisis_priority)
            )
            key = (int(third), rank, m.start)
            if best is None or key < best:
                best, crisis, crisis_span = key, (m.info.label, third), span(m)
            implied = (self.crisis_cfg.get(m.info.label) or {}).get("implies_domain")
            if implied and not third:
                crisis_domains.append((implied, m))

        urgent: str | None = None
        urgent_span = None
        urgent_order = list(self.urgent_cfg)
        for m in sorted(
            (m for m in matches if m.info.kind == "u" and not m.negated),
            key=lambda m: (urgent_order.index(m.info.label), m.start),
        ):
            if urgent is None:
                urgent, urgent_span = m.info.label, span(m)
            implied = (self.urgent_cfg.get(m.info.label) or {}).get("implies_domain")
            if implied:
                crisis_domains.append((implied, m))

        candidates = [(m.info.label, m) for m in matches if m.info.kind == "d" and not m.negated]
        candidates += crisis_domains
        domains = self._merge(doc, candidates)
        negated = self._merge(
            doc, [(m.info.label, m) for m in matches if m.info.kind == "d" and m.negated]
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

    @staticmethod
    def _merge(doc: Any, found: list[tuple[str, _Match]]) -> list[tuple[str, str, int, int]]:
        """Overlapping matches of one code become one span (the union)."""
        by_code: dict[str, list[Span]] = {}
        for code, m in found:
            by_code.setdefault(code, []).append((m.start, m.end))
        out: list[tuple[str, str, int, int]] = []
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
    key = (_resolve(patterns_path), _resolve(crisis_path))
    with _DETECTORS_LOCK:
        if key not in _DETECTORS:
            _DETECTORS[key] = LifeDomainDetector(*key)
        return _DETECTORS[key]


def detect(text: str) -> Detection:
    """Life domains, crisis and urgency in `text`, with the default pattern files."""
    return get_detector().detect(text)


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def merge_entities(
    existing: list[dict[str, Any]], detection: Detection, drop_negated: bool = True
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(entities to keep from other extractors, new entities of this detector)."""
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


try:  # the Rasa component; the detector above works without Rasa
    from rasa.engine.graph import ExecutionContext, GraphComponent
    from rasa.engine.recipes.default_recipe import DefaultV1Recipe
    from rasa.engine.storage.resource import Resource
    from rasa.engine.storage.storage import ModelStorage
    from rasa.nlu.extractors.extractor import EntityExtractorMixin
    from rasa.shared.nlu.constants import (
        ENTITIES,
        INTENT,
        INTENT_NAME_KEY,
        INTENT_RANKING_KEY,
        PREDICTED_CONFIDENCE_KEY,
        TEXT,
    )
    from rasa.shared.nlu.training_data.message import Message
except ImportError:  # pragma: no cover - only the detector is available
    pass
else:

    @DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
    class LifeDomainExtractor(GraphComponent, EntityExtractorMixin):
        """Adds leefgebied / urgentie / crisis entities; a crisis sets the intent `crisis`."""

        @staticmethod
        def get_default_config() -> dict[str, Any]:
            return {
                "patterns": DEFAULT_PATTERNS,
                "crisis": DEFAULT_CRISIS,
                "crisis_intent": CRISIS_INTENT,
                "drop_negated": True,
                "rescue_intent": "describe_situation",
            }

        def __init__(self, config: dict[str, Any]) -> None:
            self._config = {**self.get_default_config(), **config}
            self.detector = get_detector(self._config["patterns"], self._config["crisis"])

        @classmethod
        def create(
            cls,
            config: dict[str, Any],
            model_storage: ModelStorage,
            resource: Resource,
            execution_context: ExecutionContext,
        ) -> LifeDomainExtractor:
            return cls(config)

        def process(self, messages: list[Message]) -> list[Message]:
            for message in messages:
                text = message.get(TEXT)
                if not text or text.startswith("/"):
                    continue
                self.process_message(message, self.detector.detect(text))
            return messages

        def process_message(self, message: Message, detection: Detection) -> None:
            kept, new = merge_entities(
                list(message.get(ENTITIES) or []), detection, self._config["drop_negated"]
            )
            message.set(ENTITIES, kept + self.add_extractor_name(new), add_to_output=True)
            current = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            if detection.crisis and self._config["crisis_intent"]:
                self._set_intent(message, self._config["crisis_intent"], 1.0)
            elif (
                current == FALLBACK_INTENT
                and self._config["rescue_intent"]
                and (detection.domains or detection.urgent)
            ):
                self._set_intent(message, self._config["rescue_intent"], RESCUE_CONFIDENCE)

        @staticmethod
        def _set_intent(message: Message, name: str, confidence: float) -> None:
            """`name` becomes the intent; the previous ranking follows it."""
            intent = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}
            ranking = [
                r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != name
            ]
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [dict(intent), *ranking], add_to_output=True)
