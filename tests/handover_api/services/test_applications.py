"""Pre-filled applications in the API: stored shapes per kind (against the real catalogue), BSN
stripping at any depth, and the readable form of the staff page."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import jsonschema
import pytest

from applications.catalogue import KINDS, Catalogue, load_catalogue
from handover_api.contract import APPLICATION_TYPES
from handover_api.services.application_export import values_schema
from handover_api.services.applications import (
    LOCAL_TIME,
    SHAPE_CHECKS,
    shape_problems,
    skipped_fields,
    strip_bsns,
    view,
)
from tests.handover_api.conftest import BIJSTAND_APPLICATION_FIELDS

TOMORROW = (date.today() + timedelta(days=2)).isoformat()

# (field of data/applications.yml, value) that have the stored shape of the field's kind ...
VALID: list[tuple[str, Any]] = [
    ("naam", "Jan Jansen"),
    ("naam", "x" * 1000),
    ("hulpvraag", "Het huishouden lukt niet meer.\nDe trap ook niet."),
    ("contactmoment", "morgen na 14 uur"),
    ("geboortedatum", "1988-03-15"),
    ("geboortedatum", "1900-01-01"),
    ("woonlasten", "650"),
    ("woonlasten", "1250.50"),
    ("woonlasten", "0"),
    ("woonlasten", "0.5"),
    ("schuld_totaal", "10000000"),
    ("schuld_totaal", "10000000.00"),
    ("adres", {"postcode": "5701 AB", "huisnummer": 12, "toevoeging": "a"}),
    ("adres", {"postcode": "1000 AA", "huisnummer": 1, "toevoeging": None}),
    ("adres", {"postcode": "9999 ZZ", "huisnummer": 99999}),
    (
        "huishouden",
        {"partner": True, "kinderen": 2, "leeftijden_kinderen": [4, 7], "andere_volwassenen": 0},
    ),
    (
        "huishouden",
        {"partner": False, "kinderen": 20, "leeftijden_kinderen": [], "andere_volwassenen": 20},
    ),
    (
        "huishouden",
        {"partner": False, "kinderen": 1, "leeftijden_kinderen": [30], "andere_volwassenen": 0},
    ),
    ("contactvoorkeur", "whatsapp"),
    ("minimaregeling_soort", "meedoen"),
    ("inkomen", ["geen"]),
    ("inkomen", ["loon", "alimentatie"]),
    ("schuldeisers", ["huur", "energie", "incasso"]),
]
# ... and values that do not.
INVALID: list[tuple[str, Any, str]] = [
    ("naam", "", "text of 1 to 1000"),
    ("naam", "   ", "text of 1 to 1000"),
    ("naam", "x" * 1001, "text of 1 to 1000"),
    ("naam", 42, "text of 1 to 1000"),
    ("hulpvraag", ["a"], "text of 1 to 1000"),
    ("geboortedatum", "15-3-1988", "YYYY-MM-DD"),
    ("geboortedatum", "19880315", "YYYY-MM-DD"),
    ("geboortedatum", "1988-02-30", "YYYY-MM-DD"),
    ("geboortedatum", 19880315, "YYYY-MM-DD"),
    ("woonlasten", 650, "amount in euros as text"),
    ("woonlasten", 650.5, "amount in euros as text"),
    ("woonlasten", "-1", "amount in euros as text"),
    ("woonlasten", "1.234", "amount in euros as text"),
    ("woonlasten", "1,50", "amount in euros as text"),
    ("woonlasten", "1e3", "amount in euros as text"),
    ("woonlasten", "10000000.01", "amount in euros as text"),
    ("woonlasten", "10000001", "amount in euros as text"),
    ("woonlasten", "NaN", "amount in euros as text"),
    ("woonlasten", "", "amount in euros as text"),
    ("adres", "5701 AB 12", "must be an object"),
    ("adres", {"postcode": "5701AB", "huisnummer": 12}, "postcode must look like 5701 AB"),
    ("adres", {"postcode": "5701 ab", "huisnummer": 12}, "postcode must look like 5701 AB"),
    ("adres", {"postcode": "0701 AB", "huisnummer": 12}, "postcode must look like 5701 AB"),
    ("adres", {"huisnummer": 12}, "postcode must look like 5701 AB"),
    ("adres", {"postcode": "5701 AB", "huisnummer": 0}, "huisnummer must be a whole number"),
    ("adres", {"postcode": "5701 AB", "huisnummer": "12"}, "huisnummer must be a whole number"),
    ("adres", {"postcode": "5701 AB", "huisnummer": True}, "huisnummer must be a whole number"),
    ("adres", {"postcode": "5701 AB", "huisnummer": 12, "toevoeging": "x" * 11}, "toevoeging"),
    ("adres", {"postcode": "5701 AB", "huisnummer": 12, "toevoeging": ""}, "toevoeging"),
    ("adres", {"postcode": "5701 AB", "huisnummer": 12, "straat": "Kerkstraat"}, "unknown key"),
    ("huishouden", "alleen", "must be an object"),
    ("huishouden", {"partner": True, "kinderen": 0}, "exactly the keys"),
    (
        "huishouden",
        {"partner": "ja", "kinderen": 0, "leeftijden_kinderen": [], "andere_volwassenen": 0},
        "partner must be true or false",
    ),
    (
        "huishouden",
        {"partner": True, "kinderen": 21, "leeftijden_kinderen": [], "andere_volwassenen": 0},
        "kinderen must be a whole number from 0 to 20",
    ),
    (
        "huishouden",
        {"partner": True, "kinderen": -1, "leeftijden_kinderen": [], "andere_volwassenen": 0},
        "kinderen must be a whole number from 0 to 20",
    ),
    (
        "huishouden",
        {"partner": True, "kinderen": 1, "leeftijden_kinderen": [31], "andere_volwassenen": 0},
        "leeftijden_kinderen must be a list of whole numbers from 0 to 30",
    ),
    (
        "huishouden",
        {"partner": True, "kinderen": 1, "leeftijden_kinderen": "4", "andere_volwassenen": 0},
        "leeftijden_kinderen must be a list",
    ),
    (
        "huishouden",
        {"partner": True, "kinderen": 0, "leeftijden_kinderen": [], "andere_volwassenen": 21},
        "andere_volwassenen must be a whole number from 0 to 20",
    ),
    ("contactvoorkeur", "bellen", "must be one of: phone, sms, whatsapp"),
    ("contactvoorkeur", ["phone"], "must be one of"),
    ("inkomen", [], "non-empty list of"),
    ("inkomen", "loon", "non-empty list of"),
    ("inkomen", ["loon", "salaris"], "non-empty list of"),
]
# Rules that JSON Schema cannot say; the schema's descriptions name them instead.
NOT_IN_SCHEMA: list[tuple[str, Any, str]] = [
    # JSON Schema counts 12.0 as an integer; the stored shape is a JSON integer.
    ("adres", {"postcode": "5701 AB", "huisnummer": 12.0}, "huisnummer must be a whole number"),
    ("geboortedatum", TOMORROW, "must not be in the future"),
    ("geboortedatum", "1899-12-31", "must not be before 1900-01-01"),
    (
        "huishouden",
        {"partner": True, "kinderen": 1, "leeftijden_kinderen": [4, 7], "andere_volwassenen": 0},
        "more ages than kinderen",
    ),
]


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


@pytest.mark.parametrize(("name", "value"), VALID)
def test_the_stored_shapes_are_accepted(catalogue: Catalogue, name: str, value: Any) -> None:
    assert shape_problems(catalogue, {name: value}) == []


@pytest.mark.parametrize(("name", "value", "message"), INVALID + NOT_IN_SCHEMA)
def test_other_shapes_are_refused_with_the_field_and_kind(
    catalogue: Catalogue, name: str, value: Any, message: str
) -> None:
    problems = shape_problems(catalogue, {name: value})
    assert len(problems) == 1, problems
    kind = catalogue.fields[name].kind
    assert problems[0].startswith(f"{name} ({kind}) ")
    assert message in problems[0]


def test_null_is_a_skipped_question_for_every_kind(catalogue: Catalogue) -> None:
    assert {field.kind for field in catalogue.fields.values()} >= {
        "name", "date_of_birth", "address", "household", "amount", "text", "choice", "choices",
    }  # fmt: skip
    assert shape_problems(catalogue, dict.fromkeys(catalogue.fields)) == []


def test_every_kind_of_the_catalogue_has_a_shape_check_and_a_schema(catalogue: Catalogue) -> None:
    assert set(SHAPE_CHECKS) == set(KINDS)
    for key in catalogue.regelingen:
        assert values_schema(catalogue, key)["properties"]


def test_the_catalogues_regelingen_are_the_contracts_application_types(
    catalogue: Catalogue,
) -> None:
    """The API refuses a type outside the contract's enum: a regeling the catalogue adds must
    be added to the contract first (it may be extended, never renamed)."""
    assert set(catalogue.regelingen) == set(APPLICATION_TYPES)


def test_fields_the_catalogue_does_not_know_are_not_shape_checked(catalogue: Catalogue) -> None:
    fields = {"gemeente": "Helmond", "gemeentecode": "GM0794", "telefoonnummer": None, "x": [1]}
    assert shape_problems(catalogue, fields) == []


def test_every_problem_is_reported_at_once(catalogue: Catalogue) -> None:
    problems = shape_problems(catalogue, {"naam": "", "woonlasten": 650, "gemeente": "Helmond"})
    assert [p.split(" ")[0] for p in problems] == ["naam", "woonlasten"]


@pytest.mark.parametrize("key", ["bsn", "BSN_nummer", "burgerservicenummer", "sofi-nummer"])
def test_a_key_that_names_a_bsn_is_refused(catalogue: Catalogue, key: str) -> None:
    (problem,) = shape_problems(catalogue, {key: None})
    assert problem.startswith(f"{key}: an application never holds a BSN")


def test_a_birth_date_up_to_today_in_dutch_time_is_accepted(catalogue: Catalogue) -> None:
    local_today = datetime.now(LOCAL_TIME).date()
    for day in (local_today, local_today - timedelta(days=1)):
        assert shape_problems(catalogue, {"geboortedatum": day.isoformat()}) == []


# --- the JSON Schema of the export says the same -------------------------------------------------


def _schema_accepts(catalogue: Catalogue, name: str, value: Any) -> bool:
    """Whether the values schema of a regeling that asks ``name`` accepts ``{name: value}``."""
    schema = next(
        schema
        for schema in (values_schema(catalogue, key) for key in catalogue.regelingen)
        if name in schema["properties"]
    )
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    return validator.is_valid({name: value})


@pytest.mark.parametrize(("name", "value"), VALID)
def test_the_values_schema_accepts_what_the_api_accepts(
    catalogue: Catalogue, name: str, value: Any
) -> None:
    assert _schema_accepts(catalogue, name, value)


@pytest.mark.parametrize(("name", "value", "message"), INVALID)
def test_the_values_schema_refuses_what_the_api_refuses(
    catalogue: Catalogue, name: str, value: Any, message: str
) -> None:
    assert not _schema_accepts(catalogue, name, value)


# --- BSNs --------------------------------------------------------------------------------------


def test_bsns_are_stripped_at_any_depth_and_nothing_else_changes() -> None:
    fields = {
        "kosten_omschrijving": "een bril, mijn bsn is 123456782",
        "nummer": 123456782,
        "als_float": 123456782.0,
        "diep": {"a": [{"b": "BSN 12345678"}, "111222333"]},
        "telefoonnummer": "06-12345678",
        "geen_bsn": 123456789,  # fails the elfproef: a reference the professional may need
        "bedrag": "1250.50",
        "vlag": True,
        "leeg": None,
    }
    stripped = strip_bsns(fields)
    assert stripped == {
        "kosten_omschrijving": "een bril, mijn bsn is [BSN verwijderd]",
        "nummer": "[BSN verwijderd]",
        "als_float": "[BSN verwijderd]",
        "diep": {"a": [{"b": "BSN [BSN verwijderd]"}, "[BSN verwijderd]"]},
        "telefoonnummer": "06-12345678",
        "geen_bsn": 123456789,
        "bedrag": "1250.50",
        "vlag": True,
        "leeg": None,
    }
    assert list(stripped) == list(fields)  # same order
    assert fields["nummer"] == 123456782  # a copy: the input is untouched


def test_strip_bsns_has_no_recursion_limit() -> None:
    value: Any = "123456782"
    for _ in range(5000):
        value = [value]
    stripped = strip_bsns(value)
    for _ in range(5000):
        stripped = stripped[0]
    assert stripped == "[BSN verwijderd]"


# --- the staff page's form ----------------------------------------------------------------------

BIJSTAND = {
    **BIJSTAND_APPLICATION_FIELDS,
    "inkomen": ["geen", "alimentatie"],
    "contactmoment": None,
}


def test_view_shows_title_labels_and_readable_values(catalogue: Catalogue) -> None:
    shown = view(regeling="bijstand", fields=BIJSTAND, complete=False, catalogue=catalogue)
    assert shown.title == "Melding levensonderhoud (bijstand)"
    assert shown.to_ask == ["Woonlasten per maand", "Beste moment"]
    rows = dict(shown.rows)
    assert rows["Naam"] == "Jan Jansen"
    assert rows["Geboortedatum"] == "15 maart 1988"
    assert rows["Postcode en huisnummer"] == "5701 AB 12a"
    assert rows["Huishouden"] == "met partner, 2 kinderen (4 en 7 jaar)"
    assert rows["Inkomen"] == "geen inkomen, alimentatie"
    assert rows["Contact via"] == "bellen"
    assert rows["Woonlasten per maand"] == "niet ingevuld (weet de inwoner niet)"
    assert rows["Gemeente"] == "Helmond"
    labels = [label for label, _ in shown.rows]
    assert labels[:3] == ["Naam", "Geboortedatum", "Postcode en huisnummer"]  # as asked
    assert labels[-1] == "Gemeente"  # fields the catalogue does not know come last


def test_view_of_a_complete_application_asks_nothing(catalogue: Catalogue) -> None:
    fields = {**BIJSTAND, "woonlasten": "650", "contactmoment": "ochtend"}
    shown = view(regeling="bijstand", fields=fields, complete=True, catalogue=catalogue)
    assert shown.complete and shown.to_ask == []
    assert dict(shown.rows)["Woonlasten per maand"] == "€ 650"


def test_view_of_an_older_handover_without_catalogue_fields(catalogue: Catalogue) -> None:
    old = {"gemeente": "Helmond", "gemeentecode": "GM0794", "telefoonnummer": None}
    shown = view(regeling="schuldhulp", fields=old, complete=False, catalogue=catalogue)
    assert shown.title == "Aanmelding schuldhulpverlening"
    assert shown.rows == [
        ("Gemeente", "Helmond"),
        ("Gemeentecode", "GM0794"),
        ("Telefoonnummer", "–"),
    ]
    # Nothing was asked in the chat: the professional asks every question of the regeling.
    assert shown.to_ask[:3] == ["Dreigt er iets?", "Schulden in totaal (ongeveer)", "Aan wie"]
    assert "Naam" in shown.to_ask


def test_view_renders_unknown_nested_values_as_text_and_strips_bsns(catalogue: Catalogue) -> None:
    fields = {
        "naam": "Piet, bsn 123456782",
        "extra": {"vast": True, "bronnen": ["loon", None]},
    }
    shown = dict(view(regeling="bijstand", fields=fields, complete=False, catalogue=catalogue).rows)
    assert shown["Naam"] == "Piet, bsn [BSN verwijderd]"
    assert shown["Extra"] == "vast: ja; bronnen: loon, –"


def test_view_shows_a_wrongly_shaped_stored_value_as_text(catalogue: Catalogue) -> None:
    """Stored before the API checked shapes: shown as it is, and the page does not break."""
    fields = {
        "huishouden": {"partner": True, "kinderen": "twee"},
        "woonlasten": 650,
        "inkomen": "loon",
    }
    shown = dict(view(regeling="bijstand", fields=fields, complete=False, catalogue=catalogue).rows)
    assert shown["Huishouden"] == "partner: ja; kinderen: twee"
    assert shown["Woonlasten per maand"] == "€ 650"  # the text "650", read as an amount
    assert shown["Inkomen"] == "werk (loon)"


def test_view_of_a_minimaregeling_asks_the_soort_questions(catalogue: Catalogue) -> None:
    fields = {"minimaregeling_soort": "meedoen", "naam": "Fatima"}
    shown = view(regeling="minimaregeling", fields=fields, complete=False, catalogue=catalogue)
    assert dict(shown.rows)["Regeling"] == "sport en cultuur voor kinderen"
    assert "Activiteit" in shown.to_ask


def test_skipped_fields_follow_the_order_asked(catalogue: Catalogue) -> None:
    fields = {"contactmoment": None, "kosten_bedrag": None, "naam": "A"}
    assert skipped_fields(catalogue, "bijzondere_bijstand", fields) == [
        "kosten_bedrag",
        "contactmoment",
    ]
