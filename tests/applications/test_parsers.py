"""The answer parsers (``applications.parsers``): real resident phrasings, typos and bad input.

Every case asserts a value, or that a problem is returned that is Dutch text for the resident
(every explanation carries an example of a good answer, so it contains "bijvoorbeeld").
"""

from __future__ import annotations

import time as clock
from datetime import date, datetime, time
from decimal import Decimal

import pytest

from applications.parsers import (
    Address,
    Household,
    Parsed,
    is_skip,
    parse_address,
    parse_amount,
    parse_choice,
    parse_choices,
    parse_count,
    parse_date_of_birth,
    parse_household,
    parse_moment,
    parse_name,
)

TODAY = date(2026, 12, 2)
NOW = datetime(2026, 12, 2, 14, 0)  # a Wednesday afternoon

LONG = "x" * 10_000
BAD_INPUTS = [
    "",
    "   ",
    "\n\t",
    "<script>alert(1)</script>",
    LONG,
    "1" * 10_000,
    "😀😀😀",
    "🙏",
    "€ abc",
    "?!?!",
    "\x00\x01",
]


def assert_problem(result: Parsed[object], *fragments: str) -> None:
    """No value, and a non-empty Dutch explanation (with an example) for the resident."""
    assert isinstance(result, Parsed)
    assert result.value is None
    assert not result.ok
    assert result.problem, "a refusal must explain itself"
    assert "bijvoorbeeld" in result.problem.lower()
    assert "Traceback" not in result.problem
    for fragment in fragments:
        assert fragment in result.problem


# --------------------------------------------------------------------------------------------
# Garbage never raises, for every parser
# --------------------------------------------------------------------------------------------

PARSERS = {
    "date_of_birth": lambda text: parse_date_of_birth(text, TODAY),
    "amount": parse_amount,
    "count": parse_count,
    "household": parse_household,
    "address": parse_address,
    "name": parse_name,
    "moment": lambda text: parse_moment(text, NOW),
    "choice": lambda text: parse_choice(text, {"huur": ["Huur"], "energie": ["Energie"]}),
    "choices": lambda text: parse_choices(text, {"huur": ["Huur"], "energie": ["Energie"]}),
}


@pytest.mark.parametrize("parser", PARSERS.values(), ids=PARSERS.keys())
@pytest.mark.parametrize("text", BAD_INPUTS, ids=lambda t: repr(t[:12]))
def test_bad_input_gives_a_problem_not_an_exception(parser, text: str) -> None:
    assert_problem(parser(text))


@pytest.mark.parametrize("parser", PARSERS.values(), ids=PARSERS.keys())
def test_not_a_string_gives_a_problem(parser) -> None:
    assert_problem(parser(None))


@pytest.mark.parametrize("parser", PARSERS.values(), ids=PARSERS.keys())
def test_long_and_adversarial_messages_are_fast(parser) -> None:
    """Up to 500 characters are read; nothing may backtrack badly on repetitive input."""
    texts = ["1-" * 250, "een " * 125, "a." * 250, "5701 " * 100, "na 2 " * 100, "kind " * 100]
    started = clock.perf_counter()
    results = [parser(text) for text in texts]
    assert all(isinstance(result, Parsed) for result in results)
    assert all(result.ok or result.problem for result in results)
    assert clock.perf_counter() - started < 1.0


# --------------------------------------------------------------------------------------------
# 1. is_skip
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "weet ik niet",
        "Weet ik niet!",
        "weet niet",
        "geen idee",
        "Geen flauw idee",
        "wt ik nie",
        "weet ik nie",
        "sla over",
        "sla deze vraag over",
        "overslaan",
        "later",
        "vul ik later in",
        "skip",
        "dat weet ik niet precies",
        "ik weet het niet",
        "ik weet t niet",
    ],
)
def test_is_skip(text: str) -> None:
    assert is_skip(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "nee",
        "ja",
        "",
        "1250",
        "weet ik niet precies, rond de 3000",
        "liever later op de dag",
        "ik weet niet of mijn man het weet maar ik denk dat het rond de drie is",
        LONG,
        "<script>alert(1)</script>",
    ],
)
def test_is_not_skip(text: str) -> None:
    assert is_skip(text) is False


# --------------------------------------------------------------------------------------------
# 2. Date of birth
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15-3-1988", date(1988, 3, 15)),
        ("15/03/1988", date(1988, 3, 15)),
        ("15.3.88", date(1988, 3, 15)),
        ("15 maart 1988", date(1988, 3, 15)),
        ("15 Maart 1988", date(1988, 3, 15)),
        ("15 mrt 1988", date(1988, 3, 15)),
        ("15 mrt. '88", date(1988, 3, 15)),
        ("1988-03-15", date(1988, 3, 15)),
        ("15031988", date(1988, 3, 15)),
        ("19880315", date(1988, 3, 15)),
        ("15 3 1988", date(1988, 3, 15)),
        ("geboren op 3 januari 1975", date(1975, 1, 3)),
        ("ik ben geboren op 1e januari 1980", date(1980, 1, 1)),
        ("3 febuari 1990", date(1990, 2, 3)),
        ("3 feburari 1990", date(1990, 2, 3)),
        ("12 sept 1966", date(1966, 9, 12)),
        ("3december1975", date(1975, 12, 3)),
        ("29-2-00", date(2000, 2, 29)),
        ("1-1-20", date(1920, 1, 1)),  # 2020 gives an age of 6: the adult reading wins
        ("15-3-1988 😊", date(1988, 3, 15)),
    ],
)
def test_date_of_birth(text: str, expected: date) -> None:
    assert parse_date_of_birth(text, TODAY) == Parsed(expected)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("31-2-1990", "bestaat niet"),
        ("30 februari 1985", "bestaat niet"),
        ("15-13-1988", "12 maanden"),
        ("15-3-2030", "toekomst"),
        ("1-1-1900", "110"),
        ("1-1-2015", "16 jaar"),
        ("1-12-12", "16 jaar"),  # 2012 (14) and 1912 (114): neither fits, the child reading
        ("15 maart", "jaar"),
        ("15-3", "jaar"),
        ("1 maar 1990", "datum"),  # 'maar' is not 'maart'
        ("ik weet het niet", "datum"),
        ("vorig jaar", "datum"),
    ],
)
def test_date_of_birth_problems(text: str, fragment: str) -> None:
    assert_problem(parse_date_of_birth(text, TODAY), fragment)


# --------------------------------------------------------------------------------------------
# 3. Amounts
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("€ 1.250,50", "1250.50"),
        ("1250", "1250"),
        ("1.250", "1250"),
        ("1,250.50", "1250.50"),
        ("1250,50", "1250.50"),
        ("€12,50", "12.50"),
        ("ongeveer 3000 euro", "3000"),
        ("zo'n 3000", "3000"),
        ("zo’n 3000", "3000"),
        ("3k", "3000"),
        ("3K", "3000"),
        ("2.5k", "2500"),
        ("2,5 duizend", "2500"),
        ("3 duizend", "3000"),
        ("drieduizend", "3000"),
        ("drie duizend euro", "3000"),
        ("twaalfhonderd", "1200"),
        ("vijfhonderd euro", "500"),
        ("drieduizendvijfhonderd", "3500"),
        ("tweeënhalfduizend", "2500"),
        ("eenentwintig", "21"),
        ("honderdvijftig euro", "150"),
        ("anderhalf miljoen", "1500000"),
        ("€750,-", "750"),
        ("750 per maand", "750"),
        ("tussen 2000 en 3000", "3000"),  # a range gives the higher amount
        ("2000-3000", "3000"),
        ("2000 of 3000 euro", "3000"),
        ("0", "0"),
        ("geen", "0"),
        ("een bedrag van vijfhonderd", "500"),
        ("12 500", "12500"),
        ("2 duizend 500", "2500"),
        ("dertien euro vijftig", "13.50"),
        ("1,5 ton", "150000"),
        ("tussen 500 en 600", "600"),
        ("10000000", "10000000"),
    ],
)
def test_amount(text: str, expected: str) -> None:
    result = parse_amount(text)
    assert result.ok
    assert result.value == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("-50", "negatief"),
        ("€ -50", "negatief"),
        ("€ abc", "450"),
        ("veel", "450"),
        ("20000000", "hoog"),
        ("1500 loon en 200 toeslag", "meer dan één"),
        ("500 en 300", "meer dan één"),  # two debts, not a range: adding would be a guess
        ("weet ik niet", "schatting"),
    ],
)
def test_amount_problems(text: str, fragment: str) -> None:
    assert_problem(parse_amount(text), fragment)


# --------------------------------------------------------------------------------------------
# 4. Counts
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2", 2),
        ("twee", 2),
        ("geen", 0),
        ("Geen kinderen", 0),
        ("nul", 0),
        ("een", 1),
        ("één", 1),
        ("Eén", 1),
        ("3 kinderen", 3),
        ("drie stuks", 3),
        ("een stuk of drie", 3),
        ("twaalf", 12),
    ],
)
def test_count(text: str, expected: int) -> None:
    assert parse_count(text) == Parsed(expected)


@pytest.mark.parametrize("text", ["2 of 3", "-2", "2.5", "veel", "geen idee", "100"])
def test_count_problems(text: str) -> None:
    assert_problem(parse_count(text))


# --------------------------------------------------------------------------------------------
# 5. Household
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("alleen", Household(False, (), 0)),
        ("ik woon alleen", Household(False, (), 0)),
        ("alleenstaand", Household(False, (), 0)),
        ("met mijn vriend", Household(True, (), 0)),
        ("met mijn man", Household(True, (), 0)),
        ("met m'n vrouw", Household(True, (), 0)),
        ("getrouwd", Household(True, (), 0)),
        ("samenwonend", Household(True, (), 0)),
        ("met partner", Household(True, (), 0)),
        ("twee kinderen van 4 en 7", Household(False, (4, 7), 2)),
        ("alleenstaande moeder van 3 kinderen (8, 11 en 15)", Household(False, (8, 11, 15), 3)),
        ("ik en mijn vrouw en 1 kind van 3", Household(True, (3,), 1)),
        ("met mijn partner en drie kids", Household(True, (), 3)),
        ("2 kinderen", Household(False, (), 2)),
        ("kinderen van 4 en 7", Household(False, (4, 7), 2)),
        ("een zoon van 12", Household(False, (12,), 1)),
        ("mijn dochter van 5 en mijn zoon van 9", Household(False, (5, 9), 2)),
        ("geen kinderen, wel een partner", Household(True, (), 0)),
        ("met mijn moeder", Household(False, (), 0, other_adults=1)),
        ("bij mijn ouders", Household(False, (), 0, other_adults=2)),
        ("samen met 2 huisgenoten", Household(False, (), 0, other_adults=2)),
        ("ik heb een baby", Household(False, (0,), 1)),
        ("een baby van 6 maanden", Household(False, (0,), 1)),
        ("ik ben 45 en heb 2 kinderen van 4 en 7", Household(False, (4, 7), 2)),
        ("alleen met mijn 2 kinderen", Household(False, (), 2)),
        ("met mijn vrouw en onze tweeling", Household(True, (), 2)),
        ("een tweeling van 3", Household(False, (3, 3), 2)),
        ("3 kinderen, 2 en 5 jaar", Household(False, (2, 5), 3)),  # one age unknown
        ("ik ben gescheiden en heb 3 kids", Household(False, (), 3)),
        ("met mijn man, 2 kinderen van vier en zeven", Household(True, (4, 7), 2)),
    ],
)
def test_household(text: str, expected: Household) -> None:
    assert parse_household(text) == Parsed(expected)


@pytest.mark.parametrize(
    ("household", "expected"),
    [
        (Household(False, (4, 7), 2), "alleenstaand, 2 kinderen (4 en 7 jaar)"),
        (Household(True, (), 0), "met partner, geen kinderen"),
        (Household(True, (3,), 1), "met partner, 1 kind (3 jaar)"),
        (Household(False, (8, 11, 15), 3), "alleenstaand, 3 kinderen (8, 11 en 15 jaar)"),
        (Household(False, (), 0, 1), "zonder partner, geen kinderen, 1 andere volwassene"),
    ],
)
def test_household_describe(household: Household, expected: str) -> None:
    assert household.describe() == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("alleen, maar wel met mijn partner", "alleen"),
        ("met mijn kinderen", "Hoeveel kinderen"),
        ("2 kinderen van 4, 7 en 9", "3 leeftijden"),
        ("een zoon van 45", "45"),
        ("geen kinderen, 2 kinderen", "kinderen"),
        ("weet ik niet", "met mijn partner"),
        ("appelmoes", "met mijn partner"),
        ("alleen met 25 huisgenoten", "veel mensen"),
    ],
)
def test_household_problems(text: str, fragment: str) -> None:
    assert_problem(parse_household(text), fragment)


# --------------------------------------------------------------------------------------------
# 6. Address
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "described"),
    [
        ("5701AB 12", Address("5701 AB", 12, None), "5701 AB 12"),
        ("5701 ab, nummer 12a", Address("5701 AB", 12, "a"), "5701 AB 12a"),
        ("5701 AB 12-2", Address("5701 AB", 12, "2"), "5701 AB 12-2"),
        ("huisnummer 12 postcode 5701ab", Address("5701 AB", 12, None), "5701 AB 12"),
        ("5701 AB 12 bis", Address("5701 AB", 12, "bis"), "5701 AB 12 bis"),
        ("5701 AB 12 A", Address("5701 AB", 12, "a"), "5701 AB 12a"),
        ("5701ab12", Address("5701 AB", 12, None), "5701 AB 12"),
        ("5701-AB 7", Address("5701 AB", 7, None), "5701 AB 7"),
        ("Kerkstraat 12, 5701 AB Helmond", Address("5701 AB", 12, None), "5701 AB 12"),
        ("nr 3 en postcode 5701 AB", Address("5701 AB", 3, None), "5701 AB 3"),
        ("5701 AB 12 III", Address("5701 AB", 12, "III"), "5701 AB 12 III"),
        ("5701 AB 12/3", Address("5701 AB", 12, "3"), "5701 AB 12-3"),
    ],
)
def test_address(text: str, expected: Address, described: str) -> None:
    result = parse_address(text)
    assert result == Parsed(expected)
    assert result.value is not None and result.value.describe() == described


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("0000 AA", "4 cijfers en 2 letters"),
        ("0123 AB 4", "4 cijfers en 2 letters"),
        ("5701", "4 cijfers en 2 letters"),
        ("5701 SA 3", "4 cijfers en 2 letters"),
        ("5701 SS 3", "4 cijfers en 2 letters"),
        ("Kerkstraat 12", "postcode"),
        ("5701 AB", "huisnummer"),
        ("5701 AB 0", "Huisnummer 0"),
    ],
)
def test_address_problems(text: str, fragment: str) -> None:
    assert_problem(parse_address(text), fragment)


# --------------------------------------------------------------------------------------------
# 7. Name
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Samira el Amrani", "Samira el Amrani"),
        ("ik ben Jan de Vries", "Jan de Vries"),
        ("mijn naam is piet", "Piet"),
        ("ik heet Anne-Marie van den Berg", "Anne-Marie van den Berg"),
        ("anne-marie van den berg", "Anne-Marie van den Berg"),
        ("JAN DE VRIES", "Jan de Vries"),
        ("van der Berg", "Van der Berg"),
        ("Hoi, ik ben Mo", "Mo"),
        ("Zoë van 't Hof", "Zoë van 't Hof"),
        ("Jan 😊", "Jan"),
        ("J. de Vries", "J. de Vries"),
        ("Piet.", "Piet"),
        ("Mohamed ben Ali", "Mohamed Ben Ali"),
        ("fatima al hashimi", "Fatima al Hashimi"),
        ("Ruud ter Horst", "Ruud ter Horst"),
        ("mevrouw de Vries", "De Vries"),
        ("Ahmed el-Khatib", "Ahmed el-Khatib"),
    ],
)
def test_name(text: str, expected: str) -> None:
    assert parse_name(text) == Parsed(expected)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("123456782", "cijfers"),
        ("06-12345678", "cijfers"),
        ("Jan 3", "cijfers"),
        ("nee", "naam"),
        ("ja", "naam"),
        ("weet ik niet", "naam"),
        ("waarom?", "naam"),
        ("a", "naam"),
        ("dit is een hele lange zin met veel woorden", "naam"),
        ("jan@example.nl", "naam"),
    ],
)
def test_name_problems(text: str, fragment: str) -> None:
    assert_problem(parse_name(text), fragment)


# --------------------------------------------------------------------------------------------
# 8. Contact moment (now: Wednesday 2 December 2026, 14:00)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("volgende week dinsdag na 2 uur", "dinsdag 8 december, na 14:00"),
        ("volgende week vrijdag", "vrijdag 11 december"),
        ("vrijdag", "vrijdag 4 december"),
        ("morgen ochtend", "donderdag 3 december, ochtend"),
        ("morgenochtend", "donderdag 3 december, ochtend"),
        ("morgen", "donderdag 3 december"),
        ("overmorgen", "vrijdag 4 december"),
        ("na 15 uur", "na 15:00"),
        ("maandag tussen 9 en 12", "maandag 7 december, tussen 9:00 en 12:00"),
        ("'s middags", "middag"),
        ("’s morgens", "ochtend"),
        ("altijd", "maakt niet uit"),
        ("maakt niet uit", "maakt niet uit"),
        ("hele dag", "maakt niet uit"),
        ("24 uur per dag", "maakt niet uit"),
        ("liever niet op woensdag", "niet op woensdag"),
        ("liever niet op maandag of dinsdag", "niet op maandag of dinsdag"),
        ("maandag kan ik niet, dinsdag wel", "dinsdag 8 december, niet op maandag"),
        ("na half 4", "na 15:30"),
        ("na 2 uur", "na 14:00"),
        ("na tweeën", "na 14:00"),
        ("vanavond", "woensdag 2 december, avond"),
        ("donderdagmiddag", "donderdag 3 december, middag"),
        ("om 10 uur", "om 10:00"),
        ("voor 12 uur", "voor 12:00"),
        ("tussen 10 en 2", "tussen 10:00 en 14:00"),
        ("vrijdag 9-12", "vrijdag 4 december, tussen 9:00 en 12:00"),
        ("7 uur 's avonds", "avond, om 19:00"),
        ("kwart over 3", "om 15:15"),
        ("vandaag om 13:30", "woensdag 2 december, om 13:30"),  # in the past: still accepted
        ("10 december", "donderdag 10 december"),
        ("1 december", "woensdag 1 december 2027"),
        ("woensdag", "woensdag 9 december"),  # today's weekday means next week
        ("dinsdga", "dinsdag 8 december"),
        ("maandag of dinsdag", "maandag 7 december of dinsdag 8 december"),
        ("zo snel mogelijk", "zo snel mogelijk"),
        ("vanaf 8 uur 's ochtends", "ochtend, na 8:00"),
        ("morgen voor de middag", "donderdag 3 december, ochtend"),
        ("morgen niet", "niet op donderdag 3 december"),
        ("tussen 1 en 3", "tussen 13:00 en 15:00"),  # 1 to 6 without 'ochtend': afternoon
    ],
)
def test_moment_text(text: str, expected: str) -> None:
    result = parse_moment(text, NOW)
    assert result.ok
    assert result.value is not None and result.value.text == expected


def test_moment_fields() -> None:
    result = parse_moment("volgende week dinsdag na 2 uur", NOW)
    assert result.value is not None
    assert result.value.day == date(2026, 12, 8)
    assert result.value.after == time(14, 0)
    assert result.value.before is None
    assert result.value.part is None
    evening = parse_moment("vanavond", NOW).value
    assert evening is not None
    assert (evening.day, evening.part) == (date(2026, 12, 2), "avond")
    window = parse_moment("maandag tussen 9 en 12", NOW).value
    assert window is not None
    assert (window.after, window.before) == (time(9, 0), time(12, 0))


@pytest.mark.parametrize("text", ["banaan", "om 25 uur", "tussen 12 en 9", "ja"])
def test_moment_problems(text: str) -> None:
    assert_problem(parse_moment(text, NOW), "morgen na 14 uur")


# --------------------------------------------------------------------------------------------
# 9. Choices
# --------------------------------------------------------------------------------------------

OPTIONS = {
    "huur": ["Huur", "huurachterstand"],
    "energie": ["Energie", "gas", "stroom", "licht"],
    "zorg": ["Zorgverzekering", "zorgpremie"],
    "bijzondere_bijstand": ["Bijzondere bijstand"],
    "bijstand": ["Bijstand", "uitkering"],
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2", "energie"),
        ("2.", "energie"),
        ("optie 2", "energie"),
        ("nummer 2 graag", "energie"),
        ("de tweede", "energie"),
        ("twee", "energie"),
        ("laatste", "bijstand"),
        ("huur", "huur"),
        ("HUUR", "huur"),
        ("energie", "energie"),
        ("Énergie", "energie"),
        ("enrgie", "energie"),  # one typo
        ("zorgverzekring", "zorg"),
        ("de stroom", "energie"),
        ("bijzondere_bijstand", "bijzondere_bijstand"),  # the key, as a button sends it
        ("bijzondere bijstand", "bijzondere_bijstand"),
        ("bijstand", "bijstand"),
        ("ik heb een uitkering", "bijstand"),
    ],
)
def test_choice(text: str, expected: str) -> None:
    assert parse_choice(text, OPTIONS) == Parsed(expected)


@pytest.mark.parametrize("text", ["9", "0", "banaan", "1 en 3", "huur en energie", "alle"])
def test_choice_problems(text: str) -> None:
    result = parse_choice(text, OPTIONS)
    assert_problem(result)
    assert result.problem is not None
    assert "1. Huur\n2. Energie\n3. Zorgverzekering" in result.problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 en 3", ("huur", "zorg")),
        ("1,3", ("huur", "zorg")),
        ("3, 1", ("huur", "zorg")),
        ("huur en energie", ("huur", "energie")),
        ("1 en stroom", ("huur", "energie")),
        ("een en drie", ("huur", "zorg")),
        ("alle", tuple(OPTIONS)),
        ("gas, licht en zorgpremie", ("energie", "zorg")),
        ("2", ("energie",)),
    ],
)
def test_choices(text: str, expected: tuple[str, ...]) -> None:
    assert parse_choices(text, OPTIONS) == Parsed(expected)


@pytest.mark.parametrize("text", ["1 en 9", "banaan", ""])
def test_choices_problems(text: str) -> None:
    assert_problem(parse_choices(text, OPTIONS), "1. Huur")


@pytest.mark.parametrize(("text", "expected"), [("jaaa", "ja"), ("Ja hoor", "ja"), ("neee", "nee")])
def test_yes_no_choice(text: str, expected: str) -> None:
    assert parse_choice(text, {"ja": ["Ja"], "nee": ["Nee"]}) == Parsed(expected)


def test_choice_without_options_is_a_problem_not_an_exception() -> None:
    result = parse_choice("1", {})
    assert result.value is None and result.problem
