"""Shared pieces of the browser tests: the live app, Chromium, seeding, login, axe-core.

The app runs for real under uvicorn (a thread) on a free loopback port against a migrated
temporary SQLite database; Debian's Chromium is driven by Playwright for Python
(``executable_path``, no browser download). Without Chromium a test skips locally and fails
under CI (``CI=true``) or ``VOORDEUR_REQUIRE_BROWSER=1`` (``./voordeur test``).

Fixtures (``live_app``, ``foreign_site``, ``chromium``) are imported by this folder's
``conftest.py``; the helpers are plain functions.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy.orm import Session

from handover_api.cli import migrate
from handover_api.core.config import Settings
from handover_api.core.db import make_engine, make_session_factory
from handover_api.main import create_app
from handover_api.models import Conversation, ConversationEvent
from handover_api.schemas import HandoverCreate
from handover_api.services import handovers, users
from tests.handover_api.conftest import payload

REPO_ROOT = Path(__file__).resolve().parents[3]
SCREENS = REPO_ROOT / "test-artifacts" / "screens"
CHROMIUM = Path(os.environ.get("VOORDEUR_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SERVICE_TOKEN = "browser-test-service-token-0123456789"
AXE_JS = REPO_ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}


# -- skip or fail without a browser ------------------------------------------------------------


def browser_required() -> bool:
    return (
        os.environ.get("CI", "").lower() == "true"
        or os.environ.get("VOORDEUR_REQUIRE_BROWSER") == "1"
    )


def no_browser(reason: str) -> None:
    message = f"{reason}; install Debian's chromium: apt-get install -y chromium"
    if browser_required():
        pytest.fail(f"{message} (required under CI=true / VOORDEUR_REQUIRE_BROWSER=1)")
    pytest.skip(message)


def require_chromium() -> None:
    """Skip (locally) or fail (CI) when Chromium or playwright is missing."""
    if not CHROMIUM.exists():
        no_browser(f"no Chromium at {CHROMIUM}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:  # pragma: no cover - it is in requirements/api.txt
        no_browser("playwright for Python is not installed")


@contextmanager
def launched_chromium() -> Iterator[Any]:
    """A headless Debian Chromium (playwright ``Browser``); skips/fails when there is none."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One Chromium for the tests of a module."""
    with launched_chromium() as browser:
        yield browser


# -- the live app ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class LiveApp:
    url: str
    settings: Settings
    token: str
    tokens: dict[str, str] = field(default_factory=dict)

    @contextmanager
    def db(self) -> Iterator[Session]:
        """A session on the app's database (commit yourself)."""
        engine = make_engine(self.settings.DATABASE_URL)
        try:
            with make_session_factory(engine)() as session:
                yield session
        finally:
            engine.dispose()

    def add_user(
        self,
        username: str,
        *,
        organisation: str = "peel61",
        display_name: str | None = None,
        team: str | None = None,
        role: str = "staff",
    ) -> str:
        """Create a user with a personal token; returns (and remembers) the token."""
        with self.db() as session:
            user = users.create_user(
                session,
                username=username,
                organisation=organisation,
                display_name=display_name or username,
                team=team,
                role=role,
            )
            token = users.issue_token(session, user=user)
            session.commit()
        self.tokens[username] = token
        return token

    def add_handover(self, **overrides: Any) -> dict[str, Any]:
        """Create a handover through the service (``payload`` overrides); returns id/reference."""
        body = HandoverCreate.model_validate(payload(**overrides))
        with self.db() as session:
            result = handovers.create_handover(
                session, payload=body, idempotency_key=None, actor="service:browser-test"
            )
            out = {"id": str(result.handover.id), "reference": result.handover.reference}
            session.commit()
        return out

    def add_conversation(
        self,
        cid: str,
        messages: list[tuple[str, str, str | None, float | None, bool]],
        *,
        start: datetime | None = None,
        municipality_code: str = "GM0794",
        channel: str = "web",
    ) -> str:
        """A reviewed conversation as the conversation log stores it: ``messages`` are
        (sender, text, intent, confidence, fallback), 20 seconds apart from ``start``."""
        start = start or datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
        users_msgs = [m for m in messages if m[0] == "user"]
        confidences = [m[3] for m in users_msgs if m[3] is not None]
        with self.db() as session:
            for i, (sender, text, intent, confidence, fallback) in enumerate(messages):
                session.add(
                    ConversationEvent(
                        conversation_id=cid,
                        event_id=f"{cid}-{i}",
                        sender=sender,
                        text=text,
                        at=start + timedelta(seconds=20 * i),
                        intent=intent,
                        confidence=confidence,
                        fallback=fallback,
                    )
                )
            session.add(
                Conversation(
                    id=cid,
                    sender_key=uuid.uuid4().hex,
                    municipality_code=municipality_code,
                    channel=channel,
                    started_at=start,
                    last_at=start + timedelta(seconds=20 * (len(messages) - 1)),
                    user_messages=len(users_msgs),
                    fallbacks=sum(1 for m in users_msgs if m[4]),
                    low_confidence=sum(1 for c in confidences if c < 0.5),
                    min_confidence=min(confidences) if confidences else None,
                )
            )
            session.commit()
        return cid


@contextmanager
def running_app(db_path: Path) -> Iterator[LiveApp]:
    """The real app under uvicorn (a thread) on a migrated SQLite database at ``db_path``,
    with one staff user ``sanne`` of peel61 (``LiveApp.token``)."""
    settings = Settings(
        VOORDEUR_ENV="test",
        DATABASE_URL=f"sqlite:///{db_path}",
        VOORDEUR_SERVICE_TOKEN=SERVICE_TOKEN,  # type: ignore[arg-type]
    )
    migrate(settings)
    live = LiveApp(url="", settings=settings, token="")
    live.token = live.add_user(
        "sanne", organisation="peel61", display_name="Sanne Werkplein", team="werk-en-inkomen"
    )
    port = free_port()
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    live.url = f"http://127.0.0.1:{port}"
    try:
        yield live
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.db.dispose()


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[LiveApp]:
    """The real app on a fresh database, for one test."""
    with running_app(tmp_path / "browser.sqlite3") as live:
        yield live


@pytest.fixture
def foreign_site() -> Iterator[Callable[[str], str]]:
    """Another origin (other port) serving a page whose form posts to a URL of our app."""
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path, "").encode("utf-8")
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def page_posting_to(target: str) -> str:
        pages["/aanbieding"] = (
            "<!doctype html><title>Winactie</title><h1>U heeft gewonnen!</h1>"
            f'<form method="post" action="{target}">'
            '<input type="hidden" name="text" value="aanval van buiten">'
            '<input type="hidden" name="csrf_token" value="geraden">'
            '<button type="submit">Claim uw prijs</button></form>'
        )
        return f"http://127.0.0.1:{server.server_address[1]}/aanbieding"

    try:
        yield page_posting_to
    finally:
        server.shutdown()
        server.server_close()


# -- pages -------------------------------------------------------------------------------------


def new_page(browser: Any, live: LiveApp, viewport: dict[str, int] | None = None) -> Any:
    """A page in a fresh context (own cookies) on the live app, Dutch locale, 15 s timeout."""
    context = browser.new_context(
        base_url=live.url,
        locale="nl-NL",
        timezone_id="Europe/Amsterdam",
        viewport=viewport or DESKTOP,
        accept_downloads=True,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def log_in(page: Any, token: str, *, lands_on: str | None = "**/staff/**") -> Any:
    """Log in on the login form with ``token``; waits until the login page is left."""
    page.goto("/staff/login")
    page.get_by_label("Toegangscode").fill(token)
    page.get_by_role("button", name="Inloggen").click()
    if lands_on:
        page.wait_for_url(lambda url: "/staff/login" not in url)
    return page


def logged_in(
    browser: Any, live: LiveApp, token: str, viewport: dict[str, int] | None = None
) -> Any:
    return log_in(new_page(browser, live, viewport), token)


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


# -- accessibility -----------------------------------------------------------------------------


def axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


def inject_axe(page: Any) -> str:
    """Load axe-core into the page; returns its version.

    Through ``page.evaluate`` (CDP ``Runtime.evaluate``), which the pages' Content-Security-Policy
    (``default-src 'self'``, no inline scripts) does not block, unlike ``add_script_tag``.
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    version: str = page.evaluate("() => window.axe && window.axe.version")
    assert version and version.startswith("4."), f"axe-core did not load (version={version!r})"
    return version


def axe_violations(page: Any, *, tags: list[str] | None = None) -> list[dict[str, Any]]:
    """Run axe-core on the page with the WCAG 2.1 A/AA rules; returns the violations."""
    inject_axe(page)
    results: dict[str, Any] = page.evaluate(
        """async (tags) => {
            const r = await window.axe.run(document, {
                runOnly: {type: 'tag', values: tags},
                resultTypes: ['violations'],
            });
            return {
                passes: r.passes.length,
                violations: r.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                    nodes: v.nodes.map(n => ({
                        target: n.target, summary: n.failureSummary, html: n.html,
                    })),
                })),
            };
        }""",
        tags or WCAG_TAGS,
    )
    # ``resultTypes`` trims the other lists to one node each but still counts the rules:
    # a run that checked nothing means axe did not really run.
    assert results["passes"] > 0, "axe-core ran no rule that passed: it did not really run"
    violations: list[dict[str, Any]] = results["violations"]
    return violations


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"][:8]:
            target = " ".join(json.dumps(t) for t in node["target"])
            summary = " ".join((node.get("summary") or "").split())
            lines.append(f"    at {target}: {summary[:300]}")
        if len(v["nodes"]) > 8:
            lines.append(f"    ... and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


def assert_accessible(page: Any, name: str, *, ignore: tuple[str, ...] = ()) -> None:
    """Fail with a readable list (rule id, impact, target selectors) on WCAG 2.1 A/AA
    violations that axe-core finds on the page; ``ignore`` skips rule ids."""
    violations = [v for v in axe_violations(page) if v["id"] not in ignore]
    if violations:
        pytest.fail(
            f"axe-core (WCAG 2.1 A/AA) found {len(violations)} violation(s) on {name} "
            f"({page.url}):\n{format_violations(violations)}",
            pytrace=False,
        )


def no_horizontal_overflow(page: Any) -> tuple[bool, int, int]:
    """(fits, scrollWidth, innerWidth) of the page: nothing wider than the window."""
    width, inner = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    return width <= inner + 1, width, inner


def overflowing_elements(page: Any, limit: int = 6) -> list[str]:
    """The outermost elements whose right edge lies past the window (tag#id.class, width)."""
    found: list[str] = page.evaluate(
        """(limit) => {
            const inner = window.innerWidth, out = [];
            const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                + [...el.classList].map(c => '.' + c).join('');
            for (const el of document.body.querySelectorAll('*')) {
                const r = el.getBoundingClientRect();
                if (r.right <= inner + 1 || r.width === 0) continue;
                const parent = el.parentElement && el.parentElement.getBoundingClientRect();
                if (parent && parent.right > inner + 1 && el.parentElement !== document.body)
                    continue;
                let path = name(el), p = el.parentElement;
                while (p && p !== document.body) { path = name(p) + ' > ' + path;
                    p = p.parentElement; }
                out.push(`${path} (right edge ${Math.round(r.right)}px, `
                    + `width ${Math.round(r.width)}px)`);
                if (out.length >= limit) break;
            }
            return out;
        }""",
        limit,
    )
    return found


def squeezed_text(page: Any, *, min_chars: int = 12, max_width: int = 40) -> list[str]:
    """Visible elements holding a text of ``min_chars`` or more that are laid out narrower than
    ``max_width`` px (a sentence printed one letter per line), as "tag.class: text (w x h)"."""
    found: list[str] = page.evaluate(
        """([minChars, maxWidth]) => {
            const out = [];
            for (const el of document.body.querySelectorAll('*')) {
                const own = [...el.childNodes].filter(n => n.nodeType === 3)
                    .map(n => n.textContent).join('').trim();
                if (own.length < minChars) continue;
                const r = el.getBoundingClientRect();
                if (r.width === 0 || r.height === 0 || r.width >= maxWidth) continue;
                let hidden = false;  // visually hidden on purpose (clip, 1 px box)
                for (let a = el; a && !hidden; a = a.parentElement) {
                    const s = getComputedStyle(a);
                    hidden = s.clip !== 'auto' || s.clipPath !== 'none'
                        || a.getBoundingClientRect().width <= 1;
                }
                if (hidden) continue;
                const name = el.tagName.toLowerCase()
                    + [...el.classList].map(c => '.' + c).join('');
                out.push(`${name}: "${own.slice(0, 50)}" (${Math.round(r.width)}x`
                    + `${Math.round(r.height)} px)`);
            }
            return out;
        }""",
        [min_chars, max_width],
    )
    return found


def focus_ring_after_tab(
    page: Any, *, wanted: str = "a[href], button", presses: int = 40
) -> dict[str, Any]:
    """Press Tab from the top of the page until a link or button (``wanted``) has the focus,
    and describe its focus style (outline, box-shadow, ``:focus-visible``)."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    page.evaluate("() => window.scrollTo(0, 0)")
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate("(sel) => !!document.activeElement?.matches(sel)", wanted):
            break
    info: dict[str, Any] = page.evaluate(
        """() => {
            const el = document.activeElement;
            if (!el || el === document.body) return {tag: null};
            const s = getComputedStyle(el);
            return {
                tag: el.tagName.toLowerCase(),
                text: (el.innerText || el.value || el.getAttribute('aria-label') || '').trim()
                    .slice(0, 60),
                outlineStyle: s.outlineStyle,
                outlineWidth: s.outlineWidth,
                outlineColor: s.outlineColor,
                boxShadow: s.boxShadow,
                focusVisible: el.matches(':focus-visible'),
            };
        }"""
    )
    return info


def focus_is_visible(info: dict[str, Any]) -> bool:
    outline = info.get("outlineStyle") not in (None, "none") and info.get("outlineWidth") not in (
        None,
        "0px",
    )
    shadow = info.get("boxShadow") not in (None, "none", "")
    return bool(info.get("tag")) and (outline or shadow)


def local(dt: datetime) -> str:
    """``dt`` as the pages show it, to the minute, in Dutch local time (dd-mm-yyyy HH:MM)."""
    from zoneinfo import ZoneInfo

    return dt.astimezone(ZoneInfo("Europe/Amsterdam")).strftime("%d-%m-%Y %H:%M")


def handover_uuid(created: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(created["id"])
