"""Export of a pre-filled application, so that the receiving organisation can continue it.

The resident answered the application's questions in the chat, without identifying themselves;
the municipality continues with its own form behind DigiD, where identity (the BSN) is
established. What the export looks like depends on the municipality's ``aanvraag:`` block in
the region configuration (``services/directory.py``), through a small registry of backends,
each with a ``check_config()`` (the pattern Open Formulieren uses for its registration
plugins):

1. ``objects_api`` (the municipality has an Objects API): the object Open Formulieren's Objects
   API registration would create, a ``ProductAanvraag`` record (community objecttype) with
   ``bsn`` empty, wrapped as ``{uuid, type, record: {typeVersion, data, startAt}}``, and the
   "verder met DigiD" link: the municipality's form address with the object's uuid as
   ``?initial_data_reference=``, which Open Formulieren's Objects API prefill reads.
2. ``envelope`` (no such block): plain JSON, ``{values, values_schema, metadata}``, with a JSON
   Schema of the values generated from the catalogue.

Nothing is sent anywhere: the endpoint returns what would be registered. The object's uuid is
``uuid5(OBJECT_NAMESPACE, handover id)``, so repeating the export gives the same object (and
the same link) and a registration later can be made idempotent on it. No export contains a
BSN: values pass ``applications.strip_bsns`` and ``bsn`` is always ``""``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from applications.catalogue import Catalogue, Field
from handover_api.models import Handover
from handover_api.schemas import (
    EnvelopeExport,
    ExportMetadata,
    MunicipalityOut,
    ObjectRecord,
    ObjectsApiExport,
    ObjectsApiObject,
    ProductAanvraag,
)
from handover_api.services import applications
from handover_api.services.directory import AanvraagConfig, Directory, Municipality

# Fixed for good: changing it would give every handover another object uuid (and link).
OBJECT_NAMESPACE = uuid.UUID("0c427ab4-41be-422e-99de-7d848fa94076")
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class ExportConfigError(Exception):
    """A municipality's ``aanvraag:`` block cannot work with the catalogue (start-up error)."""


@dataclass(frozen=True)
class ExportInput:
    """What every backend needs of one handover's application (BSNs already stripped)."""

    handover_id: uuid.UUID
    reference: str
    regeling: str
    fields: dict[str, Any]
    complete: bool
    municipality_code: str
    municipality_name: str
    created_at: datetime

    @classmethod
    def of(cls, handover: Handover) -> ExportInput:
        application = handover.application or {}
        return cls(
            handover_id=handover.id,
            reference=handover.reference,
            regeling=str(application.get("type", "")),
            fields=applications.strip_bsns(dict(application.get("fields") or {})),
            complete=bool(application.get("complete", False)),
            municipality_code=handover.municipality_code,
            municipality_name=handover.municipality_name,
            created_at=handover.created_at,
        )


def object_uuid(handover_id: uuid.UUID) -> uuid.UUID:
    """The Objects API object's uuid for this handover: the same on every export."""
    return uuid.uuid5(OBJECT_NAMESPACE, str(handover_id))


def ordered_values(
    catalogue: Catalogue, regeling: str, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """The fields in the order the chat asked them, then the ones the catalogue does not know."""
    order = applications.field_order(catalogue, regeling, fields)
    known = {name: fields[name] for name in order if name in fields}
    return known | {name: value for name, value in fields.items() if name not in known}


def metadata(app: ExportInput, catalogue: Catalogue) -> ExportMetadata:
    known = catalogue.regelingen.get(app.regeling)
    return ExportMetadata(
        reference=app.reference,
        regeling=app.regeling,  # type: ignore[arg-type]  # stored from ApplicationIn: valid
        title=known.title if known else app.regeling,
        product=known.product if known else app.regeling,
        catalogue_version=catalogue.version,
        municipality=MunicipalityOut(code=app.municipality_code, name=app.municipality_name),
        created_at=app.created_at,
        complete=app.complete,
        skipped_fields=applications.skipped_fields(catalogue, app.regeling, app.fields),
        not_asked_fields=applications.not_asked_fields(catalogue, app.regeling, app.fields),
    )


# --- JSON Schema of the values (envelope) -------------------------------------------------------


def _options(spec: Field) -> list[dict[str, Any]]:
    return [{"const": key, "title": spec.option_label(key)} for key in spec.options]


def _kind_schema(spec: Field) -> dict[str, Any]:
    """The stored shape of one kind (``applications.SHAPE_CHECKS`` says the same in code)."""
    if spec.kind in ("name", "text", "moment"):
        return {
            "type": "string",
            "minLength": 1,
            "maxLength": applications.TEXT_MAX,
            "pattern": r"\S",
        }
    if spec.kind == "date_of_birth":
        return {
            "type": "string",
            "format": "date",
            "pattern": applications.DATE_PATTERN,
            "description": "ISO date, not in the future",
        }
    if spec.kind == "amount":
        return {
            "type": "string",
            "pattern": applications.AMOUNT_PATTERN,
            "description": "euros as a decimal string, 0 to 10000000, at most 2 decimals",
        }
    if spec.kind == "address":
        return {
            "type": "object",
            "properties": {
                "postcode": {"type": "string", "pattern": applications.POSTCODE_PATTERN},
                "huisnummer": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": applications.HUISNUMMER_MAX,
                },
                "toevoeging": {
                    "type": ["string", "null"],
                    "minLength": 1,
                    "maxLength": applications.TOEVOEGING_MAX,
                },
            },
            "required": ["postcode", "huisnummer"],
            "additionalProperties": False,
        }
    if spec.kind == "household":
        count = {"type": "integer", "minimum": 0, "maximum": applications.HOUSEHOLD_COUNT_MAX}
        return {
            "type": "object",
            "properties": {
                "partner": {"type": "boolean"},
                "kinderen": count,
                "leeftijden_kinderen": {
                    "type": "array",
                    "items": {
                        "type": "integer",
                        "minimum": 0,
                        "maximum": applications.CHILD_AGE_MAX,
                    },
                    "maxItems": applications.HOUSEHOLD_COUNT_MAX,
                },
                "andere_volwassenen": count,
            },
            "required": list(applications.HOUSEHOLD_KEYS),
            "additionalProperties": False,
        }
    if spec.kind == "choice":
        return {"type": "string", "oneOf": _options(spec)}
    if spec.kind == "choices":
        items = {"type": "string", "oneOf": _options(spec)}
        return {"type": "array", "minItems": 1, "items": items}
    raise ExportConfigError(f"field {spec.name}: no JSON Schema for kind {spec.kind!r}")


def values_schema(catalogue: Catalogue, regeling: str) -> dict[str, Any]:
    """JSON Schema of an application's values: every question of the regeling (those of each
    minimaregeling too), ``null`` when skipped. Other fields (``gemeente``, ``telefoonnummer``)
    are allowed; none is required, as a handover can hold a partial application."""
    known = catalogue.regelingen.get(regeling)
    names: list[str] = []
    if known is not None:
        names = list(known.fields) + [n for extra in known.per_soort.values() for n in extra]
    properties = {}
    for name in dict.fromkeys(names):
        spec = catalogue.fields[name]
        properties[name] = {
            "title": spec.label,
            "description": spec.question,
            "x-kind": spec.kind,
            "anyOf": [_kind_schema(spec), {"type": "null"}],
        }
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"voordeur/aanvraag/{regeling}/{catalogue.version}",
        "title": known.title if known else regeling,
        "type": "object",
        "properties": properties,
        "additionalProperties": True,
    }


# --- backends ----------------------------------------------------------------------------------


class ExportBackend(Protocol):
    name: str

    def check_config(self, municipality: Municipality, catalogue: Catalogue) -> None:
        """Raise ExportConfigError when this municipality's configuration cannot work."""

    def export(
        self, app: ExportInput, *, municipality: Municipality | None, catalogue: Catalogue
    ) -> ObjectsApiExport | EnvelopeExport: ...


class EnvelopeBackend:
    """Plain JSON for an organisation without an Objects API: values, their schema, metadata."""

    name = "envelope"

    def check_config(self, municipality: Municipality, catalogue: Catalogue) -> None:
        return None  # needs no configuration

    def export(
        self, app: ExportInput, *, municipality: Municipality | None, catalogue: Catalogue
    ) -> EnvelopeExport:
        return EnvelopeExport(
            values=ordered_values(catalogue, app.regeling, app.fields),
            values_schema=values_schema(catalogue, app.regeling),
            metadata=metadata(app, catalogue),
        )


class ObjectsApiBackend:
    """A ProductAanvraag object as Open Formulieren's Objects API registration makes it."""

    name = "objects_api"

    def check_config(self, municipality: Municipality, catalogue: Catalogue) -> None:
        config = self._config(municipality)
        for regeling in catalogue.regelingen.values():
            link = config.digid_url(product=regeling.product, object_uuid=str(uuid.UUID(int=0)))
            if link is not None and urlsplit(link).scheme != "https":
                raise ExportConfigError(
                    f"{municipality.code}: aanvraag.digid_link gives no https URL for "
                    f"{regeling.product}: {link}"
                )

    @staticmethod
    def _config(municipality: Municipality | None) -> AanvraagConfig:
        if municipality is None or municipality.aanvraag is None:
            raise ExportConfigError("objects_api export without an aanvraag block")
        return municipality.aanvraag

    def export(
        self, app: ExportInput, *, municipality: Municipality | None, catalogue: Catalogue
    ) -> ObjectsApiExport:
        config = self._config(municipality)
        meta = metadata(app, catalogue)
        values = ordered_values(catalogue, app.regeling, app.fields)
        uid = object_uuid(app.handover_id)
        record = ObjectRecord(
            typeVersion=config.type_version,
            data=ProductAanvraag(
                # Skipped questions are left out: the form then asks them (a null would be
                # prefilled as a value).
                data={name: value for name, value in values.items() if value is not None},
                type=meta.product,
                submission_id=app.reference,
            ),
            # The record's legal start: the day the resident applied (not the export's day).
            startAt=app.created_at.astimezone(applications.LOCAL_TIME).date(),
        )
        return ObjectsApiExport(
            object=ObjectsApiObject(uuid=uid, type=config.objecttype, record=record),
            digid_link=config.digid_url(product=meta.product, object_uuid=str(uid)),
            example=config.example,
            metadata=meta,
        )


BACKENDS: dict[str, ExportBackend] = {
    backend.name: backend for backend in (ObjectsApiBackend(), EnvelopeBackend())
}


def backend_for(municipality: Municipality | None) -> ExportBackend:
    """The municipality's configured backend: its ``aanvraag:`` block names the Objects API;
    without one, the envelope."""
    configured = municipality is not None and municipality.aanvraag is not None
    return BACKENDS["objects_api" if configured else "envelope"]


def check_config(directory: Directory, catalogue: Catalogue) -> None:
    """Every municipality's backend accepts its configuration, and every regeling has a values
    schema (called at start-up, so that neither fails a request later)."""
    for regeling in catalogue.regelingen:
        values_schema(catalogue, regeling)
    for municipality in directory.municipalities.values():
        backend_for(municipality).check_config(municipality, catalogue)


def export(
    handover: Handover, *, directory: Directory, catalogue: Catalogue
) -> ObjectsApiExport | EnvelopeExport:
    """The handover's application in the shape its municipality's configuration asks for.
    The caller checks that there is an application and that consent covers the reader."""
    municipality = directory.municipality(handover.municipality_code)
    return backend_for(municipality).export(
        ExportInput.of(handover), municipality=municipality, catalogue=catalogue
    )
