"""The staff pages in a real browser: Debian's Chromium driven by Playwright for Python.

Why a browser and not only TestClient: the forms once failed in Chromium alone (it sent
``Origin: null`` because of ``Referrer-Policy: no-referrer``), which no HTTP-level test saw.
This test starts the real app with uvicorn on a free loopback port against a migrated
temporary SQLite database and walks every staff form: login, open, claim, in behandeling, note,
close, logout; then checks that the back button and a copied cookie are dead after logout, and
that a form posted from another origin, or without the CSRF token, is refused.

Screenshots of each step go to ``test-artifacts/screens/``. Without Chromium the test skips
locally, and fails under CI (``CI=true``) or ``VOORDEUR_REQUIRE_BROWSER=1`` (``./voordeur test``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import select

from handover_api.core.config import Settings
from handover_api.core.db import make_engine, make_session_factory
from handover_api.models import Handover, HandoverNote, StaffSession
from handover_api.services import users
from tests.handover_api.conftest import BIJSTAND_APPLICATION_FIELDS
from tests.handover_api.web.browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENS,
    SERVICE_TOKEN,
    LiveApp,
    no_browser,
)

APPLICATION_FIELDS = BIJSTAND_APPLICATION_FIELDS


def _db_rows(settings: Settings, handover_id: uuid.UUID) -> tuple[Handover, list[str], int]:
    engine = make_engine(settings.DATABASE_URL)
    try:
        with make_session_factory(engine)() as session:
            handover = session.get(Handover, handover_id)
            assert handover is not None
            notes = list(
                session.scalars(
                    select(HandoverNote.text).where(HandoverNote.handover_id == handover_id)
                )
            )
            live_sessions = len(session.scalars(select(StaffSession)).all())
            return handover, notes, live_sessions
    finally:
        engine.dispose()


def test_every_staff_form_works_in_chromium(
    live_app: LiveApp,
    foreign_site: Callable[[str], str],
    make_payload: Callable[..., dict[str, Any]],
) -> None:
    if not CHROMIUM.exists():
        no_browser(f"no Chromium at {CHROMIUM}")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:  # pragma: no cover - it is in requirements/api.txt
        no_browser("playwright for Python is not installed")

    created = httpx.post(
        f"{live_app.url}/api/v1/handovers",
        json=make_payload(
            summary="Inwoner is ontslagen en wil bijstand aanvragen.",
            application={"type": "bijstand", "fields": APPLICATION_FIELDS, "complete": False},
        ),
        headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    handover = created.json()
    hid = uuid.UUID(handover["id"])
    SCREENS.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(base_url=live_app.url, locale="nl-NL")
        page = context.new_page()
        page.set_default_timeout(15_000)

        def shot(name: str) -> None:
            page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)

        # 1. Log in with the personal token.
        page.goto("/staff/login")
        expect(page.get_by_role("heading", name="Inloggen")).to_be_visible()
        shot("b01_login")
        page.get_by_label("Toegangscode").fill(live_app.token)
        page.get_by_role("button", name="Inloggen").click()
        page.wait_for_url("**/staff/inbox")
        expect(page.get_by_role("link", name=handover["reference"])).to_be_visible()
        shot("b02_inbox")
        cookie = next(c for c in context.cookies() if c["name"] == "voordeur_staff")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert live_app.token not in cookie["value"]

        # 2. Open the handover.
        page.get_by_role("link", name=handover["reference"]).click()
        page.wait_for_url(f"**/staff/handovers/{hid}")
        expect(
            page.get_by_role("heading", name=f"Overdracht {handover['reference']}")
        ).to_be_visible()
        shot("b03_detail_new")

        # 2b. The pre-filled application reads as a form: title, what is still to ask, Dutch
        #     labels beside readable values; on a phone the labels stack above the values.
        form = page.locator("#aanvraag")
        expect(
            form.get_by_role("heading", name="Melding levensonderhoud (bijstand)")
        ).to_be_visible()
        expect(form).to_contain_text(
            "Niet compleet — de medewerker vraagt nog: Woonlasten per maand."
        )
        expect(form.locator("dt")).to_have_text(
            ["Naam", "Geboortedatum", "Postcode en huisnummer", "Huishouden", "Inkomen",
             "Woonlasten per maand", "Contact via", "Beste moment", "Gemeente"]
        )  # fmt: skip
        expect(form.locator("dd").nth(3)).to_have_text("met partner, 2 kinderen (4 en 7 jaar)")
        label_box = form.locator("dt").first.bounding_box()
        value_box = form.locator("dd").first.bounding_box()
        assert label_box and value_box and value_box["x"] > label_box["x"]  # side by side
        form.screenshot(path=str(SCREENS / "b03b_application_form.png"))
        page.set_viewport_size({"width": 375, "height": 740})
        label_box = form.locator("dt").first.bounding_box()
        value_box = form.locator("dd").first.bounding_box()
        assert label_box and value_box and value_box["y"] > label_box["y"]  # stacked
        # nothing wider than the phone (the note and return text areas were, before)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        shot("b03c_detail_mobile")
        page.emulate_media(media="print")
        shot("b03d_detail_print")
        page.emulate_media(media="screen")
        page.set_viewport_size({"width": 1280, "height": 720})

        # 3. Claim it, 4. move it to "in behandeling".
        page.get_by_role("button", name="Oppakken").click()
        expect(page.locator("h1 .status")).to_have_text("Opgepakt")
        shot("b04_claimed")
        assert _db_rows(live_app.settings, hid)[0].status == "claimed"
        page.get_by_role("button", name="In behandeling nemen").click()
        expect(page.locator("h1 .status")).to_have_text("In behandeling")
        shot("b05_in_progress")
        assert _db_rows(live_app.settings, hid)[0].status == "in_progress"

        # 5. Add a note.
        page.get_by_label("Nieuwe notitie").fill("Inwoner gebeld, afspraak gemaakt.")
        page.get_by_role("button", name="Opslaan").click()
        expect(page.locator("#notities")).to_contain_text("Inwoner gebeld, afspraak gemaakt.")
        shot("b06_note")
        assert _db_rows(live_app.settings, hid)[1] == ["Inwoner gebeld, afspraak gemaakt."]

        # 6. A form without the CSRF token (hidden field removed) is refused, Dutch page.
        page.locator("#notities input[name=csrf_token]").evaluate("el => el.remove()")
        page.get_by_label("Nieuwe notitie").fill("zonder csrf")
        page.get_by_role("button", name="Opslaan").click()
        expect(page.get_by_role("heading", name="Geen toegang")).to_be_visible()
        expect(page.get_by_text("formulier is verlopen")).to_be_visible()
        shot("b07_no_csrf_refused")
        assert _db_rows(live_app.settings, hid)[1] == ["Inwoner gebeld, afspraak gemaakt."]

        # 7. A form on another origin posting into our app is refused (the browser sends
        #    the SameSite=Strict cookie to another port of 127.0.0.1: same site).
        evil = context.new_page()
        evil.goto(foreign_site(f"{live_app.url}/staff/handovers/{hid}/notes"))
        evil.get_by_role("button", name="Claim uw prijs").click()
        expect(evil.get_by_role("heading", name="Geen toegang")).to_be_visible()
        expect(evil.get_by_text("andere website")).to_be_visible()
        evil.screenshot(path=str(SCREENS / "b08_foreign_origin_refused.png"), full_page=True)
        evil.close()
        assert _db_rows(live_app.settings, hid)[1] == ["Inwoner gebeld, afspraak gemaakt."]

        # 8. Close it.
        page.goto(f"/staff/handovers/{hid}")
        page.get_by_role("button", name="Afsluiten").click()
        expect(page.locator("h1 .status")).to_have_text("Afgesloten")
        expect(page.get_by_text("Deze overdracht is afgerond.")).to_be_visible()
        shot("b09_closed")
        assert _db_rows(live_app.settings, hid)[0].status == "closed"

        # 9. Log out: the session is gone server-side.
        copied = context.cookies()
        page.get_by_role("button", name="Uitloggen").click()
        page.wait_for_url("**/staff/login")
        shot("b10_logged_out")
        assert not any(c["name"] == "voordeur_staff" for c in context.cookies())
        assert _db_rows(live_app.settings, hid)[2] == 0

        # 10. The back button shows no handover any more (no-store; the session is gone).
        page.go_back()
        page.wait_for_url("**/staff/login")
        expect(page.get_by_role("heading", name="Inloggen")).to_be_visible()
        expect(page.get_by_text(handover["summary"])).to_have_count(0)
        shot("b11_back_after_logout")

        # 11. A cookie copied before logout does not work in another browser.
        other = browser.new_context(base_url=live_app.url)
        other.add_cookies(copied)  # type: ignore[arg-type]
        thief = other.new_page()
        thief.goto(f"/staff/handovers/{hid}")
        thief.wait_for_url("**/staff/login")
        expect(thief.get_by_text(handover["summary"])).to_have_count(0)
        thief.screenshot(path=str(SCREENS / "b12_copied_cookie.png"), full_page=True)
        other.close()

        context.close()
        browser.close()


def _staff_token(settings: Settings, username: str, organisation: str) -> str:
    engine = make_engine(settings.DATABASE_URL)
    try:
        with make_session_factory(engine)() as session:
            user = users.create_user(
                session, username=username, organisation=organisation, display_name=username
            )
            token = users.issue_token(session, user=user)
            session.commit()
            return token
    finally:
        engine.dispose()


def test_return_to_the_other_level_in_chromium(
    live_app: LiveApp, make_payload: Callable[..., dict[str, Any]]
) -> None:
    """Senzer returns a case to the Helmond wijkteam from the pick-list, once without and
    once with the resident's consent; the wijkteam sees exactly what consent allows."""
    if not CHROMIUM.exists():
        no_browser(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import expect, sync_playwright

    api = f"{live_app.url}/api/v1/handovers"
    service = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
    cases = [httpx.post(api, json=make_payload(), headers=service, timeout=30).json() for _ in "ab"]
    helmond_token = _staff_token(live_app.settings, "wijkteam-wim", "gemeente-helmond")
    SCREENS.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )

        def logged_in(token: str) -> Any:
            context = browser.new_context(base_url=live_app.url, locale="nl-NL")
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.goto("/staff/login")
            page.get_by_label("Toegangscode").fill(token)
            page.get_by_role("button", name="Inloggen").click()
            page.wait_for_url("**/staff/inbox")
            return page

        peel = logged_in(live_app.token)
        for case, consent in ((cases[0], False), (cases[1], True)):
            peel.goto(f"/staff/handovers/{case['id']}")
            peel.get_by_text("Terugleggen naar het andere niveau").click()
            expect(peel.get_by_label("Naar")).to_contain_text("Het wijkteam Helmond")
            peel.get_by_label("Reden").fill("Geen arbeidsvermogen; dagbesteding via de WMO.")
            if consent:
                peel.get_by_label("De inwoner heeft toestemming gegeven").check()
            peel.screenshot(path=str(SCREENS / f"b2{int(consent)}_return_form.png"), full_page=True)
            peel.get_by_role("button", name="Terugleggen").click()
            expect(peel.locator("h1 .status")).to_have_text("Teruggelegd")

        wim = logged_in(helmond_token)
        successors = {}
        for case in cases:
            row = _db_rows(live_app.settings, uuid.UUID(case["id"]))[0]
            engine = make_engine(live_app.settings.DATABASE_URL)
            with make_session_factory(engine)() as session:
                successors[case["id"]] = session.scalars(
                    select(Handover.id).where(Handover.returned_from_id == row.id)
                ).one()
            engine.dispose()

        wim.goto(f"/staff/handovers/{successors[cases[0]['id']]}")
        expect(wim.get_by_text("Toestemming ontbreekt")).to_be_visible()
        expect(wim.get_by_text(cases[0]["reference"]).first).to_be_visible()
        expect(wim.get_by_text("06-12345678")).to_have_count(0)
        wim.screenshot(path=str(SCREENS / "b22_returned_without_consent.png"), full_page=True)

        wim.goto(f"/staff/handovers/{successors[cases[1]['id']]}")
        expect(wim.get_by_text("Toestemming ontbreekt")).to_have_count(0)
        expect(wim.get_by_text("06-12345678")).to_be_visible()
        expect(wim.get_by_text("Ik ben ontslagen")).to_be_visible()
        wim.screenshot(path=str(SCREENS / "b23_returned_with_consent.png"), full_page=True)
        browser.close()
