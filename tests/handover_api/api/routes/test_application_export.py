"""GET /api/v1/handovers/{id}/application/export: the ProductAanvraag object for a municipality
with an Objects API (Helmond, Alkmaar in data/regions), the JSON envelope for the others;
access, consent and audit as reading the handover; never a BSN."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from handover_api.models import AuditLog, Handover
from handover_api.services import handovers as handover_service
from handover_api.services.application_export import OBJECT_NAMESPACE
from tests.handover_api.conftest import BIJSTAND_APPLICATION_FIELDS

URL = "/api/v1/handovers"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
Create = Callable[..., dict[str, Any]]
Headers = dict[str, str]

BIJSTAND_FIELDS: dict[str, Any] = {
    **BIJSTAND_APPLICATION_FIELDS,
    "gemeentecode": "GM0794",
    "telefoonnummer": "06-12345678",
}
OLD_FIELDS = {"gemeente": "Asten", "gemeentecode": "GM0743", "telefoonnummer": "06-12345678"}
ASTEN = {"code": "GM0743", "name": "Asten"}
ALKMAAR = {
    "municipality": {"code": "GM0361", "name": "Alkmaar"},
    "destination": {
        "level": "regional",
        "organisation": "sociale-dienst-regio-alkmaar",
        "team": "werk-inkomen",
    },
}


def _application(regeling: str, fields: dict[str, Any], complete: bool = False) -> dict[str, Any]:
    return {"type": regeling, "fields": fields, "complete": complete}


def _export(client: TestClient, handover_id: str, headers: Headers) -> Any:
    return client.get(f"{URL}/{handover_id}/application/export", headers=headers)


# --- Objects API (Helmond: objecttype and DigiD link configured, example data) ----------------


def test_helmond_gets_the_product_aanvraag_object_and_the_digid_link(
    client: TestClient, peel_headers: Headers, create_handover: Create
) -> None:
    created = create_handover(application=_application("bijstand", BIJSTAND_FIELDS))
    response = _export(client, created["id"], peel_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["format"] == "objects_api"
    assert body["example"] is True and body["registered"] is False

    obj = body["object"]
    expected_uuid = str(uuid.uuid5(OBJECT_NAMESPACE, created["id"]))
    assert obj["uuid"] == expected_uuid
    assert obj["type"] == (
        "https://objecttypen.helmond.example.nl/api/v2/objecttypes/"
        "973f9efa-e01f-421b-bd44-caee12848d4a"
    )
    record = obj["record"]
    assert set(record) == {"typeVersion", "data", "startAt"}
    assert record["typeVersion"] == 1
    # the legal start of the record: the day the resident applied, in Dutch time
    created_at = datetime.fromisoformat(created["created_at"])
    assert record["startAt"] == created_at.astimezone(AMSTERDAM).date().isoformat()

    # record.data: the ProductAanvraag of Open Formulieren's Objects API registration.
    aanvraag = record["data"]
    assert set(aanvraag) == {
        "data",
        "type",
        "bsn",
        "pdf_url",
        "attachments",
        "submission_id",
        "language_code",
        "payment",
    }
    assert aanvraag["type"] == "melding-levensonderhoud"
    assert aanvraag["bsn"] == ""
    assert aanvraag["submission_id"] == created["reference"]
    assert aanvraag["pdf_url"] == "" and aanvraag["attachments"] == []
    assert aanvraag["payment"] == {"completed": False, "amount": 0, "public_order_ids": []}
    expected_data = {k: v for k, v in BIJSTAND_FIELDS.items() if v is not None}
    assert aanvraag["data"] == expected_data  # the skipped woonlasten is left out
    assert list(aanvraag["data"])[:3] == ["naam", "geboortedatum", "adres"]

    assert body["digid_link"] == (
        "https://formulieren.helmond.example.nl/melding-levensonderhoud"
        f"?initial_data_reference={expected_uuid}"
    )
    meta = body["metadata"]
    assert meta["reference"] == created["reference"]
    assert (meta["regeling"], meta["product"]) == ("bijstand", "melding-levensonderhoud")
    assert meta["title"] == "Melding levensonderhoud (bijstand)"
    assert meta["catalogue_version"] == "aanvraag-2026-12-v1"
    assert meta["municipality"] == {"code": "GM0794", "name": "Helmond"}
    assert meta["complete"] is False
    assert meta["skipped_fields"] == ["woonlasten"] and meta["not_asked_fields"] == []

    again = _export(client, created["id"], peel_headers).json()
    assert again == body  # deterministic: the same object and link every time


def test_the_object_matches_the_community_product_aanvraag_schema(
    client: TestClient, peel_headers: Headers, create_handover: Create
) -> None:
    """The required properties and types of the ProductAanvraag objecttype (community concept,
    as Open Formulieren documents it), and the Objects API's object and record."""
    product_aanvraag = {
        "type": "object",
        "required": ["submission_id", "type", "data"],
        "properties": {
            "data": {"type": "object"},
            "type": {"type": "string"},
            "bsn": {"type": "string"},
            "pdf_url": {"type": "string"},
            "attachments": {"type": "array", "items": {"type": "string", "format": "uri"}},
            "submission_id": {"type": "string"},
        },
    }
    objects_api_object = {
        "type": "object",
        "required": ["type", "record"],
        "properties": {
            "uuid": {"type": "string", "format": "uuid"},
            "type": {"type": "string", "format": "uri", "minLength": 1, "maxLength": 1000},
            "record": {
                "type": "object",
                "required": ["startAt", "typeVersion"],
                "properties": {
                    "typeVersion": {"type": "integer", "minimum": 0, "maximum": 32767},
                    "data": product_aanvraag,
                    "startAt": {"type": "string", "format": "date"},
                },
            },
        },
    }
    created = create_handover(application=_application("bijstand", BIJSTAND_FIELDS))
    body = _export(client, created["id"], peel_headers).json()
    jsonschema.validate(
        body["object"],
        objects_api_object,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


def test_alkmaar_has_an_objects_api_but_no_digid_form_yet(
    client: TestClient, make_staff: Callable[..., Headers], create_handover: Create
) -> None:
    zaffier = make_staff("sociale-dienst-regio-alkmaar", team="werk-inkomen")
    created = create_handover(
        **ALKMAAR,
        application=_application(
            "bijzondere_bijstand", {"kosten_omschrijving": "een wasmachine", "kosten_bedrag": "450"}
        ),
    )
    body = _export(client, created["id"], zaffier).json()
    assert body["format"] == "objects_api"
    assert body["object"]["record"]["typeVersion"] == 2
    assert body["object"]["record"]["data"]["type"] == "aanvraag-bijzondere-bijstand"
    assert body["digid_link"] is None and body["example"] is True
    assert "naam" in body["metadata"]["not_asked_fields"]


def test_the_digid_link_names_the_product_and_differs_per_handover(
    client: TestClient, peel_headers: Headers, create_handover: Create
) -> None:
    one, two = (
        create_handover(application=_application("wmo", {"hulpvraag": "boodschappen"}))
        for _ in "ab"
    )
    links = [_export(client, h["id"], peel_headers).json()["digid_link"] for h in (one, two)]
    assert links[0] != links[1]
    assert all(
        link.startswith("https://formulieren.helmond.example.nl/melding-wmo?") for link in links
    )


# --- the envelope (every municipality without an aanvraag block) -------------------------------


def test_asten_gets_the_envelope_with_values_schema_and_metadata(
    client: TestClient, peel_headers: Headers, create_handover: Create
) -> None:
    fields = {**BIJSTAND_FIELDS, "gemeente": "Asten", "gemeentecode": "GM0743"}
    created = create_handover(municipality=ASTEN, application=_application("bijstand", fields))
    response = _export(client, created["id"], peel_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["format"] == "envelope"
    assert set(body) == {"format", "values", "values_schema", "metadata"}
    assert body["values"] == fields  # skipped ones stay, as null
    assert body["values"]["woonlasten"] is None
    schema = body["values_schema"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "Melding levensonderhoud (bijstand)"
    assert list(schema["properties"]) == [
        "naam",
        "geboortedatum",
        "adres",
        "huishouden",
        "inkomen",
        "woonlasten",
        "contactvoorkeur",
        "contactmoment",
    ]
    assert schema["properties"]["woonlasten"]["title"] == "Woonlasten per maand"
    assert schema["properties"]["woonlasten"]["x-kind"] == "amount"
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    validator.validate(body["values"])
    assert not validator.is_valid({**fields, "inkomen": ["salaris"]})
    assert not validator.is_valid({**fields, "adres": {"postcode": "5701AB", "huisnummer": 1}})
    meta = body["metadata"]
    assert meta["municipality"] == ASTEN and meta["skipped_fields"] == ["woonlasten"]
    assert meta["created_at"] == created["created_at"]


def test_an_older_handover_exports_too(
    client: TestClient, peel_headers: Headers, create_handover: Create
) -> None:
    """Before the chat asked the questions an application held only gemeente, gemeentecode
    and telefoonnummer."""
    created = create_handover(
        municipality=ASTEN, application=_application("schuldhulp", {**OLD_FIELDS})
    )
    body = _export(client, created["id"], peel_headers).json()
    assert body["format"] == "envelope"
    assert body["values"] == OLD_FIELDS
    jsonschema.Draft202012Validator(body["values_schema"]).validate(body["values"])
    assert body["metadata"]["skipped_fields"] == []
    assert body["metadata"]["not_asked_fields"][:2] == ["dreiging", "schuld_totaal"]

    helmond = create_handover(
        application=_application("schuldhulp", {**OLD_FIELDS, "gemeente": "Helmond"})
    )
    record = _export(client, helmond["id"], peel_headers).json()["object"]["record"]
    assert record["data"]["data"] == {**OLD_FIELDS, "gemeente": "Helmond"}
    assert record["data"]["type"] == "aanmelding-schuldhulpverlening"


def test_a_minimaregeling_schema_holds_the_questions_of_every_soort(
    client: TestClient, peel_headers: Headers, create_handover: Create
) -> None:
    created = create_handover(
        municipality=ASTEN,
        application=_application(
            "minimaregeling", {"minimaregeling_soort": "meedoen", "activiteit": "zwemles"}
        ),
    )
    body = _export(client, created["id"], peel_headers).json()
    assert "activiteit" in body["values_schema"]["properties"]
    soort = body["values_schema"]["properties"]["minimaregeling_soort"]["anyOf"][0]
    assert {"const": "meedoen", "title": "sport en cultuur voor kinderen"} in soort["oneOf"]
    jsonschema.Draft202012Validator(body["values_schema"]).validate(body["values"])


# --- never a BSN -------------------------------------------------------------------------------


@pytest.mark.parametrize("municipality", [None, ASTEN])
def test_no_export_contains_a_bsn(
    client: TestClient,
    peel_headers: Headers,
    create_handover: Create,
    session: Session,
    municipality: dict[str, str] | None,
) -> None:
    fields = {
        "kosten_omschrijving": "een bril; mijn BSN is 123456782",
        "kosten_bedrag": "450",
        "naam": "Jan 111222333",
        "kenmerk": 123456782,
        "gemeente": "x",
    }
    extra = {"municipality": municipality} if municipality else {}
    created = create_handover(application=_application("bijzondere_bijstand", fields), **extra)
    stored = session.get(Handover, uuid.UUID(created["id"]))
    assert stored is not None and stored.application is not None
    assert "123456782" not in json.dumps(stored.application)  # stripped when stored
    assert created["application"]["fields"]["naam"] == "Jan [BSN verwijderd]"

    # An application stored before the API stripped them still holds one: stripped on export.
    stored.application = {**stored.application, "fields": {**fields}}
    session.commit()
    text = _export(client, created["id"], peel_headers).text
    assert "123456782" not in text and "111222333" not in text
    assert "[BSN verwijderd]" in text
    detail = client.get(f"{URL}/{created['id']}", headers=peel_headers).text
    assert "123456782" not in detail and "111222333" not in detail


# --- access, consent, audit --------------------------------------------------------------------


def test_another_organisation_the_service_and_strangers_are_refused_and_audited(
    client: TestClient,
    peel_headers: Headers,
    helmond_headers: Headers,
    service_headers: Headers,
    create_handover: Create,
    session: Session,
) -> None:
    created = create_handover(application=_application("bijstand", BIJSTAND_FIELDS))
    assert _export(client, created["id"], helmond_headers).status_code == 404
    assert _export(client, str(uuid.uuid4()), peel_headers).status_code == 404
    assert _export(client, created["id"], service_headers).status_code == 403
    assert _export(client, created["id"], {}).status_code == 401
    refused = session.scalars(
        select(AuditLog).where(
            AuditLog.action == "access.refused",
            AuditLog.resource_id == "GET /api/v1/handovers/{handover_id}/application/export",
        )
    ).all()
    assert sorted(r.detail["status"] for r in refused if r.detail) == [401, 403, 404, 404]


def test_an_export_is_audited_as_a_read_of_the_handover(
    client: TestClient, peel_headers: Headers, create_handover: Create, session: Session
) -> None:
    created = create_handover(application=_application("bijstand", BIJSTAND_FIELDS))
    assert _export(client, created["id"], peel_headers).status_code == 200
    reads = session.scalars(
        select(AuditLog).where(
            AuditLog.action == "handover.read", AuditLog.resource_id == created["id"]
        )
    ).all()
    assert [r.detail for r in reads] == [
        {"handover_id": created["id"], "via": "application-export", "format": "objects_api"}
    ]
    assert "Jan Jansen" not in str([r.detail for r in reads])


def test_withdrawn_consent_is_refused_as_the_detail_withholds_it(
    client: TestClient,
    peel_headers: Headers,
    service_headers: Headers,
    create_handover: Create,
    session: Session,
) -> None:
    created = create_handover(application=_application("bijstand", BIJSTAND_FIELDS))
    client.post(f"{URL}/{created['id']}/consent-withdrawal", headers=service_headers)
    response = _export(client, created["id"], peel_headers)
    assert response.status_code == 403
    assert response.json() == {"detail": handover_service.WITHHELD_SUMMARY}
    detail = client.get(f"{URL}/{created['id']}", headers=peel_headers).json()
    assert detail["summary"] == handover_service.WITHHELD_SUMMARY
    assert "Jan Jansen" not in response.text and "06-12345678" not in response.text
    rows = session.scalars(select(AuditLog).where(AuditLog.resource_id == created["id"])).all()
    assert not any((r.detail or {}).get("via") == "application-export" for r in rows)
    refused = session.scalars(
        select(AuditLog).where(
            AuditLog.action == "access.refused",
            AuditLog.resource_id == "GET /api/v1/handovers/{handover_id}/application/export",
        )
    ).all()
    assert [r.detail for r in refused] == [{"status": 403}]


def test_a_returned_case_without_consent_for_the_new_organisation_is_refused(
    client: TestClient, peel_headers: Headers, helmond_headers: Headers, create_handover: Create
) -> None:
    created = create_handover(application=_application("bijstand", BIJSTAND_FIELDS))
    returned = client.patch(
        f"{URL}/{created['id']}",
        json={
            "status": "returned",
            "reason": "past beter bij het wijkteam",
            "destination": {
                "level": "local",
                "organisation": "gemeente-helmond",
                "team": "wijkteam",
            },
        },
        headers=peel_headers,
    )
    new_id = returned.json()["returned_to"]["id"]
    assert _export(client, new_id, helmond_headers).status_code == 403

    with_consent = create_handover(application=_application("bijstand", BIJSTAND_FIELDS))
    returned = client.patch(
        f"{URL}/{with_consent['id']}",
        json={
            "status": "returned",
            "reason": "past beter bij het wijkteam",
            "destination": {
                "level": "local",
                "organisation": "gemeente-helmond",
                "team": "wijkteam",
            },
            "consent_for_destination": True,
        },
        headers=peel_headers,
    )
    new_id = returned.json()["returned_to"]["id"]
    body = _export(client, new_id, helmond_headers).json()
    assert body["object"]["record"]["data"]["data"]["naam"] == "Jan Jansen"
    assert body["object"]["uuid"] == str(uuid.uuid5(OBJECT_NAMESPACE, new_id))


def test_a_handover_without_an_application_has_nothing_to_export(
    client: TestClient, peel_headers: Headers, create_handover: Create
) -> None:
    created = create_handover(application=None)
    response = _export(client, created["id"], peel_headers)
    assert response.status_code == 404
    assert response.json() == {"detail": "this handover holds no application"}
