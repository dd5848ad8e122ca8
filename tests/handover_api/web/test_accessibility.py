"""Every staff page in Chromium, on a desktop (1280x800) and a phone (390x844), checked with
axe-core for WCAG 2.1 A and AA, for horizontal overflow on the phone and for a visible focus.

axe-core is vendored in ``tests/vendor/axe-core/`` (see its README) and loaded through
``page.evaluate`` (the pages' Content-Security-Policy blocks inline scripts). One live app on
one database serves the whole module, seeded with: an urgent and two normal handovers (one with
an application, a transcript, notes and call attempts), three conversations (a fallback, a
doubtful one and one that led to a handover) and a review mark.

Screenshots: ``test-artifacts/screens/a11y_<page>_<viewport>.png``. Without Chromium the tests
skip locally and fail under ``CI=true`` or ``VOORDEUR_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from handover_api.models import CallAttempt, Handover, HandoverNote
from tests.handover_api.conftest import BIJSTAND_APPLICATION_FIELDS
from tests.handover_api.web.browser_support import (
    VIEWPORTS,
    LiveApp,
    axe_violations,
    focus_is_visible,
    focus_ring_after_tab,
    format_violations,
    launched_chromium,
    new_page,
    no_horizontal_overflow,
    overflowing_elements,
    running_app,
    screenshot,
    squeezed_text,
)

NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class Site:
    live: LiveApp
    browser: Any
    ids: dict[str, str] = field(default_factory=dict)
    pages: dict[str, Any] = field(default_factory=dict)

    def page_of(self, role: str) -> Any:
        """One logged-in page per role (anonymous, staff, reviewer), reused by the tests."""
        if role not in self.pages:
            page = new_page(self.browser, self.live)
            if role != "anon":
                token = self.live.tokens["sanne" if role == "staff" else "rianne"]
                page.goto("/staff/login")
                page.get_by_label("Toegangscode").fill(token)
                page.get_by_role("button", name="Inloggen").click()
                page.wait_for_url(lambda url: "/staff/login" not in url)
            self.pages[role] = page
        return self.pages[role]


def _seed(live: LiveApp) -> dict[str, str]:
    live.add_user(
        "pieter", organisation="peel61", display_name="Pieter Post", team="werk-en-inkomen"
    )
    live.add_user("rianne", organisation="peel61", display_name="Rianne Receptie", role="reviewer")
    urgent = live.add_handover(
        priority="urgent",
        summary="Inwoner dreigt uit huis gezet te worden en heeft geen eten meer.",
        life_domains=[{"code": "huisvesting", "evidence": ["ik word uit huis gezet"]}],
        multi_problem=False,
        application=None,
    )
    rich = live.add_handover(
        conversation_id="c-a11y-handover",
        application={"type": "bijstand", "fields": BIJSTAND_APPLICATION_FIELDS, "complete": False},
    )
    plain = live.add_handover(
        summary="Vraag over schulden en een betalingsregeling.",
        life_domains=[{"code": "schulden", "evidence": ["ik heb schulden"]}],
        multi_problem=False,
        application=None,
        contact={"name": "Piet Pieters", "phone": "06-87654321", "preferred": "phone"},
    )
    with live.db() as session:
        handover = session.get(Handover, uuid.UUID(rich["id"]))
        assert handover is not None
        handover.status = "claimed"
        handover.assigned_username = "sanne"
        handover.assigned_name = "Sanne Werkplein"
        handover.assigned_at = handover.claimed_at = NOW - timedelta(hours=2)
        handover.notes.append(
            HandoverNote(
                author_username="sanne",
                author_display_name="Sanne Werkplein",
                author_organisation="peel61",
                text="Eerste keer gebeld, voicemail ingesproken.",
                created_at=NOW - timedelta(hours=1),
            )
        )
        for minutes, outcome, callback in (
            (90, "niet_bereikt", None),
            (60, "terugbellen", NOW + timedelta(days=1)),
            (10, "bereikt", None),
        ):
            handover.call_attempts.append(
                CallAttempt(
                    at=NOW - timedelta(minutes=minutes),
                    author_username="sanne",
                    author_display_name="Sanne Werkplein",
                    outcome=outcome,
                    callback_at=callback,
                )
            )
        session.commit()
    for cid, fallback, confidence in (
        ("c-a11y-fallback", True, 0.42),
        ("c-a11y-twijfel", False, 0.31),
        ("c-a11y-handover", False, 0.93),
    ):
        live.add_conversation(cid, _messages(fallback=fallback, confidence=confidence))
    return {"urgent": urgent["id"], "rich": rich["id"], "plain": plain["id"],
            "rich_ref": rich["reference"], "plain_ref": plain["reference"]}  # fmt: skip


def _messages(
    *, fallback: bool, confidence: float
) -> list[tuple[str, str, str | None, float | None, bool]]:
    return [
        ("user", "Hallo, ik heb een vraag over mijn uitkering", "ask_bijstand", 0.88, False),
        ("bot", "Waar gaat uw vraag over?", None, None, False),
        ("user", "mijn geld is op en de huur moet betaald", "greet", confidence, fallback),
        ("bot", "Sorry, dat begreep ik niet." if fallback else "Dat is vervelend.", None, None,
         False),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    db_path: Path = tmp_path_factory.mktemp("a11y") / "a11y.sqlite3"
    with launched_chromium() as browser, running_app(db_path) as live:
        ids = _seed(live)
        yield Site(live=live, browser=browser, ids=ids)


def _login_error(page: Any, site: Site) -> None:
    page.goto("/staff/login")
    page.get_by_label("Toegangscode").fill("dit-is-geen-geldige-code")
    page.get_by_role("button", name="Inloggen").click()
    page.get_by_text("onbekend, verlopen of ingetrokken").wait_for()


# name -> (role, path or an action that opens the page, expected HTTP-visible text)
Opener = Callable[[Any, Site], None]


def _goto(path: str) -> Opener:
    def open_(page: Any, site: Site) -> None:
        page.goto(path.format(**site.ids, missing=uuid.uuid4()))

    return open_


PAGES: dict[str, tuple[str, Opener]] = {
    "login": ("anon", _goto("/staff/login")),
    "login_error": ("anon", _login_error),
    "inbox": ("staff", _goto("/staff/inbox")),
    "inbox_filtered": ("staff", _goto("/staff/inbox?status=new&domain=schulden")),
    "inbox_search": ("staff", _goto("/staff/inbox?q={rich_ref}")),
    "detail": ("staff", _goto("/staff/handovers/{rich}")),
    "print": ("staff", _goto("/staff/handovers/{rich}/print")),
    "error_404": ("staff", _goto("/staff/handovers/{missing}")),
    "error_403": ("reviewer", _goto("/staff/inbox")),
    "conversations": ("reviewer", _goto("/staff/gesprekken")),
    "conversation": ("reviewer", _goto("/staff/gesprekken/c-a11y-fallback")),
    "dashboard": ("reviewer", _goto("/staff/statistieken")),
}


def _open(site: Site, name: str, viewport: str) -> Any:
    role, opener = PAGES[name]
    page = site.page_of(role)
    page.set_viewport_size(VIEWPORTS[viewport])
    opener(page, site)
    page.wait_for_load_state("load")
    return page


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("name", list(PAGES))
def test_page_has_no_wcag_violations(site: Site, name: str, viewport: str) -> None:
    page = _open(site, name, viewport)
    screenshot(page, f"a11y_{name}_{viewport}")
    violations = axe_violations(page)
    assert not violations, (
        f"axe-core (WCAG 2.1 A/AA) on {name} at {viewport} ({page.url}):\n"
        + format_violations(violations)
    )


@pytest.mark.parametrize("name", list(PAGES))
def test_page_fits_a_phone(site: Site, name: str) -> None:
    page = _open(site, name, "phone")
    fits, width, inner = no_horizontal_overflow(page)
    assert fits, (
        f"{name} ({page.url}) is {width}px wide on a {inner}px phone, it scrolls sideways; "
        f"too wide: {overflowing_elements(page)}"
    )


@pytest.mark.parametrize("name", PAGES)
def test_no_text_squeezed_into_a_sliver_on_a_phone(site: Site, name: str) -> None:
    page = _open(site, name, "phone")
    squeezed = squeezed_text(page)
    assert not squeezed, f"{name} ({page.url}) at 390 px prints text one letter a line: {squeezed}"


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("name", list(PAGES))
def test_keyboard_focus_is_visible(site: Site, name: str, viewport: str) -> None:
    page = _open(site, name, viewport)
    info = focus_ring_after_tab(page)
    assert focus_is_visible(info), f"no visible focus on {name} at {viewport}: {info}"


def test_axe_really_runs_and_finds_a_planted_violation(site: Site) -> None:
    """Guard against a silent axe: an image without alt text planted on the login page."""
    page = _open(site, "login", "desktop")
    page.evaluate(
        "() => { const i = document.createElement('img'); i.src = 'data:,';"
        " i.id = 'geplant'; document.body.appendChild(i); }"
    )
    violations = axe_violations(page)
    assert any(
        v["id"] == "image-alt" and ["#geplant"] in [n["target"] for n in v["nodes"]]
        for v in violations
    ), format_violations(violations)
