"""Staff pages under /staff/: login cookie, inbox, detail, status change, notes."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from handover_api.core.security import hash_token
from handover_api.models import ApiToken, AuditLog, Handover, HandoverNote, StaffSession, utcnow
from handover_api.services import users

Create = Callable[..., dict[str, Any]]
Headers = dict[str, str]


def token_of(headers: Headers) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token in a page's forms (all forms of one page carry the same one)."""
    found = set(CSRF_RE.findall(html))
    assert len(found) == 1, found
    return found.pop()


def login_csrf(client: TestClient) -> str:
    """Open the login form (sets the pre-session cookie) and return its hidden value."""
    return csrf_of(client.get("/staff/login").text)


def login(client: TestClient, headers: Headers) -> str:
    """Log in through the form; returns the session's CSRF token (from the inbox page)."""
    response = client.post(
        "/staff/login",
        data={"token": token_of(headers), "csrf_token": login_csrf(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/staff/inbox"
    return csrf_of(client.get("/staff/inbox").text)


def test_login_sets_strict_httponly_cookie(client: TestClient, peel_headers: Headers) -> None:
    page = client.get("/staff/login")
    assert page.status_code == 200 and "Toegangscode" in page.text
    assert page.headers["referrer-policy"] == "same-origin"
    response = client.post(
        "/staff/login",
        data={"token": token_of(peel_headers), "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = next(
        c.lower() for c in response.headers.get_list("set-cookie") if "voordeur_staff=" in c
    )
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/staff" in cookie
    session_id = client.cookies["voordeur_staff"]
    assert session_id and token_of(peel_headers) not in cookie  # never the token itself


def test_bad_login_and_service_token_are_refused(
    client: TestClient, service_headers: Headers
) -> None:
    for token in ("onzin", token_of(service_headers)):
        response = client.post(
            "/staff/login",
            data={"token": token, "csrf_token": login_csrf(client)},
            follow_redirects=False,
        )
        assert response.status_code == 401
        assert "onbekend, verlopen of ingetrokken" in response.text
        assert "voordeur_staff=" not in response.headers.get("set-cookie", "")


def test_pages_need_login(client: TestClient, create_handover: Create) -> None:
    handover = create_handover()
    for path in ("/staff/", "/staff/inbox", f"/staff/handovers/{handover['id']}"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/staff/login"


def test_inbox_lists_own_organisation_only(
    client: TestClient, peel_headers: Headers, create_handover: Create
) -> None:
    mine = create_handover(priority="urgent", summary="Geen inkomen meer")
    other = create_handover(
        summary="Alleen voor Helmond",
        destination={"level": "local", "organisation": "gemeente-helmond", "team": "wijkteam"},
    )
    login(client, peel_headers)
    page = client.get("/staff/inbox")
    assert page.status_code == 200
    assert mine["reference"] in page.text and "Spoed" in page.text
    assert other["reference"] not in page.text and "Alleen voor Helmond" not in page.text
    assert page.headers["cache-control"] == "no-store"
    filtered = client.get("/staff/inbox", params={"status": "closed"})
    assert mine["reference"] not in filtered.text and "geen overdrachten" in filtered.text


def test_detail_is_escaped_redacted_and_audited(
    client: TestClient, peel_headers: Headers, create_handover: Create, session: Session
) -> None:
    handover = create_handover(summary="<script>alert(1)</script> & meer")
    login(client, peel_headers)
    page = client.get(f"/staff/handovers/{handover['id']}")
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; meer" in page.text
    assert "mijn BSN is [BSN verwijderd]" in page.text and "123456782" not in page.text
    assert "Jan Jansen" in page.text  # contact details are for the professional
    actions = set(
        session.scalars(
            select(AuditLog.action).where(
                AuditLog.actor == "staff:anna",
                AuditLog.resource_id.in_([handover["id"], handover["conversation_id"]]),
            )
        )
    )
    assert actions == {"handover.read", "transcript.read"}


APPLICATION_SECTION_RE = re.compile(r'<section id="aanvraag".*?</section>', re.S)
ROW_RE = re.compile(r"<div><dt>(.*?)</dt><dd>(.*?)</dd></div>", re.S)


def _application_section(page: str) -> str:
    match = APPLICATION_SECTION_RE.search(page)
    assert match, "no application section on the page"
    return match.group(0)


def test_the_application_is_a_readable_form_with_what_is_still_to_ask(
    client: TestClient, peel_headers: Headers, create_handover: Create
) -> None:
    fields = {
        "kosten_omschrijving": "een wasmachine <b>nu</b> & snel",
        "kosten_bedrag": None,
        "naam": "Jan Jansen",
        "geboortedatum": "1988-03-15",
        "adres": {"postcode": "5701 AB", "huisnummer": 12, "toevoeging": None},
        "huishouden": {
            "partner": False,
            "kinderen": 1,
            "leeftijden_kinderen": [4],
            "andere_volwassenen": 0,
        },
        "inkomen": ["bijstand", "alimentatie"],
        "contactvoorkeur": "whatsapp",
        "contactmoment": None,
        "telefoonnummer": "06-12345678",
    }
    handover = create_handover(
        application={"type": "bijzondere_bijstand", "fields": fields, "complete": False}
    )
    login(client, peel_headers)
    section = _application_section(client.get(f"/staff/handovers/{handover['id']}").text)
    assert '<h2 id="aanvraag-titel">Aanvraag bijzondere bijstand</h2>' in section
    assert "Niet compleet — de medewerker vraagt nog: Bedrag, Beste moment." in section
    rows = ROW_RE.findall(section)
    assert rows == [
        ("Waarvoor", "een wasmachine &lt;b&gt;nu&lt;/b&gt; &amp; snel"),  # user data: escaped
        ("Bedrag", "niet ingevuld (weet de inwoner niet)"),
        ("Naam", "Jan Jansen"),
        ("Geboortedatum", "15 maart 1988"),
        ("Postcode en huisnummer", "5701 AB 12"),
        ("Huishouden", "zonder partner, 1 kind (4 jaar)"),
        ("Inkomen", "bijstand, alimentatie"),
        ("Contact via", "WhatsApp"),
        ("Beste moment", "niet ingevuld (weet de inwoner niet)"),
        ("Telefoonnummer", "06-12345678"),
    ]
    # no raw keys, JSON or Python reprs
    for raw in ("kosten_omschrijving", "leeftijden_kinderen", "'postcode'", "{", "[", "None"):
        assert raw not in section


def test_a_complete_application_says_so(
    client: TestClient, peel_headers: Headers, create_handover: Create
) -> None:
    fields = {"hulp_voor": "ander", "hulpvraag": "Mijn moeder komt de trap niet meer op."}
    handover = create_handover(application={"type": "wmo", "fields": fields, "complete": True})
    login(client, peel_headers)
    section = _application_section(client.get(f"/staff/handovers/{handover['id']}").text)
    assert "Melding Wmo (hulp en ondersteuning)" in section
    assert "Compleet" in section and "vraagt nog" not in section
    assert ("Voor wie", "voor iemand anders") in ROW_RE.findall(section)


def test_an_older_application_with_only_municipality_and_phone_is_shown(
    client: TestClient, peel_headers: Headers, create_handover: Create
) -> None:
    old = {"gemeente": "Helmond", "gemeentecode": "GM0794", "telefoonnummer": None}
    handover = create_handover(application={"type": "bijstand", "fields": old, "complete": False})
    login(client, peel_headers)
    page = client.get(f"/staff/handovers/{handover['id']}")
    assert page.status_code == 200
    section = _application_section(page.text)
    assert "Melding levensonderhoud (bijstand)" in section
    assert ROW_RE.findall(section) == [
        ("Gemeente", "Helmond"),
        ("Gemeentecode", "GM0794"),
        ("Telefoonnummer", "–"),
    ]
    assert "de medewerker vraagt nog: Naam, Geboortedatum, Postcode en huisnummer" in section


def test_no_application_section_while_consent_withholds_it(
    client: TestClient,
    peel_headers: Headers,
    service_headers: Headers,
    create_handover: Create,
) -> None:
    handover = create_handover()
    client.post(f"/api/v1/handovers/{handover['id']}/consent-withdrawal", headers=service_headers)
    login(client, peel_headers)
    page = client.get(f"/staff/handovers/{handover['id']}").text
    assert 'id="aanvraag"' not in page and "woonsituatie" not in page
    assert "aanvraag en gesprek zijn" in page  # the page says why


def test_other_organisation_gets_404(
    client: TestClient, helmond_headers: Headers, create_handover: Create
) -> None:
    handover = create_handover()
    csrf = login(client, helmond_headers)
    page = client.get(f"/staff/handovers/{handover['id']}")
    assert page.status_code == 404
    assert handover["summary"] not in page.text
    assert "text/html" in page.headers["content-type"]
    assert "niet aan uw organisatie gericht" in page.text
    post = client.post(
        f"/staff/handovers/{handover['id']}/notes", data={"text": "x", "csrf_token": csrf}
    )
    assert post.status_code == 404 and "Niet gevonden" in post.text


def test_status_change_note_and_return_via_forms(
    client: TestClient,
    peel_headers: Headers,
    helmond_headers: Headers,
    create_handover: Create,
    session: Session,
) -> None:
    handover = create_handover()
    hid = uuid.UUID(handover["id"])
    csrf = login(client, peel_headers)
    response = client.post(
        f"/staff/handovers/{hid}/status",
        data={"status": "claimed", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303
    row = session.get(Handover, hid)
    assert row is not None and row.status == "claimed"

    illegal = client.post(
        f"/staff/handovers/{hid}/status", data={"status": "claimed", "csrf_token": csrf}
    )
    assert illegal.status_code == 409 and "niet toegestaan" in illegal.text

    note = client.post(
        f"/staff/handovers/{hid}/notes",
        data={"text": "Gebeld <b>ok</b>", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert note.status_code == 303
    assert [
        n.text for n in session.scalars(select(HandoverNote).where(HandoverNote.handover_id == hid))
    ] == ["Gebeld <b>ok</b>"]
    assert "Gebeld &lt;b&gt;ok&lt;/b&gt;" in client.get(f"/staff/handovers/{hid}").text

    page = client.get(f"/staff/handovers/{hid}").text
    # the return form offers the other level's teams for Helmond, by name, not free text
    assert 'value="local|gemeente-helmond|wijkteam"' in page
    assert "Het wijkteam Helmond" in page and 'name="organisation"' not in page
    target = "local|gemeente-helmond|wijkteam"
    no_reason = client.post(
        f"/staff/handovers/{hid}/status",
        data={"status": "returned", "target": target, "csrf_token": csrf},
    )
    assert no_reason.status_code == 422 and "reden" in no_reason.text
    not_offered = client.post(
        f"/staff/handovers/{hid}/status",
        data={
            "status": "returned",
            "target": "local|gemeente-deurne|sociaal-team",
            "reason": "x",
            "csrf_token": csrf,
        },
    )
    assert not_offered.status_code == 422 and "lijst" in not_offered.text
    returned = client.post(
        f"/staff/handovers/{hid}/status",
        data={
            "status": "returned",
            "target": target,
            "reason": "Past beter bij het wijkteam",
            "consent_for_destination": "ja",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert returned.status_code == 303
    session.expire_all()
    row = session.get(Handover, hid)
    assert row is not None and row.status == "returned" and len(row.returned_to) == 1
    successor = row.returned_to[0]
    assert successor.consent_organisation == "gemeente-helmond"
    assert successor.consent_recorded_by == "staff:anna"

    client.cookies.clear()
    login(client, helmond_headers)
    assert successor.reference in client.get("/staff/inbox").text
    detail = client.get(f"/staff/handovers/{successor.id}").text
    assert "Toestemming ontbreekt" not in detail and "Ik ben ontslagen" in detail


def test_returned_case_without_consent_shows_that_consent_is_missing(
    client: TestClient,
    peel_headers: Headers,
    helmond_headers: Headers,
    create_handover: Create,
    session: Session,
) -> None:
    handover = create_handover()
    csrf = login(client, peel_headers)
    client.post(
        f"/staff/handovers/{handover['id']}/status",
        data={
            "status": "returned",
            "target": "local|gemeente-helmond|wijkteam",
            "reason": "Past beter bij het wijkteam",
            "csrf_token": csrf,
        },
    )
    row = session.get(Handover, uuid.UUID(handover["id"]))
    assert row is not None and row.returned_to
    client.cookies.clear()
    login(client, helmond_headers)
    detail = client.get(f"/staff/handovers/{row.returned_to[0].id}").text
    assert "Toestemming ontbreekt" in detail
    assert handover["reference"] in detail  # whom to ask
    for secret in ("06-12345678", "Jan Jansen", "Ik ben ontslagen", "jan@example.nl"):
        assert secret not in detail


def test_cross_site_form_post_is_refused(
    client: TestClient, peel_headers: Headers, create_handover: Create, session: Session
) -> None:
    handover = create_handover()
    csrf = login(client, peel_headers)
    url = f"/staff/handovers/{handover['id']}/notes"
    for headers in (
        {"Origin": "https://evil.example"},
        {"Origin": "http://testserver.evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # another port or subdomain of the same site
    ):
        response = client.post(url, data={"text": "x", "csrf_token": csrf}, headers=headers)
        assert response.status_code == 403, headers
        assert "text/html" in response.headers["content-type"]
        assert "andere website" in response.text
    assert session.scalars(select(HandoverNote)).all() == []
    # Chromium's own same-origin post (with the Referrer-Policy we send) is accepted.
    ok = client.post(
        url,
        data={"text": "eigen formulier", "csrf_token": csrf},
        headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
        follow_redirects=False,
    )
    assert ok.status_code == 303


def test_every_post_needs_the_session_csrf_token(
    client: TestClient,
    peel_headers: Headers,
    helmond_headers: Headers,
    create_handover: Create,
    session: Session,
) -> None:
    handover = create_handover()
    hid = uuid.UUID(handover["id"])
    other = TestClient(client.app)
    other_csrf = login(other, helmond_headers)  # a valid token, but of another session
    csrf = login(client, peel_headers)
    assert other_csrf != csrf
    for data in (
        {"status": "claimed"},
        {"status": "claimed", "csrf_token": ""},
        {"status": "claimed", "csrf_token": other_csrf},
        {"status": "claimed", "csrf_token": csrf[:-1]},
    ):
        response = client.post(f"/staff/handovers/{hid}/status", data=data)
        assert response.status_code == 403, data
        assert "formulier is verlopen" in response.text
        assert "text/html" in response.headers["content-type"]
    assert client.post(f"/staff/handovers/{hid}/notes", data={"text": "x"}).status_code == 403
    assert client.post("/staff/logout", follow_redirects=False).status_code == 403
    row = session.get(Handover, hid)
    assert row is not None and row.status == "new" and row.notes == []
    assert client.get("/staff/inbox").status_code == 200  # still logged in


def test_login_form_needs_its_signed_pre_session_token(
    client: TestClient, peel_headers: Headers, session: Session
) -> None:
    token = token_of(peel_headers)
    csrf = login_csrf(client)
    for data, cookie in (
        ({"token": token}, csrf),  # no hidden field
        ({"token": token, "csrf_token": "a.1.b"}, "a.1.b"),  # equal, but not signed by us
        ({"token": token, "csrf_token": csrf}, login_csrf(TestClient(client.app))),  # mismatch
    ):
        client.cookies.set("voordeur_login_csrf", cookie, path="/staff")
        response = client.post("/staff/login", data=data, follow_redirects=False)
        assert response.status_code == 403
        assert "Het inlogformulier was verlopen" in response.text
        assert "voordeur_staff=" not in response.headers.get("set-cookie", "")
    assert session.scalars(select(StaffSession)).all() == []
    # The refusal page carries a fresh form that works.
    client.cookies.clear()
    fresh = login_csrf(client)
    response = client.post(
        "/staff/login", data={"token": token, "csrf_token": fresh}, follow_redirects=False
    )
    assert response.status_code == 303


def test_session_cookie_holds_a_random_id_stored_only_hashed(
    client: TestClient, peel_headers: Headers, session: Session
) -> None:
    login(client, peel_headers)
    session_id = client.cookies["voordeur_staff"]
    rows = session.scalars(select(StaffSession)).all()
    assert len(rows) == 1
    assert rows[0].session_hash == hash_token(session_id) != session_id
    assert rows[0].expires_at - rows[0].created_at == timedelta(hours=10)
    stored = session.scalars(select(ApiToken)).one()
    assert stored.id == rows[0].token_id


def test_logout_ends_the_session_server_side(
    client: TestClient, peel_headers: Headers, session: Session
) -> None:
    csrf = login(client, peel_headers)
    copied = client.cookies["voordeur_staff"]
    response = client.post("/staff/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/staff/login"
    set_cookie = response.headers["set-cookie"].lower()
    assert 'voordeur_staff=""' in set_cookie or "max-age=0" in set_cookie
    assert session.scalars(select(StaffSession)).all() == []
    # Somebody who copied the cookie before logout gets the login page, not the inbox.
    thief = TestClient(client.app)
    page = thief.get(
        "/staff/inbox", headers={"Cookie": f"voordeur_staff={copied}"}, follow_redirects=False
    )
    assert page.status_code == 303 and page.headers["location"] == "/staff/login"


def test_revoked_or_expired_token_ends_its_sessions(
    client: TestClient, peel_headers: Headers, session: Session
) -> None:
    login(client, peel_headers)
    assert client.get("/staff/inbox", follow_redirects=False).status_code == 200
    token = session.scalars(select(ApiToken)).one()
    users.revoke_token(session, token_id=token.id)
    session.commit()
    assert session.scalars(select(StaffSession)).all() == []
    response = client.get("/staff/inbox", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/staff/login"
    refused = client.post(
        "/staff/login",
        data={"token": token_of(peel_headers), "csrf_token": login_csrf(client)},
    )
    assert refused.status_code == 401


def test_expired_token_cannot_log_in_and_ends_open_sessions(
    client: TestClient, make_staff: Callable[..., Headers], session: Session
) -> None:
    headers = make_staff("peel61", username="cor")
    login(client, headers)
    token = session.scalars(select(ApiToken)).one()
    token.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    response = client.get("/staff/inbox", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/staff/login"
    assert session.scalars(select(StaffSession)).all() == []
    page = client.post(
        "/staff/login", data={"token": token_of(headers), "csrf_token": login_csrf(client)}
    )
    assert page.status_code == 401 and "verlopen" in page.text
    # The API refuses it too; the service token has no expiry.
    assert client.get("/api/v1/handovers", headers=headers).status_code == 401


def test_session_ends_after_idle_time_and_after_its_maximum(
    client: TestClient, peel_headers: Headers, session: Session
) -> None:
    login(client, peel_headers)
    row = session.scalars(select(StaffSession)).one()
    row.last_seen_at = utcnow() - timedelta(minutes=29)
    session.commit()
    assert client.get("/staff/inbox", follow_redirects=False).status_code == 200
    session.refresh(row)
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)  # activity keeps it alive
    row.last_seen_at = utcnow() - timedelta(minutes=31)
    session.commit()
    assert client.get("/staff/inbox", follow_redirects=False).status_code == 303

    login(client, peel_headers)
    row = session.scalars(select(StaffSession)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)  # active, but past the absolute end
    session.commit()
    assert client.get("/staff/inbox", follow_redirects=False).status_code == 303
    assert session.scalars(select(StaffSession)).all() == []


def test_auditor_cannot_use_the_handover_pages(client: TestClient, session: Session) -> None:
    user = users.create_user(
        session, username="ria", organisation="peel61", display_name="Ria", role="auditor"
    )
    token = users.issue_token(session, user=user)
    session.commit()
    response = client.post("/staff/login", data={"token": token, "csrf_token": login_csrf(client)})
    assert response.status_code == 403 and "medewerkerspagina" in response.text
    assert session.scalars(select(StaffSession)).all() == []


def test_errors_are_dutch_html_pages(
    client: TestClient, peel_headers: Headers, create_handover: Create
) -> None:
    handover = create_handover()
    csrf = login(client, peel_headers)
    for path in ("/staff/handovers/geen-uuid", f"/staff/handovers/{uuid.uuid4()}"):
        page = client.get(path)
        assert page.status_code == 404
        assert "text/html" in page.headers["content-type"]
        assert "<h1>Niet gevonden</h1>" in page.text and "Terug naar de inbox" in page.text
    bad = client.post(
        f"/staff/handovers/{handover['id']}/status",
        data={"status": "weggegooid", "csrf_token": csrf},
    )
    assert bad.status_code == 422
    assert "text/html" in bad.headers["content-type"]
    assert "Ongeldige invoer" in bad.text and '"detail"' not in bad.text


def test_unknown_staff_address_gets_the_dutch_404_page_and_the_api_keeps_json(
    client: TestClient,
) -> None:
    page = client.get("/staff/bestaat-niet")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Niet gevonden" in page.text or "niet gevonden" in page.text
    api = client.get("/api/v1/bestaat-niet")
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}
