"""Rasa 3.6 NLU component for life domains (leefgebied), crisis and urgency.

A thin shell around the Rasa-free detector in ``bot.life_domains`` (see its docstring for how
detection works). It stays at this import path because ``bot/config.yml`` and the models
trained with it name ``bot.components.life_domains.LifeDomainExtractor``.

Put it LAST in the pipeline (after FallbackClassifier, so that a crisis overrides
nlu_fallback)::

    - name: bot.components.life_domains.LifeDomainExtractor
      # optional, these are the defaults (relative paths are relative to the repo root):
      patterns: data/life_domains/patterns.yml
      crisis: data/life_domains/crisis.yml
      crisis_intent: crisis     # intent set on a crisis (null: leave the intent alone)
      drop_negated: true        # drop other extractors' leefgebied entities on negated spans
      rescue_intent: describe_situation  # replaces nlu_fallback when life domains or an
                                         # urgent signal were found (null: never)
      similarity: true          # the second crisis net, below (false: rules only)
      exemplars: data/life_domains/crisis_exemplars.yml
      similarity_threshold: 0.64  # how both defaults were chosen: see SIMILARITY_THRESHOLD
      similarity_margin: 0.05
      reuse_features: true      # reuse the USE featurizer's sentence feature (false: always
                                # embed here, e.g. with `sentence_features: pooled`)

For each message (commands starting with "/" are skipped):

1. the detector finds life domains, a crisis and an urgent signal with the resident's words;
2. it adds entities ``leefgebied`` (value: domain code), ``urgentie`` (dreigende_uitzetting |
   dreigende_afsluiting) and ``crisis`` (value: crisis type, plus ``third_party``), and drops
   other extractors' leefgebied entities the resident denied (``merge_entities``);
3. on a crisis it sets the intent to ``crisis`` (confidence 1.0) with the previous ranking kept
   after it; a message the classifiers gave up on (nlu_fallback) but that clearly tells about
   the resident's life ("ze sluiten het gas af") becomes ``describe_situation`` instead of
   "Sorry, dat begreep ik niet" (``intent_override``).

The second crisis net (``bot.life_domains.similarity``) runs ONLY when the rules found no
crisis: when the message's sentence embedding is at least ``similarity_threshold`` similar to a
positive exemplar of ``crisis_exemplars.yml`` and ``similarity_margin`` more similar than to any
negative one, the message gets that exemplar's crisis type as if the rules had found it (the
whole message as evidence, ``third_party`` by the rules of ``bot.life_domains.context``); the
entity carries ``"source": "similarity"`` and its ``"similarity"`` score. The embedding is the
sentence feature UniversalSentenceEncoderFeaturizer put on the message, or, without one or for
a text with SMS spellings to write out first, computed here with the same process-wide encoder.
The exemplars are embedded when the component is loaded (well under a second); like the pattern
files they are read from the repository at run time, so the component stays untrained. If the
encoder cannot be loaded, the error is logged and the rules work alone.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    FEATURE_TYPE_SENTENCE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.life_domains import (
    DEFAULT_CRISIS,
    DEFAULT_PATTERNS,
    Detection,
    get_detector,
    intent_override,
    merge_entities,
)
from bot.life_domains.nlu import CRISIS, CRISIS_INTENT, LEEFGEBIED, RESCUE_INTENT
from bot.life_domains.similarity import (
    DEFAULT_EXEMPLARS,
    ExemplarIndex,
    SimilarityMatch,
    best_match,
    candidate_texts,
    expand_sms,
    load_exemplars,
    third_party_of_text,
    with_crisis,
)

logger = logging.getLogger(__name__)

# Defaults of the similarity net, chosen on tuning data only, never on tests/bench/*.yml
# (`.venv-rasa/bin/python tests/bench/crisis_similarity.py --tune`, 2026-12-02): 148 crisis
# and 1928 non-crisis examples of data/nlu, 81 positive and 48 negative exemplars left out one
# at a time. Net false alarms on the non-crisis examples: 7-10 at threshold 0.60, 4 at 0.64
# with a margin below 0.04, 2 at 0.64-0.70 with a margin of 0.04 or more, 0 from 0.76.
# Exemplars the other exemplars still catch (how far paraphrases generalise) fall from 13/81
# at 0.64 to 7 at 0.66 and 2 at 0.76. So 0.64 is the lowest threshold of the 2-false-alarm
# plateau (crisis detection favours recall), the margin 0.05 just inside it.
SIMILARITY_THRESHOLD = 0.64
SIMILARITY_MARGIN = 0.05
SIMILARITY_SOURCE = "similarity"


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
            "rescue_intent": RESCUE_INTENT,
            "similarity": True,
            "exemplars": DEFAULT_EXEMPLARS,
            "similarity_threshold": SIMILARITY_THRESHOLD,
            "similarity_margin": SIMILARITY_MARGIN,
            "reuse_features": True,
        }

    def __init__(self, config: dict[str, Any]) -> None:
        self._config = {**self.get_default_config(), **config}
        self.detector = get_detector(self._config["patterns"], self._config["crisis"])
        # the second net; False when switched off or when the encoder cannot be loaded
        # (tests/bench/crisis_blind.py also switches it off in a loaded model)
        self.similarity = bool(self._config["similarity"])
        self._index: ExemplarIndex | None = None
        self._encoder: Any | None = None
        self._index_lock = threading.Lock()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LifeDomainExtractor:
        component = cls(config)
        _ = component.index  # embed the exemplars now, not on a resident's first message
        return component

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text or text.startswith("/"):
                continue
            detection = self.detector.detect(text)
            found = None if detection.crisis else self.similar_crisis(message)
            if found:
                third = third_party_of_text(self.detector, text, found.crisis_type)
                implied = (self.detector.crisis_cfg.get(found.crisis_type) or {}).get(
                    "implies_domain"
                )
                detection = with_crisis(detection, text, found.crisis_type, third, implied)
            self.process_message(message, detection, found)
        return messages

    def process_message(
        self, message: Message, detection: Detection, found: SimilarityMatch | None = None
    ) -> None:
        kept, new = merge_entities(
            list(message.get(ENTITIES) or []), detection, self._config["drop_negated"]
        )
        new = self.add_extractor_name(new)
        if found and detection.crisis_span:
            _, start, end = detection.crisis_span
            for ent in new:
                if (ent["start"], ent["end"]) == (start, end) and ent["entity"] in (
                    CRISIS,
                    LEEFGEBIED,
                ):
                    ent["source"] = SIMILARITY_SOURCE
                    ent["similarity"] = round(found.score, 3)
        message.set(ENTITIES, kept + new, add_to_output=True)
        current = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        override = intent_override(
            detection,
            current,
            crisis_intent=self._config["crisis_intent"],
            rescue_intent=self._config["rescue_intent"],
        )
        if override:
            self._set_intent(message, *override)

    @staticmethod
    def _set_intent(message: Message, name: str, confidence: float) -> None:
        """`name` becomes the intent; the previous ranking follows it."""
        intent = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}
        ranking = [
            r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != name
        ]
        message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [dict(intent), *ranking], add_to_output=True)

    # --- the similarity net ------------------------------------------------------------------

    @property
    def index(self) -> ExemplarIndex | None:
        """The embedded exemplars (built on first use); None when the net is off."""
        if not self.similarity:
            return None
        with self._index_lock:
            if self._index is None:
                try:
                    from bot.components.sentence_encoder import load_encoder

                    self._encoder = load_encoder()
                    self._index = ExemplarIndex.build(
                        load_exemplars(self._config["exemplars"]), self.embed
                    )
                except Exception:  # the rules must keep working without the net
                    logger.exception("Crisis similarity net switched off: no encoder/exemplars.")
                    self.similarity = False
                    return None
            return self._index

    def embed(self, texts: list[str]) -> np.ndarray:
        """Sentence embeddings of `texts` with their SMS spellings written out (``expand_sms``),
        computed exactly as UniversalSentenceEncoderFeaturizer computes its sentence features."""
        from bot.components.sentence_encoder import encode_sentences, load_encoder

        if self._encoder is None:
            self._encoder = load_encoder()
        return encode_sentences(self._encoder, [expand_sms(self.detector, t) for t in texts])

    def sentence_vector(self, message: Message) -> np.ndarray:
        """The message's USE sentence feature when the pipeline set one and the text has no SMS
        spellings to write out; otherwise the text is embedded here (one encoder call)."""
        text = message.get(TEXT)
        index = self.index
        if self._config["reuse_features"] and index is not None:
            dense = [
                f.features
                for f in message.features
                if f.attribute == TEXT
                and f.type == FEATURE_TYPE_SENTENCE
                and not f.is_sparse()
                and f.features.shape[-1] == index.dim
            ]
            # exactly one 512-d dense sentence feature: the USE featurizer's
            if len(dense) == 1 and expand_sms(self.detector, text) is text:
                return np.asarray(dense[0]).reshape(-1)
        return self.embed([text])[0]

    def similar_crisis(self, message: Message) -> SimilarityMatch | None:
        """The crisis the net finds in the message, or None (also when the net is off)."""
        index = self.index
        if index is None:
            return None
        threshold = float(self._config["similarity_threshold"])
        margin = float(self._config["similarity_margin"])
        vectors = self.sentence_vector(message)[None, :]
        # In a longer message the signal is often one sentence among others ("... voor als ik er
        # niet meer ben. woon in geldrop"): its sentences are scored too (``candidate_texts``),
        # the best match counts.
        parts = candidate_texts(message.get(TEXT) or "")[1:]
        if parts:
            vectors = np.vstack([vectors, self.embed(parts)])
        return best_match(index, vectors, threshold, margin)
