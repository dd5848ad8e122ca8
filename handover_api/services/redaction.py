"""Redaction of personal data in free text (transcripts, evidence, log lines).

``redact(text)`` replaces, in this order: e-mail addresses -> ``[e-mail]``, IBANs -> ``[IBAN]``,
dates of birth -> ``[geboortedatum]``, Dutch phone numbers -> ``[telefoon]``, postcode (+ house
number) -> ``[postcode]``, street + house number -> ``[adres]``, BSN-like 9-digit numbers ->
``[BSN]``. It errs on the side of redacting: any 9-digit number is treated as a BSN (with or
without a valid elfproef), and a full date counts as a date of birth when it follows
"geboren"/"geboortedatum" or when its year is at least 12 years ago.
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

_EMAIL_RE = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_IBAN_RE = re.compile(
    r"\b[A-Z]{2}\d{2}[ ]?[A-Z]{4}(?:[ ]?\d{4}){2}[ ]?\d{2}\b"  # Dutch: NL91 ABNA 0417 1643 00
    r"|\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){3,7}(?:[ ]?[A-Z0-9]{1,3})?\b",
    re.IGNORECASE,
)
_MONTHS = (
    "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december"
    "|jan|feb|mrt|apr|jun|jul|aug|sep|sept|okt|nov|dec"
)
_DATE_RE = re.compile(
    r"(?<![\d])(?:"
    r"(?P<d1>\d{1,2})[-/. ](?P<m1>\d{1,2})[-/. ](?P<y1>\d{4}|\d{2})"
    r"|(?P<y2>\d{4})-(?P<m2>\d{1,2})-(?P<d2>\d{1,2})"
    rf"|(?P<d3>\d{{1,2}})\s+(?P<m3>{_MONTHS})\.?\s+(?P<y3>\d{{4}})"
    r")(?![\d])",
    re.IGNORECASE,
)
_BIRTH_CONTEXT_RE = re.compile(
    r"(geboren|geboortedatum|geb\.|born|date of birth)\W{0,3}(op\s+)?$", re.I
)
_PHONE_RE = re.compile(
    r"(?<![\w+])(?:\+31|0031)[\s-]?(?:\(0\)[\s-]?)?[1-9](?:[\s-]?\d){8}(?!\d)"
    r"|(?<![\w+])\(?0[1-9](?:\)?[\s-]?\d){8}(?!\d)"
)
_POSTCODE_RE = re.compile(
    r"\b[1-9]\d{3}(?:[ ]?[A-Z]{2}|[a-z]{2})\b"
    r"(?:,?[ ]+(?:nr\.?[ ]*|huisnummer[ ]+)?\d{1,5}(?:[ ]?-?[a-zA-Z]\b|[-][0-9]{1,4})?)?"
)
_ADDRESS_RE = re.compile(
    r"\b[A-Z][\w'-]*(?:straat|laan|weg|plein|singel|gracht|dreef|hof|kade|dijk|pad|steeg|park"
    r"|erf|markt|baan|ring|wal)\s+\d{1,5}(?:[ ]?[a-zA-Z]\b|-\d{1,4})?"
)
_BSN_RE = re.compile(
    r"(?<![\d\w])(?:\d{9}|\d{3}[. ]\d{3}[. ]\d{3}|\d{4}[. ]\d{2}[. ]\d{3})(?![\d\w])"
)


def elfproef(digits: str) -> bool:
    """True when a 9-digit string passes the BSN eleven test."""
    if len(digits) != 9 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True))
    total -= int(digits[8])
    return total % 11 == 0


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


def redact(text: str) -> str:
    """Replace personal data in ``text`` with tokens such as ``[telefoon]`` and ``[BSN]``."""
    if not text:
        return text
    text = _EMAIL_RE.sub(EMAIL, text)
    text = _IBAN_RE.sub(IBAN, text)
    text = _redact_dates(text)
    text = _PHONE_RE.sub(PHONE, text)
    text = _POSTCODE_RE.sub(POSTCODE, text)
    text = _ADDRESS_RE.sub(ADDRESS, text)
    text = _BSN_RE.sub(BSN, text)
    return text


def redact_for_log(value: object, max_length: int = 200) -> str:
    """Redacted, shortened, single-line form of a user-provided value for log lines."""
    text = redact(str(value)).replace("\n", " ").replace("\r", " ")
    return text if len(text) <= max_length else text[: max_length - 1] + "…"
