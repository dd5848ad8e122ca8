"""TED stays out of steps that a rule or a memorised story already decided with certainty, and
that never changes which action the assistant takes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasa.shared.utils.io
from dask.order import order
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.data import TrainingType

from bot import policies

CONFIG = Path(__file__).resolve().parents[2] / "bot" / "config.yml"


def tracker(sender: str = "inwoner") -> DialogueStateTracker:
    t = DialogueStateTracker(sender, [])
    t.update(ActionExecuted("action_listen"))
    t.update(UserUttered("hallo", {"name": "greet", "confidence": 1.0}))
    return t


def prediction(probabilities: list[float], name: str, priority: int) -> PolicyPrediction:
    return PolicyPrediction(probabilities, name, priority)


def test_the_config_uses_the_deciding_policies() -> None:
    names = [p["name"] for p in rasa.shared.utils.io.read_yaml_file(CONFIG)["policies"]]
    assert names == [
        "bot.policies.RuleDecidesPolicy",
        "bot.policies.StoryDecidesPolicy",
        "bot.policies.TEDUnlessDecidedPolicy",
    ]


def test_ted_runs_after_the_policies_that_decide() -> None:
    """Rasa runs the prediction graph with dask's synchronous scheduler in dask's order; TED
    must come last or it can never skip a step."""
    config = rasa.shared.utils.io.read_yaml_file(CONFIG)
    schema = (
        DefaultV1Recipe()
        .graph_config_for_recipe(config, {}, training_type=TrainingType.BOTH)
        .predict_schema
    )
    graph = {name: (print, *node.needs.values()) for name, node in schema.nodes.items()}
    priority = order(graph)
    by_class = {node.uses.__name__: priority[name] for name, node in schema.nodes.items()}
    assert by_class["TEDUnlessDecidedPolicy"] > by_class["RuleDecidesPolicy"]
    assert by_class["TEDUnlessDecidedPolicy"] > by_class["StoryDecidesPolicy"]


def test_a_certain_prediction_decides_only_that_step_of_that_conversation() -> None:
    resident, other = tracker(), tracker("ander")
    policies._note(resident, prediction([0.0, 1.0], "RuleDecidesPolicy", 6))
    assert policies.is_decided(resident)
    assert not policies.is_decided(other)
    resident.update(ActionExecuted("utter_greet"))
    assert not policies.is_decided(resident)


def test_an_uncertain_prediction_decides_nothing() -> None:
    resident = tracker("onzeker")
    policies._note(resident, prediction([0.7, 0.3], "RuleDecidesPolicy", 6))
    assert not policies.is_decided(resident)


@pytest.mark.parametrize(
    "deciding",
    [
        prediction([0.0, 1.0, 0.0], "RuleDecidesPolicy", 6),
        prediction([0.0, 0.0, 1.0], "StoryDecidesPolicy", 3),
    ],
)
def test_skipping_ted_never_changes_the_chosen_action(deciding: PolicyPrediction) -> None:
    ted_sure = prediction([1.0, 0.0, 0.0], "TEDUnlessDecidedPolicy", 1)
    ted_skipped = prediction([0.0, 0.0, 0.0], "TEDUnlessDecidedPolicy", 1)
    undecided = prediction([0.0, 0.0, 0.0], "other", 2)
    pick = DefaultPolicyPredictionEnsemble._pick_best_policy
    with_ted = pick([deciding, undecided, ted_sure])
    without = pick([deciding, undecided, ted_skipped])
    assert with_ted.policy_name == without.policy_name == deciding.policy_name
    assert np.argmax(with_ted.probabilities) == np.argmax(without.probabilities)
