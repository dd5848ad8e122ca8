"""The ``klantinteracties`` exporter against a local fake Klantinteracties API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from handover_api.export import (
    ExportError,
    ExportProgress,
    HandoverView,
    NoneExporter,
    get_exporter,
)
from handover_api.export.klantinteracties import (
    MARKER,
    KlantinteractiesExporter,
    clear_actor_cache,
    fit,
)
from handover_api.services.directory import ExportConfig
from tests.handover_api.export.fake_klantinteracties import FakeKlantinteracties, running

TOKEN_ENV = "VOORDEUR_TEST_KI_TOKEN"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKlantinteracties]:
    clear_actor_cache()
    with running() as server:
        monkeypatch.setenv(TOKEN_ENV, server.token)
        server.add_actor("wijkteam-helmond")
        yield server
    clear_actor_cache()


def config_for(fake: FakeKlantinteracties, **overrides: Any) -> ExportConfig:
    values: dict[str, Any] = {
        "kind": "klantinteracties",
        "base_url": fake.url,
        "token_env": TOKEN_ENV,
        "team_actor_identifier": "wijkteam-helmond",
        "example": False,
    }
    values.update(overrides)
    return ExportConfig(**values)


def view(**overrides: Any) -> HandoverView:
    at = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)
    values: dict[str, Any] = {
        "id": "5c1c3d2e-0000-4000-8000-000000000001",
        "reference": "VD-ABCD-12",
        "channel": "whatsapp",
        "priority": "normal",
        "created_at": at,
        "conversation_started_at": at,
        "municipality_name": "Helmond",
        "organisation": "gemeente-helmond",
        "organisation_name": "Gemeente Helmond",
        "team": "wijkteam",
        "team_name": "het wijkteam Helmond",
        "consent_covers": True,
        "summary": "Inwoner heeft schulden en zoekt hulp bij de administratie.",
        "life_domains": ("schulden", "inkomen"),
        "contact_name": "Jan Jansen",
        "contact_phone": "06-12345678",
        "contact_email": "jan@example.nl",
        "contact_preferred": "phone",
        "contact_best_time": "ochtend",
        "transcript_messages": 12,
    }
    values.update(overrides)
    return HandoverView(**values)


def export(
    fake: FakeKlantinteracties,
    v: HandoverView,
    progress: ExportProgress | None = None,
    **config: Any,
) -> tuple[Any, ExportProgress]:
    progress = progress or ExportProgress()
    result = KlantinteractiesExporter().export(
        v, config=config_for(fake, **config), progress=progress
    )
    return result, progress


# --- registry and configuration ---------------------------------------------------------------


def test_registry_names_none_and_klantinteracties() -> None:
    assert isinstance(get_exporter("none"), NoneExporter)
    assert isinstance(get_exporter("klantinteracties"), KlantinteractiesExporter)
    with pytest.raises(KeyError, match="known: klantinteracties, none"):
        get_exporter("zgw")
    assert get_exporter("none").check_config(ExportConfig()) == []


def test_check_config_lists_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOORDEUR_KI_MISSING", raising=False)
    exporter = KlantinteractiesExporter()
    problems = exporter.check_config(
        ExportConfig(
            kind="klantinteracties",
            base_url="http://openklant.example.nl/klantinteracties/api/v1",
            token_env="VOORDEUR_KI_MISSING",
            kanalen=(("fax", "fax"),),
            example=True,
        )
    )
    text = "\n".join(problems)
    assert "example configuration" in text
    assert "https" in text
    assert "VOORDEUR_KI_MISSING is not set" in text
    assert "team_actor_identifier" in text
    assert "unknown channel 'fax'" in text
    assert "base_url is missing" in "\n".join(
        exporter.check_config(ExportConfig(kind="klantinteracties", example=False))
    )


def test_check_config_accepts_a_complete_configuration(fake: FakeKlantinteracties) -> None:
    assert KlantinteractiesExporter().check_config(config_for(fake)) == []
    https = config_for(fake, base_url="https://openklant.example.nl/klantinteracties/api/v1")
    assert KlantinteractiesExporter().check_config(https) == []


def test_export_refuses_a_bad_configuration_without_a_request(
    fake: FakeKlantinteracties,
) -> None:
    with pytest.raises(ExportError, match=r"configuration: .*example"):
        export(fake, view(), example=True)
    assert fake.requests == []


def test_wrong_token_is_401_and_retryable(
    fake: FakeKlantinteracties, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "not-the-token")
    with pytest.raises(ExportError, match="HTTP 401 at GET /actoren") as info:
        export(fake, view())
    assert info.value.retry
    assert fake.requests[0].token == "not-the-token"


# --- the happy path ---------------------------------------------------------------------------


def test_export_creates_all_resources_with_the_right_links(fake: FakeKlantinteracties) -> None:
    result, progress = export(fake, view())
    assert all(r.token == fake.token for r in fake.requests)
    assert all(r.status in (200, 201) for r in fake.requests), [
        (r.method, r.path, r.status) for r in fake.requests
    ]

    ids = result.remote_ids
    assert set(ids) == {
        "actor_assistent", "actor_team", "klantcontact", "betrokkene", "onderwerpobject",
        "actorklantcontact", "digitaal_adres_telefoonnummer", "digitaal_adres_email",
        "bijlage", "internetaak",
    }  # fmt: skip
    assert progress.remote_ids == ids
    assert result.shortened == ()

    # The assistant: an automated actor with Voordeur's identifier, created once.
    assistant = fake.store["actoren"][ids["actor_assistent"]]
    assert assistant["soortActor"] == "geautomatiseerde_actor"
    assert assistant["actoridentificator"]["objectId"] == "voordeur-assistent"

    kc = fake.store["klantcontacten"][ids["klantcontact"]]
    assert kc["kanaal"] == "whatsapp"
    assert kc["vertrouwelijk"] is True
    assert kc["taal"] == "nld"
    assert kc["inhoud"] == view().summary
    assert "VD-ABCD-12" in kc["onderwerp"] and len(kc["onderwerp"]) <= 200
    assert "schulden" not in kc["onderwerp"]  # life domains only in the taak
    assert kc["plaatsgevondenOp"] == "2026-12-04T10:00:00+00:00"

    betrokkene = fake.store["betrokkenen"][ids["betrokkene"]]
    assert betrokkene["hadKlantcontact"]["uuid"] == ids["klantcontact"]
    assert betrokkene["rol"] == "klant"
    assert betrokkene["wasPartij"] is None
    assert betrokkene["contactnaam"] == {"voornaam": "Jan", "achternaam": "Jansen"}

    onderwerp = fake.store["onderwerpobjecten"][ids["onderwerpobject"]]
    assert onderwerp["onderwerpobjectidentificator"] == {
        "objectId": "VD-ABCD-12", "codeObjecttype": "overdracht",
        "codeRegister": "voordeur", "codeSoortObjectId": "kenmerk",
    }  # fmt: skip

    link = fake.store["actorklantcontacten"][ids["actorklantcontact"]]
    assert link["actor"]["uuid"] == ids["actor_assistent"]
    assert link["klantcontact"]["uuid"] == ids["klantcontact"]

    phone = fake.store["digitaleadressen"][ids["digitaal_adres_telefoonnummer"]]
    assert (phone["adres"], phone["soortDigitaalAdres"]) == ("0612345678", "telefoonnummer")
    assert phone["verstrektDoorBetrokkene"]["uuid"] == ids["betrokkene"]
    assert phone["verstrektDoorPartij"] is None
    email = fake.store["digitaleadressen"][ids["digitaal_adres_email"]]
    assert (email["adres"], email["soortDigitaalAdres"]) == ("jan@example.nl", "email")

    bijlage = fake.store["bijlagen"][ids["bijlage"]]
    assert bijlage["wasBijlageVanKlantcontact"]["uuid"] == ids["klantcontact"]
    assert bijlage["bijlageidentificator"]["objectId"] == "VD-ABCD-12"

    taak = fake.store["internetaken"][ids["internetaak"]]
    assert taak["aanleidinggevendKlantcontact"]["uuid"] == ids["klantcontact"]
    assert taak["toegewezenAanActoren"] == [{"uuid": ids["actor_team"]}]
    assert taak["status"] == "te_verwerken"
    assert taak["gevraagdeHandeling"] == "Neem contact op met de inwoner (kenmerk VD-ABCD-12)"
    assert "Leefgebieden: schulden, inkomen." in taak["toelichting"]
    assert "voorkeur telefoon; beste moment: ochtend" in taak["toelichting"]


def test_assistant_actor_is_looked_up_once_and_cached(fake: FakeKlantinteracties) -> None:
    export(fake, view())
    export(fake, view(reference="VD-EFGH-34"))
    assert len(fake.posts("actoren")) == 1
    assistant_lookups = [
        r for r in fake.requests
        if r.path == "actoren" and r.query.get("actoridentificatorObjectId") == "voordeur-assistent"
    ]  # fmt: skip
    assert len(assistant_lookups) == 1
    assert len(fake.all("klantcontacten")) == 2


def test_existing_assistant_actor_is_reused(fake: FakeKlantinteracties) -> None:
    existing = fake.add_actor(
        "voordeur-assistent", soort="geautomatiseerde_actor", register="voordeur"
    )
    existing["actoridentificator"]["codeSoortObjectId"] = "identificatie"
    result, _ = export(fake, view())
    assert result.remote_ids["actor_assistent"] == existing["uuid"]
    assert fake.posts("actoren") == []


def test_channels_map_to_dutch_kanalen(fake: FakeKlantinteracties) -> None:
    for channel, kanaal in (("web", "webchat"), ("sms", "sms"), ("rest", "webchat")):
        result, _ = export(fake, view(channel=channel, reference=f"VD-KAN{channel[:1].upper()}-10"))
        assert fake.store["klantcontacten"][result.remote_ids["klantcontact"]]["kanaal"] == kanaal
    result, _ = export(
        fake, view(channel="web", reference="VD-OVER-99"), kanalen=(("web", "chat"),)
    )
    assert fake.store["klantcontacten"][result.remote_ids["klantcontact"]]["kanaal"] == "chat"


def test_urgent_handover_asks_for_contact_today(fake: FakeKlantinteracties) -> None:
    result, _ = export(fake, view(priority="urgent"))
    taak = fake.store["internetaken"][result.remote_ids["internetaak"]]
    assert taak["gevraagdeHandeling"].startswith("Spoed: neem vandaag contact op")
    assert "Prioriteit: spoed." in taak["toelichting"]


def test_unknown_team_actor_fails_without_creating_a_klantcontact(
    fake: FakeKlantinteracties,
) -> None:
    with pytest.raises(ExportError, match="team actor 'onbekend' not found") as info:
        export(fake, view(), team_actor_identifier="onbekend")
    assert info.value.retry
    assert fake.all("klantcontacten") == []


def test_team_actors_per_team(fake: FakeKlantinteracties) -> None:
    kcc = fake.add_actor("kcc-helmond")
    result, _ = export(fake, view(team="kcc"), team_actors=(("kcc", "kcc-helmond"),))
    assert result.remote_ids["actor_team"] == kcc["uuid"]


# --- limits: shortened visibly, never cut silently ---------------------------------------------


def test_fit_marks_what_it_shortens() -> None:
    assert fit("kort", 10) == ("kort", False)
    text, cut = fit("woord " * 400, 1000)
    assert cut and len(text) <= 1000 and text.endswith(MARKER)
    assert not text.endswith(" " + MARKER)


def test_long_summary_is_shortened_visibly_and_kept_whole_behind_the_bijlage(
    fake: FakeKlantinteracties,
) -> None:
    summary = " ".join(f"zin{i:04d} over de situatie van de inwoner." for i in range(200))
    assert len(summary) > 5000
    result, _ = export(fake, view(summary=summary, transcript_messages=400))
    kc = fake.store["klantcontacten"][result.remote_ids["klantcontact"]]
    assert len(kc["inhoud"]) <= 1000
    assert kc["inhoud"].endswith("(volledige tekst in bijlage)")
    assert summary.startswith(kc["inhoud"][: -len(MARKER)])
    assert "klantcontact.inhoud" in result.shortened
    # The complete text is behind the bijlage: the handover in Voordeur, by its kenmerk.
    bijlage = fake.store["bijlagen"][result.remote_ids["bijlage"]]
    assert bijlage["bijlageidentificator"] == {
        "objectId": "VD-ABCD-12", "codeObjecttype": "gespreksverslag",
        "codeRegister": "voordeur", "codeSoortObjectId": "kenmerk",
    }  # fmt: skip
    taak = fake.store["internetaken"][result.remote_ids["internetaak"]]
    assert "Het volledige gesprek (400 berichten)" in taak["toelichting"]


def test_fake_server_enforces_field_limits(fake: FakeKlantinteracties) -> None:
    """The fake refuses what the real API refuses, so a silent overflow cannot pass."""
    import httpx

    body = {
        "klantcontact": {
            "kanaal": "webchat",
            "onderwerp": "x" * 201,
            "inhoud": "y" * 1001,
            "taal": "nld",
            "vertrouwelijk": True,
        }
    }
    response = httpx.post(
        f"{fake.url}/maak-klantcontact", json=body, headers={"Authorization": f"Token {fake.token}"}
    )
    assert response.status_code == 400
    names = {(p["name"], p["code"]) for p in response.json()["invalidParams"]}
    assert names == {
        ("klantcontact.onderwerp", "max_length"),
        ("klantcontact.inhoud", "max_length"),
    }
    assert httpx.post(f"{fake.url}/maak-klantcontact", json=body).status_code == 401


def test_validation_error_is_not_retried_and_names_fields_only(
    fake: FakeKlantinteracties,
) -> None:
    with pytest.raises(ExportError) as info:
        export(fake, view(), kanalen=(("whatsapp", "k" * 51),))
    # check_config catches it first; force the API to refuse instead
    assert "kanalen.whatsapp" in str(info.value)
    fake.fail("POST", "internetaken", 400)
    with pytest.raises(ExportError) as info:
        export(fake, view())
    assert not info.value.retry
    assert "HTTP 400 at POST /internetaken" in str(info.value)
    assert "Jan" not in str(info.value)


# --- consent ----------------------------------------------------------------------------------


def test_without_consent_no_contact_data_is_sent(fake: FakeKlantinteracties) -> None:
    result, _ = export(
        fake,
        replace(
            view(),
            consent_covers=False,
            summary=None,
            contact_name=None,
            contact_phone=None,
            contact_email=None,
            life_domains=(),
        ),
    )
    assert fake.posts("digitaleadressen") == []
    assert not any(k.startswith("digitaal_adres") for k in result.remote_ids)
    betrokkene = fake.store["betrokkenen"][result.remote_ids["betrokkene"]]
    assert "contactnaam" not in betrokkene
    kc = fake.store["klantcontacten"][result.remote_ids["klantcontact"]]
    assert kc["inhoud"].startswith("Geen inhoud: de inwoner heeft (nog) geen toestemming")
    sent = "".join(str(r.body) for r in fake.requests)
    assert "0612345678" not in sent and "jan@example.nl" not in sent


def test_consent_flag_alone_withholds_digital_addresses(fake: FakeKlantinteracties) -> None:
    """Even when a view carries contact data, consent_covers=False sends no addresses."""
    export(fake, view(consent_covers=False))
    assert fake.posts("digitaleadressen") == []


# --- retries and idempotency ------------------------------------------------------------------


def test_retry_after_500_continues_without_duplicates(fake: FakeKlantinteracties) -> None:
    saved: list[dict[str, Any]] = []
    progress = ExportProgress(save=lambda ids: saved.append(ids))
    fake.fail("POST", "bijlagen", 500)
    with pytest.raises(ExportError, match="HTTP 500 at POST /bijlagen") as info:
        export(fake, view(), progress)
    assert info.value.retry
    assert "klantcontact" in saved[-1] and "bijlage" not in saved[-1]

    # The next attempt starts from what was saved (as the outbox row holds it).
    result, _ = export(fake, view(), ExportProgress(remote_ids=dict(saved[-1])))
    for resource in (
        "klantcontacten",
        "betrokkenen",
        "onderwerpobjecten",
        "bijlagen",
        "internetaken",
        "actorklantcontacten",
    ):
        assert len(fake.all(resource)) == 1, resource
    assert len(fake.all("digitaleadressen")) == 2
    assert len(fake.posts("maak-klantcontact")) == 1
    assert result.remote_ids["bijlage"] == fake.all("bijlagen")[0]["uuid"]


def test_lost_answer_after_create_is_adopted_not_duplicated(fake: FakeKlantinteracties) -> None:
    """The API created the klantcontact but its answer was lost: nothing was saved locally.
    The retry finds it by the handover's kenmerk (onderwerpobject) and goes on."""
    fake.fail("POST", "maak-klantcontact", 502, after_create=True)
    with pytest.raises(ExportError, match="HTTP 502"):
        export(fake, view())
    assert len(fake.all("klantcontacten")) == 1

    fake.fail("POST", "digitaleadressen", 503, after_create=True)
    progress = ExportProgress()
    with pytest.raises(ExportError, match="HTTP 503"):
        export(fake, view(), progress)
    assert "digitaal_adres_telefoonnummer" not in progress.remote_ids

    result, _ = export(fake, view(), ExportProgress(remote_ids=dict(progress.remote_ids)))
    assert len(fake.all("klantcontacten")) == 1
    assert len(fake.posts("maak-klantcontact")) == 1  # the refused second one never happened
    assert len(fake.all("digitaleadressen")) == 2
    assert len(fake.all("internetaken")) == 1
    assert result.remote_ids["klantcontact"] == fake.all("klantcontacten")[0]["uuid"]


def test_exporting_a_finished_export_again_creates_nothing(fake: FakeKlantinteracties) -> None:
    result, progress = export(fake, view())
    before = len(fake.requests)
    again, _ = export(fake, view(), ExportProgress(remote_ids=dict(progress.remote_ids)))
    assert again.remote_ids == result.remote_ids
    assert [r.method for r in fake.requests[before:]] == []
