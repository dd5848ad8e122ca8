"""The field catalogue of pre-filled applications (data/applications.yml), loaded once.

One catalogue serves three readers that must agree: the chat form that asks the questions
(actions/application.py), the staff page that shows an application as a readable form, and the
export to Open Formulieren / the Objects API. Keeping the fields as data means a municipality's
wish ("vraag ook naar woonlasten") is a change of one YAML file, checked by a test.

Stored values are plain JSON so that they survive the handover API unchanged:

- name, text, moment: a string;
- date_of_birth: ISO date "1988-03-15";
- amount: a decimal string "1250.50" (never a float: money);
- address: {"postcode": "5701 AB", "huisnummer": 12, "toevoeging": "a" | null};
- household: {"partner": bool, "kinderen": int, "leeftijden_kinderen": [int],
  "andere_volwassenen": int};
- choice: an option key; choices: a list of option keys;
- null: the resident skipped the question ("weet ik niet").
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from common.dutch_dates import MONTH_NAMES

KINDS = frozenset(
    {"name", "date_of_birth", "address", "household", "amount", "text", "choice", "choices"}
    | {"moment"}
)
DEFAULT_PATH = Path(__file__).resolve().parents[1] / "data" / "applications.yml"


@dataclass(frozen=True)
class Field:
    """One question of an application."""

    name: str
    label: str
    kind: str
    question: str
    why: str
    optional: bool = False
    options: dict[str, tuple[str, ...]] = field(default_factory=dict)
    question_for_other: str | None = None
    words: tuple[str, ...] = ()  # how a resident names it: "mijn postcode klopt niet"

    @property
    def slot(self) -> str:
        """The Rasa slot that holds the answer during the conversation."""
        return f"aanvraag_{self.name}"

    def option_label(self, key: str) -> str:
        words = self.options.get(key)
        return words[0] if words else key

    def render(self, value: Any) -> str:
        """The value as a professional reads it on the staff page or in a print."""
        if value is None:
            return "niet ingevuld (weet de inwoner niet)"
        if self.kind == "choice":
            return self.option_label(str(value))
        if self.kind == "choices":
            items = value if isinstance(value, list | tuple) else [value]
            return ", ".join(self.option_label(str(item)) for item in items)
        if self.kind == "amount":
            return render_amount(value)
        if self.kind == "date_of_birth":
            return render_date(value)
        if self.kind == "address" and isinstance(value, dict):
            return render_address(value)
        if self.kind == "household" and isinstance(value, dict):
            return render_household(value)
        return str(value)


@dataclass(frozen=True)
class Regeling:
    """What one kind of application asks, in the order it is asked."""

    key: str
    label: str  # as a resident picks it: "hulp bij schulden"
    title: str  # as a professional files it: "Aanmelding schuldhulpverlening"
    product: str
    fields: tuple[str, ...]
    words: tuple[str, ...] = ()
    per_soort: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def field_names(self, soort: str | None = None) -> list[str]:
        """The questions for this application; a minimaregeling's own questions follow the
        general ones (before the contact questions)."""
        names = list(self.fields)
        extra = list(self.per_soort.get(soort or "", ()))
        if extra:
            at = next((i for i, name in enumerate(names) if name.startswith("contact")), len(names))
            names[at:at] = extra
        return names


@dataclass(frozen=True)
class Catalogue:
    version: str
    fields: dict[str, Field]
    regelingen: dict[str, Regeling]

    def regeling(self, key: str) -> Regeling:
        return self.regelingen[key]

    def fields_of(self, key: str, soort: str | None = None) -> list[Field]:
        return [self.fields[name] for name in self.regeling(key).field_names(soort)]

    @property
    def slots(self) -> list[str]:
        return [f.slot for f in self.fields.values()]

    def readable(self, regeling: str, values: dict[str, Any]) -> list[tuple[str, str]]:
        """(label, value) rows in the catalogue's order, for a form a person reads; fields the
        catalogue does not know (gemeente, telefoonnummer) follow under their own name."""
        rows: list[tuple[str, str]] = []
        known = self.regelingen.get(regeling)
        soort = values.get("minimaregeling_soort")
        order = known.field_names(soort) if known else []
        for name in order:
            if name in values:
                rows.append((self.fields[name].label, self.fields[name].render(values[name])))
        for name, value in values.items():
            if name not in order:
                spec = self.fields.get(name)
                label = spec.label if spec else name.replace("_", " ").capitalize()
                rows.append((label, spec.render(value) if spec else str(value)))
        return rows


def _field(name: str, raw: dict[str, Any]) -> Field:
    kind = str(raw["kind"])
    if kind not in KINDS:
        raise ValueError(f"field {name}: unknown kind {kind!r}")
    options = {str(k): tuple(str(w) for w in v) for k, v in (raw.get("options") or {}).items()}
    if kind in ("choice", "choices") and not options:
        raise ValueError(f"field {name}: a {kind} field needs options")
    return Field(
        name=name,
        label=str(raw["label"]),
        kind=kind,
        question=" ".join(str(raw["question"]).split()),
        why=str(raw["why"]),
        optional=bool(raw.get("optional", False)),
        options=options,
        question_for_other=(
            " ".join(str(raw["question_for_other"]).split())
            if raw.get("question_for_other")
            else None
        ),
        words=tuple(str(w) for w in raw.get("words") or ()),
    )


def parse_catalogue(data: dict[str, Any]) -> Catalogue:
    fields = {name: _field(name, raw) for name, raw in data["fields"].items()}
    regelingen: dict[str, Regeling] = {}
    for key, raw in data["regelingen"].items():
        names = tuple(raw["fields"])
        per_soort = {str(k): tuple(v) for k, v in (raw.get("per_soort") or {}).items()}
        for name in (*names, *(n for extra in per_soort.values() for n in extra)):
            if name not in fields:
                raise ValueError(f"regeling {key}: unknown field {name!r}")
        regelingen[key] = Regeling(
            key=key,
            label=str(raw["label"]),
            title=str(raw["title"]),
            product=str(raw["product"]),
            fields=names,
            per_soort=per_soort,
            words=tuple(str(w) for w in raw.get("words") or ()),
        )
    return Catalogue(version=str(data["version"]), fields=fields, regelingen=regelingen)


@lru_cache(maxsize=4)
def _load(path: Path) -> Catalogue:
    return parse_catalogue(yaml.safe_load(path.read_text(encoding="utf-8")))


def load_catalogue(path: Path | None = None) -> Catalogue:
    """The catalogue in VOORDEUR_DATA_DIR (as both services configure their data), else the
    repository's own."""
    if path is None:
        data_dir = os.environ.get("VOORDEUR_DATA_DIR")
        path = Path(data_dir) / "applications.yml" if data_dir else DEFAULT_PATH
        if not path.exists():
            path = DEFAULT_PATH
    return _load(path.resolve())


def render_amount(value: Any) -> str:
    """'€ 1.250,50' (Dutch notation); whole euros without cents."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    whole = f"{int(amount):,}".replace(",", ".")
    cents = int((amount - int(amount)) * 100)
    return f"€ {whole}" if cents == 0 else f"€ {whole},{cents:02d}"


def render_date(value: Any) -> str:
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def render_address(value: dict[str, Any]) -> str:
    suffix = value.get("toevoeging") or ""
    return f"{value.get('postcode', '')} {value.get('huisnummer', '')}{suffix}".strip()


def render_household(value: dict[str, Any]) -> str:
    parts = ["met partner" if value.get("partner") else "zonder partner"]
    children = int(value.get("kinderen") or 0)
    ages = [int(a) for a in value.get("leeftijden_kinderen") or []]
    if children == 0:
        parts.append("geen kinderen")
    else:
        text = "1 kind" if children == 1 else f"{children} kinderen"
        if ages:
            listed = ", ".join(str(a) for a in ages[:-1])
            listed = f"{listed} en {ages[-1]}" if listed else str(ages[-1])
            text += f" ({listed} jaar)"
        parts.append(text)
    others = int(value.get("andere_volwassenen") or 0)
    if others:
        parts.append("1 andere volwassene" if others == 1 else f"{others} andere volwassenen")
    return ", ".join(parts)
