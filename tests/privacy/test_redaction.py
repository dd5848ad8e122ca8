"""The shared redaction policy (``privacy.redaction``): the cases both services rely on.

The case lists are module-level so the services' own tests can run the same cases through
their import paths (``handover_api.services.redaction``, ``actions.transcript.strip_bsn``).
"""

from __future__ import annotations

import ast
import sys
import time
from pathlib import Path

import pytest

from privacy.redaction import elfproef, redact, redact_for_log, strip_bsn

# (text, redact(text)): every format the review found passing, plus the existing behaviour.
REDACTED: list[tuple[str, str]] = [
    # BSN after a keyword, in any grouping, even when the elfproef fails
    ("bsn 12 34 56 782", "bsn [BSN]"),
    ("BSN: 123 456 782", "BSN: [BSN]"),
    ("burgerservicenummer 123-45-6782", "burgerservicenummer [BSN]"),
    ("mijn bsn is 123456789", "mijn bsn is [BSN]"),  # elfproef fails: the keyword decides
    ("Mijn BSN-nummer is: 1234.56.789 toch?", "Mijn BSN-nummer is: [BSN] toch?"),
    ("sofinummer 12345678", "sofinummer [BSN]"),  # 8 digits: a BSN with its leading 0 dropped
    ("BSN 123456782", "BSN [BSN]"),
    ("bsn 123.456.782", "bsn [BSN]"),
    # bare 9 digits: unbroken always, grouped when the elfproef passes
    ("nummer 111222333 (geen elfproef)", "nummer [BSN] (geen elfproef)"),
    ("het is 123 456 782 geloof ik", "het is [BSN] geloof ik"),
    ("het is 123.456.782", "het is [BSN]"),
    ("het is 123-45-6782", "het is [BSN]"),
    ("het is 1234 56 782", "het is [BSN]"),
    # phone numbers
    ("Bel 06-12345678 graag", "Bel [telefoon] graag"),
    ("bel 0612345678", "bel [telefoon]"),
    ("bel 06 - 12345678", "bel [telefoon]"),
    ("bel 06-1234 5678", "bel [telefoon]"),
    ("bel 06 12 34 56 78", "bel [telefoon]"),
    ("of +31 6 1234 5678.", "of [telefoon]."),
    ("+31 (0)6 1234 5678", "[telefoon]"),
    ("0031 6 12345678", "[telefoon]"),
    ("0031612345678", "[telefoon]"),
    ("+31612345678", "[telefoon]"),
    ("vast: 040-1234567", "vast: [telefoon]"),
    ("(040) 123 45 67", "[telefoon]"),
    ("0492/123456", "[telefoon]"),
    # street + house number
    ("kerkstraat 12", "[adres]"),
    ("Kerkstraat 12a in Helmond", "[adres] in Helmond"),
    ("ik woon op de Kerkstraat 12 A", "ik woon op de [adres]"),
    ("van der Werffstraat 3-2", "[adres]"),
    ("ik woon in de van der werffstraat 3-2 sinds kort", "ik woon in de [adres] sinds kort"),
    ("Dorpsweg 7 B", "[adres]"),
    ("Jan van Goyenstraat 3 in Helmond", "[adres] in Helmond"),
    ("Willem de Zwijgerlaan 5", "[adres]"),
    ("Laan van Nieuw Oost-Indië 123", "[adres]"),
    # postcode in any case and spacing, with house number
    ("5701 AB", "[postcode]"),
    ("5701ab", "[postcode]"),
    ("postcode 5701 ab", "postcode [postcode]"),
    ("5701AB 12", "[postcode]"),
    ("Ik woon op 5708 AB 12", "Ik woon op [postcode]"),
    ("postcode 5701ab, huisnummer 3", "postcode [postcode]"),
    ("Kerkstraat 12, 5701 AB Helmond", "[adres], [postcode] Helmond"),
    # e-mail, IBAN, dates of birth
    ("mail jan.de-vries+x@gemeente.helmond.nl!", "mail [e-mail]!"),
    ("IBAN NL91 ABNA 0417 1643 00", "IBAN [IBAN]"),
    ("iban nl91 abna 0417 1643 00", "iban [IBAN]"),
    ("rekening nl91abna0417164300", "rekening [IBAN]"),
    ("NL91-ABNA-0417-1643-00", "[IBAN]"),
    ("BE68539007547034", "[IBAN]"),
    ("geboren op 12-03-1985", "geboren op [geboortedatum]"),
    ("geboortedatum: 1 januari 2001", "geboortedatum: [geboortedatum]"),
    ("ik ben van 3/4/1970", "ik ben van [geboortedatum]"),
    ("1985-03-12", "[geboortedatum]"),
    ("geboren op 12 03 1985 om 12 uur", "geboren op [geboortedatum] om 12 uur"),
]

# Ordinary text that must come out of ``redact`` (and so of ``strip_bsn``) unchanged.
KEPT: list[str] = [
    "€ 1.250,50",
    "ik heb € 1.250,50 huurachterstand",
    "3000 euro",
    "1234 euro schuld",
    "Ik verdien 1500 per maand en heb 2300 euro schuld",
    "ik heb 1500 op de bank en 12 maanden huurachterstand",
    "in 2024 is het begonnen",
    "sinds 2019 en in 2024",
    "Ik woon op nummer 12",
    "huisnummer 12a",
    "om 14:30 heb ik een afspraak",
    "2 kinderen van 4 en 7",
    "Ik heb 3 kinderen van 4, 7 en 12 jaar",
    "Ik slaap op straat sinds de straatcoach kwam",
    "ik slaap al 3 weken op straat",
    "op straat 3 nachten",
    "de straatwaarde is hoog en het straatje is smal",
    "snelweg 2 uur rijden",
    "ik heb een bijbaan 20 uur per week",
    "in Amsterdam 3 jaar gewoond",
    "ontslagen op 1-3-2024",  # a recent date is not a date of birth
    "ontslagen op 01-03-2024 12 uur",  # nor a phone number
    "ab12 maar niet echt hoor",  # not an IBAN
    "het bedrag is 123 456 789",  # grouped 9 digits failing the elfproef
    "gemeente GM0794",
    "",
]

# (text, strip_bsn(text)): only BSNs go, everything a consenting professional needs stays.
BSN_STRIPPED: list[tuple[str, str]] = [
    ("bsn 12 34 56 782", "bsn [BSN verwijderd]"),
    ("BSN: 123 456 782", "BSN: [BSN verwijderd]"),
    ("burgerservicenummer 123-45-6782", "burgerservicenummer [BSN verwijderd]"),
    ("mijn bsn is 123456789", "mijn bsn is [BSN verwijderd]"),  # keyword: elfproef not needed
    ("mijn bsn is 111222333 en tel 0612345678", "mijn bsn is [BSN verwijderd] en tel 0612345678"),
    ("hier: 123456782.", "hier: [BSN verwijderd]."),
    ("hier: 123 456 782", "hier: [BSN verwijderd]"),
    ("hier: 12.34.56.782", "hier: [BSN verwijderd]"),
    ("dossier 123456789", "dossier 123456789"),  # no keyword, no elfproef: a reference
]

# Left alone by ``strip_bsn`` although they contain 9-digit windows that pass the elfproef.
NOT_A_BSN: list[str] = [
    "bel 0612345671",  # 612345671 passes the elfproef
    "bel 06 123 456 71",
    "bel +31 6 1234 5671",
    "bel +31 (0)6 1234 5671",
    "bel 0031 6 12345671",
    "bel (040) 123 45 63",
    "NL91ABNA0417164300",  # 417164300 passes the elfproef
    "NL91 ABNA 0417 1643 00",
    "Kerkstraat 12, 5701 AB Helmond",
    "€ 1.250,50",
]


@pytest.mark.parametrize(("text", "expected"), REDACTED)
def test_redact_replaces_personal_data(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_redact_keeps_ordinary_text(text: str) -> None:
    assert redact(text) == text
    assert strip_bsn(text) == text


@pytest.mark.parametrize(("text", "expected"), BSN_STRIPPED)
def test_strip_bsn_removes_only_bsns(text: str, expected: str) -> None:
    assert strip_bsn(text) == expected


@pytest.mark.parametrize("text", NOT_A_BSN)
def test_strip_bsn_leaves_phone_numbers_ibans_and_addresses(text: str) -> None:
    assert strip_bsn(text) == text


def test_order_phone_and_iban_before_bare_bsn() -> None:
    """The 9-digit tails of these pass the elfproef; the earlier steps must claim them whole."""
    assert redact("bel 0612345671") == "bel [telefoon]"
    assert redact("bel 06 123 456 71") == "bel [telefoon]"
    assert redact("NL91ABNA0417164300") == "[IBAN]"
    assert redact("mail jan123456782@example.nl") == "mail [e-mail]"


def test_order_keyword_bsn_before_dates() -> None:
    """After a keyword the digits are a BSN, even when their first groups look like a date."""
    assert redact("bsn 12-03-1985 3") == "bsn [BSN]"
    assert redact("bsn 06 12 34 56 7") == "bsn [BSN]"
    assert strip_bsn("bsn 12-03-1985 3") == "bsn [BSN verwijderd]"


def test_several_items_in_one_text() -> None:
    text = (
        "Jan, 06-12345678, jan@example.nl, BSN 123456782, NL91ABNA0417164300, 5708 AB 12, "
        "Kerkstraat 4, geboren 02-05-1980"
    )
    assert redact(text) == (
        "Jan, [telefoon], [e-mail], BSN [BSN], [IBAN], [postcode], [adres], geboren [geboortedatum]"
    )
    assert strip_bsn(text) == text.replace("123456782", "[BSN verwijderd]")


def test_redact_is_idempotent() -> None:
    for text, expected in REDACTED:
        assert redact(expected) == expected, text


def test_elfproef() -> None:
    assert elfproef("123456782")
    assert elfproef("111222333")
    assert not elfproef("123456789")
    assert not elfproef("12345678")
    assert not elfproef("12345678a")
    assert not elfproef("000000000")  # passes the arithmetic, is no BSN


def test_redact_for_log_is_single_line_and_short() -> None:
    line = redact_for_log("regel 1\nbel 0612345678\r\n" + "x" * 500, max_length=40)
    assert "\n" not in line and "\r" not in line and "0612345678" not in line
    assert len(line) == 40 and line.endswith("…")
    assert redact_for_log({"bsn": "123 456 782"}) == "{'bsn': '[BSN]'}"


def _best_of_three(func: object, text: str) -> float:
    assert callable(func)
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        func(text)
        timings.append(time.perf_counter() - start)
    return min(timings)


@pytest.mark.parametrize(
    "text",
    [
        # a long, realistic message full of things to redact and things to keep
        (
            "Ik woon op de Kerkstraat 12a, 5701 AB Helmond, bel 06-1234 5678 of mail "
            "jan@example.nl. Mijn bsn is 123 456 782 en ik heb € 1.250,50 schuld sinds 2024, "
            "2 kinderen van 4 en 7, afspraak om 14:30. IBAN NL91 ABNA 0417 1643 00. "
        )
        * 50,
        # inputs that make careless patterns backtrack
        "1 " * 5000,
        "1-" * 5000,
        "a" * 10_000,
        "Kerk " * 2000,
        "Van " * 2500,
        "Laan " * 2000,
        "Laan van Aa " * 900,
        "0" * 10_000,
        "a." * 5000,
        "x@" * 5000,
        "bsn " * 2500,
        "06 " * 3333,
    ],
    ids=[
        "realistic",
        "digits",
        "hyphenated",
        "one-word",
        "capitals",
        "particles",
        "laan",
        "laan-van",
        "zeros",
        "dots",
        "at-signs",
        "keywords",
        "area-codes",
    ],
)
def test_a_10000_character_message_is_fast(text: str) -> None:
    text = text[:10_000]
    assert _best_of_three(redact, text) < 0.2
    assert _best_of_three(strip_bsn, text) < 0.2


def test_the_package_is_stdlib_only() -> None:
    """Both venvs import it; a third-party import would break one of them."""
    package = Path(__file__).resolve().parents[2] / "privacy"
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top in {"__future__", "privacy"}, (
                    f"{source.name} imports {name}"
                )
