"""One reference format for both services."""

from common.references import DIGITS, LETTERS, PATTERN, random_reference, reference_from


def test_a_seeded_reference_is_stable_and_the_next_attempt_differs() -> None:
    assert reference_from("abc") == reference_from("abc")
    assert reference_from("abc") != reference_from("abc", attempt=1)
    assert reference_from("abc") != reference_from("abd")


def test_references_use_only_characters_that_read_aloud_safely() -> None:
    made = [reference_from(str(i)) for i in range(500)] + [random_reference() for _ in range(500)]
    for reference in made:
        assert PATTERN.match(reference), reference
        letters = reference[3:7]
        assert set(letters) <= set(LETTERS) and set(reference[8:]) <= set(DIGITS)
        assert not set(letters) & set("0O1IL5S2Z8B")
    assert len({r[3:7] for r in made}) > 400  # spread, not a handful of values
