"""Text normalisation and Dutch morphology for the life-domain detector.

Residents write short, hurried messages: SMS spellings ("mn", "nie"), typos of exactly the
words that matter ("sgulden"), inflections the patterns do not list ("sloeg", "getrapt"). The
patterns match on two token attributes that this module fills:

* NORM  = lower case, accents and inner hyphens removed ("burn-out" -> "burnout"), SMS
  spellings expanded ("mn" -> "mijn", "nie" -> "niet") and obvious typos of trigger words
  corrected ("sgulden" -> "schulden": edit distance 1-2, same first letter, only for words
  that are not Dutch words themselves);
* LEMMA = spaCy's Dutch lookup lemma of NORM (spacy-lookups-data, offline) plus our own
  additions, so "schulden"/"schuld" and "sloeg"/"slaat"/"slaan" match one pattern.

Nothing here knows the pattern language: the words typos are corrected towards and the crisis
lemmas that verb forms are guessed towards are handed in by the detector.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'"})
_REPEATS = re.compile(r"(.)\1{2,}")
_INNER_HYPHEN = re.compile(r"(?<=\w)[-‐‑](?=\w)")

# "alleen maar", "nog maar": an adverb, not the conjunction "maar" that ends a negation's scope
MAAR_ADVERBS = frozenset({"alleen", "nog", "pas", "even", "gewoon", "eens", "zomaar", "toch"})
MAAR_ADVERB_NORM = "maar_"

# separable verb particles that go before "ge" in a participle: "afgepakt", "doodgeschoten"
SEPARABLE_PARTICLES = (
    "dood",
    "neer",
    "kapot",
    "op",
    "af",
    "uit",
    "in",
    "aan",
    "weg",
    "vast",
    "mee",
)

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


def fold(text: str) -> str:
    """Lower case without accents, typographic apostrophes made plain."""
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES).lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def fold_all(words: Iterable[Any] | None) -> set[str]:
    """The folded set of a YAML word list (None or empty gives an empty set)."""
    return {fold(w) for w in words or []}


def phonetic(word: str) -> str:
    """A rough Dutch sound-alike key: 'sgulden' and 'schulden' both become 'sgulden'."""
    for a, b in _PHONETIC:
        word = word.replace(a, b)
    word = re.sub(r"(.)\1+", r"\1", word)
    return word[:-1] + "t" if word.endswith("d") else word


def edit_distance(a: str, b: str, limit: int) -> int:
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


def infinitives(stem: str) -> list[str]:
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


@lru_cache(maxsize=1)
def spacy_lemma_lookup() -> dict[str, str]:
    """spaCy's Dutch lookup lemmas (spacy-lookups-data, offline): inflected form -> lemma.

    Read once per process: the table is large and every detector shares it.
    """
    try:
        import spacy_lookups_data
        import srsly

        path = Path(spacy_lookups_data.__file__).parent / "data" / "nl_lemma_lookup.json.gz"
        return {fold(k): fold(v) for k, v in srsly.read_gzip_json(path).items()}
    except Exception:  # pragma: no cover - depends on the venv
        logger.warning("spacy-lookups-data not available: matching without lemmas")
        return {}


def blank_dutch_pipeline() -> Any:
    """A tokenizer-only Dutch spaCy pipeline that also splits 'dood.ik' (SMS without spaces)."""
    import spacy
    from spacy.util import compile_infix_regex

    nlp = spacy.blank("nl")
    # "dood.ik" (no space after a full stop, common in SMS) -> "dood", ".", "ik"
    infixes = [*nlp.Defaults.infixes, r"(?<=[a-z])\.(?=[a-z]{2,})"]
    nlp.tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    nlp.tokenizer.url_match = None  # "dood.ik" is no web address here
    return nlp


class Normaliser:
    """NORM and LEMMA of a word: SMS spellings, repeated letters, typos, inflections.

    Built once per detector from the pattern files; read-only (and so thread-safe) afterwards.
    """

    def __init__(
        self,
        *,
        lemma_table: dict[str, str],
        lemma_extra: dict[str, str],
        sms: dict[str, str],
        trigger_vocab: set[str],
        not_typos: set[str],
        crisis_words: Iterable[str],
    ) -> None:
        """Everything folded already.

        trigger_vocab: the words typos are corrected towards (every literal word of a pattern
            plus the extra vocabulary of patterns.yml).
        not_typos: words to leave alone although they are close to a trigger word.
        crisis_words: literal words of the crisis patterns; verb forms the lookup table lacks
            are guessed only towards their lemmas, so the guess cannot blur other words.
        """
        self.lemma_table = lemma_table
        self.lemma_extra = lemma_extra
        self.sms = sms
        self.trigger_vocab = trigger_vocab
        self._lemma_values = set(lemma_table.values())
        # the Dutch lexicon a word must not be in to count as a typo
        self.lexicon: set[str] = set(lemma_table) | self._lemma_values
        self.lexicon |= set(sms.values()) | set(lemma_extra)
        self.lexicon |= not_typos
        self.lexicon |= trigger_vocab
        self._vocab_by_initial: dict[str, list[tuple[str, str]]] = {}
        for word in sorted(trigger_vocab):
            if len(word) >= 5 and word.isalpha():
                self._vocab_by_initial.setdefault(word[0], []).append((word, phonetic(word)))
        self.crisis_lemmas: set[str] = {
            lemma_extra.get(word) or lemma_table.get(word) or word for word in crisis_words
        }

    @classmethod
    def from_pattern_files(
        cls,
        patterns: dict[str, Any],
        crisis: dict[str, Any],
        *,
        trigger_words: set[str],
        crisis_words: Iterable[str],
    ) -> Normaliser:
        """The normaliser for the parsed patterns.yml and crisis.yml.

        patterns.yml's ``lemmas`` win over crisis.yml's (strong verb forms of crisis words).
        """
        lemma_extra = {fold(k): fold(v) for k, v in (patterns.get("lemmas") or {}).items()}
        for k, v in (crisis.get("lemmas") or {}).items():
            lemma_extra.setdefault(fold(k), fold(v))
        return cls(
            lemma_table=spacy_lemma_lookup(),
            lemma_extra=lemma_extra,
            sms={fold(k): fold(v) for k, v in (patterns.get("sms") or {}).items()},
            trigger_vocab=fold_all(patterns.get("vocabulary")) | trigger_words,
            not_typos=fold_all(patterns.get("not_typos")) | fold_all(crisis.get("not_typos")),
            crisis_words=crisis_words,
        )

    def normalise_word(self, text: str) -> str:
        """NORM of one token: folded, SMS spelling expanded, repeats squeezed, typo corrected."""
        word = _INNER_HYPHEN.sub("", fold(text))
        word = _REPEATS.sub(r"\1\1", word)
        if word in self.sms:
            return self.sms[word]
        if word not in self.lexicon and _REPEATS.sub(r"\1", word) != word:
            single = re.sub(r"(.)\1+", r"\1", word)
            if single in self.lexicon:
                word = single
        return self._correct(word)

    @lru_cache(maxsize=20000)  # noqa: B019 - one normaliser per detector, lives forever
    def _correct(self, word: str) -> str:
        if len(word) < 5 or not word.isalpha() or word in self.lexicon:
            return word
        if self._guess_lemma(word):  # "gepakt" is an inflection of "pakken", not a typo
            return word
        limit = 1 if len(word) < 10 else 2
        sound = phonetic(word)
        best, best_key = word, (limit + 1, 0, 0)
        for cand, cand_sound in self._vocab_by_initial.get(word[0], ()):
            d = edit_distance(word, cand, limit)
            sound_d = edit_distance(sound, cand_sound, 1)
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
        """LEMMA of a NORM: our own lemmas, then spaCy's lookup table, then a guessed verb."""
        return (
            self.lemma_extra.get(norm)
            or self.lemma_table.get(norm)
            or self._guess_lemma(norm)
            or norm
        )

    @lru_cache(maxsize=20000)  # noqa: B019 - one normaliser per detector, lives forever
    def _guess_lemma(self, word: str) -> str | None:
        """The infinitive of a verb form the lookup table lacks, if it is a crisis lemma.

        Regular Dutch morphology: participles ("getrapt", "gevallen", "afgepakt"), present and
        past forms ("trapt", "duwde"), bare stems ("maak" -> "maken", "stap" -> "stappen") and
        clipped SMS infinitives ("leve" -> "leven"). Words that are lemmas themselves ("dood")
        are only read as participles, so "dood" never becomes "doden".
        """
        if len(word) < 3 or not word.isalpha() or not self.crisis_lemmas:
            return None
        for prefix in ("", *SEPARABLE_PARTICLES):
            if not word.startswith(prefix):
                continue
            rest = word[len(prefix) :]
            if rest.startswith("ge") and len(rest) > 4:
                core = rest[2:]
                stems = [core] if core.endswith("en") else [core[:-1]] if core[-1] in "td" else []
                for cand in (c for stem in stems for c in infinitives(stem)):
                    if prefix + cand in self.crisis_lemmas:
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
        for cand in (c for stem in stems for c in infinitives(stem)):
            if cand in self.crisis_lemmas and cand != word:
                return cand
        return None

    def annotate(self, doc: Any) -> Any:
        """Set NORM and LEMMA on every token of a spaCy Doc (in place; returns the Doc)."""
        previous = ""
        for token in doc:
            norm = self.normalise_word(token.text)
            if norm == "maar" and previous in MAAR_ADVERBS:
                norm = MAAR_ADVERB_NORM  # "alleen maar", "nog maar": not the conjunction "maar"
            previous = norm
            token.norm_ = norm
            token.lemma_ = self.lemma(norm)
        return doc
