"""A local fake of the Klantinteracties API v1 (Open Klant 2.18, openapi 0.9.0) for the tests.

A threading HTTP server under ``/klantinteracties/api/v1`` with the resources the exporter
uses: ``actoren``, ``maak-klantcontact``, ``klantcontacten``, ``betrokkenen``,
``actorklantcontacten``, ``digitaleadressen``, ``bijlagen``, ``internetaken``. Like the real
API it answers 401 without ``Authorization: Token <token>``, and 400 with ``invalidParams``
(``max_length``, ``required``, ``invalid_choice``, ``invalid``) for values over the field
limits of the openapi document, missing required fields and unknown choices. ``fail`` makes
the next matching request(s) fail with a status, before (``after_create=False``) or after the
resource is created (a lost answer). Every request is recorded.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

PREFIX = "/klantinteracties/api/v1/"
PHONE_RE = re.compile(r"^(0[1-9][0-9]{8}|\+[0-9]{9,15}|00[0-9]{7,13})$")

# resource -> field -> max length (openapi.yaml of Open Klant 2.18)
LIMITS: dict[str, dict[str, int]] = {
    "klantcontact": {
        "kanaal": 50,
        "onderwerp": 200,
        "inhoud": 1000,
        "reactie": 4000,
        "taal": 3,
        "referentienummer": 10,
    },
    "betrokkene": {"organisatienaam": 200},
    "contactnaam": {
        "voorletters": 10,
        "voornaam": 200,
        "voorvoegselAchternaam": 10,
        "achternaam": 200,
    },
    "actor": {"naam": 200},
    "identificator": {
        "objectId": 200,
        "codeObjecttype": 200,
        "codeRegister": 200,
        "codeSoortObjectId": 200,
    },
    "digitaaladres": {"adres": 80, "omschrijving": 40, "referentie": 50},
    "internetaak": {"gevraagdeHandeling": 200, "toelichting": 1000},
    "geautomatiseerde_actor": {"functie": 40, "omschrijving": 200},
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "klantcontact": ("kanaal", "onderwerp", "taal", "vertrouwelijk"),
    "betrokkene": ("rol", "initiator"),
    "actor": ("naam", "soortActor"),
    "digitaaladres": ("adres", "soortDigitaalAdres"),
    "internetaak": ("aanleidinggevendKlantcontact", "gevraagdeHandeling", "status"),
    "actorklantcontact": ("actor", "klantcontact"),
}
CHOICES: dict[str, dict[str, tuple[str, ...]]] = {
    "betrokkene": {"rol": ("vertegenwoordiger", "klant")},
    "actor": {"soortActor": ("medewerker", "geautomatiseerde_actor", "organisatorische_eenheid")},
    "digitaalAdres": {"soortDigitaalAdres": ("email", "telefoonnummer", "overig")},
    "internetaak": {"status": ("te_verwerken", "verwerkt")},
}


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    token: str | None
    status: int = 0


@dataclass
class Failure:
    method: str
    resource: str
    status: int
    times: int = 1
    after_create: bool = False


@dataclass
class FakeKlantinteracties:
    token: str
    url: str = ""  # base URL, ending in /klantinteracties/api/v1
    requests: list[Recorded] = field(default_factory=list)
    store: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(
        self,
        method: str,
        resource: str,
        status: int = 500,
        *,
        times: int = 1,
        after_create: bool = False,
    ) -> None:
        self.failures.append(Failure(method, resource, status, times, after_create))

    def all(self, resource: str) -> list[dict[str, Any]]:
        return list(self.store.get(resource, {}).values())

    def posts(self, resource: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST" and r.path == resource]

    def add_actor(
        self, object_id: str, *, soort: str = "organisatorische_eenheid", register: str = "kiss"
    ) -> dict[str, Any]:
        return self._save(
            "actoren",
            {
                "naam": object_id,
                "soortActor": soort,
                "indicatieActief": True,
                "actoridentificator": {
                    "objectId": object_id,
                    "codeRegister": register,
                    "codeObjecttype": "afdeling",
                    "codeSoortObjectId": "id",
                },
            },
        )

    # --- store ---------------------------------------------------------------------------

    def _save(self, resource: str, data: dict[str, Any]) -> dict[str, Any]:
        new_id = str(uuid.uuid4())
        saved = {**data, "uuid": new_id, "url": f"{self.url}/{resource}/{new_id}"}
        self.store.setdefault(resource, {})[new_id] = saved
        return saved

    def _exists(self, resource: str, ref: Any) -> bool:
        return isinstance(ref, dict) and ref.get("uuid") in self.store.get(resource, {})

    def klantcontact_view(self, kc: dict[str, Any]) -> dict[str, Any]:
        kc_id = kc["uuid"]

        def linked(resource: str, key: str) -> list[dict[str, str]]:
            return [
                {"uuid": r["uuid"], "url": r["url"]}
                for r in self.all(resource)
                if (r.get(key) or {}).get("uuid") == kc_id
            ]

        actors = [
            self.store["actoren"][a["actor"]["uuid"]]
            for a in self.all("actorklantcontacten")
            if a["klantcontact"]["uuid"] == kc_id
        ]
        return {
            **kc,
            "hadBetrokkenen": linked("betrokkenen", "hadKlantcontact"),
            "gingOverOnderwerpobjecten": linked("onderwerpobjecten", "klantcontact"),
            "omvatteBijlagen": linked("bijlagen", "wasBijlageVanKlantcontact"),
            "leiddeTotInterneTaken": linked("internetaken", "aanleidinggevendKlantcontact"),
            "hadBetrokkenActoren": actors,
        }

    def betrokkene_view(self, b: dict[str, Any]) -> dict[str, Any]:
        adressen = [
            {"uuid": d["uuid"], "url": d["url"]}
            for d in self.all("digitaleadressen")
            if (d.get("verstrektDoorBetrokkene") or {}).get("uuid") == b["uuid"]
        ]
        return {**b, "digitaleAdressen": adressen}


def _errors(kind: str, data: Any, prefix: str = "") -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    if not isinstance(data, dict):
        return [{"name": prefix or "nonFieldErrors", "code": "invalid", "reason": "object"}]
    for name in REQUIRED.get(kind, ()):
        if data.get(name) in (None, ""):
            errors.append(
                {"name": prefix + name, "code": "required", "reason": "Dit veld is vereist."}
            )
    for name, limit in LIMITS.get(kind, {}).items():
        value = data.get(name)
        if isinstance(value, str) and len(value) > limit:
            errors.append(
                {
                    "name": prefix + name,
                    "code": "max_length",
                    "reason": f"Zorg ervoor dat dit veld niet meer dan {limit} karakters bevat.",
                }
            )
    for name, allowed in CHOICES.get(kind, {}).items():
        value = data.get(name)
        if value is not None and value not in allowed:
            errors.append(
                {
                    "name": prefix + name,
                    "code": "invalid_choice",
                    "reason": f'"{value}" is een ongeldige keuze.',
                }
            )
    return errors


def _validate(fake: FakeKlantinteracties, resource: str, body: Any) -> list[dict[str, str]]:
    if not isinstance(body, dict):
        return [{"name": "nonFieldErrors", "code": "invalid", "reason": "JSON object"}]
    errors: list[dict[str, str]] = []
    if resource == "maak-klantcontact":
        errors += _errors("klantcontact", body.get("klantcontact"), "klantcontact.")
        metadata = (body.get("klantcontact") or {}).get("metadata") or {}
        for key, value in metadata.items():
            if not isinstance(value, str) or len(value) > 255:
                errors.append(
                    {
                        "name": f"klantcontact.metadata.{key}",
                        "code": "max_length",
                        "reason": "max 255",
                    }
                )
        if "betrokkene" in body:
            betrokkene = body["betrokkene"]
            errors += _errors("betrokkene", betrokkene, "betrokkene.")
            if isinstance(betrokkene, dict) and betrokkene.get("contactnaam"):
                errors += _errors(
                    "contactnaam", betrokkene["contactnaam"], "betrokkene.contactnaam."
                )
        if "onderwerpobject" in body:
            ident = (body["onderwerpobject"] or {}).get("onderwerpobjectidentificator") or {}
            errors += _errors("identificator", ident, "onderwerpobject.identificator.")
    elif resource == "actoren":
        errors += _errors("actor", body)
        errors += _errors(
            "identificator", body.get("actoridentificator") or {}, "actoridentificator."
        )
        if body.get("soortActor") == "geautomatiseerde_actor":
            ident = body.get("actorIdentificatie")
            if not isinstance(ident, dict) or not ident.get("functie"):
                errors.append(
                    {
                        "name": "actorIdentificatie.functie",
                        "code": "required",
                        "reason": "Dit veld is vereist.",
                    }
                )
            else:
                errors += _errors("geautomatiseerde_actor", ident, "actorIdentificatie.")
    elif resource == "digitaleadressen":
        errors += _errors("digitaaladres", body)
        errors += _errors("digitaalAdres", body)
        if not fake._exists("betrokkenen", body.get("verstrektDoorBetrokkene")):
            errors.append(
                {
                    "name": "verstrektDoorBetrokkene",
                    "code": "does_not_exist",
                    "reason": "Object bestaat niet.",
                }
            )
        soort, adres = body.get("soortDigitaalAdres"), body.get("adres") or ""
        if soort == "telefoonnummer" and not PHONE_RE.match(adres):
            errors.append(
                {
                    "name": "adres",
                    "code": "invalid",
                    "reason": "Het opgegeven telefoonnummer is ongeldig.",
                }
            )
        if soort == "email" and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", adres):
            errors.append(
                {"name": "adres", "code": "invalid", "reason": "Voer een geldig e-mailadres in."}
            )
    elif resource == "bijlagen":
        if not fake._exists("klantcontacten", body.get("wasBijlageVanKlantcontact")):
            errors.append(
                {
                    "name": "wasBijlageVanKlantcontact",
                    "code": "does_not_exist",
                    "reason": "Object bestaat niet.",
                }
            )
        errors += _errors(
            "identificator", body.get("bijlageidentificator") or {}, "bijlageidentificator."
        )
        extra = set(body) - {"wasBijlageVanKlantcontact", "bijlageidentificator"}
        if extra:  # the real API ignores them; a test must notice content sent here
            errors.append(
                {
                    "name": ",".join(sorted(extra)),
                    "code": "unknown",
                    "reason": "bijlage has no such field",
                }
            )
    elif resource == "internetaken":
        errors += _errors("internetaak", body)
        if not fake._exists("klantcontacten", body.get("aanleidinggevendKlantcontact")):
            errors.append(
                {
                    "name": "aanleidinggevendKlantcontact",
                    "code": "does_not_exist",
                    "reason": "Object bestaat niet.",
                }
            )
        one = "toegewezenAanActor" in body
        many = "toegewezenAanActoren" in body
        if one == many:
            errors.append(
                {
                    "name": "nonFieldErrors",
                    "code": "invalid",
                    "reason": "`toegewezen_aan_actor` of `toegewezen_aan_actoren` is "
                    "required (mag niet beiden gebruiken).",
                }
            )
        for actor in body.get("toegewezenAanActoren") or []:
            if not fake._exists("actoren", actor):
                errors.append(
                    {
                        "name": "toegewezenAanActoren",
                        "code": "does_not_exist",
                        "reason": "Object bestaat niet.",
                    }
                )
    elif resource == "actorklantcontacten":
        errors += _errors("actorklantcontact", body)
        if not fake._exists("actoren", body.get("actor")):
            errors.append({"name": "actor", "code": "does_not_exist", "reason": "?"})
        if not fake._exists("klantcontacten", body.get("klantcontact")):
            errors.append({"name": "klantcontact", "code": "does_not_exist", "reason": "?"})
    elif resource == "betrokkenen":
        errors += _errors("betrokkene", body)
        if not fake._exists("klantcontacten", body.get("hadKlantcontact")):
            errors.append({"name": "hadKlantcontact", "code": "does_not_exist", "reason": "?"})
    return errors


def _create(fake: FakeKlantinteracties, resource: str, body: dict[str, Any]) -> dict[str, Any]:
    if resource != "maak-klantcontact":
        saved = fake._save(resource, body)
        if resource == "betrokkenen":
            return fake.betrokkene_view(saved)
        return saved
    kc = fake._save("klantcontacten", dict(body["klantcontact"]))
    answer: dict[str, Any] = {"klantcontact": fake.klantcontact_view(kc)}
    if body.get("betrokkene") is not None:
        b = fake._save(
            "betrokkenen", {**body["betrokkene"], "hadKlantcontact": {"uuid": kc["uuid"]}}
        )
        answer["betrokkene"] = fake.betrokkene_view(b)
    if body.get("onderwerpobject") is not None:
        o = fake._save(
            "onderwerpobjecten", {**body["onderwerpobject"], "klantcontact": {"uuid": kc["uuid"]}}
        )
        answer["onderwerpobject"] = o
    answer["klantcontact"] = fake.klantcontact_view(kc)
    return answer


def _matches(
    fake: FakeKlantinteracties, resource: str, item: dict[str, Any], query: dict[str, str]
) -> bool:
    for key, value in query.items():
        if key in ("page", "pageSize"):
            continue
        if key.startswith("actoridentificator"):
            field_name = key[len("actoridentificator") :]
            field_name = field_name[0].lower() + field_name[1:]
            if (item.get("actoridentificator") or {}).get(field_name) != value:
                return False
        elif key.startswith("onderwerpobject__onderwerpobjectidentificator"):
            field_name = key[len("onderwerpobject__onderwerpobjectidentificator") :]
            field_name = field_name[0].lower() + field_name[1:]
            if not any(
                (o.get("klantcontact") or {}).get("uuid") == item["uuid"]
                and (o.get("onderwerpobjectidentificator") or {}).get(field_name) == value
                for o in fake.all("onderwerpobjecten")
            ):
                return False
        elif key.endswith("__uuid"):
            link = key[: -len("__uuid")]
            if resource == "bijlagen" and link == "klantcontact":
                link = "wasBijlageVanKlantcontact"
            if (item.get(link) or {}).get("uuid") != value:
                return False
        elif str(item.get(key)) != value:
            return False
    return True


def _handler(fake: FakeKlantinteracties) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _json(self, status: int, body: Any, record: Recorded) -> None:
            record.status = status
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _problem(
            self, status: int, record: Recorded, params: list[dict[str, str]] | None = None
        ) -> None:
            titles = {
                400: "Invalid input.",
                401: "Ongeldige token.",
                404: "Niet gevonden.",
                500: "Er is een serverfout opgetreden.",
            }
            body: dict[str, Any] = {
                "type": f"http://127.0.0.1/ref/fouten/{status}/",
                "code": {400: "invalid", 401: "authentication_failed"}.get(status, "error"),
                "title": titles.get(status, "Fout"),
                "status": status,
                "detail": "",
                "instance": f"urn:uuid:{uuid.uuid4()}",
            }
            if params is not None:
                body["invalidParams"] = params
            self._json(status, body, record)

        def _handle(self, method: str) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            auth = self.headers.get("Authorization", "")
            token = auth[6:] if auth.startswith("Token ") else None
            path = parts.path[len(PREFIX) :] if parts.path.startswith(PREFIX) else ""
            record = Recorded(method, path, query, body, token)
            with fake.lock:
                fake.requests.append(record)
                if token != fake.token:
                    self._problem(401, record)
                    return
                segments = [s for s in path.split("/") if s]
                if not segments:
                    self._problem(404, record)
                    return
                resource = segments[0]
                failure = next(
                    (
                        f
                        for f in fake.failures
                        if f.method == method and f.resource == resource and f.times > 0
                    ),
                    None,
                )
                if failure is not None and not failure.after_create:
                    failure.times -= 1
                    self._problem(failure.status, record)
                    return
                if method == "GET" and len(segments) == 2:
                    item = fake.store.get(resource, {}).get(segments[1])
                    if item is None:
                        self._problem(404, record)
                        return
                    if resource == "klantcontacten":
                        item = fake.klantcontact_view(item)
                    elif resource == "betrokkenen":
                        item = fake.betrokkene_view(item)
                    self._json(200, item, record)
                    return
                if method == "GET":
                    items = [i for i in fake.all(resource) if _matches(fake, resource, i, query)]
                    if resource == "klantcontacten":
                        items = [fake.klantcontact_view(i) for i in items]
                    self._json(
                        200,
                        {"count": len(items), "next": None, "previous": None, "results": items},
                        record,
                    )
                    return
                errors = _validate(fake, resource, body)
                if errors:
                    self._problem(400, record, errors)
                    return
                created = _create(fake, resource, body)
                if failure is not None:  # created, but the answer is lost
                    failure.times -= 1
                    self._problem(failure.status, record)
                    return
                self._json(201, created, record)

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

    return Handler


@contextmanager
def running(token: str = "test-ki-token-0123456789") -> Iterator[FakeKlantinteracties]:
    fake = FakeKlantinteracties(token=token)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/klantinteracties/api/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
