"""Exporter ``klantinteracties``: a handover as a klantcontact in the Klantinteracties API.

Followed: the Klantinteracties API v1 as Open Klant 2.18 publishes it
(``src/openklant/components/klantinteracties/openapi.yaml``, ``info.version`` 0.9.0, servers
``/klantinteracties/api/v1``, ``Authorization: Token <token>``). ``/maak-klantcontact`` needs
Open Klant 2.4 or later. The mapping, and what is never sent, is documented in
``docs/klantinteracties-export.md``.

What one export creates, in this order (each remote id is saved as soon as it exists, so a
retry continues where the previous attempt stopped):

1. ``actor_assistent``: the assistant as a ``geautomatiseerde_actor`` with actoridentificator
   ``voordeur/identificatie/voordeur-assistent``; looked up first, created once, cached per
   API base URL.
2. ``actor_team``: the team's actor (``team_actor_identifier`` / ``team_actors``), looked up
   only: organisatorische eenheden are managed in Open Klant/KISS, not by Voordeur.
3. ``klantcontact`` + ``betrokkene`` + ``onderwerpobject`` in one atomic ``POST
   /maak-klantcontact``. The onderwerpobject identifies the handover
   (``voordeur/overdracht/kenmerk/VD-...``): before creating, the exporter asks for a
   klantcontact with that onderwerpobject, so even a lost answer never leads to a second one.
4. ``actorklantcontact``: the assistant linked to the klantcontact.
5. ``digitaal_adres_telefoonnummer`` / ``digitaal_adres_email``: only while the resident's
   consent covers the organisation (``HandoverView.consent_covers``).
6. ``bijlage``: the transcript and the complete summary. A bijlage in this API holds no content,
   only a ``bijlageidentificator`` of an object in another register; it names the handover in
   Voordeur (``voordeur/gespreksverslag/kenmerk/VD-...``), where the professional reads the
   complete conversation. Transcript text is never sent.
7. ``internetaak``: the request to the team, assigned to its actor, status ``te_verwerken``.

A text longer than its field (``inhoud`` 1000, ``toelichting`` 1000, ``onderwerp`` and
``gevraagdeHandeling`` 200) is shortened at a word boundary and ends with the visible marker
"(volledige tekst in bijlage)"; it is never cut silently, and ``ExportResult.shortened`` names
it. Resuming (the klantcontact existed before this attempt) looks each later resource up by its
link to the klantcontact or betrokkene before creating it.
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit

import httpx

from handover_api.export.base import ExportError, ExportProgress, ExportResult, HandoverView
from handover_api.services.directory import ExportConfig

ASSISTANT_IDENTIFIER = "voordeur-assistent"
REGISTER = "voordeur"
MARKER = " … (volledige tekst in bijlage)"
DEFAULT_KANALEN = {
    "web": "webchat",
    "rest": "webchat",
    "shell": "webchat",
    "sms": "sms",
    "whatsapp": "whatsapp",
}
LIMITS = {
    "kanaal": 50,
    "onderwerp": 200,
    "inhoud": 1000,
    "gevraagdeHandeling": 200,
    "toelichting": 1000,
    "adres": 80,
    "omschrijving": 40,
    "voornaam": 200,
    "achternaam": 200,
}
PREFERRED_LABELS = {
    "phone": "telefoon",
    "sms": "sms",
    "whatsapp": "WhatsApp",
    "email": "e-mail",
}
# The Klantinteracties API's validation of telefoonnummers (DigitaalAdres.adres).
PHONE_RE = re.compile(r"^(0[1-9][0-9]{8}|\+[0-9]{9,15}|00[0-9]{7,13})$")
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

# (base URL, identifier) -> uuid of the assistant's actor: looked up or created once.
_assistant_actors: dict[tuple[str, str], str] = {}


def clear_actor_cache() -> None:
    _assistant_actors.clear()


def fit(text: str, limit: int, marker: str = MARKER) -> tuple[str, bool]:
    """``text`` when it fits in ``limit``; otherwise its start, cut at a word boundary, with
    the visible ``marker``. Returns the text and whether it was shortened."""
    if len(text) <= limit:
        return text, False
    room = limit - len(marker)
    head = text[:room]
    space = head.rfind(" ")
    if space > room * 0.6:
        head = head[:space]
    return head.rstrip() + marker, True


def normalise_phone(phone: str) -> str:
    """A phone number as the API validates it: digits, with a leading + kept."""
    digits = re.sub(r"[^0-9]", "", phone)
    return ("+" + digits) if phone.strip().startswith("+") else digits


def split_name(name: str) -> dict[str, str]:
    """The contact name as the resident gave it: the first word as voornaam, the rest as
    achternaam (a single word is the achternaam). Nothing is guessed beyond that."""
    words = name.split()
    if len(words) <= 1:
        return {"achternaam": fit(name.strip(), LIMITS["achternaam"], " …")[0]}
    return {
        "voornaam": fit(words[0], LIMITS["voornaam"], " …")[0],
        "achternaam": fit(" ".join(words[1:]), LIMITS["achternaam"], " …")[0],
    }


def _identificator(objecttype: str, soort: str, object_id: str) -> dict[str, str]:
    return {
        "objectId": object_id,
        "codeObjecttype": objecttype,
        "codeRegister": REGISTER,
        "codeSoortObjectId": soort,
    }


class _Api:
    """A thin httpx client; errors become ExportErrors without response bodies."""

    def __init__(self, base_url: str, token: str, transport: httpx.BaseTransport | None) -> None:
        self.client = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers={"Authorization": f"Token {token}", "Accept": "application/json"},
            timeout=httpx.Timeout(15.0),
            transport=transport,
        )

    def __enter__(self) -> _Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def _call(
        self, method: str, path: str, *, params: dict[str, str] | None = None, body: Any = None
    ) -> dict[str, Any]:
        try:
            response = self.client.request(method, path, params=params, json=body)
        except httpx.HTTPError as exc:
            raise ExportError(f"{method} /{path}: {type(exc).__name__}") from None
        if response.status_code >= 400:
            raise ExportError(_describe(method, path, response), retry=response.status_code != 400)
        try:
            data = response.json()
        except ValueError:
            raise ExportError(f"{method} /{path}: answer is not JSON") from None
        if not isinstance(data, dict):
            raise ExportError(f"{method} /{path}: unexpected answer")
        return data

    def get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        return self._call("GET", path, params=params)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", path, body=body)

    def first(self, path: str, params: dict[str, str]) -> dict[str, Any] | None:
        results = self.get(path, params).get("results") or []
        return results[0] if results and isinstance(results[0], dict) else None


def _describe(method: str, path: str, response: httpx.Response) -> str:
    """Status, path and (for validation errors) field names and codes: no values."""
    text = f"HTTP {response.status_code} at {method} /{path}"
    try:
        data = response.json()
    except ValueError:
        return text
    params = data.get("invalidParams") if isinstance(data, dict) else None
    if isinstance(params, list) and params:
        fields = ", ".join(
            f"{p.get('name')} {p.get('code')}" for p in params[:10] if isinstance(p, dict)
        )
        text += f": {fields}"
    return text[:500]


def _uuid(data: dict[str, Any], what: str) -> str:
    value = data.get("uuid")
    if not isinstance(value, str) or not value:
        raise ExportError(f"answer without uuid for {what}")
    return value


class KlantinteractiesExporter:
    """See the module docstring. ``transport`` lets tests route httpx anywhere."""

    name = "klantinteracties"

    def __init__(self, *, transport: httpx.BaseTransport | None = None) -> None:
        self.transport = transport

    # --- configuration ------------------------------------------------------------------

    def check_config(self, config: ExportConfig) -> list[str]:
        problems: list[str] = []
        if config.kind != self.name:
            problems.append(f"kind is {config.kind!r}, not {self.name!r}")
        if config.example:
            problems.append("example configuration (example: true) is never exported to")
        if not config.base_url:
            problems.append("base_url is missing")
        else:
            parts = urlsplit(config.base_url)
            if parts.scheme != "https" and parts.hostname not in LOOPBACK_HOSTS:
                problems.append("base_url must be https (http only for localhost)")
        if not config.token_env:
            problems.append("token_env (the name of the variable holding the token) is missing")
        elif not os.environ.get(config.token_env, "").strip():
            problems.append(f"environment variable {config.token_env} is not set")
        if not config.team_actor_identifier and not config.team_actors:
            problems.append("team_actor_identifier (or team_actors) is missing")
        for channel, kanaal in config.kanalen:
            if channel not in DEFAULT_KANALEN:
                problems.append(f"kanalen: unknown channel {channel!r}")
            if not kanaal or len(kanaal) > LIMITS["kanaal"]:
                problems.append(f"kanalen.{channel}: 1 to {LIMITS['kanaal']} characters")
        return problems

    # --- export -------------------------------------------------------------------------

    def export(
        self, view: HandoverView, *, config: ExportConfig, progress: ExportProgress
    ) -> ExportResult:
        problems = self.check_config(config)
        if problems:
            raise ExportError("configuration: " + "; ".join(problems))
        assert config.base_url is not None and config.token_env is not None  # checked above
        token = os.environ[config.token_env].strip()
        shortened: list[str] = []
        with _Api(config.base_url, token, self.transport) as api:
            assistant = self._assistant(api, config.base_url, progress)
            team = self._team_actor(api, view, config, progress)
            resuming = self._klantcontact(api, view, config, progress, shortened)
            klantcontact = progress.get("klantcontact")
            betrokkene = progress.get("betrokkene")

            self._ensure(
                api,
                progress,
                "actorklantcontact",
                resuming,
                lookup=(
                    "actorklantcontacten",
                    {"klantcontact__uuid": klantcontact, "actor__uuid": assistant},
                ),
                create=(
                    "actorklantcontacten",
                    {"actor": {"uuid": assistant}, "klantcontact": {"uuid": klantcontact}},
                ),
            )
            for soort, body in self._digitale_adressen(view, betrokkene):
                self._ensure(
                    api,
                    progress,
                    f"digitaal_adres_{soort}",
                    resuming,
                    lookup=(
                        "digitaleadressen",
                        {
                            "verstrektDoorBetrokkene__uuid": betrokkene,
                            "soortDigitaalAdres": body["soortDigitaalAdres"],
                        },
                    ),
                    create=("digitaleadressen", body),
                )
            self._ensure(
                api,
                progress,
                "bijlage",
                resuming,
                lookup=("bijlagen", {"klantcontact__uuid": klantcontact}),
                create=(
                    "bijlagen",
                    {
                        "wasBijlageVanKlantcontact": {"uuid": klantcontact},
                        "bijlageidentificator": _identificator(
                            "gespreksverslag", "kenmerk", view.reference
                        ),
                    },
                ),
            )
            taak = self._interne_taak(view, klantcontact, team, shortened)
            self._ensure(
                api,
                progress,
                "internetaak",
                resuming,
                lookup=("internetaken", {"aanleidinggevendKlantcontact__uuid": klantcontact}),
                create=("internetaken", taak),
            )
        return ExportResult(remote_ids=dict(progress.remote_ids), shortened=tuple(shortened))

    def _ensure(
        self,
        api: _Api,
        progress: ExportProgress,
        key: str,
        resuming: bool,
        *,
        lookup: tuple[str, dict[str, Any]],
        create: tuple[str, dict[str, Any]],
    ) -> str:
        """The remote id under ``key``: known, found (when resuming), or created now."""
        known = progress.get(key)
        if known:
            return str(known)
        if resuming:
            found = api.first(lookup[0], {k: str(v) for k, v in lookup[1].items()})
            if found is not None:
                progress.remember(key, _uuid(found, key))
                return str(progress.get(key))
        created = api.post(create[0], create[1])
        progress.remember(key, _uuid(created, key))
        return str(progress.get(key))

    def _assistant(self, api: _Api, base_url: str, progress: ExportProgress) -> str:
        known = progress.get("actor_assistent")
        if known:
            return str(known)
        cache_key = (base_url, ASSISTANT_IDENTIFIER)
        actor = _assistant_actors.get(cache_key)
        if actor is None:
            found = api.first(
                "actoren",
                {
                    "actoridentificatorObjectId": ASSISTANT_IDENTIFIER,
                    "actoridentificatorCodeRegister": REGISTER,
                    "actoridentificatorCodeSoortObjectId": "identificatie",
                },
            )
            if found is None:
                found = api.post(
                    "actoren",
                    {
                        "naam": "Voordeur chatassistent",
                        "soortActor": "geautomatiseerde_actor",
                        "indicatieActief": True,
                        "actoridentificator": _identificator(
                            "geautomatiseerde_actor", "identificatie", ASSISTANT_IDENTIFIER
                        ),
                        "actorIdentificatie": {
                            "functie": "chatassistent",
                            "omschrijving": "Digitale assistent van Voordeur die inwoners "
                            "met een hulpvraag doorverwijst naar het juiste team.",
                        },
                    },
                )
            actor = _uuid(found, "actor_assistent")
            _assistant_actors[cache_key] = actor
        progress.remember("actor_assistent", actor)
        return actor

    def _team_actor(
        self, api: _Api, view: HandoverView, config: ExportConfig, progress: ExportProgress
    ) -> str:
        known = progress.get("actor_team")
        if known:
            return str(known)
        identifier = config.team_actor_for(view.team)
        if not identifier:
            raise ExportError(f"no team actor configured for team {view.team!r}")
        params = {"actoridentificatorObjectId": identifier}
        if config.team_actor_register:
            params["actoridentificatorCodeRegister"] = config.team_actor_register
        found = api.first("actoren", params)
        if found is None:
            raise ExportError(f"team actor {identifier!r} not found in Klantinteracties")
        actor = _uuid(found, "actor_team")
        progress.remember("actor_team", actor)
        return actor

    def _klantcontact(
        self,
        api: _Api,
        view: HandoverView,
        config: ExportConfig,
        progress: ExportProgress,
        shortened: list[str],
    ) -> bool:
        """Makes sure klantcontact, betrokkene and onderwerpobject exist; True when they
        existed before this attempt (then later resources are looked up before creating)."""
        body = self._maak_klantcontact(view, config, shortened)
        if progress.get("klantcontact") and progress.get("betrokkene"):
            return True
        found = progress.get("klantcontact")
        existing: dict[str, Any] | None
        if found:
            existing = api.get(f"klantcontacten/{found}")
        else:
            existing = api.first(
                "klantcontacten",
                {
                    "onderwerpobject__onderwerpobjectidentificatorObjectId": view.reference,
                    "onderwerpobject__onderwerpobjectidentificatorCodeRegister": REGISTER,
                },
            )
        if existing is None:
            created = api.post("maak-klantcontact", body)
            for key in ("klantcontact", "betrokkene", "onderwerpobject"):
                part = created.get(key)
                if not isinstance(part, dict):
                    raise ExportError(f"maak-klantcontact answered without {key}")
                progress.remember(key, _uuid(part, key))
            return False
        progress.remember("klantcontact", _uuid(existing, "klantcontact"))
        for key, links in (
            ("onderwerpobject", existing.get("gingOverOnderwerpobjecten")),
            ("betrokkene", existing.get("hadBetrokkenen")),
        ):
            if isinstance(links, list) and links and isinstance(links[0], dict):
                progress.remember(key, _uuid(links[0], key))
        if not progress.get("betrokkene"):
            betrokkene = dict(body["betrokkene"])
            betrokkene["hadKlantcontact"] = {"uuid": progress.get("klantcontact")}
            progress.remember(
                "betrokkene", _uuid(api.post("betrokkenen", betrokkene), "betrokkene")
            )
        return True

    def _maak_klantcontact(
        self, view: HandoverView, config: ExportConfig, shortened: list[str]
    ) -> dict[str, Any]:
        kanalen = {**DEFAULT_KANALEN, **dict(config.kanalen)}
        # No life domains here: the onderwerp shows in contact lists (they go in the taak).
        subject = (
            f"Doorverwijzing via de Voordeur-chatassistent naar {view.team_name} "
            f"(kenmerk {view.reference})"
        )
        onderwerp, cut = fit(subject, LIMITS["onderwerp"], " …")
        if cut:
            shortened.append("klantcontact.onderwerp")
        if view.summary is not None:
            inhoud, cut = fit(view.summary, LIMITS["inhoud"])
            if cut:
                shortened.append("klantcontact.inhoud")
        else:
            inhoud = (
                "Geen inhoud: de inwoner heeft (nog) geen toestemming gegeven om deze gegevens "
                f"met {view.organisation_name} te delen (Voordeur, kenmerk {view.reference})."
            )
        betrokkene: dict[str, Any] = {"rol": "klant", "initiator": True, "wasPartij": None}
        if view.contact_name:
            betrokkene["contactnaam"] = split_name(view.contact_name)
        return {
            "klantcontact": {
                "kanaal": kanalen.get(view.channel, "webchat"),
                "onderwerp": onderwerp,
                "inhoud": inhoud,
                "indicatieContactGelukt": True,
                "taal": "nld",
                "vertrouwelijk": True,
                "plaatsgevondenOp": view.conversation_started_at.isoformat(),
                "metadata": {"voordeur_kenmerk": view.reference},
            },
            "betrokkene": betrokkene,
            "onderwerpobject": {
                "wasKlantcontact": None,
                "onderwerpobjectidentificator": _identificator(
                    "overdracht", "kenmerk", view.reference
                ),
            },
        }

    def _digitale_adressen(
        self, view: HandoverView, betrokkene: Any
    ) -> list[tuple[str, dict[str, Any]]]:
        """Phone and e-mail as digitale adressen of the betrokkene; none without consent."""
        if not view.consent_covers:
            return []
        adressen: list[tuple[str, dict[str, Any]]] = []
        base = {"verstrektDoorBetrokkene": {"uuid": betrokkene}, "verstrektDoorPartij": None}
        if view.contact_phone:
            phone = normalise_phone(view.contact_phone)
            if PHONE_RE.match(phone):
                adres = {"adres": phone, "soortDigitaalAdres": "telefoonnummer"}
            else:  # not a number the API accepts as telefoonnummer: keep it as given
                adres = {
                    "adres": view.contact_phone.strip()[: LIMITS["adres"]],
                    "soortDigitaalAdres": "overig",
                }
            adressen.append(
                ("telefoonnummer", {**base, **adres, "omschrijving": "Telefoon (via Voordeur)"})
            )
        if view.contact_email and len(view.contact_email) <= LIMITS["adres"]:
            adressen.append(
                (
                    "email",
                    {
                        **base,
                        "adres": view.contact_email,
                        "soortDigitaalAdres": "email",
                        "omschrijving": "E-mail (via Voordeur)",
                    },
                )
            )
        return adressen

    def _interne_taak(
        self, view: HandoverView, klantcontact: Any, team: str, shortened: list[str]
    ) -> dict[str, Any]:
        action = f"Neem contact op met de inwoner (kenmerk {view.reference})"
        if view.priority == "urgent":
            action = f"Spoed: neem vandaag contact op met de inwoner (kenmerk {view.reference})"
        gevraagd, cut = fit(action, LIMITS["gevraagdeHandeling"], " …")
        if cut:
            shortened.append("internetaak.gevraagdeHandeling")
        lines = [
            f"Overdracht via de Voordeur-chatassistent aan {view.team_name} "
            f"({view.organisation_name}), gemeente {view.municipality_name}.",
            f"Kenmerk: {view.reference}."
            + (" Prioriteit: spoed." if view.priority == "urgent" else ""),
        ]
        if view.life_domains:
            domains = ", ".join(d.replace("_", " ") for d in view.life_domains)
            lines.append(f"Leefgebieden: {domains}.")
        if view.consent_covers:
            preference = []
            if view.contact_preferred:
                label = PREFERRED_LABELS.get(view.contact_preferred, view.contact_preferred)
                preference.append(f"voorkeur {label}")
            if view.contact_best_time:
                preference.append(f"beste moment: {view.contact_best_time}")
            if view.contact_email and len(view.contact_email) > LIMITS["adres"]:
                preference.append("e-mailadres: zie Voordeur (te lang voor dit systeem)")
            if preference:
                lines.append("Contact: " + "; ".join(preference) + ".")
            lines.append(
                f"Het volledige gesprek ({view.transcript_messages} berichten) en de volledige "
                f"samenvatting staan in Voordeur onder kenmerk {view.reference} (bijlage)."
            )
        else:
            lines.append(
                "De inwoner heeft (nog) geen toestemming gegeven om de gegevens met deze "
                "organisatie te delen: er zijn geen contactgegevens meegestuurd."
            )
        toelichting, cut = fit("\n".join(lines), LIMITS["toelichting"])
        if cut:
            shortened.append("internetaak.toelichting")
        return {
            "aanleidinggevendKlantcontact": {"uuid": klantcontact},
            "toegewezenAanActoren": [{"uuid": team}],
            "gevraagdeHandeling": gevraagd,
            "toelichting": toelichting,
            "status": "te_verwerken",
        }
