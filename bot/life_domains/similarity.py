"""The second crisis net: nearest crisis exemplar by sentence-embedding similarity.

Why a second net: the rules in crisis.yml find what is said literally ("ik wil dood", "pillen
gespaard"), but indirect suicide signals come in endless wordings ("ik heb brieven geschreven
voor mijn kinderen", "ik geef mijn spullen weg, heb ze toch niet meer nodig"). More literal
patterns would not generalise; a multilingual sentence encoder does map such paraphrases close
to each other. So every message the rules let through is compared with a few dozen hand-written
crisis exemplars (``data/life_domains/crisis_exemplars.yml``).

Why a margin as well as a threshold: near misses share the crisis words and therefore sit close
to the exemplars too ("ik ga er dood aan haha, die formulieren", "ik geef mijn oude fiets weg").
A threshold alone high enough to keep them out would also drop most real paraphrases. Hand-written
NEGATIVE exemplars fix that locally: a message only counts when its nearest positive exemplar is
at least ``threshold`` similar AND at least ``margin`` more similar than its nearest negative one.

The decision rule (``ExemplarIndex``, ``passes``) is pure numpy and knows nothing of Rasa or of
the encoder: the caller embeds texts (``bot.components.life_domains`` uses the Universal Sentence
Encoder of the NLU pipeline) and passes vectors in, so it is unit-testable with tiny hand-made
vectors. Similarity is cosine; rows are L2-normalised once, so vectors of any scale work. The
helpers at the end (SMS spellings, third party, the resulting Detection) use the rule-based
detector's spaCy pipeline and word lists, still without Rasa.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bot.life_domains import context
from bot.life_domains.normalise import fold
from bot.life_domains.patterns import CRISIS, Match, PatternInfo, load_yaml, resolve_path

if TYPE_CHECKING:
    from bot.life_domains.detector import Detection, LifeDomainDetector

DEFAULT_EXEMPLARS = "data/life_domains/crisis_exemplars.yml"
SENTENCE_END = re.compile(r"[.!?\n]+")
MIN_SENTENCE_WORDS = 4  # shorter sentences ("woon in velsen", "hoi") are not scored alone

Embed = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class Exemplars:
    """The texts of crisis_exemplars.yml: (crisis type, text) positives and negative texts."""

    positives: list[tuple[str, str]]
    negatives: list[str]

    @property
    def types(self) -> list[str]:
        """Crisis types with at least one positive exemplar, in file order."""
        return list(dict.fromkeys(ctype for ctype, _ in self.positives))


def load_exemplars(path: str | Path = DEFAULT_EXEMPLARS) -> Exemplars:
    """Reads an exemplar file (relative paths are relative to the repository root)."""
    data = load_yaml(resolve_path(path))
    positives = [
        (str(ctype), str(text).strip())
        for ctype, texts in (data.get("positives") or {}).items()
        for text in texts or []
        if str(text).strip()
    ]
    negatives = [str(t).strip() for t in data.get("negatives") or [] if str(t).strip()]
    if not positives:
        raise ValueError(f"{path}: no positive exemplars")
    return Exemplars(positives=positives, negatives=negatives)


@dataclass(frozen=True)
class SimilarityMatch:
    """Why the net fired (or, from ``ExemplarIndex.nearest``, how close it came).

    crisis_type: the type of the nearest positive exemplar.
    score: cosine similarity to that exemplar.
    negative_score: cosine similarity to the nearest negative exemplar (-1.0 if there are none).
    exemplar: index of the nearest positive exemplar (into the labels given to the index).
    """

    crisis_type: str
    score: float
    negative_score: float
    exemplar: int

    @property
    def margin(self) -> float:
        """How much closer the nearest positive is than the nearest negative."""
        return self.score - self.negative_score


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as float32, shape (n, dim).

    A 1-d vector becomes one row. Unit rows make a dot product a cosine similarity.
    """
    m = np.atleast_2d(np.asarray(matrix, dtype=np.float32))
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms > 0, norms, 1.0)


class ExemplarIndex:
    """Embeddings of positive (labelled) and negative exemplars, and the decision rule."""

    def __init__(
        self,
        positives: np.ndarray,
        labels: Sequence[str],
        negatives: np.ndarray | None = None,
    ) -> None:
        """positives: (n, dim) embeddings with one crisis type per row in `labels`;
        negatives: (m, dim) embeddings of near misses, or None / an empty array."""
        self.positives = normalise_rows(positives)
        self.labels = list(labels)
        if len(self.labels) != len(self.positives):
            raise ValueError(f"{len(self.labels)} labels for {len(self.positives)} positives")
        dim = self.positives.shape[1]
        if negatives is None or np.asarray(negatives).size == 0:
            self.negatives = np.zeros((0, dim), dtype=np.float32)
        else:
            self.negatives = normalise_rows(negatives)
            if self.negatives.shape[1] != dim:
                raise ValueError(f"negatives have dim {self.negatives.shape[1]}, positives {dim}")

    @classmethod
    def build(cls, exemplars: Exemplars, embed: Embed) -> ExemplarIndex:
        """Embeds the exemplar texts with `embed` (texts -> (n, dim) array) in one call each."""
        positives = embed([text for _, text in exemplars.positives])
        negatives = embed(exemplars.negatives) if exemplars.negatives else None
        return cls(positives, [ctype for ctype, _ in exemplars.positives], negatives)

    @property
    def dim(self) -> int:
        """Dimension of the embeddings."""
        return int(self.positives.shape[1])

    def nearest_many(self, vectors: np.ndarray) -> list[SimilarityMatch]:
        """The nearest positive (and the nearest negative's score) for each row of `vectors`."""
        queries = normalise_rows(vectors)
        if queries.shape[1] != self.dim:
            raise ValueError(f"vectors have dim {queries.shape[1]}, exemplars {self.dim}")
        pos = queries @ self.positives.T
        best = pos.argmax(axis=1)
        neg = (
            (queries @ self.negatives.T).max(axis=1)
            if len(self.negatives)
            else np.full(len(queries), -1.0, dtype=np.float32)
        )
        return [
            SimilarityMatch(self.labels[int(i)], float(pos[row, i]), float(neg[row]), int(i))
            for row, i in enumerate(best)
        ]

    def nearest(self, vector: np.ndarray) -> SimilarityMatch:
        """The nearest positive exemplar of one vector, whether or not it passes the rule."""
        return self.nearest_many(vector)[0]

    def match(self, vector: np.ndarray, threshold: float, margin: float) -> SimilarityMatch | None:
        """The crisis of one embedded message, or None (see ``passes``)."""
        found = self.nearest(vector)
        return found if passes(found, threshold, margin) else None

    def match_many(
        self, vectors: np.ndarray, threshold: float, margin: float
    ) -> list[SimilarityMatch | None]:
        """``match`` for each row of `vectors` (one matrix product for all)."""
        return [m if passes(m, threshold, margin) else None for m in self.nearest_many(vectors)]


def candidate_texts(text: str) -> list[str]:
    """The texts the net scores for one message; the best passing one counts (``best_match``).

    First the message itself. In a longer message the signal is often one sentence among others
    ("ik heb brieven geschreven voor mijn kinderen voor als ik er niet meer ben. woon in
    geldrop"), and the other sentences dilute the embedding of the whole: so when the message has
    more than one sentence, also each sentence of at least ``MIN_SENTENCE_WORDS`` words, and the
    message without its shorter sentences (two hints that only together make a signal keep
    each other, a place name or greeting drops out). Texts come back once each, in that order.
    """
    sentences = [s.strip() for s in SENTENCE_END.split(text) if s.strip()]
    if len(sentences) < 2:
        return [text]
    long = [s for s in sentences if len(s.split()) >= MIN_SENTENCE_WORDS]
    out = [text, *long]
    if 1 < len(long) < len(sentences):
        out.append(". ".join(long))
    return list(dict.fromkeys(out))


def best_match(
    index: ExemplarIndex, vectors: np.ndarray, threshold: float, margin: float
) -> SimilarityMatch | None:
    """The highest-scoring match that passes the rule among the rows of `vectors` (the
    embeddings of one message's ``candidate_texts``), or None."""
    found = [m for m in index.match_many(vectors, threshold, margin) if m is not None]
    return max(found, key=lambda m: m.score, default=None)


def passes(found: SimilarityMatch, threshold: float, margin: float) -> bool:
    """The decision rule: near enough to a positive, and clearly nearer than to any negative.

    Both comparisons are inclusive, so ``threshold=0.6`` accepts a score of exactly 0.6.
    """
    return found.score >= threshold and found.margin >= margin


# --- with the detector's spaCy pipeline (still no Rasa) -----------------------------------------


def expand_sms(detector: LifeDomainDetector, text: str) -> str:
    """`text` with the SMS spellings of patterns.yml written out: "mn" -> "mijn", "nie" -> "niet".

    The encoder has hardly seen SMS Dutch: "heb de pillen van mn moeder gespaard" lies much
    closer to the exemplars as "... van mijn moeder ...". Only these fixed expansions are made,
    no typo correction (that corrects towards crisis words and would pull harmless messages
    towards the exemplars). Text without SMS spellings comes back unchanged (same object).
    """
    doc = detector.nlp(text)
    sms = detector.normaliser.sms
    words = [fold(tok.text) for tok in doc]
    if not any(w in sms and sms[w] != w for w in words):
        return text
    return "".join(
        (sms[w] if w in sms and sms[w] != w else tok.text) + tok.whitespace_
        for w, tok in zip(words, doc, strict=True)
    )


def third_party_of_text(detector: LifeDomainDetector, text: str, crisis_type: str) -> bool:
    """Whether a crisis the net found in `text` is someone else's, by the rules of ``context``.

    The net has no evidence words, so the third-party rule reads the whole message as if it were
    the crisis span: a first-person word anywhere ("ik", "me") makes it the resident's own crisis;
    otherwise a person or pronoun in the message ("mijn zus", "hij") makes it a third party's.
    Like the rules, a message without subject ("heb de pillen van mn moeder gespaard") is then
    read as the mother's.
    """
    doc = detector.normaliser.annotate(detector.nlp(text))
    if not len(doc):
        return False
    info = PatternInfo(CRISIS, crisis_type, "similarity", frozenset(), False)
    return context.third_party(doc, Match(info, 0, len(doc)), detector.words)


def with_crisis(
    detection: Detection,
    text: str,
    crisis_type: str,
    third_party: bool,
    implies_domain: str | None = None,
) -> Detection:
    """`detection` plus a crisis of the net, whose evidence is the whole message.

    A first-person crisis also reveals its life domain (crisis.yml ``implies_domain``), as on the
    rules path, unless the rules found that domain already.
    """
    span = (0, len(text))
    domains = list(detection.domains)
    if implies_domain and not third_party and implies_domain not in detection.codes:
        domains.append((implies_domain, text, *span))
        domains.sort(key=lambda d: (d[2], d[0]))
    return replace(
        detection,
        domains=domains,
        crisis=(crisis_type, third_party),
        crisis_span=(text, *span),
    )
