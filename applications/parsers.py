"""Read residents' free-text answers to application questions into normalised values.

Residents fill in a pre-filled application by chatting, often by SMS and with typos. Each
parser takes the raw message and returns a ``Parsed``: either a normalised value, or a short
Dutch explanation (B1, "u", with an example of a good answer) that the bot can send back as is.

Design choices, and why:

- Stdlib only, pure functions: the action server (.venv-rasa) and the handover API (.venv-api)
  can both import this module, and tests can pin ``today`` / ``now``.
- Parsers never raise. A resident's message is untrusted input; a crash would end the
  conversation. Expected refusals travel as ``_Refusal`` inside the module; anything
  unexpected is caught by ``_safe`` and turned into a generic "could not read" problem.
- Messages over 500 characters and messages with HTML tags are refused up front: a form answer
  is never that long, and the length cap bounds the work every regex below can do.
- Matching happens on a folded copy (lowercase, accents removed, curly quotes straightened), so
  "Één", "één" and "een" are the same word; names keep the resident's own accents.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Generic, ParamSpec, TypeVar

from common.dutch_dates import MONTH_NAMES, WEEKDAY_NAMES

__all__ = [
    "Address",
    "Household",
    "Moment",
    "Parsed",
    "is_skip",
    "parse_address",
    "parse_amount",
    "parse_choice",
    "parse_choices",
    "parse_count",
    "parse_date_of_birth",
    "parse_household",
    "parse_moment",
    "parse_name",
]

T = TypeVar("T")
P = ParamSpec("P")

MAX_LENGTH = 500
"""Longer messages are refused: no form answer needs more, and it bounds the regex work."""

MAX_AMOUNT = Decimal(10_000_000)
MAX_COUNT = 99
MAX_CHILD_AGE = 30
MAX_CHILDREN = 20


# --------------------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parsed(Generic[T]):
    """A parser's answer: a normalised value, or a Dutch explanation for the resident.

    Exactly one of ``value`` and ``problem`` is set, so the bot either stores the value or
    sends ``problem`` back without having to compose its own wording.
    """

    value: T | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """True when a value was read; the bot then stores ``value``."""
        return self.problem is None and self.value is not None


@dataclass(frozen=True)
class Household:
    """Who lives with the resident: what benefit rules (toeslagen, bijstand) ask for.

    ``children`` may exceed ``len(children_ages)``: a resident often gives the number of
    children but not every age, and the count matters more than a missing age.
    """

    partner: bool
    children_ages: tuple[int, ...] = ()
    children: int = 0
    other_adults: int = 0

    def describe(self) -> str:
        """A short Dutch summary to read back to the resident and to show the professional.

        "alleenstaand" is used only when nobody else is named: with a parent or housemate in
        the home the word would mislead a professional, so that case reads "zonder partner".
        """
        if self.partner:
            parts = ["met partner"]
        elif self.other_adults:
            parts = ["zonder partner"]
        else:
            parts = ["alleenstaand"]
        if self.children == 0:
            parts.append("geen kinderen")
        else:
            noun = "kind" if self.children == 1 else "kinderen"
            described = f"{self.children} {noun}"
            if self.children_ages:
                described += f" ({_join_nl([str(age) for age in self.children_ages])} jaar)"
            parts.append(described)
        if self.other_adults:
            noun = "volwassene" if self.other_adults == 1 else "volwassenen"
            parts.append(f"{self.other_adults} andere {noun}")
        return ", ".join(parts)


@dataclass(frozen=True)
class Address:
    """A Dutch address as the BAG knows it: postcode plus house number is unique."""

    postcode: str
    huisnummer: int
    toevoeging: str | None = None

    def describe(self) -> str:
        """'5701 AB 12a', '5701 AB 12-2' or '5701 AB 12 bis', the way residents write it."""
        number = str(self.huisnummer)
        if self.toevoeging:
            if len(self.toevoeging) == 1 and self.toevoeging.isalpha():
                number += self.toevoeging
            elif self.toevoeging.isdigit():
                number += f"-{self.toevoeging}"
            else:
                number += f" {self.toevoeging}"
        return f"{self.postcode} {number}"


@dataclass(frozen=True)
class Moment:
    """When the resident prefers to be contacted.

    ``text`` is what a professional reads ("dinsdag 8 december, na 14:00"): relative words
    such as "morgen" are resolved to absolute dates, because the professional reads the
    summary on another day than the resident wrote it. The structured fields are there for
    scheduling; ``text`` may hold more than they do (for example "niet op woensdag").
    """

    text: str
    day: date | None = None
    after: time | None = None
    before: time | None = None
    part: str | None = None


# --------------------------------------------------------------------------------------------
# Shared machinery
# --------------------------------------------------------------------------------------------


class _Refusal(Exception):
    """An expected refusal carrying the Dutch explanation for the resident."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _safe(example: str) -> Callable[[Callable[P, Parsed[T]]], Callable[P, Parsed[T]]]:
    """Turn refusals into ``Parsed(problem=...)`` and make sure nothing ever escapes.

    The catch-all is deliberate: an unforeseen input must cost the resident one retry, not
    the conversation.
    """

    def decorate(func: Callable[P, Parsed[T]]) -> Callable[P, Parsed[T]]:
        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> Parsed[T]:
            try:
                return func(*args, **kwargs)
            except _Refusal as refusal:
                return Parsed(problem=refusal.message)
            except Exception:
                return Parsed(problem=f"Ik kan dit antwoord niet goed lezen. {example}")

        return wrapper

    return decorate


_HTML_TAG = re.compile(r"<\s*/?\s*[a-z!][^<>]*>", re.IGNORECASE)
_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "‛": "'", "ʼ": "'"})
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "So", "Sk"})


def _clean(text: str) -> str:
    """Normalise Unicode, straighten quotes, drop emoji and control characters, squash spaces.

    Emoji are dropped rather than refused: "500 euro 🙏" is a perfectly good answer.
    """
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    kept = [
        " " if ch.isspace() or unicodedata.category(ch) in _DROPPED_CATEGORIES else ch
        for ch in text
    ]
    return re.sub(r"\s+", " ", "".join(kept)).strip()


def _fold(text: str) -> str:
    """Lowercase without accents, so 'Één', 'één' and 'een' (and 'tweeën') compare equal."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def _prepare(text: object, example: str) -> str:
    """The cleaned message, or a refusal for what no parser should try to read."""
    if not isinstance(text, str):
        raise _Refusal(f"Ik heb geen antwoord gezien. {example}")
    if len(text) > 4 * MAX_LENGTH:  # do not even clean a very long message
        raise _Refusal(f"Uw bericht is te lang voor deze vraag. {example}")
    cleaned = _clean(text)
    if not cleaned:
        raise _Refusal(f"Ik heb geen antwoord gezien. {example}")
    if len(cleaned) > MAX_LENGTH:
        raise _Refusal(f"Uw bericht is te lang voor deze vraag. {example}")
    if _HTML_TAG.search(cleaned):
        raise _Refusal(f"Ik kan dit bericht niet lezen. {example}")
    return cleaned


def _join_nl(items: Sequence[str]) -> str:
    """'4', '4 en 7', '4, 7 en 10': the Dutch way to list."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " en " + items[-1]


def _distance(a: str, b: str, limit: int) -> int:
    """Edit distance with adjacent swaps (optimal string alignment), capped at ``limit + 1``.

    Swaps count as one edit because "feburari" and "dinsdga" are typing slips, not spelling.
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before_previous: list[int] | None = None
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if (
                before_previous is not None
                and j > 1
                and a[i - 1] == b[j - 2]
                and a[i - 2] == b[j - 1]
            ):
                current[j] = min(current[j], before_previous[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before_previous, previous = previous, current
    return previous[len(b)]


def _typo_limit(word: str) -> int:
    """One typo from five letters, two from eight: shorter words are too easily confused."""
    if len(word) >= 8:
        return 2
    if len(word) >= 5:
        return 1
    return 0


def _fuzzy(word: str, vocabulary: Mapping[str, T]) -> T | None:
    """The vocabulary value for ``word``, exact or within the typo limit, if unambiguous."""
    if word in vocabulary:
        return vocabulary[word]
    limit = _typo_limit(word)
    if not limit:
        return None
    best = limit + 1
    values: list[T] = []
    for candidate, value in vocabulary.items():
        if len(candidate) < 5:
            continue
        dist = _distance(word, candidate, limit)
        if dist < best:
            best, values = dist, [value]
        elif dist == best and value not in values:
            values.append(value)
    return values[0] if best <= limit and len(values) == 1 else None


# --------------------------------------------------------------------------------------------
# Dutch numbers written in words
# --------------------------------------------------------------------------------------------

_UNITS = {
    "een": 1,
    "twee": 2,
    "drie": 3,
    "vier": 4,
    "vijf": 5,
    "zes": 6,
    "zeven": 7,
    "acht": 8,
    "negen": 9,
}
_TEENS = {
    "tien": 10,
    "elf": 11,
    "twaalf": 12,
    "dertien": 13,
    "veertien": 14,
    "vijftien": 15,
    "zestien": 16,
    "zeventien": 17,
    "achttien": 18,
    "negentien": 19,
}
_TENS = {
    "twintig": 20,
    "dertig": 30,
    "veertig": 40,
    "vijftig": 50,
    "zestig": 60,
    "zeventig": 70,
    "tachtig": 80,
    "negentig": 90,
}
_HALF = Decimal("0.5")


def _below_100(word: str) -> Decimal | None:
    """1..99 and halves: 'zeven', 'eenentwintig', 'tweeenhalf', 'anderhalf'."""
    for table in (_UNITS, _TEENS, _TENS):
        if word in table:
            return Decimal(table[word])
    if word in ("half", "eenhalf"):
        return _HALF
    if word == "anderhalf":
        return Decimal("1.5")
    if word.endswith("enhalf") and len(word) > 6:
        base = _below_100(word[:-6])
        if base is not None and base == base.to_integral_value():
            return base + _HALF
        return None
    for ten_word, ten in _TENS.items():
        if word.endswith("en" + ten_word):
            unit = _UNITS.get(word[: -len(ten_word) - 2])
            if unit:
                return Decimal(unit + ten)
    return None


def _with_multiplier(
    word: str,
    marker: str,
    factor: int,
    head: Callable[[str], Decimal | None],
    tail: Callable[[str], Decimal | None],
) -> Decimal | None:
    """'<head> marker <tail>', e.g. 'twaalf' 'honderd' 'vijftig'; an empty head means one."""
    if marker not in word:
        return tail(word)
    before, _, after = word.partition(marker)
    multiplier = Decimal(1) if before == "" else head(before)
    if multiplier is None:
        return None
    if after.startswith("en") and after != "en":
        rest = tail(after) if tail(after) is not None else tail(after[2:])
    else:
        rest = Decimal(0) if after == "" else tail(after)
    if rest is None or rest >= factor:
        return None
    return multiplier * factor + rest


def _below_1000(word: str) -> Decimal | None:
    return _with_multiplier(word, "honderd", 100, _below_100, _below_100)


def _below_million(word: str) -> Decimal | None:
    return _with_multiplier(word, "duizend", 1000, _below_1000, _below_1000)


def _number_word(word: str) -> Decimal | None:
    """A whole Dutch number word: 'drieduizendvijfhonderd', 'tweeenhalfduizend', 'nul'.

    ``word`` is folded and written without spaces; 'tweeën' became 'tweeen' when folding.
    """
    if not word or len(word) > 80:
        return None
    if word == "nul":
        return Decimal(0)
    return _with_multiplier(word, "miljoen", 1_000_000, _below_1000, _below_million)


@dataclass(frozen=True)
class _Number:
    """A number found in a message, with where it was, to reason about its neighbours."""

    value: Decimal
    start: int
    end: int
    raw: str


_WORD = re.compile(r"[a-z]+")
_JOINABLE_GAP = re.compile(r"[\s-]*")


def _word_numbers(folded: str) -> list[_Number]:
    """Numbers written in words, longest reading first: 'drie duizend' is one number."""
    tokens = list(_WORD.finditer(folded))
    found: list[_Number] = []
    i = 0
    while i < len(tokens):
        end = i + 1
        while (
            end < len(tokens)
            and end - i < 8
            and _JOINABLE_GAP.fullmatch(folded, tokens[end - 1].end(), tokens[end].start())
        ):
            end += 1
        for j in range(end, i, -1):
            joined = "".join(token.group() for token in tokens[i:j])
            value = _number_word(joined)
            if value is not None:
                start, stop = tokens[i].start(), tokens[j - 1].end()
                found.append(_Number(value, start, stop, folded[start:stop]))
                i = j
                break
        else:
            i += 1
    return found


def _words(text: str) -> frozenset[str]:
    """A word list written as one string: long vocabularies stay readable."""
    return frozenset(text.split())


def _mask(text: str, start: int, end: int) -> str:
    """Blank out a span that has been read, keeping every other position where it was."""
    return text[:start] + " " * (end - start) + text[end:]


# --------------------------------------------------------------------------------------------
# 1. Skipping a question
# --------------------------------------------------------------------------------------------

_SKIP = re.compile(
    r"(?:^|\b)(?:"
    r"(?:ik\s+|dat\s+|k\s+)?w(?:ee|e)?t\s+(?:ik\s+|k\s+)?(?:het\s+|t\s+|dat\s+)?(?:nog\s+)?"
    r"(?:niet|nie|ni|nit|nt)\b"
    r"|weetniet|weetnie|wtnie|idk"
    r"|geen\s+(?:flauw\s+)?(?:idee|id)\b"
    r"|sla\s+(?:deze\s+|die\s+|dit\s+|de\s+|vraag\s+|maar\s+|ik\s+)*over"
    r"|overslaan|skip|skippen|volgende\s+vraag"
    r"|^(?:(?:dat\s+)?(?:doe|vul)\s+ik\s+)?(?:liever\s+|misschien\s+|graag\s+)?later"
    r"(?:\s+(?:invullen|in|doen|graag|aub|hoor))*$"
    r")"
)
_SKIP_MAX_WORDS = 8


def is_skip(text: str) -> bool:
    """True when the resident says they do not know or want to skip this question.

    Only short messages count (at most eight words) and never one with a digit in it:
    "weet ik niet precies, rond de 3000" is an answer, not a skip. "nee" alone is not a
    skip: to a yes/no question it is the answer.
    """
    if not isinstance(text, str) or len(text) > MAX_LENGTH:
        return False
    try:
        folded = _fold(_clean(text))
    except Exception:
        return False
    if not folded or any(ch.isdigit() for ch in folded):
        return False
    words = re.sub(r"[^a-z' ]", " ", folded).split()
    if not words or len(words) > _SKIP_MAX_WORDS:
        return False
    return _SKIP.search(" ".join(words)) is not None


# --------------------------------------------------------------------------------------------
# 2. Date of birth
# --------------------------------------------------------------------------------------------

_DOB_EXAMPLE = "Typ uw geboortedatum als dag-maand-jaar, bijvoorbeeld 15-3-1988."
_MONTHS: dict[str, int] = {name: number for number, name in enumerate(MONTH_NAMES, start=1)}
_MONTH_ABBREVIATIONS = {
    "jan": 1,
    "feb": 2,
    "febr": 2,
    "mrt": 3,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "okt": 10,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_NOT_A_MONTH = frozenset({"maar", "maak", "maakt", "mee", "meer", "mag", "maand"})


def _month(word: str) -> int | None:
    """A month from its name, abbreviation ('mrt', 'sept') or a typo ('febuari').

    'maar' is never a month: it is the most common word that looks like 'maart'.
    """
    word = word.strip(".")
    if word in _NOT_A_MONTH:
        return None
    if word in _MONTHS:
        return _MONTHS[word]
    if word in _MONTH_ABBREVIATIONS:
        return _MONTH_ABBREVIATIONS[word]
    if len(word) >= 3:
        prefixed = {number for name, number in _MONTHS.items() if name.startswith(word)}
        if len(prefixed) == 1:
            return prefixed.pop()
    return _fuzzy(word, _MONTHS)


_NAMED_DATE = re.compile(
    r"(?<!\d)(\d{1,2})(?:(?:e|ste|de)(?=[\s./-]))?\s*[./-]?\s*([a-z]+)\.?\s*[./,-]?\s*'?"
    r"(\d{4}|\d{2})?(?!\d)"
)
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})\s*([-/.])\s*(\d{1,2})\s*\2\s*(\d{1,2})(?!\d)")
_DMY_DATE = re.compile(
    r"(?<![\d.,])(\d{1,2})\s*[-/.\s]\s*(\d{1,2})\s*[-/.\s]\s*(\d{4}|\d{2})(?![\d.,]?\d)"
)
_COMPACT_DATE = re.compile(r"(?<!\d)(\d{8}|\d{6})(?!\d)")
_DAY_MONTH_ONLY = re.compile(r"(?<!\d)(\d{1,2})\s*[-/.]\s*(\d{1,2})(?![\d/.-])")


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _date_parts(folded: str) -> tuple[int, int, str | None]:
    """Day, month and the year as typed (2 or 4 digits, or None), from any usual notation."""
    for match in _NAMED_DATE.finditer(folded):
        month = _month(match.group(2))
        if month:
            return int(match.group(1)), month, match.group(3)
    match = _ISO_DATE.search(folded)
    if match:
        return int(match.group(4)), int(match.group(3)), match.group(1)
    match = _DMY_DATE.search(folded)
    if match:
        return int(match.group(1)), int(match.group(2)), match.group(3)
    match = _COMPACT_DATE.search(folded)
    if match:
        digits = match.group(1)
        day, month, year = int(digits[:2]), int(digits[2:4]), digits[4:]
        as_iso = (int(digits[:4]), int(digits[4:6]), int(digits[6:])) if len(digits) == 8 else None
        if as_iso and not _valid(int(year), month, day) and _valid(*as_iso):
            return as_iso[2], as_iso[1], digits[:4]
        return day, month, year
    if _DAY_MONTH_ONLY.search(folded):
        raise _Refusal(
            "Ik mis het geboortejaar. Typ de dag, de maand en het jaar, bijvoorbeeld 15-3-1988."
        )
    raise _Refusal(f"Ik kan hier geen datum in vinden. {_DOB_EXAMPLE}")


def _valid(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


@_safe(_DOB_EXAMPLE)
def parse_date_of_birth(text: str, today: date) -> Parsed[date]:
    """The resident's date of birth, day first as is usual in the Netherlands.

    Two-digit years take the century that gives an age of 16 to 110 (an adult applicant);
    when neither does, one that gives 0 to 110, so the resident hears the precise reason.
    """
    folded = _fold(_prepare(text, _DOB_EXAMPLE))
    day, month, year_text = _date_parts(folded)
    if year_text is None:
        raise _Refusal(
            "Ik mis het geboortejaar. Typ de dag, de maand en het jaar, bijvoorbeeld 15-3-1988."
        )
    if not 1 <= month <= 12:
        raise _Refusal(
            "Ik kan die datum niet lezen: een jaar heeft 12 maanden. Typ eerst de dag, dan de "
            "maand en dan het jaar, bijvoorbeeld 15-3-1988."
        )
    if len(year_text) == 4:
        years = [int(year_text)]
    else:
        two_digits = int(year_text)
        years = [2000 + two_digits, 1900 + two_digits]
    candidates = [date(year, month, day) for year in years if _valid(year, month, day)]
    if not candidates:
        shown_year = years[-1] if len(years) > 1 else years[0]
        raise _Refusal(
            f"De datum {day} {MONTH_NAMES[month - 1]} {shown_year} bestaat niet. "
            "Kijkt u nog even? Bijvoorbeeld: 15-3-1988."
        )
    born = next(
        (c for c in candidates if c <= today and 16 <= _age(c, today) <= 110),
        next((c for c in candidates if c <= today and _age(c, today) <= 110), candidates[-1]),
    )
    if born > today:
        raise _Refusal(
            "Die datum ligt in de toekomst. Typ uw geboortedatum, bijvoorbeeld 15-3-1988."
        )
    age = _age(born, today)
    if age > 110:
        raise _Refusal(
            "Dan zou u ouder zijn dan 110 jaar. Kijkt u het jaar nog even na? "
            "Bijvoorbeeld: 15-3-1988."
        )
    if age < 16:
        raise _Refusal(
            "Volgens deze datum bent u jonger dan 16 jaar, maar deze aanvraag doet een "
            "volwassene. Typ uw eigen geboortedatum, bijvoorbeeld 15-3-1988, of vraag een "
            "volwassene om hulp."
        )
    return Parsed(born)


# --------------------------------------------------------------------------------------------
# 3. Amounts
# --------------------------------------------------------------------------------------------

_AMOUNT_EXAMPLE = "Typ een bedrag, bijvoorbeeld 450 of € 1.250,50."
_CENT = Decimal("0.01")
_DIGIT_AMOUNT = re.compile(
    r"(?<![\w.,])(?P<num>"
    r"\d{1,3}(?:[ .]\d{3})+(?:,\d{1,2})?(?![\d])"  # Dutch thousands: 1.250,50 / 12 500
    r"|\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?(?!\d)"  # English thousands: 1,250.50
    r"|\d+(?:[.,]\d+)?"  # plain: 1250 / 1250,50 / 2.5
    r")(?P<mult>\s*(?:k|duizend|dzd|mille|miljoen|mln|honderd|ton)(?![a-z]))?"
)
_MULTIPLIERS = {
    "k": 1000,
    "duizend": 1000,
    "dzd": 1000,
    "mille": 1000,
    "honderd": 100,
    "ton": 100_000,
    "miljoen": 1_000_000,
    "mln": 1_000_000,
}
_CURRENCY = re.compile(r"€|\beuro'?s?\b|\beur\b|,-|\.-")
_RANGE_GAP = re.compile(r"\s*(?:en|of|tot|a|-|–|—|/|~|tot\s+max(?:imaal)?|a\s+max)\s*")
_ZERO_WORDS = re.compile(r"\b(?:geen|niets|niks|nul|nihil|helemaal\s+niets)\b")


def _digits_to_decimal(raw: str) -> Decimal:
    """Read '1.250,50', '1,250.50', '1250', '2,5' and '2.5' the way the resident meant.

    A comma or dot followed by exactly three digits ('1.250', '1,250') groups thousands: no
    one writes euros with three decimals. One or two digits after it are cents.
    """
    compact = raw.replace(" ", "")
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?", compact):
        compact = compact.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?", compact):
        compact = compact.replace(",", "")
    else:
        compact = compact.replace(",", ".")
    return Decimal(compact)


def _amounts(folded: str, with_currency: str) -> tuple[list[_Number], list[int]]:
    """All amounts in a message, and the start positions of those with a minus sign.

    ``folded`` has currency words blanked out; ``with_currency`` is the same text with them,
    position for position.
    """
    numbers: list[_Number] = []
    negative: list[int] = []
    masked = folded
    for match in _DIGIT_AMOUNT.finditer(folded):
        try:
            value = _digits_to_decimal(match.group("num"))
        except InvalidOperation:
            continue
        multiplier = match.group("mult")
        if multiplier:
            value *= _MULTIPLIERS[multiplier.strip()]
        numbers.append(_Number(value, match.start(), match.end(), match.group()))
        masked = _mask(masked, match.start(), match.end())
        before = folded[: match.start()].rstrip()
        minus_sign = before.endswith("-") and not before[:-1].rstrip()[-1:].isdigit()
        if minus_sign or re.search(r"\bminus$", before):
            negative.append(match.start())
    words = _word_numbers(masked)
    numbers.extend(words)
    if len(numbers) > 1:  # 'een' and 'half' are articles more often than amounts
        numbers = [n for n in numbers if n.raw not in ("een", "half")] or numbers
    numbers.sort(key=lambda n: n.start)
    return _joined(numbers, folded, with_currency), negative


def _joined(numbers: list[_Number], blanked: str, with_currency: str) -> list[_Number]:
    """Join the parts of one amount: '2 duizend 500', 'dertien euro vijftig' (13.50)."""
    joined: list[_Number] = []
    for number in numbers:
        last = joined[-1] if joined else None
        if last is not None and not blanked[last.end : number.start].strip():
            value: Decimal | None = None
            unit = next((u for u in (1_000_000, 1000) if last.value >= u), 0)
            is_whole = number.value == number.value.to_integral_value()
            if unit and last.value % unit == 0 and number.value < unit and is_whole:
                value = last.value + number.value
            elif (
                re.fullmatch(r"\s*(?:€|euro|eur)\s*", with_currency[last.end : number.start])
                and last.value == last.value.to_integral_value()
                and is_whole
                and number.value < 100
            ):
                value = last.value + number.value / 100
            if value is not None:
                raw = with_currency[last.start : number.end]
                joined[-1] = _Number(value, last.start, number.end, raw)
                continue
        joined.append(number)
    return joined


def _is_range(folded: str, first: _Number, second: _Number) -> bool:
    """'2000-3000', '2000 of 3000', 'tussen 2000 en 3000'; but '500 en 300' is two amounts."""
    gap = folded[first.end : second.start]
    if not _RANGE_GAP.fullmatch(gap):
        return False
    return gap.strip() != "en" or bool(re.search(r"\btussen\s*$", folded[: first.start]))


@_safe(_AMOUNT_EXAMPLE)
def parse_amount(text: str) -> Parsed[Decimal]:
    """An amount in euros, rounded to cents.

    A range ('tussen 2000 en 3000', '2000-3000', '2000 of 3000') gives the higher amount:
    these questions are mostly about debts and costs, where underestimating hurts the
    resident more than overestimating, and a professional checks the figure anyway. Two
    amounts that are not a range ('1500 loon en 200 toeslag') are refused: adding or choosing
    would be a guess. 'geen' / 'niets' / 'nul' without a number is 0.
    """
    cleaned = _prepare(text, _AMOUNT_EXAMPLE)
    if is_skip(cleaned):
        raise _Refusal(
            f"Geen probleem als u het niet precies weet: een schatting mag ook. {_AMOUNT_EXAMPLE}"
        )
    with_currency = _fold(cleaned)
    folded = _CURRENCY.sub(lambda m: " " * len(m.group()), with_currency)
    numbers, negative = _amounts(folded, with_currency)
    if not numbers:
        if _ZERO_WORDS.search(folded):
            return Parsed(Decimal("0.00"))
        raise _Refusal(f"Ik kan hier geen bedrag in vinden. {_AMOUNT_EXAMPLE}")
    if negative:
        raise _Refusal(
            "Een bedrag kan hier niet negatief zijn. Typ het bedrag zonder min-teken, "
            "bijvoorbeeld 450."
        )
    values = {n.value for n in numbers}
    pairs = itertools.pairwise(numbers)
    if len(values) > 1 and not all(_is_range(folded, a, b) for a, b in pairs):
        raise _Refusal(
            "Ik zie meer dan één bedrag. Typ één bedrag, bijvoorbeeld 450 of € 1.250,50."
        )
    value = max(values)
    if value > MAX_AMOUNT:
        raise _Refusal(f"Dat bedrag is erg hoog. Kijkt u het nog even na? {_AMOUNT_EXAMPLE}")
    return Parsed(value.quantize(_CENT, rounding=ROUND_HALF_UP))


# --------------------------------------------------------------------------------------------
# 4. Counts
# --------------------------------------------------------------------------------------------

_COUNT_EXAMPLE = "Typ een aantal, bijvoorbeeld 2 of 'geen'."
_COUNT_ZERO = re.compile(r"\b(?:geen|nul|niets|niks|geen\s+een)\b")


@_safe(_COUNT_EXAMPLE)
def parse_count(text: str) -> Parsed[int]:
    """A whole number of things: '2', 'twee', 'geen', '3 kinderen', 'drie stuks'.

    'een' counts as 1 only when no other number is given ('een stuk of drie' is 3). Two
    different numbers ('2 of 3') are refused: a count is one number. At most 99.
    """
    cleaned = _prepare(text, _COUNT_EXAMPLE)
    if is_skip(cleaned):
        raise _Refusal(
            f"Geen probleem als u het niet precies weet: een schatting mag ook. {_COUNT_EXAMPLE}"
        )
    folded = _fold(cleaned)
    if re.search(r"(?:^|[^\d\s])\s*-\s*\d|\bminus\b", folded):
        raise _Refusal(f"Een aantal kan niet negatief zijn. {_COUNT_EXAMPLE}")
    if re.search(r"\d[.,]\d", folded):
        raise _Refusal("Typ een heel getal, bijvoorbeeld 2.")
    numbers: list[_Number] = []
    masked = folded
    for match in re.finditer(r"(?<![\w])\d+(?!\d)", folded):
        numbers.append(_Number(Decimal(match.group()), match.start(), match.end(), match.group()))
        masked = _mask(masked, match.start(), match.end())
    numbers.extend(_word_numbers(masked))
    if len(numbers) > 1:
        numbers = [n for n in numbers if n.raw not in ("een", "half")] or numbers
    values = {n.value for n in numbers}
    if not values:
        if _COUNT_ZERO.search(folded):
            return Parsed(0)
        raise _Refusal(f"Ik kan hier geen aantal in vinden. {_COUNT_EXAMPLE}")
    if len(values) > 1:
        raise _Refusal("Ik zie meer dan één getal. Typ één aantal, bijvoorbeeld 2.")
    value = values.pop()
    if value != value.to_integral_value():
        raise _Refusal("Typ een heel getal, bijvoorbeeld 2.")
    if value > MAX_COUNT:
        raise _Refusal(f"Dat aantal is erg hoog. Kijkt u het nog even na? {_COUNT_EXAMPLE}")
    return Parsed(int(value))


# --------------------------------------------------------------------------------------------
# 5. Household
# --------------------------------------------------------------------------------------------

_HOUSEHOLD_EXAMPLE = "Bijvoorbeeld: 'alleen', 'met mijn partner' of 'met twee kinderen van 4 en 7'."
_CHILD_SINGULAR = _words(
    """
    kind kindje kid zoon zoontje dochter dochtertje baby babytje pleegkind stiefkind
    stiefzoon stiefdochter
    """
)
_CHILD_PLURAL = _words(
    """
    kinderen kindjes kids zonen zoons zoontjes dochters dochtertjes babys pleegkinderen
    stiefkinderen
    """
)
_CHILD_TYPOS = {"kinderen": "kinderen", "dochters": "dochters", "dochter": "dochter"}
_TWINS = frozenset({"tweeling", "tweelingen"})
_PARTNER_NOUNS = _words(
    """
    man vrouw vriend vriendin echtgenoot echtgenote verloofde partner vriendje
    vriendinnetje husband wife
    """
)
_PARTNER_ALWAYS = frozenset({"partner", "echtgenoot", "echtgenote", "verloofde"})
_PARTNER_STATUS = _words(
    """
    getrouwd gehuwd samenwonend samenwonende samenwonen samenwoning partnerschap
    samenlevingscontract
    """
)
_ADULTS_NEEDING_POSSESSIVE = {
    "moeder": 1,
    "vader": 1,
    "mama": 1,
    "papa": 1,
    "ma": 1,
    "pa": 1,
    "ouders": 2,
    "oma": 1,
    "opa": 1,
    "grootouders": 2,
    "broer": 1,
    "broers": 2,
    "zus": 1,
    "zussen": 2,
    "zuster": 1,
    "zusters": 2,
    "tante": 1,
    "oom": 1,
    "neef": 1,
    "nicht": 1,
    "schoonmoeder": 1,
    "schoonvader": 1,
    "schoonouders": 2,
}
_ADULTS_ALWAYS = {
    "huisgenoot": 1,
    "huisgenoten": 2,
    "kamergenoot": 1,
    "kamergenoten": 2,
    "medebewoner": 1,
    "medebewoners": 2,
    "onderhuurder": 1,
    "vrienden": 2,
    "volwassene": 1,
    "volwassenen": 2,
}
_POSSESSIVES = frozenset({"mijn", "me", "onze", "ons", "haar", "zijn", "met", "en", "bij", "de"})
_ADJECTIVES = _words(
    """
    kleine jonge thuiswonende minderjarige eigen lieve schoolgaande jongere oudere pleeg
    """
)
_STRONG_ALONE = frozenset({"alleenstaand", "alleenstaande", "single", "vrijgezel"})
_WEAK_ALONE = frozenset({"gescheiden", "weduwe", "weduwnaar"})
_NEGATIONS = frozenset({"geen", "zonder"})
_MONTH_UNITS = frozenset({"maand", "maanden", "mnd", "maandjes", "week", "weken", "weekjes"})
_SELF = frozenset({"ik", "wij", "we"})


@dataclass
class _HouseholdState:
    """What has been read so far while walking through the message word by word."""

    partner: bool = False
    no_partner: bool = False
    strong_alone: bool = False
    no_children: bool = False
    child_counts: list[int | None] = field(default_factory=list)  # None: 'kinderen', unknown
    ages: list[int] = field(default_factory=list)
    other_adults: int = 0
    recognised: bool = False


def _household_tokens(folded: str) -> list[tuple[str, Decimal | None]]:
    """Words and numbers in order; a number written in words becomes one numeric token."""
    folded = re.sub(r"\bm'?n\b", "mijn", folded)
    folded = re.sub(r"\bz'?n\b", "zijn", folded)
    folded = re.sub(r"\bbaby'?s\b", "babys", folded)
    folded = folded.replace("'s", " ")
    items: list[tuple[int, str, Decimal | None]] = []
    masked = folded
    for match in re.finditer(r"(?<![\w])\d{1,3}(?!\d)", folded):
        items.append((match.start(), match.group(), Decimal(match.group())))
        masked = _mask(masked, match.start(), match.end())
    word_numbers = _word_numbers(masked)
    for number in word_numbers:
        if number.value == number.value.to_integral_value():
            items.append((number.start, number.raw, number.value))
            masked = _mask(masked, number.start, number.end)
    for match in _WORD.finditer(masked):
        items.append((match.start(), match.group(), None))
    items.sort(key=lambda item: item[0])
    return [(word, value) for _, word, value in items]


def _child_noun(word: str) -> str | None:
    """'singular', 'plural' or 'twins' for a word naming children, tolerating typos."""
    if word in _CHILD_SINGULAR:
        return "singular"
    if word in _CHILD_PLURAL:
        return "plural"
    if word in _TWINS:
        return "twins"
    typo = _fuzzy(word, _CHILD_TYPOS) if len(word) >= 6 else None
    if typo == "dochter":
        return "singular"
    return "plural" if typo else None


@_safe(_HOUSEHOLD_EXAMPLE)
def parse_household(text: str) -> Parsed[Household]:
    """Partner, children (with ages when given) and other adults in the resident's home.

    The message is read word by word. A number right before a noun counts that noun ('2
    kinderen'); other numbers are ages of whoever was named last ('een zoon van 12', 'kinderen
    (8, 11 en 15)'), so 'ik ben 45' or 'mijn moeder van 70' never become a child's age.
    'moeder' or 'vader' count as another adult only with 'mijn', 'met' and the like: in
    'alleenstaande moeder' the resident means herself. Unnamed ages ('baby') are 0.
    """
    folded = _fold(_prepare(text, _HOUSEHOLD_EXAMPLE))
    tokens = _household_tokens(folded)
    state = _HouseholdState()
    used_numbers: set[int] = set()

    def preceding_number(index: int) -> int | None:
        """Index of a count right before the noun at ``index`` (one adjective may sit between)."""
        k = index - 1
        if k >= 0 and tokens[k][1] is None and tokens[k][0] in _ADJECTIVES:
            k -= 1
        if k >= 0 and tokens[k][1] is not None and k not in used_numbers:
            return k
        return None

    def negated(index: int) -> bool:
        """'geen kinderen', 'zonder partner', 'nog geen eigen kinderen'; not '2 kinderen'."""
        for k in range(index - 1, max(-1, index - 4), -1):
            word, number = tokens[k]
            if word in _NEGATIONS:
                return True
            if number is not None or (word not in _ADJECTIVES and word not in ("nog", "wel")):
                return False
        return False

    for index, (word, number) in enumerate(tokens):
        if number is not None:
            continue
        previous = tokens[index - 1][0] if index else ""
        following = tokens[index + 1][0] if index + 1 < len(tokens) else ""
        kind = _child_noun(word)
        if kind:
            state.recognised = True
            if negated(index):
                state.no_children = True
                continue
            count_index = preceding_number(index)
            if count_index is not None:
                used_numbers.add(count_index)
                value = tokens[count_index][1]
                assert value is not None
                state.child_counts.append(int(value) * (2 if kind == "twins" else 1))
            elif kind == "twins":
                state.child_counts.append(2)
            elif kind == "singular":
                state.child_counts.append(1)
            else:
                state.child_counts.append(None)
            if word.startswith("baby") and not (
                following == "van" and index + 2 < len(tokens) and tokens[index + 2][1] is not None
            ):
                state.ages.append(0)
            continue
        if word in _PARTNER_NOUNS:
            count_index = preceding_number(index)
            if count_index is not None:
                used_numbers.add(count_index)
            state.recognised = True
            if negated(index):
                state.no_partner = True
            elif word in ("vriend", "vriendin") and previous in ("een", "goede"):
                state.other_adults += 1
            elif word in _PARTNER_ALWAYS or previous in _POSSESSIVES:
                state.partner = True
            continue
        if word in _PARTNER_STATUS:
            state.recognised = True
            if previous not in ("niet", "nooit"):
                state.partner = True
            continue
        if word in _ADULTS_ALWAYS or word in _ADULTS_NEEDING_POSSESSIVE:
            count_index = preceding_number(index)
            if (
                word in _ADULTS_NEEDING_POSSESSIVE
                and previous not in _POSSESSIVES
                and count_index is None
            ):
                continue  # 'alleenstaande moeder': the resident herself
            state.recognised = True
            if count_index is not None:
                used_numbers.add(count_index)
                value = tokens[count_index][1]
                assert value is not None
                state.other_adults += int(value)
            else:
                state.other_adults += {**_ADULTS_ALWAYS, **_ADULTS_NEEDING_POSSESSIVE}[word]
            continue
        if word == "alleen":
            state.recognised = True
            if following != "met":
                state.strong_alone = True
            continue
        if word in _STRONG_ALONE:
            state.recognised = True
            state.strong_alone = True
            continue
        if word in _WEAK_ALONE:  # implies no partner, but a new partner may follow
            state.recognised = True

    # Second pass: ages, now that the counts are known. A number belongs to whoever was
    # named last; only numbers after a child noun are children's ages.
    subject: str | None = None
    for index, (word, number) in enumerate(tokens):
        if number is None:
            if _child_noun(word) and not negated(index):
                subject = "twins" if _child_noun(word) == "twins" else "child"
            elif (
                word in _PARTNER_NOUNS
                or word in _ADULTS_ALWAYS
                or word in _ADULTS_NEEDING_POSSESSIVE
                or word in _SELF
            ):
                subject = "other"
            continue
        if index in used_numbers or subject not in ("child", "twins"):
            continue
        following = tokens[index + 1][0] if index + 1 < len(tokens) else ""
        age = 0 if following in _MONTH_UNITS else int(number)
        if number != number.to_integral_value() or not 0 <= age <= MAX_CHILD_AGE:
            raise _Refusal(
                f"Ik lees bij de kinderen een leeftijd van {number.normalize():f} jaar. Klopt "
                f"dat? {_HOUSEHOLD_EXAMPLE}"
            )
        # 'baby' already gave age 0; 'baby van 6 maanden' did not, so no double count.
        # 'een tweeling van 3' is two children of 3.
        state.ages.extend([age, age] if subject == "twins" else [age])

    if not state.recognised:
        raise _Refusal(f"Ik begrijp nog niet wie er bij u wonen. {_HOUSEHOLD_EXAMPLE}")
    if state.strong_alone and state.partner:
        raise _Refusal(
            "U schrijft dat u alleen woont, maar ook dat u een partner heeft. Wat klopt er? "
            f"{_HOUSEHOLD_EXAMPLE}"
        )
    if state.no_partner and state.partner:
        raise _Refusal(
            f"Ik weet niet zeker of u een partner heeft. Kunt u het nog een keer typen? "
            f"{_HOUSEHOLD_EXAMPLE}"
        )
    counts = state.child_counts
    ages = tuple(state.ages)
    if None in counts:
        known = sum(c for c in counts if c is not None)
        if len(ages) <= known:
            raise _Refusal(
                "Hoeveel kinderen wonen er bij u? Bijvoorbeeld: 'met twee kinderen van 4 en 7'."
            )
        children = len(ages)
    else:
        children = sum(c for c in counts if c is not None)
    if children and state.no_children:
        raise _Refusal(
            "Ik weet niet zeker of er kinderen bij u wonen. Kunt u het nog een keer typen? "
            f"{_HOUSEHOLD_EXAMPLE}"
        )
    if len(ages) > children:
        raise _Refusal(
            f"U noemt {children} {'kind' if children == 1 else 'kinderen'}, maar ik lees "
            f"{len(ages)} leeftijden. Wat klopt er? {_HOUSEHOLD_EXAMPLE}"
        )
    if children > MAX_CHILDREN:
        raise _Refusal(
            f"Dat zijn veel kinderen. Kijkt u het aantal nog even na? {_HOUSEHOLD_EXAMPLE}"
        )
    if state.other_adults > MAX_CHILDREN:  # the handover API takes 0..20 other adults
        raise _Refusal(
            f"Dat zijn veel mensen in één huis. Kijkt u het aantal nog even na? "
            f"{_HOUSEHOLD_EXAMPLE}"
        )
    return Parsed(
        Household(
            partner=state.partner,
            children_ages=ages,
            children=children,
            other_adults=state.other_adults,
        )
    )


# --------------------------------------------------------------------------------------------
# 6. Address
# --------------------------------------------------------------------------------------------

_ADDRESS_EXAMPLE = "Typ uw postcode en huisnummer, bijvoorbeeld 5701 AB 12."
_POSTCODE_FORM = (
    "Een postcode heeft 4 cijfers en 2 letters. Typ uw postcode en huisnummer, "
    "bijvoorbeeld 5701 AB 12."
)
_POSTCODE = re.compile(r"(?<![a-z0-9])(\d{4})\s?-?\s?([a-z]{2})(?![a-z])")
_FOUR_DIGITS = re.compile(r"(?<!\d)\d{4}(?!\d)")
_HOUSE_NUMBER = re.compile(
    r"(?<![\d,.])(?P<nr>\d{1,5})(?!\d)"
    r"(?:\s*[-/]\s*(?P<dash>[a-z0-9]{1,4})(?![a-z0-9])"
    r"|\s?(?P<letter>[a-z])(?![a-z0-9'])"
    r"|\s+(?P<word>bis|hs|bg|zw|rd|ii|iii|iv|huis|boven|beneden)(?![a-z]))?"
)
_HOUSE_NUMBER_KEYWORD = re.compile(r"(?:huis)?(?:nummer|nr|no)\.?\s*:?\s*$")
_NEVER_POSTCODE_LETTERS = frozenset({"sa", "sd", "ss"})


@_safe(_ADDRESS_EXAMPLE)
def parse_address(text: str) -> Parsed[Address]:
    """Postcode and house number (with toevoeging), in any order and spacing.

    A street name is not needed: postcode plus house number identify the address. The
    toevoeging is kept lowercase as typed ('a', '2', 'bis').
    """
    folded = _fold(_prepare(text, _ADDRESS_EXAMPLE))
    candidates = list(_POSTCODE.finditer(folded))
    valid = [
        match
        for match in candidates
        if not match.group(1).startswith("0") and match.group(2) not in _NEVER_POSTCODE_LETTERS
    ]
    if not valid:
        if candidates or _FOUR_DIGITS.search(folded):
            raise _Refusal(_POSTCODE_FORM)
        raise _Refusal(f"Ik kan hier geen postcode in vinden. {_POSTCODE_FORM}")
    postcode_match = valid[0]
    postcode = f"{postcode_match.group(1)} {postcode_match.group(2).upper()}"
    rest = _mask(folded, postcode_match.start(), postcode_match.end())
    numbers = list(_HOUSE_NUMBER.finditer(rest))
    if not numbers:
        raise _Refusal(
            f"Ik heb uw postcode ({postcode}). Wat is uw huisnummer? "
            f"Typ bijvoorbeeld: {postcode} 12."
        )
    chosen = next(
        (m for m in numbers if _HOUSE_NUMBER_KEYWORD.search(rest[: m.start()])),
        next((m for m in numbers if m.start() > postcode_match.start()), numbers[0]),
    )
    huisnummer = int(chosen.group("nr"))
    if huisnummer == 0:
        raise _Refusal(f"Huisnummer 0 bestaat niet. {_ADDRESS_EXAMPLE}")
    toevoeging = chosen.group("dash") or chosen.group("letter") or chosen.group("word")
    if toevoeging in ("ii", "iii", "iv"):
        toevoeging = toevoeging.upper()  # a floor in Roman numerals: '12 III'
    return Parsed(Address(postcode, huisnummer, toevoeging))


# --------------------------------------------------------------------------------------------
# 7. Name
# --------------------------------------------------------------------------------------------

_NAME_EXAMPLE = "Typ uw naam, bijvoorbeeld: Jan de Vries."
_NAME_PREFIX = re.compile(
    r"^(?:(?:hoi|hallo|hey|hee|hai|goedemorgen|goedemiddag|goedenavond|dag|beste)\b[\s,!.]*)?"
    r"(?:(?:meneer|mevrouw|mevr|mw|dhr|mr|mvr)\b\.?\s*)?"
    r"(?:(?:ik\s+ben|ik\s+heet|ik\s+heb\s+de\s+naam|mijn\s+naam\s+is|m'?n\s+naam\s+is|"
    r"naam\s+is|mijn\s+naam|naam|dit\s+is|het\s+is|u\s+spreekt\s+met|je\s+spreekt\s+met|"
    r"met)\b[\s:,]*)?",
    re.IGNORECASE,
)
_NAME_SUFFIX = re.compile(r"[\s,.!]*(?:\b(?:hoor|dus|toch|ok|oke)\b)?[\s,.!]*$", re.IGNORECASE)
_TUSSENVOEGSELS = _words(
    """
    van de der den des het 't 's ter ten te el al la le du da di dos das del della von vom
    zu op in uit aan bij onder voor tot
    """
)
_NOT_NAMES = _words(
    """
    nee neen ja jawel waarom hoezo wat wie geen niet nie weet idee liever zeg anoniem ok
    oke okay prima hallo hoi doei help stop dank bedankt later skip sorry naam mijn ik jij
    u is heet hoe zo test onbekend nvt
    """
)
_NAME_CHARACTERS = re.compile(r"[^\W\d_]|[\s'.-]")


def _capitalise_word(word: str, first: bool) -> str:
    """'piet' -> 'Piet', 'anne-marie' -> 'Anne-Marie', 'VRIES' -> 'Vries', 'McDonald' kept.

    Tussenvoegsels stay lowercase except as the first word ('Van der Berg' without a given
    name), the Dutch rule.
    """
    lowered = word.lower()
    if lowered in ("'t", "'s") or (not first and _fold(lowered) in _TUSSENVOEGSELS):
        return lowered
    parts = re.split(r"(-)", word)
    result = []
    for index, part in enumerate(parts):
        if not part or part == "-":
            result.append(part)
            continue
        if index == 0 and len(parts) > 1 and not first and _fold(part.lower()) in ("el", "al"):
            result.append(part.lower())  # 'el-Khatib', 'al-Amin'
            continue
        if part.islower() or (part.isupper() and len(part) > 1):
            part = part.lower()
        result.append(part[0].upper() + part[1:])
    return "".join(result)


@_safe(_NAME_EXAMPLE)
def parse_name(text: str) -> Parsed[str]:
    """The resident's name with Dutch capitalisation; a first name alone is enough.

    Digits are refused outright: a phone number or BSN typed here must not be stored as a
    name. So are answers that are clearly not a name ('nee', 'waarom?', 'weet ik niet').
    """
    cleaned = _prepare(text, _NAME_EXAMPLE)
    if any(ch.isdigit() for ch in cleaned):
        raise _Refusal(
            "Typ hier alleen uw naam, zonder cijfers. Uw telefoonnummer of BSN is hier niet "
            "nodig. Bijvoorbeeld: Jan de Vries."
        )
    if is_skip(cleaned):
        raise _Refusal(f"Ik heb uw naam nodig om de aanvraag te kunnen doen. {_NAME_EXAMPLE}")
    name = _NAME_PREFIX.sub("", cleaned, count=1)
    name = _NAME_SUFFIX.sub("", name, count=1).strip(" \"'")
    if not name or any(not _NAME_CHARACTERS.fullmatch(ch) for ch in name):
        raise _Refusal(f"Ik kan hier geen naam in lezen. {_NAME_EXAMPLE}")
    words = name.split()
    if len(words) > 6:
        raise _Refusal(f"Dat lijkt meer dan een naam. {_NAME_EXAMPLE}")
    letters = sum(ch.isalpha() for ch in name)
    folded_words = [_fold(word).strip(".-'") for word in words]
    if letters < 2 or any(word in _NOT_NAMES for word in folded_words):
        raise _Refusal(f"Ik kan hier geen naam in lezen. {_NAME_EXAMPLE}")
    if all(word in _TUSSENVOEGSELS for word in folded_words):
        raise _Refusal(f"Ik kan hier geen naam in lezen. {_NAME_EXAMPLE}")
    return Parsed(" ".join(_capitalise_word(word, first=i == 0) for i, word in enumerate(words)))


# --------------------------------------------------------------------------------------------
# 8. Contact moment
# --------------------------------------------------------------------------------------------

_MOMENT_EXAMPLE = "Bijvoorbeeld: 'morgen na 14 uur' of 'maandagochtend'."
_WEEKDAYS = WEEKDAY_NAMES
_WEEKDAY_NUMBERS = {name: number for number, name in enumerate(_WEEKDAYS)}
_PARTS = {
    "ochtend": "ochtend",
    "ochtends": "ochtend",
    "morgens": "ochtend",
    "voormiddag": "ochtend",
    "middag": "middag",
    "middags": "middag",
    "namiddag": "middag",
    "avond": "avond",
    "avonds": "avond",
}
_RELATIVE_DAYS: dict[str, tuple[int, str | None]] = {
    "vandaag": (0, None),
    "vanochtend": (0, "ochtend"),
    "vanmorgen": (0, "ochtend"),
    "vanmiddag": (0, "middag"),
    "vanavond": (0, "avond"),
    "morgen": (1, None),
    "morgenochtend": (1, "ochtend"),
    "morgenvroeg": (1, "ochtend"),
    "morgenmiddag": (1, "middag"),
    "morgenavond": (1, "avond"),
    "overmorgen": (2, None),
}
_HOUR_WORDS = dict(_UNITS) | {
    "tien": 10,
    "elf": 11,
    "twaalf": 12,
}
_HOUR_WORDS_EN = {
    "enen": 1,
    "tweeen": 2,
    "drieen": 3,
    "vieren": 4,
    "vijven": 5,
    "zessen": 6,
    "zevenen": 7,
    "achten": 8,
    "negenen": 9,
    "tienen": 10,
    "elven": 11,
    "twaalven": 12,
}
_HOUR_ALTERNATIVES = "|".join(sorted([*_HOUR_WORDS, *_HOUR_WORDS_EN], key=len, reverse=True))


def _time_pattern(p: str) -> str:
    """A clock time: '14', '14:30', '14.30', '14u30', 'half 4', 'kwart over 3', 'twee uur'."""
    return (
        rf"(?:(?P<{p}mod>half|kwart\s+over|kwart\s+voor)\s+)?"
        rf"(?P<{p}h>\d{{1,2}}(?!\d)|(?:{_HOUR_ALTERNATIVES})(?![a-z]))"
        rf"(?:(?:[:.]|u|h)(?P<{p}m>\d{{2}})(?!\d))?"
        rf"(?P<{p}uur>\s*(?:uur|u)(?![a-z]))?"
    )


_ANYTIME = re.compile(
    r"\b(?:altijd|maakt\s+(?:me\s+|mij\s+|ons\s+)?(?:niet|niets|niks|geen\s+bal)\s+uit|"
    r"(?:de\s+)?hele\s+dag|om\s+het\s+even|geen\s+voorkeur|"
    r"wanneer\s+(?:u|jullie|je)\s+(?:wil|wilt|willen)|alles\s+(?:is\s+)?goed|elk\s+moment|"
    r"iedere\s+dag|elke\s+dag|alle\s+dagen|boeit\s+(?:me\s+)?niet|maakt\s+niet\s+uit|"
    r"24\s*(?:uur\s*)?(?:per\s+dag|/\s*7)|dag\s+en\s+nacht)\b"
)
_ASAP = re.compile(r"\b(?:zo\s+snel\s+mogelijk|zsm|z\.s\.m|asap|meteen|zo\s+vroeg\s+mogelijk)\b")
_NEGATED_MOMENT = re.compile(
    r"\b(?:liever\s+)?(?:niet|geen|nooit|behalve)\s+(?:op\s+(?:een\s+)?|in\s+de\s+|'s\s+|de\s+)?"
    r"([a-z]+)"
)
_MORE_NEGATED = re.compile(r"\s*(?:,|of|en|en\s+ook\s+niet)\s*(?:op\s+|'s\s+|de\s+)?([a-z]+)")
_NEGATED_AFTER = re.compile(
    r"\b([a-z]{6,})\s+(?:(?:kan|past|lukt|gaat)\s+(?:ik\s+|me\s+|mij\s+|het\s+)?)?niet\b"
)
_MORNING_PHRASE = re.compile(r"\bvoor\s+(?:de\s+middag|de\s+lunch|het\s+middaguur)\b")
_NEXT_WEEK = re.compile(r"\b(?:volgende|komende|aankomende)\s+week\b|\bweek\s+erna\b")
_EXPLICIT_DATE = re.compile(r"(?<![\d:.])(\d{1,2})(?:e|ste|de)?\s*([a-z]{3,})\.?")
_SLASH_DATE = re.compile(r"(?<![\d:./])(\d{1,2})/(\d{1,2})(?![\d/])")
_TIME_RANGE = re.compile(
    rf"(?:\btussen|\bvan(?:af)?)\s+{_time_pattern('a')}\s*(?:en|tot|-)\s*{_time_pattern('b')}"
    rf"|(?<![\d/.:]){_time_pattern('a2')}\s*-\s*{_time_pattern('b2')}"
)
_TIME_AFTER = re.compile(
    rf"\b(?:na|vanaf|niet\s+voor|niet\s+eerder\s+dan|pas\s+na|later\s+dan)\s+{_time_pattern('a')}"
)
_TIME_BEFORE = re.compile(
    rf"(?<!kwart )\b(?:voor|tot|uiterlijk|niet\s+na|niet\s+later\s+dan)\s+{_time_pattern('a')}"
)
_TIME_AT = re.compile(rf"\b(?:om|rond|tegen|ongeveer|rond\s+de)\s+{_time_pattern('a')}")
_TIME_BARE = re.compile(rf"(?<![\d/.:]){_time_pattern('a')}")


@dataclass(frozen=True)
class _Clock:
    """A time as the resident wrote it, before morning/afternoon is decided."""

    hour: int
    minute: int
    explicit_24h: bool


def _clock(match: re.Match[str], p: str) -> _Clock | None:
    """The clock time in groups prefixed ``p``, or None when it is not a time of day."""
    hour_text = match.group(f"{p}h")
    if hour_text is None:
        return None
    modifier = match.group(f"{p}mod")
    minute_text = match.group(f"{p}m")
    if hour_text.isdigit():
        hour = int(hour_text)
    else:
        if hour_text == "een" and not match.group(f"{p}uur"):
            return None  # 'na een uurtje', 'voor een afspraak': an article, not one o'clock
        hour = _HOUR_WORDS.get(hour_text) or _HOUR_WORDS_EN[hour_text]
    minute = int(minute_text) if minute_text else 0
    if hour > 23 or minute > 59:
        return None
    explicit = hour >= 13 or hour == 0 or (hour_text.isdigit() and hour_text.startswith("0"))
    if modifier:
        if not 1 <= hour <= 12 or minute_text:
            return None
        modifier = " ".join(modifier.split())
        if modifier == "half":
            hour, minute = hour - 1, 30
        elif modifier == "kwart over":
            minute = 15
        else:
            hour, minute = hour - 1, 45
        if hour == 0:
            hour = 12
    return _Clock(hour, minute, explicit)


def _resolve(clock: _Clock, part: str | None, night: bool) -> time:
    """Decide morning or afternoon for a 12-hour time.

    Hours 1 to 6 are read as afternoon unless the resident says 'ochtend' or "'s nachts":
    nobody asks to be phoned at 2 in the night, while "na 2 uur" for 14:00 is everyday Dutch.
    With 'avond' (or 'middag' for 1 to 6) a 12-hour time moves to the afternoon or evening.
    """
    hour = clock.hour
    afternoon = part == "avond" or (1 <= hour <= 6 and part != "ochtend" and not night)
    if not clock.explicit_24h and hour < 12 and afternoon:
        hour += 12
    return time(hour, clock.minute)


def _format_time(value: time) -> str:
    return f"{value.hour}:{value.minute:02d}"


def _format_day(day: date, today: date) -> str:
    """'dinsdag 8 december'; with the year only when it is not this year's."""
    year = "" if day.year == today.year else f" {day.year}"
    return f"{_WEEKDAYS[day.weekday()]} {day.day} {MONTH_NAMES[day.month - 1]}{year}"


def _weekday(word: str) -> tuple[int, str | None] | None:
    """A weekday with an optional part of day: 'dinsdag', 'dinsdags', 'maandagochtend'."""
    for name, number in _WEEKDAY_NUMBERS.items():
        if word.startswith(name) and len(word) > len(name):
            rest = word[len(name) :]
            if rest == "s":
                return number, None
            if rest in _PARTS or rest == "morgen":
                return number, _PARTS.get(rest, "ochtend")
    if word.endswith("s") and word[:-1] in _WEEKDAY_NUMBERS:
        return _WEEKDAY_NUMBERS[word[:-1]], None
    number = _fuzzy(word, _WEEKDAY_NUMBERS)
    return (number, None) if number is not None else None


@_safe(_MOMENT_EXAMPLE)
def parse_moment(text: str, now: datetime) -> Parsed[Moment]:
    """When the resident prefers to be contacted, with relative days made absolute.

    A weekday means its next occurrence; the same weekday as today means next week (someone
    who means today says 'vandaag'). 'volgende week dinsdag' is the Tuesday of next calendar
    week. Times already past today are still accepted: the professional reads the text.
    """
    folded = _fold(_prepare(text, _MOMENT_EXAMPLE))
    today = now.date()
    work = folded
    anytime = asap = overdag = night = next_week = False
    excluded: list[str] = []
    day: date | None = None
    part: str | None = None
    after: _Clock | None = None
    before: _Clock | None = None
    exact = False
    other_days: list[date] = []

    match = _ANYTIME.search(work)
    if match:
        anytime = True
        work = _mask(work, match.start(), match.end())
    match = _ASAP.search(work)
    if match:
        asap = True
        work = _mask(work, match.start(), match.end())
    for match in list(_NEGATED_MOMENT.finditer(work)):
        end, names = match.end(), [match.group(1)]
        while more := _MORE_NEGATED.match(work, end):  # 'niet op maandag of dinsdag'
            end = more.end()
            names.append(more.group(1))
        days = [_excluded_day(name, today) for name in names]
        if all(days):
            excluded.append(f"niet op {' of '.join(d for d in days if d)}")
        elif all(name in _PARTS for name in names):
            excluded.append(f"niet in de {' of '.join(_PARTS[name] for name in names)}")
        else:
            continue
        work = _mask(work, match.start(), end)
    for match in list(_NEGATED_AFTER.finditer(work)):  # 'maandag kan ik niet'
        excluded_day = _excluded_day(match.group(1), today)
        if excluded_day:
            excluded.append(f"niet op {excluded_day}")
            work = _mask(work, match.start(), match.end())
    match = _MORNING_PHRASE.search(work)
    if match:  # 'voor de middag' is the morning, not the afternoon
        part = "ochtend"
        work = _mask(work, match.start(), match.end())
    match = _NEXT_WEEK.search(work)
    if match:
        next_week = True
        work = _mask(work, match.start(), match.end())

    for match in _EXPLICIT_DATE.finditer(work):
        month = _month(match.group(2))
        if month and day is None:
            day = _next_date(today, month, int(match.group(1)))
            if day is not None:
                work = _mask(work, match.start(), match.end())
    for match in _SLASH_DATE.finditer(work):
        if day is None:
            day = _next_date(today, int(match.group(2)), int(match.group(1)))
            if day is not None:
                work = _mask(work, match.start(), match.end())

    for match in _TIME_RANGE.finditer(work):
        first = _clock(match, "a") or _clock(match, "a2")
        second = _clock(match, "b") or _clock(match, "b2")
        if first and second:
            after, before = first, second
            work = _mask(work, match.start(), match.end())
            break
    for pattern, slot in ((_TIME_AFTER, "after"), (_TIME_BEFORE, "before"), (_TIME_AT, "at")):
        for match in pattern.finditer(work):
            clock = _clock(match, "a")
            if clock is None:
                continue
            if slot == "after" and after is None:
                after = clock
            elif slot == "before" and before is None:
                before = clock
            elif slot == "at" and after is None and before is None:
                after = before = clock
                exact = True
            else:
                continue
            work = _mask(work, match.start(), match.end())
    if after is None and before is None:
        for match in _TIME_BARE.finditer(work):
            clock = _clock(match, "a")
            if clock and (match.group("auur") or match.group("am") or match.group("amod")):
                after = before = clock
                exact = True
                work = _mask(work, match.start(), match.end())
                break

    previous = ""
    for token in _WORD.finditer(work):
        word = token.group()
        if word == "morgen" and previous == "s":
            part = part or "ochtend"
        elif word in _RELATIVE_DAYS:
            offset, relative_part = _RELATIVE_DAYS[word]
            day = day or today + timedelta(days=offset)
            part = part or relative_part
        elif word in _PARTS:
            part = part or _PARTS[word]
        elif word == "vroeg" and previous == "morgen":
            part = part or "ochtend"
        elif word == "overdag":
            overdag = True
        elif word in ("nacht", "nachts", "vannacht"):
            night = True
        elif word == "lunch" and previous == "de" and after is None:
            after = _Clock(13, 0, True)
        elif len(word) >= 6:
            weekday = _weekday(word)
            if weekday is not None:
                number, weekday_part = weekday
                named = _weekday_date(today, number, next_week)
                if day is None:
                    day = named
                elif named != day and named not in other_days:
                    other_days.append(named)  # 'maandag of dinsdag'
                part = part or weekday_part
        previous = word

    after_time = _resolve(after, part, night) if after else None
    before_time = _resolve(before, part, night) if before else None
    if after_time and before_time and not exact and after_time >= before_time:
        raise _Refusal(
            f"Ik begrijp de tijden niet goed: het begin is later dan het eind. {_MOMENT_EXAMPLE}"
        )

    segments: list[str] = []
    if day is not None:
        segments.append(" of ".join(_format_day(d, today) for d in [day, *other_days]))
    elif next_week:
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1)
        segments.append(f"week van {_format_day(monday, today)}")
    if part:
        segments.append(part)
    elif overdag:
        segments.append("overdag")
    if exact and after_time:
        segments.append(f"om {_format_time(after_time)}")
    elif after_time and before_time:
        segments.append(f"tussen {_format_time(after_time)} en {_format_time(before_time)}")
    elif after_time:
        segments.append(f"na {_format_time(after_time)}")
    elif before_time:
        segments.append(f"voor {_format_time(before_time)}")
    segments.extend(excluded)
    if asap:
        segments.append("zo snel mogelijk")
    if not segments:
        if anytime:
            return Parsed(Moment("maakt niet uit"))
        raise _Refusal(f"Ik begrijp niet goed wanneer het u past. {_MOMENT_EXAMPLE}")
    return Parsed(
        Moment(", ".join(segments), day=day, after=after_time, before=before_time, part=part)
    )


def _excluded_day(word: str, today: date) -> str | None:
    """The day in 'niet op maandag' / 'morgen niet': a weekday name, or a resolved date."""
    weekday = _weekday(word)
    if weekday is not None and weekday[1] is None:
        return _WEEKDAYS[weekday[0]]
    if word in _RELATIVE_DAYS:
        offset, part = _RELATIVE_DAYS[word]
        day = _format_day(today + timedelta(days=offset), today)
        return f"{day} ({part})" if part else day
    return None


def _next_date(today: date, month: int, day: int) -> date | None:
    """'10 december' or '10/12' on or after today; next year when it has passed."""
    for year in (today.year, today.year + 1):
        if _valid(year, month, day) and date(year, month, day) >= today:
            return date(year, month, day)
    return None


def _weekday_date(today: date, weekday: int, next_week: bool) -> date:
    if next_week:
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1)
        return monday + timedelta(days=weekday)
    return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)


# --------------------------------------------------------------------------------------------
# 9. Choices
# --------------------------------------------------------------------------------------------

_ORDINALS = {
    "eerste": 1,
    "tweede": 2,
    "derde": 3,
    "vierde": 4,
    "vijfde": 5,
    "zesde": 6,
    "zevende": 7,
    "achtste": 8,
    "negende": 9,
    "tiende": 10,
}
_CHOICE_FILLERS = _words(
    """
    optie opties nummer nummers nr keuze keuzes antwoord de het ik kies kiezen wil graag
    doe maar neem is en of dan die deze aub alstublieft hoor nou toch e ste laatste
    """
)
_ALL_WORDS = frozenset({"alle", "allemaal", "alles"})
_BOTH_WORDS = frozenset({"allebei", "beide", "beiden", "allebeide"})
_REPEATS = re.compile(r"(.)\1+")
_CHOICE_TOKEN = re.compile(r"\d+(?:ste|de|e)?(?![a-z])|[a-z]+")


def _choice_problem(options: Mapping[str, Sequence[str]], multiple: bool) -> str:
    lines = [f"{i}. {_label(key, words)}" for i, (key, words) in enumerate(options.items(), 1)]
    if multiple:
        intro = "Ik weet niet welke keuzes u bedoelt. Typ de nummers, bijvoorbeeld 1 en 3:"
    else:
        intro = "Ik weet niet welke keuze u bedoelt. Typ het nummer, bijvoorbeeld 1:"
    return "\n".join([intro, *lines])


def _label(key: str, words: Sequence[str]) -> str:
    return str(words[0]) if words else key


def _phrases(key: str, words: Sequence[str]) -> list[list[str]]:
    """Each way to name an option, folded and split into words."""
    raw = [key.replace("_", " "), *(str(word) for word in words)]
    phrases = []
    for phrase in raw:
        tokens = _WORD.findall(_fold(phrase))
        if tokens:
            phrases.append(tokens)
    return phrases


def _same_word(typed: str, wanted: str) -> int:
    """2 for the same word, 1 for one typo (words of five letters or more), else 0."""
    if typed == wanted:
        return 2
    if len(wanted) >= 5 and len(typed) >= 4 and _distance(typed, wanted, 1) <= 1:
        return 1
    if _REPEATS.sub(r"\1", typed) == _REPEATS.sub(r"\1", wanted):
        return 1  # 'jaaa', 'neee': stretched short words
    return 0


def _phrase_spans(tokens: list[str], phrase: list[str]) -> list[tuple[int, int, int]]:
    """Where a phrase occurs in the message: (start, end, quality), also written as one word."""
    spans = []
    joined_phrase = "".join(phrase)
    for start in range(len(tokens)):
        if start + len(phrase) <= len(tokens):
            qualities = [_same_word(tokens[start + k], word) for k, word in enumerate(phrase)]
            if all(qualities):
                spans.append((start, start + len(phrase), min(qualities)))
                continue
        for width in (1, 2, 3):
            if start + width > len(tokens) or (width == 1 and len(phrase) == 1):
                continue
            quality = _same_word("".join(tokens[start : start + width]), joined_phrase)
            if quality:
                spans.append((start, start + width, quality))
                break
    return spans


def _chosen(text: object, options: Mapping[str, Sequence[str]], multiple: bool) -> tuple[str, ...]:
    """The keys the resident chose, in the options' order; refusal when none can be read."""
    if not options:
        raise _Refusal("Er zijn bij deze vraag geen keuzes. Typ uw antwoord in uw eigen woorden.")
    keys = list(options)
    problem = _choice_problem(options, multiple)
    cleaned = _prepare(text, problem)
    folded = _fold(cleaned).strip()
    for key in keys:
        if folded == _fold(str(key)).strip() or cleaned.strip() == key:
            return (key,)
    tokens = _CHOICE_TOKEN.findall(folded)
    if not tokens:
        raise _Refusal(problem)

    numbers: list[int] = []
    cardinals: list[int] = []
    only_numbers = True
    wants_all = False
    for token in tokens:
        digits = re.match(r"\d+", token)
        if digits:
            numbers.append(int(digits.group()))
        elif token in _ORDINALS:
            numbers.append(_ORDINALS[token])
        elif token == "laatste":
            numbers.append(len(keys))
        elif token in _ALL_WORDS or (token in _BOTH_WORDS and len(keys) == 2):
            wants_all = True
        elif (cardinal := _number_word(token)) is not None:
            cardinals.append(int(cardinal) if cardinal == int(cardinal) else 0)
        elif token not in _CHOICE_FILLERS:
            only_numbers = False
    if only_numbers:  # 'twee' or 'een en drie' alone; in a sentence 'een' is an article
        numbers.extend(cardinals)
    if only_numbers and wants_all and multiple and not numbers:
        return tuple(keys)
    if any(not 1 <= n <= len(keys) for n in numbers):
        raise _Refusal(problem)
    chosen = {keys[n - 1] for n in numbers}

    if not only_numbers:
        word_tokens = [t for t in tokens if not t[0].isdigit()]
        matches: dict[str, list[tuple[int, int, int]]] = {}
        for key in keys:
            spans = [
                span
                for phrase in _phrases(str(key), options[key])
                for span in _phrase_spans(word_tokens, phrase)
            ]
            if spans:
                matches[key] = spans
        # An option named only inside another option's words ('bijstand' in 'bijzondere
        # bijstand') was not meant separately.
        for key, spans in list(matches.items()):
            others = [s for other, o in matches.items() if other != key for s in o]
            if all(
                any(o[0] <= s[0] and s[1] <= o[1] and (o[1] - o[0]) > (s[1] - s[0]) for o in others)
                for s in spans
            ):
                del matches[key]
        if not multiple and len(matches) > 1:
            exact = [key for key, spans in matches.items() if max(s[2] for s in spans) == 2]
            if len(exact) == 1:
                matches = {exact[0]: matches[exact[0]]}
        chosen.update(matches)
    if not chosen:
        raise _Refusal(problem)
    return tuple(key for key in keys if key in chosen)


def _choice_safe(
    text: str, options: Mapping[str, Sequence[str]], multiple: bool
) -> Parsed[tuple[str, ...]]:
    try:
        return Parsed(_chosen(text, options, multiple))
    except _Refusal as refusal:
        return Parsed(problem=refusal.message)
    except Exception:
        try:
            return Parsed(problem=_choice_problem(options, multiple))
        except Exception:
            return Parsed(problem="Ik kan dit antwoord niet lezen. Typ het nummer van uw keuze.")


def parse_choice(text: str, options: Mapping[str, Sequence[str]]) -> Parsed[str]:
    """One option: by its number as shown ('2', 'optie 2', 'de tweede'), key or words.

    ``options`` maps a key to its words, the first word being the label shown to the
    resident. Numbers are 1-based in the options' order, because SMS has no buttons and the
    bot lists them as '1. label'. Words tolerate one typo in words of five letters or more.
    """
    result = _choice_safe(text, options, multiple=False)
    if result.problem is not None or result.value is None:
        return Parsed(problem=result.problem)
    if len(result.value) != 1:
        problem = _choice_problem(options, multiple=False).replace(
            "Ik weet niet welke keuze u bedoelt.", "U noemt meer dan één keuze. Kies er één."
        )
        return Parsed(problem=problem)
    return Parsed(result.value[0])


def parse_choices(text: str, options: Mapping[str, Sequence[str]]) -> Parsed[tuple[str, ...]]:
    """Several options: '1 en 3', '1,3', 'huur en energie', 'alle'; in the options' order."""
    return _choice_safe(text, options, multiple=True)
