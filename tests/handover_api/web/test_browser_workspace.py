"""The staff workspace in Chromium, with real clicks and keys: a case worker's day and a
front-office reviewer's.

Case worker (role ``staff``): search the inbox by reference and by phone number, filter on
status and life domain, read the counts per status, claim a case (it appears under "Mijn zaken"
with her name), hand another to a colleague of the same organisation, record three call
attempts (niet bereikt, terugbellen op a moment, bereikt), add a note signed with her name,
return a case to the other level from the pick-list, and open the print view.

Reviewer (role ``reviewer``): the conversation list, the fallback filter, one conversation with
intent and confidence per message, mark a message as misunderstood with the intended intent,
download the corrections (a Rasa NLU YAML file; ``rasa data validate`` accepts it with the
project's domain and training data when the Rasa environment is there), and the dashboard's
SVG charts and figures.

Screenshots: ``test-artifacts/screens/workspace_*.png``. Without Chromium the tests skip locally
and fail under ``CI=true`` or ``VOORDEUR_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import re
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml  # type: ignore[import-untyped]
from sqlalchemy import select

from handover_api.models import CallAttempt, Handover, ReviewMark
from tests.handover_api.web.browser_support import (
    REPO_ROOT,
    LiveApp,
    logged_in,
    screenshot,
)

LOCAL = ZoneInfo("Europe/Amsterdam")
RASA = REPO_ROOT / ".venv-rasa" / "bin" / "rasa"
MISUNDERSTOOD = "mijn geld is op en de huur moet betaald"


def _handover_row(live: LiveApp, hid: str) -> Handover:
    with live.db() as session:
        handover = session.get(Handover, uuid.UUID(hid))
        assert handover is not None
        session.expunge(handover)
        return handover


def test_case_worker_day_in_chromium(live_app: LiveApp, chromium: Any) -> None:
    from playwright.sync_api import expect

    live_app.add_user(
        "pieter", organisation="peel61", display_name="Pieter Post", team="werk-en-inkomen"
    )
    live_app.add_user("wim", organisation="gemeente-helmond", display_name="Wim Wijkteam")
    at = datetime(2026, 3, 4, 9, 0, tzinfo=UTC).isoformat()
    bijstand = live_app.add_handover(
        transcript=[
            {"event_id": "e1", "sender": "user", "text": "Ik ben ontslagen", "at": at},
            {"event_id": "e2", "sender": "bot", "text": "Wilt u bijstand aanvragen?", "at": at},
            {"event_id": "e3", "sender": "user", "text": "/affirm", "at": at},
        ]
    )
    urgent = live_app.add_handover(
        priority="urgent",
        summary="Inwoner wordt morgen uit huis gezet.",
        life_domains=[{"code": "huisvesting", "evidence": ["ik word uit huis gezet"]}],
        multi_problem=False,
        application=None,
        contact={"name": "Els Elders", "phone": "06-11112222", "preferred": "phone"},
    )
    debts = live_app.add_handover(
        summary="Vraag over schulden en een betalingsregeling.",
        life_domains=[{"code": "schulden", "evidence": ["ik heb schulden"]}],
        multi_problem=False,
        application=None,
        contact={"name": "Piet Pieters", "phone": "06-87654321", "preferred": "phone"},
    )
    page = logged_in(chromium, live_app, live_app.token)
    page.wait_for_url("**/staff/inbox")
    table = page.locator("#overdrachten")
    count = page.locator("#aantal")
    tabs = page.get_by_role("navigation", name="Overdrachten per status")

    # 1. The inbox: three new cases, the urgent one first; counts per status.
    expect(count).to_have_text("3 overdrachten")
    expect(tabs.get_by_role("link", name="Alle (3)")).to_be_visible()
    expect(tabs.get_by_role("link", name="Nieuw (3)")).to_be_visible()
    expect(tabs.get_by_role("link", name="Afgesloten (0)")).to_be_visible()
    expect(table.locator("tbody tr").first).to_contain_text(urgent["reference"])
    screenshot(page, "workspace_c01_inbox")

    # 2. Search by reference (typed, Enter), then by phone number in another notation.
    search = page.get_by_label("Zoek op kenmerk of telefoonnummer")
    search.fill(debts["reference"])
    search.press("Enter")
    expect(count).to_contain_text(f"1 overdracht gevonden voor “{debts['reference']}”")
    expect(table.get_by_role("link")).to_have_text([debts["reference"]])
    screenshot(page, "workspace_c02_search_reference")
    search = page.get_by_label("Zoek op kenmerk of telefoonnummer")
    search.fill("+31 6 1111 2222")
    search.press("Enter")
    expect(count).to_contain_text("1 overdracht gevonden")
    expect(table.get_by_role("link")).to_have_text([urgent["reference"]])
    screenshot(page, "workspace_c03_search_phone")

    # 3. Filter: status Nieuw and life domain Schulden; the counts follow the filters.
    page.get_by_label("Zoek op kenmerk of telefoonnummer").fill("")
    page.get_by_label("Status", exact=True).select_option(label="Nieuw")
    page.get_by_label("Leefgebied").select_option(label="Schulden")
    page.get_by_role("button", name="Zoeken").click()
    page.wait_for_url(re.compile(r"domain=schulden"))
    expect(count).to_have_text("2 overdrachten")
    expect(table.get_by_role("link")).to_have_count(2)
    expect(table).not_to_contain_text(urgent["reference"])
    expect(tabs.get_by_role("link", name="Nieuw (2)")).to_have_attribute("aria-current", "page")
    screenshot(page, "workspace_c04_filtered")

    # 4. Claim the bijstand case: it is hers, and it is under "Mijn zaken".
    page.get_by_role("link", name=bijstand["reference"]).click()
    page.wait_for_url(f"**/staff/handovers/{bijstand['id']}")
    page.get_by_role("button", name="Oppakken").click()
    expect(page.locator("h1 .status")).to_have_text("Opgepakt")
    expect(page.locator("#behandelaar-naam")).to_have_text("Sanne Werkplein")
    # the transcript shows what the resident chose, not the button's code
    expect(page.locator("#gesprek")).not_to_contain_text("/affirm")
    page.get_by_role("link", name="Inbox").click()
    page.get_by_role("link", name="Mijn zaken").click()
    page.wait_for_url(re.compile(r"assigned=me"))
    expect(count).to_have_text("1 overdracht")
    expect(table.locator("tbody tr")).to_contain_text("Sanne Werkplein (u)")
    expect(table.get_by_role("link")).to_have_text([bijstand["reference"]])
    screenshot(page, "workspace_c05_my_cases")

    # 5. Hand the urgent case to a colleague of the same organisation (pick-list).
    page.goto(f"/staff/handovers/{urgent['id']}")
    picker = page.get_by_label("Toewijzen aan een collega")
    options = picker.locator("option").all_inner_texts()
    assert any("Pieter Post" in o for o in options), options
    assert not any("Wim" in o for o in options), options  # another organisation
    picker.select_option(label=next(o for o in options if "Pieter Post" in o).strip())
    page.get_by_role("button", name="Toewijzen").click()
    expect(page.locator("#behandelaar-naam")).to_have_text("Pieter Post")
    expect(page.locator("h1 .status")).to_have_text("Opgepakt")
    screenshot(page, "workspace_c06_reassigned")
    assert _handover_row(live_app, urgent["id"]).assigned_username == "pieter"

    # 6. Three call attempts on her case: niet bereikt, terugbellen op ..., bereikt.
    page.goto(f"/staff/handovers/{bijstand['id']}")
    calls = page.locator("#belpogingen ol.pogingen > li")
    page.get_by_label("Niet bereikt").focus()
    page.keyboard.press("Space")
    page.get_by_label("Toelichting bij de belpoging").fill("Voicemail ingesproken.")
    page.get_by_role("button", name="Belpoging vastleggen").click()
    expect(calls).to_have_count(1)
    expect(calls.first).to_contain_text("Niet bereikt")
    expect(calls.first).to_contain_text("Sanne Werkplein")
    callback = (datetime.now(LOCAL) + timedelta(days=7)).replace(
        hour=14, minute=30, second=0, microsecond=0
    )
    page.get_by_label("Terugbellen", exact=True).check()
    page.get_by_label("Datum en tijd om terug te bellen").fill(callback.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Belpoging vastleggen").click()
    expect(calls).to_have_count(2)
    shown = callback.strftime("%d-%m-%Y 14:30")
    expect(calls.nth(1)).to_contain_text(f"terugbellen op {shown}")
    expect(page.get_by_text("Terugbellen afgesproken:")).to_contain_text(shown)  # the header line
    page.get_by_label("Bereikt", exact=True).check()
    page.get_by_role("button", name="Belpoging vastleggen").click()
    expect(calls).to_have_count(3)
    expect(calls.nth(2)).to_contain_text("Bereikt")
    expect(page.locator("#belpogingen")).to_contain_text("Eerste contact met de inwoner")
    screenshot(page, "workspace_c07_call_attempts")
    with live_app.db() as session:
        rows = session.scalars(
            select(CallAttempt)
            .where(CallAttempt.handover_id == uuid.UUID(bijstand["id"]))
            .order_by(CallAttempt.at)
        ).all()
        assert [r.outcome for r in rows] == ["niet_bereikt", "terugbellen", "bereikt"]
        stored = rows[1].callback_at
        assert stored is not None and stored.astimezone(LOCAL) == callback  # local time kept
    assert _handover_row(live_app, bijstand["id"]).first_contact_at is not None

    # 7. A note, signed with her name.
    page.get_by_label("Nieuwe notitie").fill("Afspraak gemaakt voor het intakegesprek.")
    page.get_by_role("button", name="Opslaan").click()
    note = page.locator("#notities .notitie").last
    expect(note).to_contain_text("Afspraak gemaakt voor het intakegesprek.")
    expect(note).to_contain_text("Sanne Werkplein")
    screenshot(page, "workspace_c08_note")

    # 8. The print view: the summary, attempts and notes; no menu, no forms.
    page.get_by_role("link", name="Afdrukversie").click()
    page.wait_for_url(f"**/staff/handovers/{bijstand['id']}/print")
    expect(page.locator("h1")).to_contain_text(bijstand["reference"])
    expect(page.locator("body")).to_contain_text("Afspraak gemaakt voor het intakegesprek.")
    expect(page.locator("body")).to_contain_text(f"terugbellen op {shown}")
    expect(page.locator("form")).to_have_count(0)
    screenshot(page, "workspace_c09_print")
    page.emulate_media(media="print")
    screenshot(page, "workspace_c10_print_media")
    page.emulate_media(media="screen")

    # 9. Return the debts case to the local level, from the pick-list.
    page.goto(f"/staff/handovers/{debts['id']}")
    page.get_by_text("Terugleggen naar het andere niveau").click()
    target = page.get_by_label("Naar")
    targets = target.locator("option").all_inner_texts()
    assert targets and all("Lokaal" in t for t in targets), targets
    target.select_option(index=0)
    page.get_by_label("Reden").fill("Schulden en huur: eerst het wijkteam.")
    page.get_by_label("De inwoner heeft toestemming gegeven").check()
    screenshot(page, "workspace_c11_return_form")
    page.get_by_role("button", name="Terugleggen").click()
    expect(page.locator("h1 .status")).to_have_text("Teruggelegd")
    expect(page.locator("p", has_text="Teruggelegd naar")).to_contain_text(
        targets[0].split(" (")[0]
    )
    screenshot(page, "workspace_c12_returned")
    assert _handover_row(live_app, debts["id"]).status == "returned"
    page.context.close()


def _conversation(fallback: bool, confidence: float) -> list[Any]:
    return [
        ("user", "Hallo, ik heb een vraag over mijn uitkering", "ask_bijstand", 0.91, False),
        ("bot", "Waar gaat uw vraag over?", None, None, False),
        ("user", MISUNDERSTOOD, "greet", confidence, fallback),
        ("bot", "Sorry, dat begreep ik niet." if fallback else "Dat is vervelend.", None, None,
         False),
    ]  # fmt: skip


def _start_rasa_validate(export: Path) -> subprocess.Popen[str]:
    """``rasa data validate`` of the project's domain and training data plus the export, in
    the background (it takes 10-25 s, mostly importing Rasa): see ``_check_rasa_validate``."""
    return subprocess.Popen(
        [
            str(RASA),
            "data",
            "validate",
            "--config",
            str(REPO_ROOT / "bot" / "config.yml"),
            "--domain",
            str(REPO_ROOT / "bot" / "domain"),
            "--data",
            *(str(REPO_ROOT / "data" / d) for d in ("nlu", "rules", "stories")),
            str(export),
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _check_rasa_validate(run: subprocess.Popen[str], export: Path) -> None:
    """It passed, and no warning names the export's intents or examples (Rasa only warns
    about an intent that is not in the domain, or an example under two intents)."""
    try:
        output, _ = run.communicate(timeout=300)
    finally:
        run.kill()
    assert run.returncode == 0, output[-3000:]
    data = yaml.safe_load(export.read_text(encoding="utf-8"))
    needles = [f"'{item['intent']}'" for item in data["nlu"]]
    needles += [line[2:] for item in data["nlu"] for line in item["examples"].splitlines()]
    complaints = [
        line
        for line in output.splitlines()
        if ("Warning" in line or "ERROR" in line) and any(n in line for n in needles)
    ]
    assert not complaints, "\n".join(complaints)


def test_reviewer_marks_a_misunderstood_message_and_exports_it(
    live_app: LiveApp, chromium: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    live_app.add_user(
        "rianne", organisation="peel61", display_name="Rianne Receptie", role="reviewer"
    )
    fallback = live_app.add_conversation("c-ws-fallback", _conversation(True, 0.38))
    live_app.add_conversation("c-ws-zeker", _conversation(False, 0.97))
    live_app.add_conversation("c-ws-twijfel", _conversation(False, 0.44))
    handover = live_app.add_handover(conversation_id="c-ws-zeker")

    page = logged_in(chromium, live_app, live_app.tokens["rianne"])

    # 1. The reviewer lands on the conversation list: all three, with their signals.
    page.wait_for_url("**/staff/gesprekken")
    expect(page.get_by_role("heading", name="Gesprekken", exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("3 gesprekken")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="c-ws-zeker")).to_contain_text(handover["reference"])
    expect(rows.filter(has_text="c-ws-fallback")).to_contain_text("1× niet begrepen")
    screenshot(page, "workspace_r01_conversations")

    # 2. Only the conversations where the assistant fell back.
    page.get_by_label("Terugvalantwoord").select_option(label="Ja, kwam voor")
    page.get_by_role("button", name="Zoeken").click()
    page.wait_for_url(re.compile(r"fallback=ja"))
    expect(page.get_by_role("status")).to_have_text("1 gesprek gevonden")
    expect(rows).to_have_count(1)
    screenshot(page, "workspace_r02_fallback_filter")

    # 3. Open it: intent and confidence per resident message, Dutch notation.
    page.get_by_role("link", name=fallback).click()
    page.wait_for_url(f"**/staff/gesprekken/{fallback}")
    message = page.locator("ol.berichten > li").filter(has_text=MISUNDERSTOOD)
    expect(message).to_contain_text("greet · 0,38")
    expect(message).to_contain_text("Onzeker")
    expect(message).to_contain_text("terugvalantwoord")
    expect(page.locator("ol.berichten > li").first).to_contain_text("ask_bijstand · 0,91")
    screenshot(page, "workspace_r03_conversation")

    # 4. Mark it as misunderstood, meant: ask_bijstand (keyboard on the disclosure).
    message.locator("summary").focus()
    page.keyboard.press("Enter")
    message.get_by_label("Bedoelde intentie").select_option("ask_bijstand")
    message.get_by_role("button", name="Markeer als niet begrepen").click()
    page.wait_for_url(re.compile(r"#bericht-\d+$"))
    message = page.locator("ol.berichten > li").filter(has_text=MISUNDERSTOOD)
    expect(message).to_contain_text("Gemarkeerd als niet begrepen")
    expect(message).to_contain_text("bedoeld: ask_bijstand")
    expect(message).to_contain_text("Rianne Receptie")
    screenshot(page, "workspace_r04_marked")
    with live_app.db() as session:
        marks = session.scalars(select(ReviewMark)).all()
        assert [(m.correct_intent, m.reviewer_username) for m in marks] == [
            ("ask_bijstand", "rianne")
        ]

    # 5. Download the corrections: Rasa NLU YAML with this example under ask_bijstand.
    page.get_by_role("link", name="Terug naar de gesprekken").click()
    with page.expect_download() as info:
        page.get_by_role("link", name="Correcties downloaden").click()
    download = info.value
    assert download.suggested_filename.endswith(".yml"), download.suggested_filename
    export = tmp_path / "correcties.yml"
    download.save_as(export)
    data = yaml.safe_load(export.read_text(encoding="utf-8"))
    assert data["version"] == "3.1"
    assert data["nlu"] == [{"intent": "ask_bijstand", "examples": f"- {MISUNDERSTOOD}\n"}]
    validating = _start_rasa_validate(export) if RASA.exists() else None

    # 6. The dashboard: SVG charts with a name, and the figures.
    page.get_by_role("link", name="Statistieken").click()
    page.wait_for_url("**/staff/statistieken")
    charts = page.locator("svg[role=img][aria-label]")
    assert charts.count() >= 3, charts.count()
    for i in range(charts.count()):
        expect(charts.nth(i)).to_be_visible()
        assert charts.nth(i).get_attribute("aria-label")
    expect(page.get_by_role("img", name="Gesprekken per dag")).to_be_visible()
    figures = page.locator(".kerncijfers li")
    expect(figures.filter(has_text="gesprekken").first).to_contain_text("3")
    expect(figures.filter(has_text="overdrachten aan uw organisatie")).to_contain_text("1")
    expect(page.get_by_role("img", name="Vaakst verkeerd begrepen intenties")).to_be_visible()
    screenshot(page, "workspace_r05_dashboard")
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    screenshot(page, "workspace_r06_dashboard_phone")
    page.context.close()
    if validating is not None:
        _check_rasa_validate(validating, export)
