"""One redaction policy for personal data in free text, shared by the action server and the API.

Stdlib only: the action server (.venv-rasa) and the handover API (.venv-api) both import this
module with the repository root on ``PYTHONPATH``; neither imports the other's code.

Two policies, on purpose:

- ``redact(text)``: everything that identifies a resident is replaced by a token. Used for the
  redacted view of transcripts, review screens and (through ``redact_for_log``) log lines.
- ``strip_bsn(text)``: only BSNs are replaced (by ``[BSN verwijderd]``). The professional who
  received the resident's consent may read phone number and address in the summary and the
  full transcript, but a BSN never leaves the conversation: it is not needed to call back and
  the resident was told not to type it.

``redact`` works in this order; the order matters because the patterns overlap:

1. e-mail -> ``[e-mail]``: an address can hold digits, dots and hyphens that later patterns
   would read as a phone number, a date or a BSN; replacing the whole address first keeps it
   from being half-redacted.
2. IBAN -> ``[IBAN]``: an IBAN holds a 10-digit account number (looks like a phone number) and
   digit windows that can pass the elfproef (look like a BSN).
3. BSN after a keyword (``bsn``, ``burgerservicenummer``, ``sofinummer``) -> ``[BSN]``, in any
   grouping of 8 or 9 digits and even when the elfproef fails: the keyword makes it certain,
   and the digits must not be read as a date or phone number by the steps below.
4. dates of birth -> ``[geboortedatum]``: before phone numbers, because ``01-03-1985`` is made of
   digits and separators (a two-digit year followed by more digit groups, "06 12 34 56 78", is
   left for the phone step). A full date counts as a date of birth after "geboren" /
   "geboortedatum" or when its year is at least 12 years ago; recent dates stay.
5. Dutch phone numbers -> ``[telefoon]`` (``06 - 12345678``, ``+31 (0)6 1234 5678``,
   ``0031 6 12345678``, ``(040) 123 45 67``, ...): before the bare BSN step, because a phone
   number contains 9-digit windows that may pass the elfproef. A recent date followed by a
   number ("01-03-2024 12 uur") is not a phone number.
6. postcode, optionally with house number -> ``[postcode]`` (``5701 AB``, ``5701ab``,
   ``5701AB 12``; lowercase letters that form a common word or unit, "1500 op", are not a
   postcode): before addresses, so "Kerkstraat 12, 5701 AB" keeps both parts apart.
7. street + house number -> ``[adres]`` (``Kerkstraat 12a``, ``kerkstraat 12``,
   ``van der Werffstraat 3-2``, ``Dorpsweg 7 B``, ``Laan van Nieuw Oost-Indië 123``). A number
   followed by a unit ("snelweg 2 uur", "bijbaan 20 uur") is not a house number.
8. bare BSN -> ``[BSN]``, last, on what is left: an unbroken run of exactly 9 digits (errs on
   the side of redacting, as a mistyped BSN is still personal) and any grouping of 9 digits
   with spaces, dots or hyphens that passes the elfproef (grouped numbers are often amounts or
   references, so there the elfproef is required).

``strip_bsn`` applies steps 3 and 8 only, and in step 8 requires the elfproef for unbroken runs
too, so a reference number the professional needs survives. It never touches a phone number:
digit windows inside a longer run (``06 1234 5678``, ``+31 6 12345678``) are not candidates.

All patterns are compiled once at import, and every match can only start at a token boundary
(lookbehinds), so no pattern is tried from every position of a long run: a realistic
10,000-character message takes about 15 ms on the 2-core development machine, pathological
ones (10,000 characters of "Laan ", "a.", "1-") under 100 ms (tests/privacy measures both).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

EMAIL = "[e-mail]"
IBAN = "[IBAN]"
BIRTH_DATE = "[geboortedatum]"
PHONE = "[telefoon]"
POSTCODE = "[postcode]"
ADDRESS = "[adres]"
BSN = "[BSN]"
BSN_REMOVED = "[BSN verwijderd]"

# --- building blocks -----------------------------------------------------------------------

# A separator inside a phone number: one space, or a hyphen/dot/slash with optional spaces.
_SEP = r"(?:\s?[-./]\s?|\s)"
# Inside a BSN: no slash, "123/456/782" is not how anyone writes one (but dates are).
_BSN_SEP = r"(?:\s?[-.]\s?|\s)"
# A digit may not directly precede a candidate, nor a digit plus one separator ("+31 6 1234...",
# "06 123 456 78"): the window would be cut from a longer number.
_NOT_AFTER_NUMBER = r"(?<![\d+)])(?<![\d+)][ .-])"
_NOT_BEFORE_NUMBER = r"(?!\d)(?![.-]\d)"
# Words that make a preceding number a quantity, not a house number.
_UNITS = (
    r"(?!\s*(?:(?:jaar|jaren|maand|maanden|week|weken|dag|dagen|nacht|nachten|uur|uren|keer"
    r"|kind|kinderen|euro|eur|procent|minuten|min|km|kilometer|meter|kilo|kg|personen)\b|%))"
)
# A house number: 12, 12a, 12-A, 7 B, 3-2, 3 - 2; never followed by a unit.
_HOUSE_NUMBER = rf"\d{{1,5}}(?!\d)(?:\s?-\s?\d{{1,4}}(?!\d)|\s?-?[A-Za-z](?!\w))?{_UNITS}"

# --- 1. e-mail ------------------------------------------------------------------------------
# The lookbehind lets a match start only where a local part starts: without it a long run of
# word characters without "@" is tried from every position (quadratic).
_EMAIL_RE = re.compile(r"(?<![\w.+%-])[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")

# --- 2. IBAN --------------------------------------------------------------------------------
_IBAN_RE = re.compile(
    r"\b[A-Z]{2}\d{2}[ -]?[A-Z]{4}(?:[ -]?\d{4}){2}[ -]?\d{2}\b"  # Dutch: NL91 ABNA 0417 1643 00
    r"|\b(?P<generic>[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){3,7}(?:[ -]?[A-Z0-9]{1,3})?)\b",
    re.IGNORECASE,
)

# --- 3. BSN after a keyword -----------------------------------------------------------------
_BSN_KEYWORD_RE = re.compile(
    r"(?P<keyword>\b(?:bsn|burger[\s-]?service[\s-]?nummer|sofi[\s-]?(?:nummer|nr\b\.?))"
    r"(?:[\s-]?(?:nummer|nr\b\.?))?[\s:=]*(?:(?:is|was)\b[\s:=]*)?)"
    rf"(?P<number>\d(?:{_BSN_SEP}?\d){{7,8}})(?!\d)",
    re.IGNORECASE,
)

# --- 4. dates of birth ----------------------------------------------------------------------
_MONTHS = (
    "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december"
    "|jan|feb|mrt|apr|jun|jul|aug|sep|sept|okt|nov|dec"
)
_DATE_RE = re.compile(
    r"(?<![\d])(?:"
    # a two-digit year followed by more digit groups is a phone number: "06 12 34 56 78"
    r"(?P<d1>\d{1,2})[-/. ](?P<m1>\d{1,2})[-/. ](?P<y1>\d{4}|\d{2}(?![-/. ]\d))"
    r"|(?P<y2>\d{4})-(?P<m2>\d{1,2})-(?P<d2>\d{1,2})"
    rf"|(?P<d3>\d{{1,2}})\s+(?P<m3>{_MONTHS})\.?\s+(?P<y3>\d{{4}})"
    r")(?![\d])",
    re.IGNORECASE,
)
_BIRTH_CONTEXT_RE = re.compile(
    r"(geboren|geboortedatum|geb\.|born|date of birth)\W{0,3}(op\s+)?$", re.IGNORECASE
)

# --- 5. phone numbers -----------------------------------------------------------------------
_PHONE_RE = re.compile(
    # +31 / 0031, optional (0), then 9 digits: +31 6 1234 5678, +31 (0)6 1234 5678, 0031612345678
    rf"(?<![\w+])(?:\+|00)31[\s-]{{0,3}}(?:\(0\)[\s-]{{0,3}})?[1-9](?:{_SEP}?\d){{8}}(?!\d)"
    # national: 0 + 9 digits, area code optionally in brackets: (040) 123 45 67, 06 - 12345678;
    # not a date with a 19xx/20xx year that happens to be followed by more digits
    r"|(?<![\w+])(?!\(?\d{1,2}(?P<date_sep>[-/.])\d{1,2}(?P=date_sep)(?:19|20)\d{2}(?!\d))"
    rf"\(?0[1-9](?:\)?{_SEP}?\d){{8}}(?!\d)"
)

# --- 6. postcode (+ house number) -----------------------------------------------------------
_POSTCODE_RE = re.compile(
    r"(?<![\w-])[1-9]\d{3}\s?(?P<letters>[A-Za-z]{2})(?!\w)"
    rf"(?:,?\s+(?:nr\.?\s*|huisnummer\s+)?{_HOUSE_NUMBER})?"
)
# Lowercase two-letter words and units that follow amounts and years ("1500 op de bank",
# "in 2024 is", "10 km"); in capitals ("5708 OP") they are still read as a postcode.
# fmt: off
_NOT_POSTCODE_LETTERS = frozenset(
    {
        "al", "am", "an", "at", "be", "by", "ca", "cc", "cl", "cm", "ct", "de", "di", "dl",
        "do", "dr", "en", "er", "eu", "gb", "go", "ha", "he", "hr", "ik", "in", "is", "it",
        "ja", "je", "jr", "kb", "kg", "km", "kw", "ma", "mb", "me", "mg", "ml", "mm", "mn",
        "mr", "na", "nr", "nu", "of", "oh", "ok", "om", "on", "op", "or", "pk", "pm", "pp",
        "so", "sr", "st", "te", "to", "tv", "uw", "vr", "we", "wo", "za", "ze", "zo", "zn",
    }
)
# fmt: on

# --- 7. street + house number ---------------------------------------------------------------
_STREET_WORDS = (
    "straat|laan|weg|plein|singel|gracht|dreef|hof|hoven|kade|dijk|pad|steeg|park|erf|markt"
    "|baan|ring|wal|plantsoen|allee|boulevard|haven|veld"
)
_NAME_WORD = r"[A-ZÀ-ÖØ-Ý][\w'.-]*"  # a capitalised word of a street name: Jan, Oost-Indië
_PARTICLE = r"(?:van|de|der|den|het|'t|ter|ten|te|op|aan)"
_ADDRESS_RE = re.compile(
    # "Kerkstraat 12", "kerkstraat 12", "Jan van Goyenstraat 3", "van der Werffstraat 3-2":
    # a word ending in a street word (with at least two letters before it, so "weg 2" or
    # "op straat 3 nachten" are not addresses), optionally preceded by a name that starts with
    # a capitalised word or "van"/"ter"/"ten" (so "in de Kerkstraat 12" keeps "in de").
    r"(?<![\w'-])"
    rf"(?:(?:{_NAME_WORD}|van|ter|ten)\s+(?:(?:{_NAME_WORD}|{_PARTICLE})\s+){{0,3}})?"
    rf"[^\W\d_](?:[^\W\d_]|['-])+?(?i:{_STREET_WORDS})\s+{_HOUSE_NUMBER}"
    # "Laan van Nieuw Oost-Indië 123", "Plein 't Zand 4": a capitalised street word first.
    r"|\b(?:Laan|Plein|Hof|Kade|Dijk|Weg|Singel|Dreef|Park)"
    rf"\s+(?:{_PARTICLE}\s+){{0,3}}{_NAME_WORD}(?:\s+(?:{_NAME_WORD}|{_PARTICLE})){{0,3}}"
    rf"\s+{_HOUSE_NUMBER}"
)

# --- 8. bare BSN ----------------------------------------------------------------------------
_BSN_BARE_RE = re.compile(rf"{_NOT_AFTER_NUMBER}\d(?:{_BSN_SEP}?\d){{8}}{_NOT_BEFORE_NUMBER}")


def elfproef(digits: str) -> bool:
    """True when a 9-digit string passes the BSN eleven test (9*d1 + ... + 2*d8 - d9 ≡ 0 mod 11).

    All zeros passes the arithmetic but is not a BSN.
    """
    if len(digits) != 9 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True))
    total -= int(digits[8])
    return total % 11 == 0 and digits != "000000000"


def _only_digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _replace_keyword_bsns(text: str, token: str) -> str:
    return _BSN_KEYWORD_RE.sub(lambda m: m.group("keyword") + token, text)


def _replace_bare_bsns(text: str, token: str, *, unbroken_always: bool) -> str:
    def replace(match: re.Match[str]) -> str:
        raw = match.group(0)
        if unbroken_always and raw.isdigit():
            return token
        return token if elfproef(_only_digits(raw)) else raw

    return _BSN_BARE_RE.sub(replace, text)


def _replace_ibans(match: re.Match[str]) -> str:
    # The generic (non-Dutch) shape also fits "ab12 maar niet echt": require mostly digits.
    if match.group("generic") is not None and len(_only_digits(match.group(0))) < 10:
        return match.group(0)
    return IBAN


def _year(raw: str) -> int:
    year = int(raw)
    if len(raw) == 2:
        century_cut = datetime.now(UTC).year % 100
        year += 2000 if year <= century_cut else 1900
    return year


def _redact_dates(text: str) -> str:
    this_year = datetime.now(UTC).year

    def replace(match: re.Match[str]) -> str:
        raw_year = match.group("y1") or match.group("y2") or match.group("y3")
        if match.group("m1") is not None:
            day, month = int(match.group("d1")), int(match.group("m1"))
        elif match.group("m2") is not None:
            day, month = int(match.group("d2")), int(match.group("m2"))
        else:
            day, month = int(match.group("d3")), 1
        if not (1 <= day <= 31 and 1 <= month <= 12):
            return match.group(0)
        year = _year(raw_year)
        in_context = bool(
            _BIRTH_CONTEXT_RE.search(text[max(0, match.start() - 30) : match.start()])
        )
        if in_context or 1900 <= year <= this_year - 12:
            return BIRTH_DATE
        return match.group(0)

    return _DATE_RE.sub(replace, text)


def _replace_postcode(match: re.Match[str]) -> str:
    letters = match.group("letters")
    if not letters.isupper() and letters.lower() in _NOT_POSTCODE_LETTERS:
        return match.group(0)
    return POSTCODE


def redact(text: str) -> str:
    """Replace all personal data in ``text`` with tokens such as ``[telefoon]`` and ``[BSN]``.

    For the redacted transcript view, review screens and logs; see the module docstring for
    the order of the steps and why.
    """
    if not text:
        return text
    text = _EMAIL_RE.sub(EMAIL, text)
    text = _IBAN_RE.sub(_replace_ibans, text)
    text = _replace_keyword_bsns(text, BSN)
    text = _redact_dates(text)
    text = _PHONE_RE.sub(PHONE, text)
    text = _POSTCODE_RE.sub(_replace_postcode, text)
    text = _ADDRESS_RE.sub(ADDRESS, text)
    return _replace_bare_bsns(text, BSN, unbroken_always=True)


def strip_bsn(text: str, marker: str = BSN_REMOVED) -> str:
    """Replace only BSNs with ``[BSN verwijderd]`` (or ``marker``): what a consenting
    professional may read. The input channels use the short ``[BSN]``, which the NLU does not
    read as "verwijder ..." (a request to erase data).

    A BSN after a keyword goes in any grouping, even with a failing elfproef; a bare 9-digit
    number only when it passes the elfproef, so phone numbers and references stay readable.
    """
    if not text:
        return text
    text = _replace_keyword_bsns(text, marker)
    return _replace_bare_bsns(text, marker, unbroken_always=False)


def redact_for_log(value: object, max_length: int = 200) -> str:
    """Redacted, shortened, single-line form of a user-provided value for log lines.

    Single line so that a resident's text cannot forge extra log records.
    """
    text = redact(str(value)).replace("\n", " ").replace("\r", " ")
    return text if len(text) <= max_length else text[: max_length - 1] + "…"
