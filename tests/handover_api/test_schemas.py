"""Request validation: inputs that used to give a 500 or were wrongly accepted get a 422 with a
field-level message, and destinations are checked against the region configuration."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError

from applications.catalogue import load_catalogue
from handover_api.contract import CRISIS_TYPES
from handover_api.schemas import (
    FIELDS_MAX_DEPTH,
    EventsAppend,
    HandoverCreate,
    HandoverUpdate,
    NoteCreate,
)
from handover_api.services.directory import clear_cache, load_directory

Payload = Callable[..., dict[str, Any]]
REPO_ROOT = Path(__file__).resolve().parents[2]


def errors(model: type[BaseModel], data: dict[str, Any], **kwargs: Any) -> dict[str, str]:
    """``{"a.b.0.c": message}`` of the validation errors of ``data``; fails if it is valid."""
    with pytest.raises(ValidationError) as err:
        model.model_validate(data, **kwargs)
    return {".".join(str(p) for p in e["loc"]): e["msg"] for e in err.value.errors()}


def nested(depth: int) -> dict[str, Any]:
    """``{"a": {"a": ... 1}}`` with ``depth`` objects, built without recursion."""
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    result: dict[str, Any] = value
    return result


def application(fields: Any) -> dict[str, Any]:
    return {"type": "bijstand", "fields": fields, "complete": False}


def test_the_test_payload_is_valid(make_payload: Payload) -> None:
    handover = HandoverCreate.model_validate(make_payload())
    assert handover.destination.organisation == "peel61"
    assert handover.consent.at.tzinfo is not None


# --- application.fields -----------------------------------------------------------------------


def test_fields_nested_500_levels_deep_are_refused(make_payload: Payload) -> None:
    found = errors(HandoverCreate, make_payload(application=application(nested(500))))
    assert list(found) == ["application.fields"]
    assert f"nested at most {FIELDS_MAX_DEPTH} levels deep" in found["application.fields"]


def test_fields_depth_limit_is_exact(make_payload: Payload) -> None:
    HandoverCreate.model_validate(make_payload(application=application(nested(FIELDS_MAX_DEPTH))))
    deeper = errors(HandoverCreate, make_payload(application=application(nested(7))))
    assert "levels deep (at a.a.a.a.a.a)" in deeper["application.fields"]
    in_list = {"a": [[[[[["too deep"]]]]]]}
    assert (
        "levels deep (at a[0][0][0][0][0])"
        in errors(HandoverCreate, make_payload(application=application(in_list)))[
            "application.fields"
        ]
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({f"k{i}": i for i in range(101)}, "at most 100 keys or items"),
        ({"list": list(range(101))}, "at most 100 keys or items per object or list (at list)"),
        ({f"k{i}": list(range(99)) for i in range(20)}, "at most 1000 values in total"),
        ({"x" * 101: 1}, "keys must be 1 to 100 characters"),
        ({"": 1}, "keys must be 1 to 100 characters"),
        ({"a\x00": 1}, "keys must not contain control characters"),
        ({"a": "nul\x00byte"}, "control characters other than newline and tab (at a)"),
        ({"a": "\ud800"}, "control characters"),
        ({"a": [1.5, float("nan")]}, "numbers must be finite (no NaN or Infinity) (at a[1])"),
        ({"a": float("inf")}, "numbers must be finite"),
        ({"a": "x" * 9_000, "b": "y" * 9_000, "c": "z" * 3_000}, "at most 20 kB"),
    ],
)
def test_fields_limits(make_payload: Payload, fields: dict[str, Any], message: str) -> None:
    found = errors(HandoverCreate, make_payload(application=application(fields)))
    assert message in found["application.fields"]


def test_ordinary_fields_pass_unchanged(make_payload: Payload) -> None:
    """Fields the catalogue does not know keep the generic limits only ("inkomen" is a
    catalogue field, hence the other name here)."""
    fields = {
        "gemeente": "Helmond",
        "kinderen": [{"leeftijd": 4}, {"leeftijd": 7}],
        "inkomsten": {"netto": 1234.5, "bron": None, "vast": True},
        "opmerking": "regel 1\nregel 2\ttab",
    }
    handover = HandoverCreate.model_validate(make_payload(application=application(fields)))
    assert handover.application is not None and handover.application.fields == fields


# --- application.fields against the catalogue (data/applications.yml) ----------------------


def test_catalogue_fields_with_their_stored_shapes_pass_unchanged(make_payload: Payload) -> None:
    fields = {
        "naam": "Jan Jansen",
        "geboortedatum": "1988-03-15",
        "adres": {"postcode": "5701 AB", "huisnummer": 12, "toevoeging": None},
        "huishouden": {
            "partner": False,
            "kinderen": 1,
            "leeftijden_kinderen": [4],
            "andere_volwassenen": 0,
        },
        "inkomen": ["bijstand"],
        "woonlasten": None,
        "contactvoorkeur": "sms",
        "contactmoment": None,
        "gemeente": "Helmond",
        "telefoonnummer": None,
    }
    handover = HandoverCreate.model_validate(make_payload(application=application(fields)))
    assert handover.application is not None and handover.application.fields == fields


def test_wrong_shapes_of_catalogue_fields_are_one_field_level_422(make_payload: Payload) -> None:
    fields = {
        "geboortedatum": "15-3-1988",
        "woonlasten": 650,
        "adres": {"postcode": "5701AB", "huisnummer": 12},
        "inkomen": ["salaris"],
        "gemeente": "Helmond",
    }
    found = errors(HandoverCreate, make_payload(application=application(fields)))
    assert list(found) == ["application.fields"]
    message = found["application.fields"]
    assert message.startswith("application fields: geboortedatum (date_of_birth) must be a date")
    assert "; woonlasten (amount) must be an amount in euros as text" in message
    assert "; adres (address) postcode must look like 5701 AB" in message
    assert "; inkomen (choices) must be a non-empty list of: geen, loon," in message
    assert "gemeente" not in message


def test_the_type_stays_the_contracts_enum(make_payload: Payload) -> None:
    app = {"type": "kwijtschelding", "fields": {"naam": ""}, "complete": False}
    found = errors(HandoverCreate, make_payload(application=app))
    # a field's shape does not depend on the regeling: both are reported
    assert list(found) == ["application.type", "application.fields"]
    assert "naam (name) must be text" in found["application.fields"]
    assert (
        "'bijstand', 'bijzondere_bijstand', 'schuldhulp', 'wmo' or 'minimaregeling'"
        in (found["application.type"])
    )


def test_the_catalogue_can_come_from_the_validation_context(make_payload: Payload) -> None:
    """As the directory: tests and scripts pass their own catalogue."""
    real = load_catalogue()
    naam = replace(real.fields["naam"], kind="choice", options={"a": ("a",)})
    catalogue = replace(real, fields={**real.fields, "naam": naam})
    body = make_payload(application=application({"naam": "Jan"}))
    found = errors(HandoverCreate, body, context={"catalogue": catalogue})
    assert "naam (choice) must be one of: a" in found["application.fields"]
    HandoverCreate.model_validate(body)  # the real catalogue: a name is text


def test_a_key_that_names_a_bsn_is_refused(make_payload: Payload) -> None:
    found = errors(HandoverCreate, make_payload(application=application({"bsn": "123456782"})))
    assert "bsn: an application never holds a BSN" in found["application.fields"]


# --- timestamps -------------------------------------------------------------------------------

OUT_OF_RANGE = [
    "0001-01-01T00:00:00+05:00",
    "0001-01-01T00:00:00",
    "9999-12-31T23:59:59-05:00",
    "9999-12-31T23:59:59Z",
    "1999-12-31T23:59:59Z",
    "2000-01-01T04:00:00+05:00",  # 1999-12-31T23:00Z
]


@pytest.mark.parametrize("at", OUT_OF_RANGE)
def test_consent_and_event_times_out_of_range_are_refused(make_payload: Payload, at: str) -> None:
    consent = {"given": True, "at": at, "text_version": "v1"}
    found = errors(HandoverCreate, make_payload(consent=consent))
    assert list(found) == ["consent.at"] and "must be between 2000-01-01" in found["consent.at"]

    event = {"event_id": "e1", "sender": "user", "text": "hoi", "at": at}
    found = errors(HandoverCreate, make_payload(transcript=[event]))
    assert list(found) == ["transcript.0.at"]
    assert list(errors(EventsAppend, {"events": [event]})) == ["events.0.at"]


def test_times_more_than_a_day_ahead_are_refused(make_payload: Payload) -> None:
    soon = datetime.now(UTC) + timedelta(hours=20)
    later = datetime.now(UTC) + timedelta(days=2)
    HandoverCreate.model_validate(
        make_payload(consent={"given": True, "at": soon.isoformat(), "text_version": "v1"})
    )
    found = errors(
        HandoverCreate,
        make_payload(consent={"given": True, "at": later.isoformat(), "text_version": "v1"}),
    )
    assert "(now + 1 day)" in found["consent.at"]


def test_times_in_range_are_stored_in_utc(make_payload: Payload) -> None:
    consent = {"given": True, "at": "2000-01-01T05:30:00+05:00", "text_version": "v1"}
    event = {"sender": "user", "text": "hoi", "at": "2025-03-04T10:00:00"}  # naive: UTC
    handover = HandoverCreate.model_validate(make_payload(consent=consent, transcript=[event]))
    assert handover.consent.at == datetime(2000, 1, 1, 0, 30, tzinfo=UTC)
    assert handover.consent.at.utcoffset() == timedelta(0)
    assert handover.transcript[0].at == datetime(2025, 3, 4, 10, 0, tzinfo=UTC)


# --- strict booleans --------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["true", "True", 1, "yes", None])
def test_consent_given_must_be_the_boolean_true(make_payload: Payload, value: Any) -> None:
    consent = {"given": value, "at": "2025-03-04T10:00:00Z", "text_version": "v1"}
    found = errors(HandoverCreate, make_payload(consent=consent))
    assert found == {"consent.given": "Input should be a valid boolean"}


def test_consent_given_false_is_refused_with_the_reason(make_payload: Payload) -> None:
    consent = {"given": False, "at": "2025-03-04T10:00:00Z", "text_version": "v1"}
    assert (
        "without the citizen's consent"
        in errors(HandoverCreate, make_payload(consent=consent))["consent.given"]
    )


@pytest.mark.parametrize("value", ["true", "false", 0, 1])
def test_other_booleans_are_strict(make_payload: Payload, value: Any) -> None:
    found = errors(HandoverCreate, make_payload(multi_problem=value))
    assert found == {"multi_problem": "Input should be a valid boolean"}
    app = {"type": "bijstand", "fields": {}, "complete": value}
    found = errors(HandoverCreate, make_payload(application=app))
    assert found == {"application.complete": "Input should be a valid boolean"}


# --- municipality, crisis, destination against the region configuration ----------------------


def test_unknown_municipality_code(make_payload: Payload) -> None:
    found = errors(HandoverCreate, make_payload(municipality={"code": "GM9999", "name": "X"}))
    # only the code is reported: the name and destination cannot be judged without it
    assert list(found) == ["municipality.code"]
    assert found["municipality.code"].startswith("unknown municipality 'GM9999'; configured:")
    assert "GM0794 (Helmond)" in found["municipality.code"]


def test_malformed_municipality_code_keeps_its_format_message(make_payload: Payload) -> None:
    found = errors(HandoverCreate, make_payload(municipality={"code": "0794", "name": "Helmond"}))
    assert "'GM' followed by 4 digits" in found["municipality.code"]


def test_municipality_name_must_match_the_code(make_payload: Payload) -> None:
    found = errors(HandoverCreate, make_payload(municipality={"code": "GM0794", "name": "Asten"}))
    assert found == {"municipality.name": "is not the name of GM0794; expected 'Helmond'"}


@pytest.mark.parametrize(
    ("code", "name", "organisation", "team"),
    [
        ("GM0794", "helmond", "peel61", "werk-inkomen"),
        ("GM0373", "Bergen (NH)", "sociale-dienst-regio-alkmaar", "werk-inkomen"),
        ("GM1980", "Heerhugowaard", "sociale-dienst-regio-alkmaar", "werk-inkomen"),
    ],
)
def test_municipality_name_compares_loosely_and_knows_aliases(
    make_payload: Payload, code: str, name: str, organisation: str, team: str
) -> None:
    destination = {"level": "regional", "organisation": organisation, "team": team}
    HandoverCreate.model_validate(
        make_payload(municipality={"code": code, "name": name}, destination=destination)
    )


@pytest.mark.parametrize("crisis_type", [*CRISIS_TYPES, "onbekend"])
def test_contract_crisis_types_and_unknown_are_accepted(
    make_payload: Payload, crisis_type: str
) -> None:
    handover = HandoverCreate.model_validate(make_payload(crisis={"type": crisis_type}))
    assert handover.crisis is not None and handover.crisis.type == crisis_type


def test_other_crisis_types_are_refused(make_payload: Payload) -> None:
    found = errors(HandoverCreate, make_payload(crisis={"type": "brand"}))
    assert found["crisis.type"].startswith("unknown crisis type 'brand'; expected one of: ")
    assert "huiselijk_geweld" in found["crisis.type"]


@pytest.mark.parametrize(
    ("destination", "loc", "message"),
    [
        (
            {"level": "regional", "organisation": "x", "team": "y"},
            "destination.organisation",
            "unknown organisation 'x'",
        ),
        (
            {"level": "regional", "organisation": "peel61", "team": "werk-en-inkomen"},
            "destination.team",
            "team 'werk-en-inkomen' is not a team of 'peel61' (teams: werk-inkomen)",
        ),
        (
            {"level": "local", "organisation": "peel61", "team": "werk-inkomen"},
            "destination.organisation",
            "organisation 'peel61' is regional, not local",
        ),
        (
            {"level": "local", "organisation": "gemeente-asten", "team": "sociaal-team"},
            "destination",
            "organisation 'gemeente-asten' does not serve municipality GM0794 (Helmond)",
        ),
    ],
)
def test_destination_must_exist_and_serve_the_municipality(
    make_payload: Payload, destination: dict[str, str], loc: str, message: str
) -> None:
    assert errors(HandoverCreate, make_payload(destination=destination)) == {loc: message}


def test_local_destinations_of_the_municipality_are_accepted(make_payload: Payload) -> None:
    for team in ("wijkteam", "kcc"):
        destination = {"level": "local", "organisation": "gemeente-helmond", "team": team}
        HandoverCreate.model_validate(make_payload(destination=destination))


def test_update_destination_must_be_a_known_team() -> None:
    unknown = {"level": "local", "organisation": "helmond-wijkteam", "team": "wmo"}
    found = errors(HandoverUpdate, {"status": "returned", "reason": "r", "destination": unknown})
    assert found == {"destination.organisation": "unknown organisation 'helmond-wijkteam'"}
    wrong_team = {"level": "local", "organisation": "gemeente-helmond", "team": "wmo"}
    found = errors(HandoverUpdate, {"status": "returned", "destination": wrong_team})
    assert found["destination.team"].startswith("team 'wmo' is not a team of 'gemeente-helmond'")

    known = {"level": "local", "organisation": "gemeente-helmond", "team": "wijkteam"}
    update = HandoverUpdate.model_validate(
        {"status": "returned", "reason": "r", "destination": known}
    )
    assert update.destination is not None and update.destination.team == "wijkteam"
    assert HandoverUpdate.model_validate({"status": "claimed"}).destination is None


def test_the_validation_context_chooses_the_configuration(
    make_payload: Payload, tmp_path: Path
) -> None:
    shutil.copytree(REPO_ROOT / "data" / "regions", tmp_path / "regions")
    peelland = tmp_path / "regions" / "peelland.yml"
    peelland.write_text(
        peelland.read_text(encoding="utf-8").replace("name: Helmond\n", "name: Helmond-Stad\n"),
        encoding="utf-8",
    )
    clear_cache()
    context = {"directory": load_directory(tmp_path)}
    municipality = {"code": "GM0794", "name": "Helmond-Stad"}
    HandoverCreate.model_validate(make_payload(municipality=municipality), context=context)
    assert list(errors(HandoverCreate, make_payload(municipality=municipality))) == [
        "municipality.name"
    ]
    found = errors(HandoverCreate, make_payload(), context=context)
    assert "expected 'Helmond-Stad'" in found["municipality.name"]
    clear_cache()


# --- text fields (one validator for single and multiple lines) -------------------------------


def test_single_line_fields_refuse_newlines_and_text_fields_allow_them(
    make_payload: Payload,
) -> None:
    contact = {"name": "Jan\nJansen", "phone": "06-12345678", "preferred": "phone"}
    found = errors(HandoverCreate, make_payload(contact=contact))
    assert (
        found["contact.name"] == "must be a single line without control characters (found U+000A)"
    )
    assert NoteCreate.model_validate({"text": "regel 1\r\nregel 2\tx"}).text.count("\n") == 1
    found = errors(NoteCreate, {"text": "nul\x00 and bell\x07"})
    assert found["text"] == (
        "must not contain control characters other than newline and tab (found U+0000, U+0007)"
    )


# --- through HTTP: the inputs that used to give a 500 ----------------------------------------


def test_http_deeply_nested_fields_and_year_one_give_422(
    client: TestClient, service_headers: dict[str, str], make_payload: Payload
) -> None:
    headers = {**service_headers, "Content-Type": "application/json"}
    body = json.dumps(make_payload(application=application("__DEEP__")))
    deep = body.replace('"__DEEP__"', '{"a":' * 500 + "1" + "}" * 500)
    response = client.post("/api/v1/handovers", content=deep, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == "application.fields"

    consent = {"given": True, "at": "0001-01-01T00:00:00+05:00", "text_version": "v1"}
    response = client.post("/api/v1/handovers", json=make_payload(consent=consent), headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["field"] == "consent.at"

    nan = body.replace('"__DEEP__"', '{"a": NaN}')
    response = client.post("/api/v1/handovers", content=nan, headers=headers)
    assert response.status_code == 422, response.text
    assert "finite" in response.json()["message"]

    consent = {"given": "true", "at": "2025-03-04T10:00:00Z", "text_version": "v1"}
    response = client.post("/api/v1/handovers", json=make_payload(consent=consent), headers=headers)
    assert response.status_code == 422
    assert (
        response.json()["message"]
        == "invalid request: consent.given: Input should be a valid boolean"
    )


def test_http_wrong_application_shape_is_a_field_level_422(
    client: TestClient, service_headers: dict[str, str], make_payload: Payload
) -> None:
    fields = {"naam": "Jan", "huishouden": {"partner": True, "kinderen": 25}}
    response = client.post(
        "/api/v1/handovers",
        json=make_payload(application=application(fields)),
        headers=service_headers,
    )
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["field"] == "application.fields" and error["type"] == "application_fields"
    assert error["msg"] == (
        "application fields: huishouden (household) must have exactly the keys partner, "
        "kinderen, leeftijden_kinderen, andere_volwassenen"
    )
    assert response.json()["message"] == f"invalid request: application.fields: {error['msg']}"
    assert "Jan" not in response.text  # the rejected input is not echoed back
