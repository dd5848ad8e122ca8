"""Parsing contact details residents type in many shapes ("06-1234 5678", "+31612345678")."""

import re

_SEPARATORS = re.compile(r"[\s\-().]")
_PHONE_CANDIDATE = re.compile(r"(?:\+|00)?[\d][\d\s\-().]{8,16}\d")


def normalise_phone(text: str) -> str | None:
    """A Dutch phone number as 10 digits starting with 0, or None when there is none.

    Accepts +31 / 0031 prefixes and any spacing; refuses service numbers (0800/0900/0906/0909)
    because a professional calls the resident back on this number.
    """
    for candidate in _PHONE_CANDIDATE.findall(text or ""):
        digits = _SEPARATORS.sub("", candidate)
        if digits.startswith("+31"):
            digits = "0" + digits[3:]
        elif digits.startswith("0031"):
            digits = "0" + digits[4:]
        if digits.startswith("00") or digits.startswith("+"):
            continue
        if digits.startswith("0") and digits[1:2] == "0":
            continue
        if re.fullmatch(r"0[1-9]\d{8}", digits) and not digits.startswith(
            ("0800", "0900", "0906", "0909")
        ):
            return digits
    return None


def display_phone(digits: str) -> str:
    """06 12345678 / 0492 123456 style, for reading back to the resident."""
    if digits.startswith("06"):
        return f"06 {digits[2:]}"
    return f"{digits[:4]} {digits[4:]}"
