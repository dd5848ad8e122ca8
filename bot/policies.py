"""Dialogue policies that do not compute what cannot change the outcome.

Rasa runs every policy for every prediction, then the ensemble takes the most confident one,
ties going to the higher priority (RulePolicy 6, MemoizationPolicy 3, TEDPolicy 1). In this
assistant rules and memorised stories decide most steps with certainty (confidence 1.0), and
TED's answer is then thrown away; yet TED featurises the conversation and runs its transformer
each time, the largest share of the Rasa server's CPU per message when profiled under load.

`RuleDecidesPolicy` and `StoryDecidesPolicy` are RulePolicy and MemoizationPolicy that also
note, for the tracker at hand, that they predicted with certainty. `TEDUnlessDecidedPolicy` is
TEDPolicy that returns an empty prediction when the note says the step is already decided:
the ensemble would never have chosen TED there, so the chosen action, its policy and its events
stay exactly the same. When TED happens to run first, or nothing was certain, it predicts as
always. Policies of one prediction run synchronously in one thread (Rasa's graph runner blocks
the event loop while it runs), so the note cannot mix up two conversations; it is keyed by
the tracker object and its number of events besides.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.memoization import MemoizationPolicy
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from bot import rasa_speedups

rasa_speedups.install()  # Rasa loads this module with every model

# (id of the tracker, its number of events) of the last prediction a rule or story decided.
_decided: tuple[int, int] | None = None
# How often TED was skipped and run (read by tests and the benchmark).
stats = {"skipped": 0, "predicted": 0}


def _key(tracker: DialogueStateTracker) -> tuple[int, int]:
    return id(tracker), len(tracker.events)


def _note(tracker: DialogueStateTracker, prediction: PolicyPrediction) -> None:
    """Remembers that this step is decided when `prediction` cannot be outranked by TED."""
    global _decided
    if prediction.max_confidence >= 1.0 and not prediction.is_end_to_end_prediction:
        _decided = _key(tracker)


def is_decided(tracker: DialogueStateTracker) -> bool:
    """Whether a rule or a memorised story predicted this step with certainty."""
    return _decided == _key(tracker)


class _NotesCertainty:
    """Mixed into a policy: after predicting, notes whether the prediction was certain."""

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        prediction = super().predict_action_probabilities(  # type: ignore[misc]
            tracker, domain, rule_only_data, **kwargs
        )
        _note(tracker, prediction)
        return prediction


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class RuleDecidesPolicy(_NotesCertainty, RulePolicy):
    """RulePolicy that notes when its prediction is certain (see the module docstring)."""


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class StoryDecidesPolicy(_NotesCertainty, MemoizationPolicy):
    """MemoizationPolicy that notes when its prediction is certain."""


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITH_END_TO_END_SUPPORT, is_trainable=True
)
class TEDUnlessDecidedPolicy(TEDPolicy):
    """TEDPolicy that stays out of steps a rule or a story already decided with certainty."""

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        precomputations: Any = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        if is_decided(tracker):
            stats["skipped"] += 1
            return self._prediction(self._default_predictions(domain))
        stats["predicted"] += 1
        return super().predict_action_probabilities(
            tracker, domain, rule_only_data, precomputations, **kwargs
        )
