"""Unit tests for bot.life_domains.normalise: plain functions, no spaCy pipeline, no Rasa."""

from __future__ import annotations

import pytest

from bot.life_domains.normalise import Normaliser, edit_distance, fold, infinitives, phonetic


def small_normaliser() -> Normaliser:
    """A normaliser on hand-made tables, so each rule is tested apart from the real data."""
    return Normaliser(
        lemma_table={"schulden": "schuld", "sloeg": "slaan"},
        lemma_extra={"viel": "vallen"},
        sms={"mn": "mijn", "gn": "geen"},
        trigger_vocab={"schulden", "deurwaarder", "depressief"},
        not_typos={"schreef"},
        crisis_words=["trappen", "sloeg"],
    )


def test_fold_lowercases_and_drops_accents_and_curly_apostrophes() -> None:
    assert fold("Één Café’s") == "een cafe's"


def test_phonetic_key_makes_sound_alike_spellings_equal() -> None:
    assert phonetic("sgulden") == phonetic("schulden")
    assert phonetic("hij") == phonetic("hei")


@pytest.mark.parametrize(
    ("a", "b", "limit", "expected"),
    [
        ("schulden", "schulden", 2, 0),
        ("depresief", "depressief", 2, 1),
        ("deurwaader", "deurwaarder", 1, 1),
        ("sgulden", "schulden", 1, 2),  # capped at limit + 1
        ("ab", "ba", 1, 1),  # a transposition counts once
        ("kort", "veel langer", 2, 3),
    ],
)
def test_edit_distance(a: str, b: str, limit: int, expected: int) -> None:
    assert edit_distance(a, b, limit) == expected


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("maak", ["maken"]),
        ("trap", ["trappen"]),
        ("durf", ["durfen", "durven"]),
        ("leve", ["leven"]),
        ("kies", ["kiesen", "kiezen"]),
    ],
)
def test_infinitives_of_dutch_verb_stems(stem: str, expected: list[str]) -> None:
    assert infinitives(stem) == expected


def test_sms_spellings_hyphens_and_repeated_letters() -> None:
    n = small_normaliser()
    assert n.normalise_word("MN") == "mijn"
    assert n.normalise_word("gn") == "geen"
    assert n.normalise_word("burn-out") == "burnout"
    assert n.normalise_word("schuuuulden") == "schulden"


def test_typos_are_corrected_only_towards_trigger_words() -> None:
    n = small_normaliser()
    assert n.normalise_word("sgulden") == "schulden"  # sounds alike
    assert n.normalise_word("deurwaader") == "deurwaarder"
    assert n.normalise_word("depresief") == "depressief"
    assert n.normalise_word("schreef") == "schreef"  # listed as not a typo
    assert n.normalise_word("kast") == "kast"  # too short to correct


def test_lemmas_from_our_table_spacy_and_guessed_crisis_verbs() -> None:
    n = small_normaliser()
    assert n.lemma("viel") == "vallen"  # lemma_extra
    assert n.lemma("schulden") == "schuld"  # lookup table
    assert n.lemma("getrapt") == "trappen"  # participle guessed towards a crisis lemma
    assert n.lemma("trapt") == "trappen"
    assert n.lemma("gepakt") == "gepakt"  # "pakken" is no crisis lemma: no guess
    assert n.normalise_word("getrapt") == "getrapt"  # an inflection, not a typo
