"""The training data honours the shared contract and Rasa's validator finds nothing wrong.

Rasa's validator warns about responses that only custom actions use (it cannot see
`dispatcher.utter_message(response=...)`); those, and only those, are tolerated here.
"""

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.validator import Validator

REPO = Path(__file__).resolve().parents[2]
CONTRACT = REPO / "contract"  # the repository's copy of the shared contract
TRAINING = [str(REPO / "data" / d) for d in ("nlu", "rules", "stories")]


@pytest.fixture(scope="module")
def importer() -> TrainingDataImporter:
    return TrainingDataImporter.load_from_config(
        config_path=str(REPO / "bot" / "config.yml"),
        domain_path=str(REPO / "bot" / "domain"),
        training_data_paths=TRAINING,
    )


@pytest.fixture(scope="module")
def contract() -> dict:
    return yaml.safe_load((CONTRACT / "intents.yml").read_text())


def test_every_contract_intent_has_varied_examples(importer, contract) -> None:
    nlu = importer.get_nlu_data()
    counts = Counter(m.get("intent") for m in nlu.intent_examples)
    domain = importer.get_domain()
    for intent in contract["intents"]:
        assert intent in domain.intents, f"{intent} missing from the domain"
        assert counts[intent] >= 25, f"{intent} has only {counts[intent]} examples"


def test_contract_entities_and_values(importer, contract) -> None:
    domain = importer.get_domain()
    for entity in contract["entities"]:
        assert entity in domain.entities
    allowed = set(contract["entities"]["regeling"])
    domains = set(yaml.safe_load((CONTRACT / "life_domains.yml").read_text())["domains"])
    for message in importer.get_nlu_data().entity_examples:
        for ent in message.get("entities", []):
            if ent["entity"] == "regeling":
                assert ent["value"] in allowed, ent
            if ent["entity"] == "leefgebied":
                assert ent["value"] in domains, ent


def _responses_used_by_actions() -> set[str]:
    pattern = re.compile(r"[\"'](utter_\w+)[\"']")
    used = set()
    for path in (REPO / "actions").rglob("*.py"):
        used |= set(pattern.findall(path.read_text()))
    return used


def test_rasa_validator_is_clean(importer, recwarn) -> None:
    validator = Validator.from_importer(importer)
    assert validator.verify_domain_validity()
    assert validator.verify_intents(ignore_warnings=False)
    assert validator.verify_intents_in_stories(ignore_warnings=False)
    # warnings about action-only responses are sorted out below
    assert validator.verify_utterances_in_stories(ignore_warnings=True)
    assert validator.verify_actions_in_stories_rules()
    assert validator.verify_story_structure(ignore_warnings=False, max_history=5)
    assert validator.verify_example_repetition_in_intents(ignore_warnings=False)
    assert validator.verify_slot_mappings()
    assert validator.verify_form_slots()
    assert validator.verify_forms_in_stories_rules()
    tolerated = _responses_used_by_actions()
    forms = importer.get_domain().forms
    form_asks = {
        f"utter_ask_{slot}" for form in forms.values() for slot in form.get("required_slots", [])
    }
    problems = []
    for warning in recwarn.list:
        message = str(warning.message)
        found = re.search(r"The utterance '(\w+)' is not used", message)
        if found and found.group(1) in tolerated | form_asks | {"utter_ai_disclosure"}:
            continue
        if "not used in any story or rule" in message or "conflict" in message.lower():
            problems.append(message)
        if "is not listed in the domain" in message or "not defined" in message:
            problems.append(message)
    assert problems == []
