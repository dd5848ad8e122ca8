"""Pre-filled applications as the handover API sees them: checked, stripped, shown.

The chat asks the questions of ``data/applications.yml`` and hands the answers over as
``application.fields``. The catalogue (``applications/catalogue.py``, shared with the action
server) is the one description of those fields, so the API checks, shows and exports them with
it instead of keeping a second list that could drift:

1. ``configure(data_dir)`` (app start-up) / ``current()`` give the catalogue of the running app;
   ``load(data_dir)`` reads ``data_dir/applications.yml`` (the repository's when absent).
2. ``shape_problems(catalogue, fields)`` says which catalogue fields do not have the stored
   shape of their kind (the shapes are listed in ``applications/catalogue.py``). Fields the
   catalogue does not know (``gemeente``, ``telefoonnummer``, ...) keep the generic limits of
   ``schemas.ApplicationIn``; ``null`` is always allowed: the resident skipped the question.
3. ``strip_bsns(value)`` applies the API's BSN policy (``privacy.redaction.strip_bsn``, as for
   summaries and transcripts) to every text, and to every number that reads as a BSN, at any
   depth: a BSN never reaches a professional or an export, identity comes later with DigiD.
4. ``view(application, catalogue)`` is what the staff page shows: the regeling's title,
   complete or what the professional still has to ask, and (label, value) rows in Dutch.

The export to Open Formulieren / the Objects API builds on these in
``services/application_export.py``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from applications.catalogue import DEFAULT_PATH, Catalogue, Field, load_catalogue
from handover_api.services.redaction import BSN_REMOVED, strip_bsn

LOCAL_TIME = ZoneInfo("Europe/Amsterdam")

# The stored shapes (applications/catalogue.py), as limits. The JSON schema of the envelope
# export (application_export.values_schema) uses the same patterns, so the two cannot disagree.
TEXT_MAX = 1000
POSTCODE_PATTERN = r"^[1-9][0-9]{3} [A-Z]{2}$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# 0 to 10,000,000 euros, at most 2 decimals, as a string ("1250.50"): money is never a float.
AMOUNT_PATTERN = r"^(?:[0-9]{1,7}(?:\.[0-9]{1,2})?|10000000(?:\.00?)?)$"
AMOUNT_MAX = Decimal("10000000")
EARLIEST_BIRTH = date(1900, 1, 1)
HUISNUMMER_MAX = 99_999  # the BAG's highest house number
TOEVOEGING_MAX = 10
HOUSEHOLD_COUNT_MAX = 20
CHILD_AGE_MAX = 30
ADDRESS_KEYS = ("postcode", "huisnummer", "toevoeging")
HOUSEHOLD_KEYS = ("partner", "kinderen", "leeftijden_kinderen", "andere_volwassenen")

_POSTCODE_RE = re.compile(POSTCODE_PATTERN)
_DATE_RE = re.compile(DATE_PATTERN)
_AMOUNT_RE = re.compile(AMOUNT_PATTERN)
# Keys that name a BSN: the application must not hold one at all (see ``shape_problems``).
_BSN_KEY_RE = re.compile(r"bsn|burger[\s_-]?service[\s_-]?nummer|sofi[\s_-]?nummer", re.I)


# --- the catalogue of the running app ----------------------------------------------------------


class CatalogueError(Exception):
    """The catalogue cannot be used by the API (a start-up error). Deliberately not a
    ``ValueError``: raised during request validation, pydantic would make it a 422 that blames
    the client for the server's configuration."""


def load(data_dir: Path) -> Catalogue:
    """The catalogue in ``data_dir/applications.yml``, else the repository's own (a data folder
    with only region files, as tests use, still has the catalogue the code was written for).
    Cached per path by ``load_catalogue``."""
    path = Path(data_dir) / "applications.yml"
    catalogue = load_catalogue(path if path.exists() else DEFAULT_PATH)
    unchecked = sorted({f.kind for f in catalogue.fields.values()} - set(SHAPE_CHECKS))
    if unchecked:  # a new kind in the catalogue needs its stored shape here first
        raise CatalogueError(
            f"{path.name}: no stored-shape check for kind(s) {', '.join(unchecked)}"
        )
    return catalogue


_configured: Path | None = None


def configure(data_dir: Path) -> Catalogue:
    """Make ``data_dir`` the folder ``current()`` reads; loads it now, so that a broken
    catalogue stops the app at start-up instead of refusing the first handover."""
    global _configured
    catalogue = load(data_dir)
    _configured = Path(data_dir)
    return catalogue


def current() -> Catalogue:
    """The catalogue request validation uses: the configured one, else the settings' data dir."""
    if _configured is not None:
        return load(_configured)
    from handover_api.core.config import get_settings  # read on first use only

    return load(get_settings().VOORDEUR_DATA_DIR)


# --- stored shapes ---------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _int_between(value: Any, low: int, high: int) -> bool:
    return _is_int(value) and low <= value <= high


def _text(spec: Field, value: Any) -> str | None:
    if isinstance(value, str) and value.strip() and len(value) <= TEXT_MAX:
        return None
    return f"must be text of 1 to {TEXT_MAX} characters"


def _date_of_birth(spec: Field, value: Any) -> str | None:
    expected = "must be a date as YYYY-MM-DD (e.g. 1988-03-15)"
    if not isinstance(value, str) or not _DATE_RE.match(value):
        return expected
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return expected
    if day > datetime.now(LOCAL_TIME).date():
        return "must not be in the future"
    if day < EARLIEST_BIRTH:
        return f"must not be before {EARLIEST_BIRTH.isoformat()}"
    return None


def _amount(spec: Field, value: Any) -> str | None:
    if isinstance(value, str) and _AMOUNT_RE.match(value) and Decimal(value) <= AMOUNT_MAX:
        return None
    return (
        'must be an amount in euros as text, 0 to 10000000 with at most 2 decimals (e.g. "650" '
        'or "1250.50")'
    )


def _address(spec: Field, value: Any) -> str | None:
    if not isinstance(value, dict):
        return "must be an object {postcode, huisnummer, toevoeging}"
    unknown = sorted(set(value) - set(ADDRESS_KEYS))
    if unknown:
        return f"unknown key(s) {', '.join(unknown)}; expected {', '.join(ADDRESS_KEYS)}"
    if not isinstance(value.get("postcode"), str) or not _POSTCODE_RE.match(value["postcode"]):
        return "postcode must look like 5701 AB (4 digits, a space, 2 capital letters)"
    if not _int_between(value.get("huisnummer"), 1, HUISNUMMER_MAX):
        return f"huisnummer must be a whole number from 1 to {HUISNUMMER_MAX}"
    suffix = value.get("toevoeging")
    if suffix is not None and not (isinstance(suffix, str) and 1 <= len(suffix) <= TOEVOEGING_MAX):
        return f"toevoeging must be text of 1 to {TOEVOEGING_MAX} characters, or null"
    return None


def _household(spec: Field, value: Any) -> str | None:
    if not isinstance(value, dict):
        return f"must be an object {{{', '.join(HOUSEHOLD_KEYS)}}}"
    missing = [key for key in HOUSEHOLD_KEYS if key not in value]
    unknown = sorted(set(value) - set(HOUSEHOLD_KEYS))
    if missing or unknown:
        return f"must have exactly the keys {', '.join(HOUSEHOLD_KEYS)}"
    if not isinstance(value["partner"], bool):
        return "partner must be true or false"
    for key in ("kinderen", "andere_volwassenen"):
        if not _int_between(value[key], 0, HOUSEHOLD_COUNT_MAX):
            return f"{key} must be a whole number from 0 to {HOUSEHOLD_COUNT_MAX}"
    ages = value["leeftijden_kinderen"]
    if not isinstance(ages, list) or not all(_int_between(a, 0, CHILD_AGE_MAX) for a in ages):
        return f"leeftijden_kinderen must be a list of whole numbers from 0 to {CHILD_AGE_MAX}"
    if len(ages) > value["kinderen"]:
        return "leeftijden_kinderen lists more ages than kinderen"
    return None


def _choice(spec: Field, value: Any) -> str | None:
    if isinstance(value, str) and value in spec.options:
        return None
    return f"must be one of: {', '.join(spec.options)}"


def _choices(spec: Field, value: Any) -> str | None:
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, str) and v in spec.options for v in value)
    ):
        return None
    return f"must be a non-empty list of: {', '.join(spec.options)}"


SHAPE_CHECKS: dict[str, Callable[[Field, Any], str | None]] = {
    "name": _text,
    "text": _text,
    "moment": _text,
    "date_of_birth": _date_of_birth,
    "amount": _amount,
    "address": _address,
    "household": _household,
    "choice": _choice,
    "choices": _choices,
}


def shape_problems(catalogue: Catalogue, fields: Mapping[str, Any]) -> list[str]:
    """One line per catalogue field without the stored shape of its kind, and per key that
    names a BSN; empty when all is well. ``null`` (skipped) is always fine."""
    problems: list[str] = []
    for name, value in fields.items():
        if _BSN_KEY_RE.search(name):
            problems.append(
                f"{name}: an application never holds a BSN (identity is established later "
                "with DigiD)"
            )
            continue
        spec = catalogue.fields.get(name)
        if spec is None or value is None:
            continue
        problem = SHAPE_CHECKS[spec.kind](spec, value)
        if problem:
            problems.append(f"{name} ({spec.kind}) {problem}")
    return problems


# --- BSNs ------------------------------------------------------------------------------------


def _number_is_bsn(value: int | float) -> bool:
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            return False
        value = int(value)
    text = str(value)
    return strip_bsn(text) != text


def _strip_scalar(value: Any) -> Any:
    if isinstance(value, str):
        return strip_bsn(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and _number_is_bsn(value):
        return BSN_REMOVED
    return value


def strip_bsns(value: Any) -> Any:
    """``value`` with every BSN replaced by ``[BSN verwijderd]``: in texts as ``strip_bsn``
    does for summaries, and a number that reads as a BSN as a whole. A copy, in the same order;
    iterative, so no nesting depth can exhaust the stack."""
    if not isinstance(value, dict | list):
        return _strip_scalar(value)
    result: dict[Any, Any] | list[Any] = {} if isinstance(value, dict) else []
    stack: list[tuple[Any, dict[Any, Any] | list[Any]]] = [(value, result)]
    while stack:
        source, copy = stack.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, item in items:
            child: Any
            if isinstance(item, dict | list):
                child = {} if isinstance(item, dict) else []
                stack.append((item, child))  # filled later, already in place
            else:
                child = _strip_scalar(item)
            if isinstance(copy, dict):
                copy[key] = child
            else:
                copy.append(child)
    return result


# --- the staff page --------------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationView:
    """An application as a professional reads it (``detail.html``)."""

    title: str
    complete: bool
    to_ask: list[str]  # labels of the questions the professional still asks
    rows: list[tuple[str, str]]  # (Dutch label, readable value), in the catalogue's order


def field_order(catalogue: Catalogue, regeling: str, fields: Mapping[str, Any]) -> list[str]:
    """Catalogue field names: the regeling's questions as asked, then the other known fields."""
    known = catalogue.regelingen.get(regeling)
    soort = fields.get("minimaregeling_soort")
    asked = known.field_names(soort if isinstance(soort, str) else None) if known else []
    return list(dict.fromkeys([*asked, *catalogue.fields]))


def skipped_fields(catalogue: Catalogue, regeling: str, fields: Mapping[str, Any]) -> list[str]:
    """Catalogue fields the resident skipped ("weet ik niet": null), in the order asked."""
    order = field_order(catalogue, regeling, fields)
    return [name for name in order if name in fields and fields[name] is None]


def not_asked_fields(catalogue: Catalogue, regeling: str, fields: Mapping[str, Any]) -> list[str]:
    """Questions of the regeling that are not in the application at all: an application made
    before the chat asked them, or a conversation that ended early."""
    known = catalogue.regelingen.get(regeling)
    if known is None:
        return []
    soort = fields.get("minimaregeling_soort")
    asked = known.field_names(soort if isinstance(soort, str) else None)
    return [name for name in asked if name not in fields]


def _plain(value: Any) -> str:
    """A value the catalogue does not describe, as text a person reads (not JSON)."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value) or "–"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_plain(v)}" for k, v in value.items()) or "–"
    return str(value)


def _shown(catalogue: Catalogue, name: str, value: Any) -> Any:
    """What ``Catalogue.readable`` gets: a catalogue field's value when it has its stored shape
    (or is null), else the value as plain text. Values the catalogue does not describe, and
    ones stored before fields were checked, are shown as text, never as JSON or "None", and
    cannot break the page ("kinderen": "twee" would fail the household rendering)."""
    spec = catalogue.fields.get(name)
    if spec is not None and (value is None or SHAPE_CHECKS[spec.kind](spec, value) is None):
        return value
    return _plain(value)


def view(
    *, regeling: str, fields: Mapping[str, Any], complete: bool, catalogue: Catalogue
) -> ApplicationView:
    """The staff page's form: title, status and rows (``Catalogue.readable``), BSNs stripped
    (an application stored before fields were checked may hold one). What the professional
    still asks: the skipped questions, then those never asked (a complete one asks nothing)."""
    values = strip_bsns(dict(fields))
    known = catalogue.regelingen.get(regeling)
    shown = {name: _shown(catalogue, name, value) for name, value in values.items()}
    open_questions = [
        *skipped_fields(catalogue, regeling, values),
        *not_asked_fields(catalogue, regeling, values),
    ]
    return ApplicationView(
        title=known.title if known else regeling,
        complete=complete,
        to_ask=[]
        if complete
        else [catalogue.fields[n].label for n in dict.fromkeys(open_questions)],
        rows=catalogue.readable(regeling, shown),
    )
