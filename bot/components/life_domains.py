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

For each message (commands starting with "/" are skipped):

1. the detector finds life domains, a crisis and an urgent signal with the resident's words;
2. it adds entities ``leefgebied`` (value: domain code), ``urgentie`` (dreigende_uitzetting |
   dreigende_afsluiting) and ``crisis`` (value: crisis type, plus ``third_party``), and drops
   other extractors' leefgebied entities the resident denied (``merge_entities``);
3. on a crisis it sets the intent to ``crisis`` (confidence 1.0) with the previous ranking kept
   after it; a message the classifiers gave up on (nlu_fallback) but that clearly tells about
   the resident's life ("ze sluiten het gas af") becomes ``describe_situation`` instead of
   "Sorry, dat begreep ik niet" (``intent_override``).
"""

from __future__ import annotations

from typing import Any

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

from bot.life_domains import (
    DEFAULT_CRISIS,
    DEFAULT_PATTERNS,
    Detection,
    get_detector,
    intent_override,
    merge_entities,
)
from bot.life_domains.nlu import CRISIS_INTENT, RESCUE_INTENT


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
