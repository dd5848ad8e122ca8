"""The case worker's inbox and case page: order, search, filters, counts, "mijn zaken",
assignment, call attempts, the print view and button payloads in the transcript.

Runs on SQLite and PostgreSQL (the ``engine`` fixture); the browser checks (390 px, keyboard)
are in ``test_browser.py``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from handover_api.models import AuditLog, CallAttempt, Handover, utcnow
from handover_api.services import handovers, users
from handover_api.services.directory import load_directory
from tests.handover_api.conftest import REPO_ROOT, bearer
from tests.handover_api.web.test_staff_pages import login

Create = Callable[..., dict[str, Any]]
Headers = dict[str, str]

ROW_RE = re.compile(r"<tr[^>]*>\s*<td data-label=\"Kenmerk\">.*?</tr>", re.S)
REFERENCE_RE = re.compile(r'class="kenmerk" href="/staff/handovers/[^"]+">(VD-[A-Z0-9-]+)<')


def references(html: str) -> list[str]:
    """The references of the inbox rows, in order."""
    return REFERENCE_RE.findall(html)


def row_of(html: str, reference: str) -> str:
    rows = [r for r in ROW_RE.findall(html) if f">{reference}<" in r]
    assert len(rows) == 1, reference
    return rows[0]


def set_created(session: Session, handover_id: str, when: datetime) -> Handover:
    row = session.get(Handover, uuid.UUID(handover_id))
    assert row is not None
    row.created_at = when
    session.commit()
    return row


def make_worker(
    session: Session, username: str, organisation: str, name: str, role: str = "staff"
) -> Headers:
    """A staff user with a real name (never the organisation's id); its bearer headers."""
    user = users.create_user(
        session,
        username=username,
        organisation=organisation,
        display_name=name,
        team="werk-inkomen" if organisation == "peel61" else "wijkteam",
        role=role,
    )
    token = users.issue_token(session, user=user)
    session.commit()
    return bearer(token)


@pytest.fixture
def anna(session: Session) -> Headers:
    """A case worker of Senzer (peel61) named Anna de Vries."""
    return make_worker(session, "anna", "peel61", "Anna de Vries")


@pytest.fixture
def bram(session: Session) -> Headers:
    """A case worker of the Helmond wijkteam named Bram Smit."""
    return make_worker(session, "bram", "gemeente-helmond", "Bram Smit")


# --- order and what a row shows -------------------------------------------------------------


def test_inbox_order_urgent_first_then_longest_waiting(
    client: TestClient, anna: Headers, create_handover: Create, session: Session
) -> None:
    base = utcnow() - timedelta(days=2)
    old = create_handover(summary="Oud normaal")
    new = create_handover(summary="Nieuw normaal")
    urgent_new = create_handover(summary="Nieuw spoed", priority="urgent")
    urgent_old = create_handover(summary="Oud spoed", priority="urgent")
    closed = create_handover(summary="Afgesloten oud")
    for offset, item in enumerate((closed, old, urgent_old, new, urgent_new)):
        set_created(session, item["id"], base + timedelta(hours=offset))
    row = session.get(Handover, uuid.UUID(closed["id"]))
    assert row is not None
    row.status = "closed"
    session.commit()
    login(client, anna)
    page = client.get("/staff/inbox").text
    assert references(page) == [
        urgent_old["reference"],
        urgent_new["reference"],
        old["reference"],
        new["reference"],
        closed["reference"],  # finished cases last
    ]


def test_rows_show_what_differs_and_no_generic_prefix(
    client: TestClient, anna: Headers, create_handover: Create
) -> None:
    generic = (
        "Vraag: wil graag contact met een medewerker.\nGemeente: Helmond. Kanaal: web.\n"
        "Leefgebieden genoemd: schulden.\n"
        "In eigen woorden: \u201cIk kan de energierekening niet meer betalen\u201d\n"
        "Telefoonnummer gegeven: ja."
    )
    with_application = create_handover()  # bijstand
    own_words = create_handover(summary=generic, application=None)
    question = create_handover(
        summary="Vraag: schuldhulp.\nGemeente: Helmond. Kanaal: web.", application=None
    )
    crisis = create_handover(
        summary="Vraag: wil graag contact met een medewerker.\nGemeente: Helmond. Kanaal: sms.",
        application=None,
        life_domains=[],
        crisis={"type": "acute_dakloosheid"},
    )
    login(client, anna)
    page = client.get("/staff/inbox").text
    assert "Vraag: wil graag contact" not in page
    assert "Melding levensonderhoud (bijstand)" in row_of(page, with_application["reference"])
    assert "Ik kan de energierekening niet meer betalen" in row_of(page, own_words["reference"])
    assert ">Schuldhulp" in row_of(page, question["reference"])
    crisis_row = row_of(page, crisis["reference"])
    assert "Acute dakloosheid" in crisis_row and "Spoed" in crisis_row
    # life domains by name, the assignee, and the waiting time against the service level
    row = row_of(page, with_application["reference"])
    assert "Inkomen, Schulden" in row
    assert "Niemand" in row
    assert "0 werkdagen – binnen termijn (3 werkdagen)" in row
    assert 'class="kenmerk"' in row  # the reference does not wrap (white-space: nowrap)
    assert "white-space: nowrap" in page


def test_heading_and_times_are_readable(
    client: TestClient, bram: Headers, create_handover: Create, session: Session
) -> None:
    helmond = bram
    handover = create_handover(
        destination={"level": "local", "organisation": "gemeente-helmond", "team": "wijkteam"}
    )
    set_created(session, handover["id"], datetime(2025, 7, 1, 22, 30, tzinfo=UTC))
    login(client, helmond)
    page = client.get("/staff/inbox").text
    assert "<h1>Overdrachten voor Gemeente Helmond</h1>" in page
    assert "gemeente-helmond" not in page.replace('value="gemeente-helmond', "")
    assert "Gemeente Helmond (Gemeente Helmond)" not in page
    assert "02-07-2025 00:30" in page  # 22:30 UTC is half past midnight in Amsterdam (CEST)


def test_service_level_in_working_days(session: Session, create_handover: Create) -> None:
    directory = load_directory(REPO_ROOT / "data")
    item = create_handover()  # Senzer: 3 working days, urgent 1
    row = session.get(Handover, uuid.UUID(item["id"]))
    assert row is not None
    friday = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    row.created_at = friday
    on = handovers.service_level
    assert on(row, directory, now=friday).label == "0 werkdagen – binnen termijn (3 werkdagen)"
    monday = friday + timedelta(days=3)
    assert on(row, directory, now=monday).working_days == 1  # the weekend does not count
    wednesday = friday + timedelta(days=5)
    level = on(row, directory, now=wednesday)
    assert level.state == "laatste_dag" and level.label.startswith("3 werkdagen")
    late = on(row, directory, now=friday + timedelta(days=6))
    assert late.state == "verlopen" and late.overdue
    assert late.label == "4 werkdagen – termijn verlopen (termijn 3 werkdagen)"
    row.priority = "urgent"
    assert on(row, directory, now=monday).state == "laatste_dag"  # urgent: 1 working day
    row.first_contact_at = monday
    reached = on(row, directory, now=friday + timedelta(days=10))
    assert reached.state == "contact" and reached.label == "Contact na 1 werkdag – binnen termijn"


# --- search ---------------------------------------------------------------------------------


def test_search_by_reference_exact_prefix_any_case_with_or_without_vd(
    client: TestClient, anna: Headers, create_handover: Create
) -> None:
    wanted = create_handover(reference="VD-7K3P-92")
    other = create_handover(reference="VD-7KAA-11")
    login(client, anna)
    for q in ("VD-7K3P-92", "vd-7k3p-92", "7K3P-92", "7k3p", " VD-7K3P ", "vd7k3p92"):
        found = references(client.get("/staff/inbox", params={"q": q}).text)
        assert found == [wanted["reference"]], q
    both = references(client.get("/staff/inbox", params={"q": "7K"}).text)
    assert set(both) == {wanted["reference"], other["reference"]}
    none = client.get("/staff/inbox", params={"q": "VD-ZZZZ"}).text
    assert references(none) == [] and "geen overdrachten" in none
    # the search field keeps what was typed, escaped
    page = client.get("/staff/inbox", params={"q": '7k3p"><b>'}).text
    assert 'value="7k3p&#34;&gt;&lt;b&gt;"' in page


def test_search_by_phone_number_on_its_last_nine_digits(
    client: TestClient, anna: Headers, create_handover: Create, session: Session
) -> None:
    mobile = create_handover(contact={"name": "A", "phone": "06-12345678", "preferred": "phone"})
    landline = create_handover(contact={"name": "B", "phone": "0492 123 456", "preferred": "phone"})
    row = session.get(Handover, uuid.UUID(mobile["id"]))
    assert row is not None and row.search_phone == "612345678"
    login(client, anna)
    for q in ("0612345678", "+31 6 12345678", "0031612345678", "06-1234 5678", "612345678"):
        assert references(client.get("/staff/inbox", params={"q": q}).text) == [
            mobile["reference"]
        ], q
    assert references(client.get("/staff/inbox", params={"q": "+31492123456"}).text) == [
        landline["reference"]
    ]
    # the audit log says a phone number was searched, never which one
    listed = session.scalars(
        select(AuditLog).where(AuditLog.action == "handover.list").order_by(AuditLog.id.desc())
    ).first()
    assert listed is not None and listed.detail is not None
    assert listed.detail["filters"]["search"] == "phone"
    assert "612345678" not in str(listed.detail)


def test_phone_search_finds_no_case_whose_consent_does_not_cover_us(
    client: TestClient,
    anna: Headers,
    service_headers: Headers,
    create_handover: Create,
) -> None:
    withdrawn = create_handover()
    client.post(f"/api/v1/handovers/{withdrawn['id']}/consent-withdrawal", headers=service_headers)
    login(client, anna)
    assert references(client.get("/staff/inbox", params={"q": "0612345678"}).text) == []
    # by its reference it is still found: the case exists, its data is withheld
    found = client.get("/staff/inbox", params={"q": withdrawn["reference"]}).text
    assert references(found) == [withdrawn["reference"]]
    assert "Niet zichtbaar zonder toestemming" in found


def test_the_return_copy_is_searchable_by_phone_and_domain(
    client: TestClient,
    anna: Headers,
    bram: Headers,
    create_handover: Create,
    session: Session,
) -> None:
    original = create_handover()
    response = client.patch(
        f"/api/v1/handovers/{original['id']}",
        json={
            "status": "returned",
            "reason": "Past beter bij het wijkteam",
            "destination": {
                "level": "local",
                "organisation": "gemeente-helmond",
                "team": "wijkteam",
            },
            "consent_for_destination": True,
        },
        headers=anna,
    )
    assert response.status_code == 200, response.text
    successor = response.json()["returned_to"]
    row = session.get(Handover, uuid.UUID(successor["id"]))
    assert row is not None
    assert row.search_phone == "612345678" and row.domain_codes == ",inkomen,schulden,"
    login(client, bram)
    assert references(client.get("/staff/inbox", params={"q": "06 12345678"}).text) == [
        successor["reference"]
    ]
    assert references(client.get("/staff/inbox", params={"domain": "schulden"}).text) == [
        successor["reference"]
    ]


# --- filters, counts, mijn zaken, pagination --------------------------------------------------


def test_filters_and_counts_per_status(
    client: TestClient, anna: Headers, create_handover: Create
) -> None:
    income = create_handover(
        life_domains=[{"code": "inkomen", "evidence": []}],
        multi_problem=False,
    )
    debts = create_handover(
        life_domains=[{"code": "schulden", "evidence": []}],
        multi_problem=False,
        municipality={"code": "GM0762", "name": "Deurne"},
    )
    urgent = create_handover(priority="urgent")
    create_handover(
        destination={"level": "local", "organisation": "gemeente-helmond", "team": "wijkteam"}
    )
    client.patch(f"/api/v1/handovers/{income['id']}", json={"status": "claimed"}, headers=anna)
    login(client, anna)

    page = client.get("/staff/inbox").text
    for label in ("Alle (3)", "Open (3)", "Nieuw (2)", "Opgepakt (1)", "Afgesloten (0)"):
        assert label in page, label
    by_domain = client.get("/staff/inbox", params={"domain": "schulden"}).text
    assert set(references(by_domain)) == {debts["reference"], urgent["reference"]}
    assert "Alle (2)" in by_domain and "Opgepakt (0)" in by_domain  # counts follow filters
    assert references(client.get("/staff/inbox", params={"municipality": "GM0762"}).text) == [
        debts["reference"]
    ]
    assert references(client.get("/staff/inbox", params={"status": "claimed"}).text) == [
        income["reference"]
    ]
    assert references(client.get("/staff/inbox", params={"priority": "urgent"}).text) == [
        urgent["reference"]
    ]
    assert len(references(client.get("/staff/inbox", params={"team": "werk-inkomen"}).text)) == 3
    assert references(client.get("/staff/inbox", params={"level": "local"}).text) == []
    assert len(references(client.get("/staff/inbox", params={"status": "open"}).text)) == 3
    # the filter form: every control labelled, GET, the chosen values kept
    form = client.get("/staff/inbox", params={"domain": "schulden", "status": "new"}).text
    assert '<form method="get" action="/staff/inbox"' in form
    for control in (
        "q",
        "status",
        "assigned",
        "priority",
        "domain",
        "team",
        "municipality",
        "level",
    ):
        assert f'<label for="{control}">' in form and f'id="{control}"' in form, control
    assert '<option value="schulden" selected>' in form
    assert 'aria-current="page">Nieuw (' in form
    # an unknown filter value is a Dutch 422 page, not a 500 or JSON
    bad = client.get("/staff/inbox", params={"domain": "geluk"})
    assert bad.status_code == 422 and "onbekende waarde" in bad.text


def test_mijn_zaken_and_claim_assigns_by_name(
    client: TestClient,
    anna: Headers,
    create_handover: Create,
    session: Session,
) -> None:
    mine = create_handover()
    theirs = create_handover()
    nobody = create_handover()
    make_worker(session, "bob", "peel61", "Bob Jansen")
    csrf = login(client, anna)
    response = client.post(
        f"/staff/handovers/{mine['id']}/status",
        data={"status": "claimed", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303
    row = session.get(Handover, uuid.UUID(mine["id"]))
    assert row is not None
    assert (row.assigned_username, row.assigned_name) == ("anna", "Anna de Vries")
    assert row.assigned_at is not None and row.claimed_at is not None
    first_claim = row.claimed_at
    client.post(
        f"/staff/handovers/{theirs['id']}/assign",
        data={"username": "bob", "csrf_token": csrf},
        follow_redirects=False,
    )
    page = client.get("/staff/inbox", params={"assigned": "me"}).text
    assert references(page) == [mine["reference"]]
    assert "Mijn zaken" in page
    unassigned = client.get("/staff/inbox", params={"assigned": "none"}).text
    assert references(unassigned) == [nobody["reference"]]
    everyone = client.get("/staff/inbox").text
    assert "Bob Jansen" in row_of(everyone, theirs["reference"])
    assert "Anna de Vries (u)" in row_of(everyone, mine["reference"])

    # releasing clears the assignment; claiming again keeps the first claim moment
    client.post(f"/staff/handovers/{mine['id']}/status", data={"status": "new", "csrf_token": csrf})
    session.expire_all()
    row = session.get(Handover, uuid.UUID(mine["id"]))
    assert row is not None and row.status == "new"
    assert (row.assigned_username, row.assigned_name, row.assigned_at) == (None, None, None)
    client.post(
        f"/staff/handovers/{mine['id']}/status", data={"status": "claimed", "csrf_token": csrf}
    )
    session.expire_all()
    row = session.get(Handover, uuid.UUID(mine["id"]))
    assert row is not None and row.assigned_username == "anna" and row.claimed_at == first_claim


def test_pagination_keeps_the_filters(
    client: TestClient, anna: Headers, create_handover: Create
) -> None:
    for _ in range(27):
        create_handover(life_domains=[{"code": "schulden", "evidence": []}], multi_problem=False)
    create_handover(life_domains=[{"code": "inkomen", "evidence": []}], multi_problem=False)
    login(client, anna)
    first = client.get("/staff/inbox", params={"domain": "schulden", "q": "VD"}).text
    assert len(references(first)) == 25 and "Pagina 1 van 2" in first
    match = re.search(r'<a rel="next" href="([^"]+)"', first)
    assert match
    next_url = match.group(1).replace("&amp;", "&")
    assert "domain=schulden" in next_url and "q=VD" in next_url and "page=2" in next_url
    second = client.get(next_url).text
    assert len(references(second)) == 2 and "Pagina 2 van 2" in second
    assert "domain=schulden" in re.search(r'<a rel="prev" href="([^"]+)"', second).group(1)  # type: ignore[union-attr]


# --- assignment -----------------------------------------------------------------------------


def test_reassign_within_the_organisation_only(
    client: TestClient,
    anna: Headers,
    create_handover: Create,
    session: Session,
) -> None:
    handover = create_handover()
    hid = uuid.UUID(handover["id"])
    make_worker(session, "bob", "peel61", "Bob Jansen")
    make_worker(session, "wim", "gemeente-helmond", "Wim van Helmond")
    make_worker(session, "ria", "peel61", "Ria Auditor", role="auditor")
    make_worker(session, "gone", "peel61", "Vertrokken Collega")
    gone = users.get_user(session, username="gone")
    assert gone is not None
    gone.active = False
    session.commit()
    csrf = login(client, anna)
    page = client.get(f"/staff/handovers/{hid}").text
    assert '<label for="assign-username">' in page
    options = re.findall(
        r'<option value="([^"]+)"[^>]*>([^<]+)</option>',
        page.split('id="assign-username"')[1].split("</select>")[0],
    )
    assert {value for value, _ in options} == {"anna", "bob"}  # no other organisation, no auditor
    assert any("Bob Jansen – Senzer" in label for _, label in options)

    for refused in ("wim", "ria", "gone", "niemand"):
        response = client.post(
            f"/staff/handovers/{hid}/assign", data={"username": refused, "csrf_token": csrf}
        )
        assert response.status_code == 422, refused
        assert "Kies in de lijst een medewerker van uw organisatie" in response.text
    row = session.get(Handover, hid)
    assert row is not None and row.assigned_username is None and row.status == "new"

    response = client.post(
        f"/staff/handovers/{hid}/assign",
        data={"username": "bob", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"].endswith("#behandelaar")
    session.expire_all()
    row = session.get(Handover, hid)
    assert row is not None
    assert (row.assigned_username, row.assigned_name, row.status) == (
        "bob",
        "Bob Jansen",
        "claimed",
    )
    audit_row = session.scalars(
        select(AuditLog).where(
            AuditLog.action == "handover.assign", AuditLog.resource_id == str(hid)
        )
    ).one()
    assert audit_row.actor == "staff:anna"
    assert audit_row.detail == {
        "handover_id": str(hid),
        "from": None,
        "to": "bob",
        "status": {"from": "new", "to": "claimed"},
    }
    assert 'id="behandelaar-naam">Bob Jansen<' in client.get(f"/staff/handovers/{hid}").text


def test_assign_form_needs_csrf_and_own_case(
    client: TestClient,
    anna: Headers,
    bram: Headers,
    create_handover: Create,
    session: Session,
) -> None:
    handover = create_handover()
    csrf = login(client, anna)
    assert (
        client.post(f"/staff/handovers/{handover['id']}/assign", data={"username": "anna"})
    ).status_code == 403
    client.cookies.clear()
    other_csrf = login(client, bram)
    response = client.post(
        f"/staff/handovers/{handover['id']}/assign",
        data={"username": "bram", "csrf_token": other_csrf},
    )
    assert response.status_code == 404 and csrf != other_csrf
    row = session.get(Handover, uuid.UUID(handover["id"]))
    assert row is not None and row.assigned_username is None


# --- call attempts --------------------------------------------------------------------------


def test_call_attempt_outcomes_are_recorded_signed_and_set_first_contact(
    client: TestClient, anna: Headers, create_handover: Create, session: Session
) -> None:
    handover = create_handover()
    hid = uuid.UUID(handover["id"])
    csrf = login(client, anna)
    url = f"/staff/handovers/{hid}/calls"
    page = client.get(f"/staff/handovers/{hid}").text
    for control in ("outcome-bereikt", "outcome-niet_bereikt", "outcome-terugbellen"):
        assert f'<label for="{control}">' in page
    assert '<label for="callback_at">' in page and 'type="datetime-local"' in page
    assert '<label for="call_note">' in page

    first = client.post(
        url,
        data={"outcome": "niet_bereikt", "note": "Voicemail", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert first.status_code == 303 and first.headers["location"].endswith("#belpogingen")
    row = session.get(Handover, hid)
    assert row is not None and row.first_contact_at is None

    no_moment = client.post(url, data={"outcome": "terugbellen", "csrf_token": csrf})
    assert no_moment.status_code == 422 and "datum en tijd" in no_moment.text
    bad_moment = client.post(
        url, data={"outcome": "terugbellen", "callback_at": "morgen", "csrf_token": csrf}
    )
    assert bad_moment.status_code == 422
    no_outcome = client.post(url, data={"csrf_token": csrf})
    assert no_outcome.status_code == 422 and "uitkomst" in no_outcome.text

    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
    local = f"{tomorrow.isoformat()}T14:30"
    back = client.post(
        url,
        data={"outcome": "terugbellen", "callback_at": local, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert back.status_code == 303
    reached = client.post(
        url, data={"outcome": "bereikt", "csrf_token": csrf}, follow_redirects=False
    )
    assert reached.status_code == 303
    again = client.post(
        url, data={"outcome": "bereikt", "csrf_token": csrf}, follow_redirects=False
    )
    assert again.status_code == 303

    session.expire_all()
    row = session.get(Handover, hid)
    assert row is not None
    attempts = session.scalars(
        select(CallAttempt).where(CallAttempt.handover_id == hid).order_by(CallAttempt.at)
    ).all()
    assert [a.outcome for a in attempts] == ["niet_bereikt", "terugbellen", "bereikt", "bereikt"]
    assert {a.author_display_name for a in attempts} == {"Anna de Vries"}
    callback = attempts[1].callback_at
    assert callback is not None
    # 14:30 Amsterdam time is 13:30 (winter) or 12:30 (summer) UTC
    assert callback.astimezone(handovers.LOCAL_TIME).strftime("%H:%M") == "14:30"
    assert row.first_contact_at == attempts[2].at  # the first "bereikt", not the second

    page = client.get(f"/staff/handovers/{hid}").text
    section = page.split('id="belpogingen"')[1].split("</section>")[0]
    assert "Niet bereikt" in section and "Voicemail" in section
    assert f"terugbellen op {tomorrow.strftime('%d-%m-%Y')} 14:30" in section
    assert "Anna de Vries ·" in section and "peel61" not in section and "Senzer ·" not in section
    assert "Contact na 0 werkdagen – binnen termijn" in page
    audited = session.scalars(
        select(AuditLog.detail).where(AuditLog.action == "call_attempt.create")
    ).all()
    assert len(audited) == 4 and all("Voicemail" not in str(d) for d in audited)


def test_no_call_attempts_on_a_closed_case(
    client: TestClient, anna: Headers, create_handover: Create, session: Session
) -> None:
    handover = create_handover()
    csrf = login(client, anna)
    for target in ("claimed", "closed"):
        client.post(
            f"/staff/handovers/{handover['id']}/status",
            data={"status": target, "csrf_token": csrf},
        )
    page = client.get(f"/staff/handovers/{handover['id']}").text
    assert 'id="belpoging-formulier"' not in page and 'id="toewijzen-formulier"' not in page
    response = client.post(
        f"/staff/handovers/{handover['id']}/calls",
        data={"outcome": "bereikt", "csrf_token": csrf},
    )
    assert response.status_code == 409 and "afgerond" in response.text
    assert session.scalars(select(CallAttempt)).all() == []


def test_notes_are_signed_with_the_display_name(
    client: TestClient, anna: Headers, create_handover: Create
) -> None:
    handover = create_handover()
    csrf = login(client, anna)
    client.post(
        f"/staff/handovers/{handover['id']}/notes", data={"text": "Gebeld", "csrf_token": csrf}
    )
    page = client.get(f"/staff/handovers/{handover['id']}").text
    notes = page.split('id="notities"')[1]
    assert "Anna de Vries ·" in notes and "peel61 ·" not in notes.replace("Anna de Vries", "")


# --- print view -----------------------------------------------------------------------------


def test_print_view_is_a_plain_audited_case_summary(
    client: TestClient, anna: Headers, create_handover: Create, session: Session
) -> None:
    handover = create_handover()
    csrf = login(client, anna)
    client.post(
        f"/staff/handovers/{handover['id']}/status", data={"status": "claimed", "csrf_token": csrf}
    )
    client.post(
        f"/staff/handovers/{handover['id']}/calls",
        data={"outcome": "niet_bereikt", "note": "Geen gehoor", "csrf_token": csrf},
    )
    client.post(
        f"/staff/handovers/{handover['id']}/notes",
        data={"text": "Dossier aangelegd", "csrf_token": csrf},
    )
    page = client.get(f"/staff/handovers/{handover['id']}/print")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    html = page.text
    assert "@media print" in html
    assert "<form" not in html and "<nav" not in html and "<script" not in html
    assert "Uitloggen" not in html and "csrf" not in html
    for expected in (
        handover["reference"],
        "Opgepakt",
        "Anna de Vries",  # assigned
        "Jan Jansen",
        "06-12345678",
        "Ja, voor Senzer",  # consent
        "Inkomen",
        "Melding levensonderhoud (bijstand)",
        "Niet bereikt",
        "Geen gehoor",
        "Dossier aangelegd",
    ):
        assert expected in html, expected
    assert "Ik ben ontslagen" not in html  # no transcript on paper
    reads = session.scalars(
        select(AuditLog).where(
            AuditLog.action == "handover.read", AuditLog.resource_id == handover["id"]
        )
    ).all()
    assert any((r.detail or {}).get("via") == "staff-print" for r in reads)


def test_print_view_of_another_organisation_is_404(
    client: TestClient, bram: Headers, create_handover: Create
) -> None:
    handover = create_handover()
    login(client, bram)
    page = client.get(f"/staff/handovers/{handover['id']}/print")
    assert page.status_code == 404 and "Jan Jansen" not in page.text


def test_print_view_without_consent_shows_metadata_only(
    client: TestClient,
    anna: Headers,
    service_headers: Headers,
    create_handover: Create,
) -> None:
    handover = create_handover()
    client.post(f"/api/v1/handovers/{handover['id']}/consent-withdrawal", headers=service_headers)
    login(client, anna)
    html = client.get(f"/staff/handovers/{handover['id']}/print").text
    assert handover["reference"] in html and "ingetrokken op" in html
    for secret in ("Jan Jansen", "06-12345678", "woonsituatie"):
        assert secret not in html


# --- transcript -----------------------------------------------------------------------------


def test_a_button_payload_reads_as_a_dutch_description(
    client: TestClient, anna: Headers, create_handover: Create
) -> None:
    at = "2025-03-04T10:00:00+00:00"
    handover = create_handover(
        transcript=[
            {"event_id": "b1", "sender": "bot", "text": "Mag ik dit delen?\n[Ja] [Nee]", "at": at},
            {"event_id": "u1", "sender": "user", "text": "/affirm", "at": at},
            {"event_id": "u2", "sender": "user", "text": '/inform{"x":1}', "at": at},
            {"event_id": "u3", "sender": "user", "text": "Ja", "at": at},
        ]
    )
    login(client, anna)
    page = client.get(f"/staff/handovers/{handover['id']}").text
    conversation = page.split('id="gesprek"')[1].split("</section>")[0]
    assert "/affirm" not in conversation and "/inform" not in conversation
    assert conversation.count("(knop gekozen)") >= 2
    assert "Mag ik dit delen?\n[Ja] [Nee]" in conversation


# --- small screens and keyboard: the markup the browser tests rely on -----------------------


def test_pages_carry_responsive_and_focus_styles_without_scripts(
    client: TestClient, anna: Headers, create_handover: Create
) -> None:
    handover = create_handover()
    login(client, anna)
    inbox = client.get("/staff/inbox")
    detail = client.get(f"/staff/handovers/{handover['id']}")
    for page in (inbox, detail):
        assert ":focus-visible" in page.text
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page.text
        assert "<script" not in page.text
        assert "script-src" not in page.headers["content-security-policy"]  # default-src 'self'
        assert 'href="#inhoud"' in page.text  # skip link
    assert "@media (max-width: 48rem)" in inbox.text and 'data-label="Wachttijd"' in inbox.text
    assert 'class="tabelhouder"' in inbox.text
