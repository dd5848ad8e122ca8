"""Issue 13 in Chromium: a wijkteam worker sees a case that nobody claimed in time marked in
the inbox and on the case page, forwards it to the contact centre of her municipality, and
reads both on the timeline.

Screenshots: ``test-artifacts/screens/escalation_*.png``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from handover_api.models import Handover
from handover_api.services import escalation
from handover_api.services.directory import load_directory
from tests.handover_api.web.browser_support import (
    REPO_ROOT,
    LiveApp,
    logged_in,
    screenshot,
)

WIJKTEAM = {"level": "local", "organisation": "gemeente-helmond", "team": "wijkteam",
            "reason": "WMO: lokaal wijkteam."}  # fmt: skip


def test_escalated_case_is_marked_and_forwarded(live_app: LiveApp, chromium: Any) -> None:
    from playwright.sync_api import expect

    token = live_app.add_user(
        "wendy", organisation="gemeente-helmond", display_name="Wendy Wijk", team="wijkteam"
    )
    waiting = live_app.add_handover(destination=WIJKTEAM)
    late = live_app.add_handover(destination=WIJKTEAM, priority="urgent")
    with live_app.db() as session:
        row = session.get_one(Handover, uuid.UUID(late["id"]))
        row.claim_due_at = datetime.now(UTC) - timedelta(minutes=5)
        session.commit()
        directory = load_directory(REPO_ROOT / "data")
        assert escalation.escalate_due(session, directory=directory) == 1

    page = logged_in(chromium, live_app, token)
    page.wait_for_url("**/staff/inbox")
    table = page.locator("#overdrachten")
    late_row = table.locator("tbody tr", has_text=late["reference"])
    expect(late_row).to_contain_text("Opgeschaald: niet op tijd opgepakt")
    waiting_row = table.locator("tbody tr", has_text=waiting["reference"])
    expect(waiting_row).to_contain_text("Oppakken vóór")
    expect(waiting_row).not_to_contain_text("Opgeschaald")
    screenshot(page, "escalation_01_inbox")

    late_row.get_by_role("link", name=late["reference"]).click()
    expect(page.locator(".kern")).to_contain_text("Opgeschaald: niet op tijd opgepakt")
    expect(page.locator("#tijdlijn-lijst")).to_contain_text(
        "Opgeschaald: niet opgepakt binnen 1 werkuur"
    )
    page.get_by_label("Doorsturen naar een ander team van uw organisatie").select_option(
        label="Het klantcontactcentrum van de gemeente Helmond"
    )
    page.get_by_role("button", name="Doorsturen").click()
    page.wait_for_url(f"**/staff/handovers/{late['id']}*")
    timeline = page.locator("#tijdlijn-lijst")
    expect(timeline).to_contain_text("Doorgestuurd naar")
    expect(timeline).to_contain_text("klantcontactcentrum")
    # New for the contact centre: a fresh claim time, no longer marked as escalated.
    expect(page.locator(".kern")).to_contain_text("Oppakken vóór")
    screenshot(page, "escalation_02_forwarded")
