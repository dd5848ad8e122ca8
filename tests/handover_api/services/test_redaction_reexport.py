"""Redaction of personal data in free text, through the API's import path.

The policy lives in ``privacy.redaction`` (shared with the action server, its cases in
``tests/privacy/test_redaction.py``); these tests pin that the API's modules, which import
``handover_api.services.redaction``, get exactly that policy.
"""

from __future__ import annotations

import pytest

import privacy.redaction
from handover_api.services import redaction as api_redaction
from handover_api.services.redaction import elfproef, redact, redact_for_log
from tests.privacy.test_redaction import KEPT, REDACTED


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bel 06-12345678 graag", "Bel [telefoon] graag"),
        ("bel 0612345678", "bel [telefoon]"),
        ("of +31 6 1234 5678.", "of [telefoon]."),
        ("vast: 040-1234567", "vast: [telefoon]"),
        ("(040) 123 45 67", "[telefoon]"),
        ("0031612345678", "[telefoon]"),
        ("mail jan.de-vries+x@gemeente.helmond.nl!", "mail [e-mail]!"),
        ("BSN 123456782", "BSN [BSN]"),
        ("bsn 123.456.782", "bsn [BSN]"),
        ("nummer 111222333 (geen elfproef)", "nummer [BSN] (geen elfproef)"),
        ("IBAN NL91 ABNA 0417 1643 00", "IBAN [IBAN]"),
        ("rekening nl91abna0417164300", "rekening [IBAN]"),
        ("BE68539007547034", "[IBAN]"),
        ("Ik woon op 5708 AB 12", "Ik woon op [postcode]"),
        ("postcode 5701ab, huisnummer 3", "postcode [postcode]"),
        ("Kerkstraat 12a in Helmond", "[adres] in Helmond"),
        ("geboren op 12-03-1985", "geboren op [geboortedatum]"),
        ("geboortedatum: 1 januari 2001", "geboortedatum: [geboortedatum]"),
        ("ik ben van 3/4/1970", "ik ben van [geboortedatum]"),
        ("1985-03-12", "[geboortedatum]"),
    ],
)
def test_redacts(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Ik verdien 1500 per maand en heb 2300 euro schuld",
        "ik heb 1500 op de bank en 12 maanden huurachterstand",
        "ontslagen op 1-3-2024",  # a recent date is not a date of birth
        "Ik heb 3 kinderen van 4, 7 en 12 jaar",
        "gemeente GM0794",
        "",
    ],
)
def test_keeps_ordinary_text(text: str) -> None:
    assert redact(text) == text


def test_several_items_in_one_text() -> None:
    text = "Jan, 06-12345678, jan@example.nl, BSN 123456782, NL91ABNA0417164300, 5708 AB 12"
    assert redact(text) == "Jan, [telefoon], [e-mail], BSN [BSN], [IBAN], [postcode]"


def test_elfproef() -> None:
    assert elfproef("123456782")
    assert not elfproef("123456789")
    assert not elfproef("12345678")


def test_redact_for_log_is_single_line_and_short() -> None:
    line = redact_for_log("regel 1\nbel 0612345678\n" + "x" * 500, max_length=40)
    assert "\n" not in line and "0612345678" not in line
    assert len(line) == 40 and line.endswith("…")


def test_the_api_uses_the_shared_policy() -> None:
    for name in api_redaction.__all__:
        assert getattr(api_redaction, name) is getattr(privacy.redaction, name), name


@pytest.mark.parametrize(("text", "expected"), REDACTED)
def test_shared_cases_are_redacted(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_shared_ordinary_text_is_kept(text: str) -> None:
    assert redact(text) == text
