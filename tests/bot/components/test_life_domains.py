"""Tests for the life-domain detector (bot.life_domains) and its Rasa component
(bot.components.life_domains)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.life_domains import (
    LifeDomainDetector,
    detect,
    get_detector,
)

REPO = Path(__file__).resolve().parents[3]
CONTRACT = REPO / "contract" / "life_domains.yml"  # the repository's copy of the contract
PATTERNS = REPO / "data" / "life_domains" / "patterns.yml"
CRISIS = REPO / "data" / "life_domains" / "crisis.yml"


def codes(text: str) -> set[str]:
    return set(detect(text).codes)


# --- life domains ------------------------------------------------------------------------------


def test_the_issue_example_finds_four_domains_with_the_residents_words() -> None:
    text = (
        "ik ben mijn baan kwijt, de huur is al twee maanden niet betaald en ik slaap slecht "
        "van de stress"
    )
    det = detect(text)
    assert set(det.codes) == {"werk_opleiding", "huisvesting", "schulden", "geestelijke_gezondheid"}
    assert det.crisis is None and det.urgent is None
    for _code, words, start, end in det.domains:
        assert text[start:end] == words
    evidence = {code: words for code, words, *_ in det.domains}
    assert evidence["werk_opleiding"] == "baan kwijt"
    assert "niet betaald" in evidence["huisvesting"]
    assert {w for c, w, *_ in det.domains if c == "geestelijke_gezondheid"} == {
        "slaap slecht",
        "stress",
    }


def test_patterns_cover_exactly_the_contracts_codes() -> None:
    data = yaml.safe_load(PATTERNS.read_text())
    assert set(data["domains"]) == set(yaml.safe_load(CONTRACT.read_text())["domains"])
    assert len(data["domains"]) == 14
    assert all(len(p) >= 10 for p in data["domains"].values())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ik heb een huurachterstand van drie maanden", {"huisvesting", "schulden"}),
        ("de deurwaarder staat steeds voor de deur", {"schulden"}),
        ("er ligt loonbeslag en ik sta rood", {"schulden"}),
        ("mijn uitkering is gekort en ik kom niet rond", {"inkomen"}),
        ("ik ben ontslagen", {"werk_opleiding"}),
        ("ik heb niks te doen overdag en verveel me", {"dagbesteding"}),
        ("we gaan scheiden", {"huiselijke_relaties"}),
        ("ik heb een burn-out en veel paniekaanvallen", {"geestelijke_gezondheid"}),
        ("ik zit in een rolstoel door reuma", {"lichamelijke_gezondheid"}),
        ("mijn man drinkt te veel en gokt", {"middelengebruik"}),
        ("het huishouden lukt me niet meer", {"adl"}),
        ("ik voel me heel eenzaam", {"sociaal_netwerk"}),
        ("ik spreek geen Nederlands en begrijp de brieven niet", {"maatschappelijke_participatie"}),
        ("ik heb een taakstraf en een enkelband", {"justitie"}),
        ("mijn zoon spijbelt en luistert niet", {"opvoeding"}),
    ],
)
def test_each_domain_is_found(text: str, expected: set[str]) -> None:
    assert codes(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ik heb sgulden", {"schulden"}),  # phonetic typo
        ("de deurwaader kwam", {"schulden"}),
        ("ik ben depresief", {"geestelijke_gezondheid"}),
        ("mn huur is al 3 mnd nie betaald", {"huisvesting", "schulden"}),  # SMS spelling
        ("k heb gn werk", {"werk_opleiding"}),
        ("ben eensaam", {"sociaal_netwerk"}),
        ("huurachterstanden", {"huisvesting", "schulden"}),  # inflection of a compound
        ("IK HEB SCHULDEN!!!", {"schulden"}),
    ],
)
def test_typos_sms_spellings_and_inflections(text: str, expected: set[str]) -> None:
    assert codes(text) == expected


def test_ordinary_dutch_words_are_not_corrected_into_triggers() -> None:
    detector = get_detector()
    assert detector.normalise_word("verklaard") == "verklaard"
    assert detector.normalise_word("goedemorgen") == "goedemorgen"
    assert codes("goedemorgen, ik heb een vraag over de hondenbelasting") == set()


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("ik heb geen schulden", "schulden"),
        ("ik ben niet depressief", "geestelijke_gezondheid"),
        ("geen problemen met drank", "middelengebruik"),
        ("ik heb geen problemen met alcohol of drugs", "middelengebruik"),
        ("schulden heb ik gelukkig niet", "schulden"),
        ("ik ben nooit verslaafd geweest", "middelengebruik"),
        ("ik voel me niet eenzaam", "sociaal_netwerk"),
        ("ik hoef geen schuldhulp", "schulden"),
        ("k heb gn schulden", "schulden"),
    ],
)
def test_negation_removes_the_domain(text: str, negated: str) -> None:
    det = detect(text)
    assert negated not in det.codes
    assert negated in {code for code, *_ in det.negated}


def test_negation_stays_in_its_clause() -> None:
    assert codes("ik heb geen schulden maar wel veel stress") == {"geestelijke_gezondheid"}
    assert codes("ik heb geen werk door mijn depressie") == {
        "werk_opleiding",
        "geestelijke_gezondheid",
    }
    # a problem that names its own negator is not a denial
    assert codes("ik heb geen geld en geen woning") == {"inkomen", "huisvesting"}
    assert codes("ik kan de huur niet betalen") == {"huisvesting"}


def test_sentences_without_life_domains() -> None:
    for text in (
        "hallo",
        "wat zijn de openingstijden",
        "ik wil een medewerker spreken",
        "mijn postcode is 5701 AB",
        "ik kan wel rondkomen hoor",
        "",
    ):
        det = detect(text)
        assert det.codes == [] and det.crisis is None and det.urgent is None


# --- crisis ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ctype"),
    [
        ("ik wil niet meer leven", "suicidaliteit"),
        ("k wil dood", "suicidaliteit"),
        ("ik denk aan zelfmoord", "suicidaliteit"),
        ("ik wil er een eind aan maken", "suicidaliteit"),
        ("mijn man slaat me", "huiselijk_geweld"),
        ("ik word thuis mishandeld", "huiselijk_geweld"),
        ("ik heb vannacht geen slaapplek", "acute_dakloosheid"),
        ("ik slaap vannacht op straat", "acute_dakloosheid"),
        ("ik krijg geen lucht", "medisch_spoed"),
        ("ik heb te veel pillen genomen", "medisch_spoed"),
    ],
)
def test_every_crisis_type_first_person(text: str, ctype: str) -> None:
    det = detect(text)
    assert det.crisis == (ctype, False)
    words, start, end = det.crisis_span  # type: ignore[misc]
    assert text[start:end] == words


@pytest.mark.parametrize(
    "text",
    [
        "ik denk niet aan zelfmoord",
        "ik heb nooit zelfmoordgedachten gehad",
        "ik wil niet dood, ik wil rust",
        "hij slaat me niet",
        "ik ben doodmoe",
        "ik schrok me dood",
        "ik heb vorig jaar een hartaanval gehad",
        "ik ben bang dat ik dakloos word",
        "ik heb geen slaapplek nodig",
        "mijn telefoon is dood",
    ],
)
def test_negated_past_and_idiomatic_crisis_words_are_no_crisis(text: str) -> None:
    assert detect(text).crisis is None


def test_niet_meer_leven_contains_niet_but_is_a_crisis() -> None:
    assert detect("ik wil niet meer leven").crisis == ("suicidaliteit", False)
    assert detect("ik denk niet aan zelfmoord maar wil soms niet meer leven").crisis == (
        "suicidaliteit",
        False,
    )


@pytest.mark.parametrize(
    ("text", "ctype", "third_party"),
    [
        ("mijn buurvrouw wordt geslagen", "huiselijk_geweld", True),
        ("ik denk dat mijn zus mishandeld wordt", "huiselijk_geweld", True),
        ("bij de buren hoor ik elke nacht gegil", "huiselijk_geweld", True),
        ("mijn man slaat de kinderen", "huiselijk_geweld", False),  # own household
        ("mijn vriend slaat me", "huiselijk_geweld", False),
        ("mijn zoon wil zelfmoord plegen", "suicidaliteit", True),
        ("mijn vader ademt niet meer", "medisch_spoed", True),
    ],
)
def test_third_parties(text: str, ctype: str, third_party: bool) -> None:
    assert detect(text).crisis == (ctype, third_party)


def test_third_party_crisis_adds_no_life_domain_of_the_resident() -> None:
    assert detect("mijn buurvrouw wordt geslagen").codes == []
    assert "huiselijke_relaties" in detect("mijn man slaat me").codes


def test_crisis_wins_over_everything_else_in_the_message() -> None:
    det = detect("ik heb schulden, geen werk en ik wil dood")
    assert det.crisis == ("suicidaliteit", False)
    assert {"schulden", "werk_opleiding", "geestelijke_gezondheid"} <= set(det.codes)


# --- urgent, not a crisis ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "urgent"),
    [
        ("morgen komt de deurwaarder om de sloten te vervangen", "dreigende_uitzetting"),
        ("we worden uit ons huis gezet", "dreigende_uitzetting"),
        ("er is een ontruiming aangekondigd", "dreigende_uitzetting"),
        ("ik heb een brief over uitzetting", "dreigende_uitzetting"),
        ("ze sluiten het gas af", "dreigende_afsluiting"),
        ("afsluiting energie", "dreigende_afsluiting"),
        ("het waterbedrijf dreigt het water af te sluiten", "dreigende_afsluiting"),
        ("de stroom wordt volgende week afgesloten", "dreigende_afsluiting"),
    ],
)
def test_eviction_and_cut_off_are_urgent(text: str, urgent: str) -> None:
    det = detect(text)
    assert det.urgent == urgent
    assert det.crisis is None
    implied = "huisvesting" if urgent == "dreigende_uitzetting" else "schulden"
    assert implied in det.codes


def test_urgency_understands_negation() -> None:
    assert detect("er is geen sprake van ontruiming").urgent is None
    assert detect("ze sluiten het gas niet af").urgent is None


def test_detector_with_configured_pattern_files(tmp_path: Path) -> None:
    patterns = yaml.safe_load(PATTERNS.read_text())
    patterns["domains"]["dagbesteding"].append("=moestuin ~2 =kwijt")
    custom = tmp_path / "patterns.yml"
    custom.write_text(yaml.safe_dump(patterns, allow_unicode=True))
    shutil.copy(CRISIS, tmp_path / "crisis.yml")
    detector = LifeDomainDetector(custom, tmp_path / "crisis.yml")
    assert detector.detect("ik ben mijn moestuin kwijt").codes == ["dagbesteding"]
    assert detect("ik ben mijn moestuin kwijt").codes == []


# --- the Rasa component ------------------------------------------------------------------------

rasa = pytest.importorskip("rasa")

from rasa.shared.nlu.constants import (  # noqa: E402
    ENTITIES,
    INTENT,
    INTENT_RANKING_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message  # noqa: E402

from bot.components.life_domains import LifeDomainExtractor  # noqa: E402


def make_message(
    text: str,
    intent: str = "describe_situation",
    confidence: float = 0.8,
    entities: list | None = None,
) -> Message:
    ranking = [
        {"name": intent, "confidence": confidence},
        {"name": "ask_schuldhulp", "confidence": 1 - confidence},
    ]
    return Message(
        data={
            TEXT: text,
            INTENT: dict(ranking[0]),
            INTENT_RANKING_KEY: ranking,
            ENTITIES: entities or [],
        }
    )


@pytest.fixture(scope="module")
def extractor() -> LifeDomainExtractor:
    return LifeDomainExtractor(LifeDomainExtractor.get_default_config())


def test_component_adds_leefgebied_entities(extractor) -> None:
    text = "ik ben mijn baan kwijt en heb schulden"
    (message,) = extractor.process([make_message(text)])
    ents = message.get(ENTITIES)
    assert {(e["entity"], e["value"]) for e in ents} == {
        ("leefgebied", "werk_opleiding"),
        ("leefgebied", "schulden"),
    }
    for e in ents:
        assert e["extractor"] == "LifeDomainExtractor"
        assert text[e["start"] : e["end"]] == e["text"]
    assert message.get(INTENT)["name"] == "describe_situation"


def test_component_does_not_duplicate_what_diet_found(extractor) -> None:
    text = "ik heb schulden en stress"
    diet = {
        "entity": "leefgebied",
        "value": "schulden",
        "start": 7,
        "end": 15,
        "extractor": "DIETClassifier",
        "confidence_entity": 0.9,
    }
    (message,) = extractor.process([make_message(text, entities=[dict(diet)])])
    ents = message.get(ENTITIES)
    assert [e for e in ents if e["value"] == "schulden"] == [diet]
    assert [(e["value"], e["extractor"]) for e in ents if e["value"] != "schulden"] == [
        ("geestelijke_gezondheid", "LifeDomainExtractor")
    ]


def test_component_drops_a_leefgebied_on_a_negated_span(extractor) -> None:
    diet = {
        "entity": "leefgebied",
        "value": "schulden",
        "start": 11,
        "end": 19,
        "extractor": "DIETClassifier",
    }
    (message,) = extractor.process([make_message("ik heb geen schulden", entities=[diet])])
    assert message.get(ENTITIES) == []


def test_component_sets_crisis_intent_and_keeps_the_ranking(extractor) -> None:
    (message,) = extractor.process(
        [make_message("mijn buurvrouw wordt geslagen", intent="describe_situation")]
    )
    assert message.get(INTENT) == {"name": "crisis", "confidence": 1.0}
    ranking = message.get(INTENT_RANKING_KEY)
    assert [r["name"] for r in ranking] == ["crisis", "describe_situation", "ask_schuldhulp"]
    (crisis,) = [e for e in message.get(ENTITIES) if e["entity"] == "crisis"]
    assert crisis["value"] == "huiselijk_geweld"
    assert crisis["third_party"] is True
    assert crisis["extractor"] == "LifeDomainExtractor"
    assert message.as_dict_nlu()[INTENT]["name"] == "crisis"


def test_component_crisis_overrides_any_intent_even_fallback(extractor) -> None:
    (message,) = extractor.process(
        [make_message("ik wil dood", intent="nlu_fallback", confidence=0.5)]
    )
    assert message.get(INTENT)["name"] == "crisis"
    assert message.get(INTENT_RANKING_KEY)[1]["name"] == "nlu_fallback"


def test_component_adds_urgency_and_rescues_a_fallback(extractor) -> None:
    (message,) = extractor.process(
        [make_message("ze sluiten het gas af", intent="nlu_fallback", confidence=0.5)]
    )
    assert {(e["entity"], e["value"]) for e in message.get(ENTITIES)} == {
        ("urgentie", "dreigende_afsluiting"),
        ("leefgebied", "schulden"),
    }
    assert message.get(INTENT) == {"name": "describe_situation", "confidence": 0.9}


def test_component_leaves_other_messages_alone(extractor) -> None:
    (message,) = extractor.process([make_message("hallo", intent="greet", confidence=0.95)])
    assert message.get(INTENT) == {"name": "greet", "confidence": 0.95}
    assert message.get(ENTITIES) == []
    payload = Message(data={TEXT: "/affirm", INTENT: {"name": "affirm", "confidence": 1.0}})
    (same,) = extractor.process([payload])
    assert same.get(INTENT)["name"] == "affirm" and not same.get(ENTITIES)


def test_component_is_registered_for_the_default_recipe() -> None:
    from rasa.engine.recipes.recipe import Recipe
    from rasa.shared.data import TrainingType

    config = {
        "recipe": "default.v1",
        "language": "nl",
        "policies": [],
        "pipeline": [
            {"name": "WhitespaceTokenizer"},
            {"name": "CountVectorsFeaturizer"},
            {"name": "LogisticRegressionClassifier"},
            {"name": "FallbackClassifier", "threshold": 0.5},
            {"name": "bot.components.life_domains.LifeDomainExtractor"},
        ],
    }
    graph = Recipe.recipe_for_name("default.v1").graph_config_for_recipe(
        config, {}, training_type=TrainingType.NLU
    )
    nodes = [n for n in graph.predict_schema.nodes.values() if n.uses is LifeDomainExtractor]
    assert len(nodes) == 1 and nodes[0].fn == "process"
    assert not [n for n in graph.train_schema.nodes.values() if n.uses is LifeDomainExtractor]
