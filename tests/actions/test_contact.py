import pytest

from actions.contact import display_phone, normalise_phone


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0612345678", "0612345678"),
        ("06-12345678", "0612345678"),
        ("06 1234 5678", "0612345678"),
        ("+31 6 12345678", "0612345678"),
        ("0031612345678", "0612345678"),
        ("bel me op 0492 123456 graag", "0492123456"),
        ("mijn nummer is (0492) 12 34 56", "0492123456"),
    ],
)
def test_dutch_numbers_in_any_shape_are_normalised(text: str, expected: str) -> None:
    assert normalise_phone(text) == expected


@pytest.mark.parametrize(
    "text",
    ["12345", "06 1234 567", "0800 1234567", "0900-1234567", "Helmond", "", "+44 20 7946 0958"],
)
def test_no_callback_number_is_refused(text: str) -> None:
    assert normalise_phone(text) is None


def test_display_phone_groups_for_reading_back() -> None:
    assert display_phone("0612345678") == "06 12345678"
    assert display_phone("0492123456") == "0492 123456"
