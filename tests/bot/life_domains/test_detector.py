"""Direct tests of the Rasa-free detector API on small, hand-written pattern files.

The real pattern files are tested through ``detect`` in tests/bot/components; here each rule
(pattern language, negation scope, third party, cancellation, implied domains) is checked on
patterns small enough to read next to the assertion.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.life_domains import Detection, LifeDomainDetector
from bot.life_domains.patterns import together_entries
from bot.life_domains.words import WordSets

REPO = Path(__file__).resolve().parents[3]

PATTERNS = {
    "domains": {
        "schulden": ["schulden", "=deurwaarder"],
        "werk_opleiding": ["geen ~1 werk|baan"],
        "huisvesting": ["huis =kwijt$"],
    },
}
CRISIS = {
    "priority": ["medisch_spoed", "suicidaliteit"],
    "crisis_types": {
        "suicidaliteit": {
            "triggers": ["wil ~1 dood"],
            "cancel_cues": ["vroeger"],
            "immediate_cues": ["nu"],
            "implies_domain": "geestelijke_gezondheid",
            "together": [
                {"parts": [["weggeven"], ["straks ~2 niet =meer =nodig"]], "unless": ["Verhuizen"]},
                {"parts": [["=afscheid ~2 =iedereen"]], "unless": ["pensioen"]},
            ],
        },
        "medisch_spoed": {"triggers": ["geen lucht"]},
    },
    "negation": {
        "negators": ["niet", "geen", "Nooit"],
        "window_before": 5,
        "window_after": 3,
        "post_fillers": ["heb", "ik"],
    },
    "clause_boundaries": {"hard": ["maar"], "soft": ["en", "of"], "scope": ["door"]},
    "third_party": {"first_person": ["me", "mij"], "people": ["buurvrouw"]},
}


@pytest.fixture(scope="module")
def detector(tmp_path_factory: pytest.TempPathFactory) -> LifeDomainDetector:
    folder = tmp_path_factory.mktemp("life_domains")
    (folder / "patterns.yml").write_text(yaml.safe_dump(PATTERNS), encoding="utf-8")
    (folder / "crisis.yml").write_text(yaml.safe_dump(CRISIS), encoding="utf-8")
    return LifeDomainDetector(folder / "patterns.yml", folder / "crisis.yml")


def test_word_sets_are_folded_and_keep_their_defaults() -> None:
    words = WordSets.from_crisis_file(CRISIS)
    assert "nooit" in words.negation.negators
    assert words.negation.window_after == 3
    assert words.clauses.scope == {"door"}
    assert words.cues_for("suicidaliteit").immediate == {"nu"}
    assert words.cues_for("onbekend").cancel == frozenset()


def test_empty_text_detects_nothing(detector: LifeDomainDetector) -> None:
    assert detector.detect("  ") == Detection()


def test_evidence_is_the_residents_own_words_with_offsets(detector: LifeDomainDetector) -> None:
    text = "De deurwaarder kwam, ik heb schulden"
    det = detector.detect(text)
    assert det.codes == ["schulden"]
    assert [(words, text[s:e]) for _, words, s, e in det.domains] == [
        ("deurwaarder", "deurwaarder"),
        ("schulden", "schulden"),
    ]


def test_negation_and_its_scope(detector: LifeDomainDetector) -> None:
    det = detector.detect("ik heb geen schulden")
    assert det.codes == [] and [code for code, *_ in det.negated] == ["schulden"]
    assert detector.detect("schulden heb ik niet").codes == []  # only fillers in between
    assert detector.detect("schulden, die betaal ik niet").codes == ["schulden"]
    # "door" ends the scope, and the negator of "geen werk" belongs to that pattern
    assert detector.detect("ik heb geen werk door mijn schulden").codes == [
        "werk_opleiding",
        "schulden",
    ]
    assert detector.detect("geen werk maar wel schulden").codes == ["werk_opleiding", "schulden"]


def test_clause_end_marker(detector: LifeDomainDetector) -> None:
    assert detector.detect("ik ben mijn huis kwijt").codes == ["huisvesting"]
    assert detector.detect("ik ben mijn huis kwijt en mijn werk").codes == ["huisvesting"]
    assert detector.detect("mijn huis kwijtschelding").codes == []


def test_crisis_first_person_third_party_and_negation_in_a_gap(
    detector: LifeDomainDetector,
) -> None:
    det = detector.detect("ik wil dood")
    assert det.crisis == ("suicidaliteit", False)
    assert det.crisis_span == ("wil dood", 3, 11)
    assert det.codes == ["geestelijke_gezondheid"]  # implied, first person only
    third = detector.detect("mijn buurvrouw wil dood")
    assert third.crisis == ("suicidaliteit", True) and third.codes == []
    assert detector.detect("ik wil niet dood").crisis is None


def test_cancel_and_immediate_cues(detector: LifeDomainDetector) -> None:
    assert detector.detect("vroeger wilde ik dood").crisis is None
    assert detector.detect("vroeger al, en nu wil ik dood").crisis == ("suicidaliteit", False)


def test_together_parts_make_a_crisis_across_sentences(detector: LifeDomainDetector) -> None:
    text = "ik heb mijn fiets weggegeven. heb hem straks niet meer nodig. woon in ede"
    det = detector.detect(text)
    assert det.crisis == ("suicidaliteit", False)
    # from the start of the first part's sentence (its subject) to the end of the last part
    end = text.index("nodig") + len("nodig")
    assert det.crisis_span == (text[:end], 0, end)
    assert det.codes == ["geestelijke_gezondheid"]
    third = detector.detect("mijn buurvrouw heeft haar fiets weggegeven, straks niet meer nodig")
    assert third.crisis == ("suicidaliteit", True) and third.codes == []


def test_together_needs_every_part_undenied_and_no_unless_word(
    detector: LifeDomainDetector,
) -> None:
    assert detector.detect("ik heb mijn fiets weggegeven").crisis is None
    assert detector.detect("die heb ik straks niet meer nodig").crisis is None
    denied = "ik heb mijn fiets niet weggegeven. heb hem straks niet meer nodig"
    assert detector.detect(denied).crisis is None
    moving = "we verhuizen. ik heb mijn fiets weggegeven, heb hem straks niet meer nodig"
    assert detector.detect(moving).crisis is None


def test_a_together_entry_of_one_part_is_a_trigger_with_exceptions(
    detector: LifeDomainDetector,
) -> None:
    assert detector.detect("ik neem afscheid van iedereen").crisis == ("suicidaliteit", False)
    assert detector.detect("ik ga met pensioen, afscheid van iedereen").crisis is None
    with pytest.raises(ValueError):
        together_entries({"together": [{"parts": [[]]}]})
    assert together_entries({"together": [{"parts": [["a"]], "unless": ["Émigré"]}]}) == [
        {"parts": [["a"]], "unless": frozenset({"emigre"})}
    ]


def test_priority_orders_crisis_types(detector: LifeDomainDetector) -> None:
    assert detector.detect("ik wil dood en krijg geen lucht").crisis == ("medisch_spoed", False)


def test_the_detection_modules_import_without_rasa() -> None:
    """The package must stay usable where Rasa is not installed (a blocker stands in)."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'rasa', 'rasa_sdk', 'tensorflow'}:\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import bot.life_domains, bot.life_domains.context, bot.life_domains.nlu\n"
        "from bot.life_domains.words import WordSets\n"
        "assert WordSets.from_crisis_file({}).negation.window_before == 5\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
