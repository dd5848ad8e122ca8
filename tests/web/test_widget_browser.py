"""The resident's chat widget (web/voordeur-widget.js) in Debian's Chromium, driven by
Playwright for Python.

A small fake of the Rasa REST webhook answers canned bot messages (buttons, a link, the
reference number, a slow reply, a broken reply), plays the handover API's
``GET /api/v1/webchat/messages`` (a professional's messages, ``FakeRasa.pro``) and serves web/
itself, through the same
handler as ``voordeur run`` (voordeur_cli/webchat.py, strict Content-Security-Policy), so these
UI tests are deterministic and need no model. The real stack is tested in tests/e2e/test_widget.py.

Without Chromium the tests skip locally, and fail under ``CI=true`` or
``VOORDEUR_REQUIRE_BROWSER=1`` (``./voordeur test``).
Screenshots: test-artifacts/screens/widget_*.png.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.handover_api.web.browser_support import (
    DESKTOP,
    PHONE,
    assert_accessible,
    launched_chromium,
    no_horizontal_overflow,
    overflowing_elements,
    screenshot,
)
from voordeur_cli.webchat import WEB_DIR, WebchatHandler

REFERENCE = "VD-7K3P-92"
LINK = "https://www.rijksoverheid.nl/onderwerpen/bijstand"
YES_NO = [{"title": "Ja", "payload": "/affirm"}, {"title": "Nee", "payload": "/deny"}]
OFFER = "Wilt u dat een medewerker contact met u opneemt?"
ANSWER = (
    "Heeft u niet genoeg geld om van te leven? Dan kunt u misschien bijstand krijgen. Dat is een "
    "uitkering van de gemeente. In Helmond helpt Senzer u daarmee.\n\n"
    f"Meer weten? {LINK}"
)


def canned(message: str) -> list[dict[str, Any]] | None:
    """What the fake assistant answers to ``message`` (None: a server error)."""
    if message == "kapot":
        return None
    if message == "/affirm":
        return [
            {"text": f"Dank u. Uw vraag is doorgegeven aan Senzer. Uw kenmerk is {REFERENCE}."},
            {"text": "Een medewerker belt u binnen 3 werkdagen."},
        ]
    if message == "/deny":
        return [{"text": "Dat is goed. U kunt ook zelf bellen met Senzer: 0492 123 456."}]
    if message == "meer":
        return [
            {"text": "De langere uitleg: bijstand vult uw inkomen aan tot het sociaal minimum."},
            {"text": OFFER, "buttons": YES_NO},
        ]
    if message == "html":
        return [{"text": '<img src=x onerror="window.pwned=1"> <b>vet</b> javascript:alert(1)'}]
    if message == "lang":
        return [{"text": f"Regel {i} van een lang antwoord."} for i in range(1, 16)] + [
            {"text": OFFER, "buttons": YES_NO}
        ]
    if "bijstand" in message:
        return [
            {"text": ANSWER, "buttons": [{"title": "Meer uitleg", "payload": "meer"}]},
            {"text": OFFER, "buttons": YES_NO},
        ]
    return [{"text": f"U schreef: {message}"}]


@dataclass
class FakeRasa:
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    delay: float = 0.0
    # The fake handover API: messages waiting per sender id (handed out once), and who asked.
    pro: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    polls: list[str] = field(default_factory=list)

    def messages(self) -> list[str]:
        return [r["message"] for r in self.received]


@pytest.fixture(scope="module")
def fake_rasa() -> Iterator[FakeRasa]:
    state = FakeRasa(url="")

    class Handler(WebchatHandler):
        def do_OPTIONS(self) -> None:  # same origin: only a stray preflight
            self.send_response(204)
            self.end_headers()

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path != "/api/v1/webchat/messages":
                super().do_GET()
                return
            sender = parse_qs(url.query).get("sender", [""])[0]
            state.polls.append(sender)
            raw = json.dumps(state.pro.pop(sender, [])).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:
            if self.path != "/webhooks/rest/webhook":
                self.send_error(404)
                return
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.received.append(body)
            if body["message"] == "traag":
                time.sleep(2.0)
            reply = canned(body["message"])
            if reply is None:
                self.send_error(500)
                return
            raw = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(WEB_DIR))
    )
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    Handler.rasa_url = state.url  # config.js points the widget at this server; CSP allows it
    Handler.api_url = state.url  # ... and at the same server as the handover API
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with launched_chromium() as browser:
        yield browser


@pytest.fixture
def page_at(chromium: Any, fake_rasa: FakeRasa) -> Iterator[Any]:
    """``page_at(viewport)``: a fresh browser context (own sessionStorage) on the demo page."""
    contexts: list[Any] = []
    errors: list[str] = []

    def make(viewport: dict[str, int] | None = None, path: str = "/index.html") -> Any:
        context = chromium.new_context(
            base_url=fake_rasa.url, locale="nl-NL", viewport=viewport or DESKTOP
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on(
            "console",
            # the fake's deliberate 500 ("kapot") is the only failed request allowed
            lambda msg: (
                errors.append(msg.text)
                if msg.type == "error" and "status of 500" not in msg.text
                else None
            ),
        )
        page.goto(path)
        page.wait_for_selector("#voordeur-chat .vd-launcher")
        return page

    yield make
    for context in contexts:
        context.close()
    assert errors == [], f"errors in the page (CSP, script): {errors}"


# -- helpers -----------------------------------------------------------------------------------


def open_chat(page: Any) -> None:
    page.get_by_role("button", name="Stel uw vraag").click()
    page.get_by_role("dialog", name="Digitale assistent").wait_for()


def say(page: Any, text: str) -> None:
    page.get_by_label("Uw bericht aan de assistent").fill(text)
    page.get_by_role("button", name="Stuur").click()


def active(page: Any) -> str:
    """The focused element as 'tag#id.class: text'."""
    return str(
        page.evaluate(
            """() => { const e = document.activeElement;
                return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                    + (e.className && typeof e.className === 'string' ? '.' + e.className : '')
                    + ': ' + (e.textContent || '').trim().slice(0, 40); }"""
        )
    )


def reply_buttons(page: Any, name: str) -> Any:
    return page.locator("#vd-log .vd-choices button", has_text=name)


def inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (
        inner["y"] >= outer["y"] - 1
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 1
        and inner["x"] >= outer["x"] - 1
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 1
    )


def stored(page: Any) -> dict[str, Any]:
    raw = page.evaluate("() => sessionStorage.getItem('voordeur-chat')")
    return json.loads(raw) if raw else {}


# -- tests -------------------------------------------------------------------------------------


def test_launcher_greeting_open_close_and_escape(page_at: Any) -> None:
    page = page_at()
    launcher = page.get_by_role("button", name="Stel uw vraag")
    assert launcher.is_visible()
    assert launcher.get_attribute("aria-expanded") == "false"
    assert not page.locator("#vd-panel").is_visible()
    screenshot(page, "widget_closed_desktop", full_page=False)

    open_chat(page)
    greeting = page.locator(".vd-greeting")
    assert "Typ uw vraag" in greeting.inner_text()
    assert active(page).startswith("input#vd-input")
    assert not launcher.is_visible()
    screenshot(page, "widget_open_greeting_desktop", full_page=False)

    page.keyboard.press("Escape")
    assert not page.locator("#vd-panel").is_visible()
    assert active(page).startswith("button.vd-launcher")

    page.keyboard.press("Enter")  # the launcher has the focus: open again by keyboard
    assert page.locator("#vd-panel").is_visible()
    page.get_by_role("button", name="Sluiten").click()
    assert not page.locator("#vd-panel").is_visible()
    assert active(page).startswith("button.vd-launcher")


def test_buttons_stay_in_view_and_are_answered_once(page_at: Any, fake_rasa: FakeRasa) -> None:
    page = page_at()
    open_chat(page)
    say(page, "lang")  # a long reply: the buttons come last and must still be in sight
    yes = reply_buttons(page, "Ja")
    yes.wait_for()
    log_box = page.locator("#vd-log").bounding_box()
    last = page.locator("#vd-log .vd-choices button").last.bounding_box()
    assert log_box and last and inside(last, log_box), (last, log_box)
    screenshot(page, "widget_buttons_in_view_desktop", full_page=False)

    before = len(fake_rasa.received)
    yes.click()
    page.locator(".vd-msg.vd-user", has_text="Ja").wait_for()
    assert active(page).startswith("input#vd-input"), active(page)
    page.locator(".vd-msg.vd-bot", has_text=REFERENCE).wait_for()
    assert fake_rasa.messages()[before:] == ["/affirm"]
    # answered: still there for context, no longer controls
    assert reply_buttons(page, "Ja").is_disabled() and reply_buttons(page, "Nee").is_disabled()
    # a stale button never sends, even clicked from script
    page.evaluate("() => document.querySelectorAll('#vd-log .vd-choices button')[1].click()")
    page.wait_for_timeout(300)
    assert fake_rasa.messages()[before:] == ["/affirm"]

    # typing instead of pressing also answers the open buttons
    say(page, "bijstand")
    reply_buttons(page, "Nee").last.wait_for()
    say(page, "iets anders")
    page.locator(".vd-msg.vd-bot", has_text="U schreef: iets anders").wait_for()
    assert page.locator("#vd-log .vd-choices button:not([disabled])").count() == 0
    screenshot(page, "widget_answered_buttons_desktop", full_page=False)


def test_links_are_real_links_and_bot_text_is_never_html(page_at: Any, fake_rasa: FakeRasa) -> None:
    page = page_at()
    open_chat(page)
    say(page, "kan ik bijstand krijgen?")
    link = page.locator("#vd-log a", has_text=LINK)
    link.wait_for()
    assert link.get_attribute("href") == LINK
    assert link.get_attribute("target") == "_blank"
    assert set((link.get_attribute("rel") or "").split()) >= {"noopener", "noreferrer"}
    assert "(opent in nieuw tabblad)" in link.inner_text() or "(opent in nieuw tabblad)" in (
        link.text_content() or ""
    )
    assert link.locator("svg[aria-hidden='true']").count() == 1  # the visible cue
    page.get_by_role("link", name=f"{LINK} (opent in nieuw tabblad)").wait_for()
    assert "Typ 'meer'" not in page.locator("#vd-log").inner_text()
    screenshot(page, "widget_link_and_meer_desktop", full_page=False)

    # the 'Meer' button sends what the hint on other channels asks to type
    before = len(fake_rasa.received)
    reply_buttons(page, "Meer uitleg").click()
    page.locator(".vd-msg.vd-bot", has_text="De langere uitleg").wait_for()
    assert fake_rasa.messages()[before:] == ["meer"]
    assert page.locator(".vd-msg.vd-user").last.inner_text().endswith("Meer uitleg")
    assert reply_buttons(page, "Ja").last.is_enabled()  # the offer is shown again, usable

    say(page, "html")
    page.locator(".vd-msg.vd-bot", has_text="<b>vet</b>").wait_for()
    assert page.locator("#vd-log img, #vd-log b").count() == 0
    assert page.evaluate("() => window.pwned") is None
    assert page.locator("#vd-log a[href^='javascript']").count() == 0


def test_typing_indicator_while_waiting_and_the_input_stays_usable(
    page_at: Any, fake_rasa: FakeRasa
) -> None:
    page = page_at()
    open_chat(page)
    say(page, "traag")
    status = page.get_by_role("status")
    page.wait_for_function(
        "() => document.querySelector('.vd-typing').textContent.includes('De assistent typt')"
    )
    assert status.is_visible()
    assert status.get_attribute("aria-live") == "polite"
    box = page.get_by_label("Uw bericht aan de assistent")
    assert box.is_enabled()
    box.press_sequentially("nog een vraag")
    assert box.input_value() == "nog een vraag"
    screenshot(page, "widget_typing_desktop", full_page=False)
    box.press("Enter")  # sent while waiting: queued, answered after the first
    page.locator(".vd-msg.vd-bot", has_text="U schreef: nog een vraag").wait_for()
    texts = page.locator(".vd-msg.vd-bot").all_text_contents()
    assert [t for t in texts if "U schreef" in t][-2:] == [
        "Assistent: U schreef: traag",
        "Assistent: U schreef: nog een vraag",
    ]
    page.wait_for_function("() => document.querySelector('.vd-typing').textContent === ''")


def test_reload_and_another_page_keep_the_conversation_and_reference(
    page_at: Any, fake_rasa: FakeRasa
) -> None:
    page = page_at()
    open_chat(page)
    say(page, "ik wil bijstand")
    reply_buttons(page, "Ja").last.click()
    page.locator(".vd-msg.vd-bot", has_text=REFERENCE).wait_for()
    sender = fake_rasa.received[-1]["sender"]
    messages_before = page.locator("#vd-log .vd-msg").all_inner_texts()

    page.reload()
    page.locator(".vd-msg.vd-bot", has_text=REFERENCE).wait_for()
    assert page.locator("#vd-log .vd-msg").all_inner_texts() == messages_before
    assert page.locator(".vd-reference").inner_text() == f"Uw kenmerk: {REFERENCE}"
    assert reply_buttons(page, "Ja").first.is_disabled()  # answered stays answered
    screenshot(page, "widget_after_reload_desktop", full_page=False)

    page.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Contact").click()
    page.wait_for_url("**/contact.html")
    page.locator(".vd-msg.vd-bot", has_text=REFERENCE).wait_for()
    say(page, "hallo")
    page.locator(".vd-msg.vd-bot", has_text="U schreef: hallo").wait_for()
    assert fake_rasa.received[-1]["sender"] == sender  # the same conversation on the server
    assert fake_rasa.received[-1]["metadata"] == {"channel": "web"}

    # only what is needed, capped: text, the sender id, the reference
    saved = stored(page)
    assert set(saved) == {"v", "sender", "open", "reference", "trimmed", "items"}
    assert saved["reference"] == REFERENCE
    sent = len(fake_rasa.received)
    for _ in range(35):
        page.evaluate("(t) => window.VoordeurChat.send(t)", "x")
    page.wait_for_function(
        "() => document.querySelector('.vd-typing').textContent === ''"
        " && document.querySelectorAll('.vd-msg.vd-bot').length >= 40"
    )
    assert len(fake_rasa.received) == sent + 35
    saved = stored(page)
    assert len(saved["items"]) <= 60 and saved["trimmed"] is True
    assert page.locator(".vd-reference").inner_text() == f"Uw kenmerk: {REFERENCE}"

    # "Nieuw gesprek": asked once, then wiped, with a new sender id
    page.get_by_role("button", name="Nieuw gesprek").click()
    page.get_by_role("button", name="Nee, terug").click()
    assert stored(page)["reference"] == REFERENCE
    page.get_by_role("button", name="Nieuw gesprek").click()
    page.get_by_role("button", name="Ja, wis dit gesprek").click()
    assert page.locator("#vd-log .vd-msg:not(.vd-greeting)").count() == 0
    assert not page.locator(".vd-reference").is_visible()
    assert active(page).startswith("input#vd-input")
    saved = stored(page)
    assert saved["items"] == [] and saved["reference"] is None and saved["sender"] != sender


def test_keyboard_only_through_a_consent_question(page_at: Any, fake_rasa: FakeRasa) -> None:
    page = page_at()
    for _ in range(30):  # Tab from the top of the page to the launcher
        page.keyboard.press("Tab")
        if active(page).startswith("button.vd-launcher"):
            break
    assert active(page).startswith("button.vd-launcher"), active(page)
    page.keyboard.press("Enter")
    assert active(page).startswith("input#vd-input")
    page.keyboard.type("bijstand")
    page.keyboard.press("Enter")
    reply_buttons(page, "Nee").last.wait_for()
    assert active(page).startswith("input#vd-input")  # focus stays where the resident types
    # Tab order (documented in web/voordeur-widget.js): log, reply buttons, input, send
    page.keyboard.press("Shift+Tab")
    assert active(page).endswith("Nee"), active(page)
    page.keyboard.press("Shift+Tab")
    assert active(page).endswith("Ja"), active(page)
    page.keyboard.press("Space")
    page.locator(".vd-msg.vd-user", has_text="Ja").wait_for()
    assert active(page).startswith("input#vd-input"), active(page)
    page.locator(".vd-msg.vd-bot", has_text=REFERENCE).wait_for()
    page.keyboard.press("Tab")
    assert active(page).startswith("button.vd-send")
    ring = page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
            return {style: s.outlineStyle, width: parseFloat(s.outlineWidth),
                    color: s.outlineColor,
                    visible: document.activeElement.matches(':focus-visible')}; }"""
    )
    assert ring["visible"] and ring["style"] == "solid" and ring["width"] >= 2, ring
    screenshot(page, "widget_keyboard_focus_send_desktop", full_page=False)
    page.keyboard.press("Escape")
    assert active(page).startswith("button.vd-launcher")


def test_screen_reader_names_and_speaker_labels(page_at: Any) -> None:
    page = page_at()
    open_chat(page)
    say(page, "bijstand")
    reply_buttons(page, "Ja").last.wait_for()
    log = page.get_by_role("log", name="Gesprek met de digitale assistent")
    assert log.get_attribute("aria-live") == "polite"
    tree = log.aria_snapshot()
    assert "U zei: bijstand" in tree, tree
    assert "Assistent: Heeft u niet genoeg geld" in tree, tree
    assert 'button "Ja"' in tree and 'link "' in tree, tree
    # the labels are visually hidden
    label = page.locator(".vd-user .vd-sr").first
    assert label.bounding_box()["width"] <= 1  # type: ignore[index]
    assert page.get_by_role("dialog", name="Digitale assistent").count() == 1


def test_a_professionals_message_appears_with_its_label_and_is_kept(
    page_at: Any, fake_rasa: FakeRasa
) -> None:
    page = page_at()
    open_chat(page)
    say(page, "hallo")
    page.locator(".vd-msg.vd-bot", has_text="U schreef: hallo").wait_for()
    sender = fake_rasa.received[-1]["sender"]
    deadline = time.monotonic() + 5
    while sender not in fake_rasa.polls and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sender in fake_rasa.polls  # asked once on opening, with the same sender id as Rasa

    body = 'Goedemorgen, ik bel u morgen om 10 uur. <img src=x onerror="window.pwned=1">'
    message = {
        "id": "6f1c0b1e-0000-4000-8000-000000000001",
        "organisation_name": "Senzer",
        "author": "Anna",
        "body": body,
        "at": "2026-12-04T09:00:00+00:00",
    }
    fake_rasa.pro[sender] = [message]
    page.get_by_role("button", name="Sluiten").click()  # closed: no polling ...
    open_chat(page)  # ... and asked again on opening
    pro = page.locator("#vd-log .vd-msg.vd-pro")
    pro.wait_for()
    assert pro.locator(".vd-speaker").inner_text() == "Senzer (medewerker):"
    assert pro.locator(".vd-speaker").is_visible()
    assert body in pro.inner_text() and "Geschreven door Anna." in pro.inner_text()
    assert pro.locator("img").count() == 0 and page.evaluate("() => window.pwned") is None
    tree = page.get_by_role("log", name="Gesprek met de digitale assistent").aria_snapshot()
    assert "Senzer (medewerker):" in tree, tree
    screenshot(page, "widget_professional_message_desktop", full_page=False)

    [kept] = [i for i in stored(page)["items"] if i["t"] == "pro"]
    assert (kept["org"], kept["text"], kept["author"]) == ("Senzer", body, "Anna")
    # The same message again (an answer lost on the way) is not shown twice.
    fake_rasa.pro[sender] = [message]
    page.reload()
    page.locator("#vd-log .vd-msg.vd-pro").first.wait_for()
    deadline = time.monotonic() + 5
    while sender in fake_rasa.pro and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sender not in fake_rasa.pro
    page.wait_for_timeout(300)
    assert page.locator("#vd-log .vd-msg.vd-pro").count() == 1
    assert_accessible(page, "the chat with a professional's message")


@pytest.mark.parametrize("width", [320, 390])
def test_phone_widths(page_at: Any, width: int) -> None:
    page = page_at({"width": width, "height": 740})
    fits, scroll_width, inner = no_horizontal_overflow(page)
    assert fits, (scroll_width, inner, overflowing_elements(page))
    launcher = page.locator(".vd-launcher").bounding_box()
    assert launcher and launcher["width"] * launcher["height"] < 0.06 * width * 740
    # at the end of the page the launcher covers no text of the page
    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    covered = page.evaluate(
        """() => { const l = document.querySelector('.vd-launcher').getBoundingClientRect();
            return [...document.querySelectorAll('main *, footer *, header *')]
              .filter(e => e.childNodes.length && [...e.childNodes].some(n => n.nodeType === 3
                  && n.textContent.trim()))
              .filter(e => { const r = e.getBoundingClientRect();
                  return r.right > l.left && r.left < l.right && r.bottom > l.top
                      && r.top < l.bottom; })
              .map(e => e.tagName + ': ' + e.textContent.trim().slice(0, 30)); }"""
    )
    assert covered == [], covered
    screenshot(page, f"widget_phone_{width}_closed", full_page=False)

    open_chat(page)
    panel = page.locator("#vd-panel").bounding_box()
    assert panel and panel["width"] == width and panel["x"] == 0  # a full-screen dialog
    assert page.locator("#vd-panel").get_attribute("aria-modal") == "true"
    assert page.get_by_role("button", name="Sluiten").is_visible()
    say(page, "bijstand")
    reply_buttons(page, "Nee").last.wait_for()
    last = page.locator("#vd-log .vd-choices button").last.bounding_box()
    log_box = page.locator("#vd-log").bounding_box()
    assert last and log_box and inside(last, log_box)
    fits, scroll_width, inner = no_horizontal_overflow(page)
    assert fits, (scroll_width, inner, overflowing_elements(page))
    # Tab stays inside the full-screen dialog
    for _ in range(12):
        page.keyboard.press("Tab")
        assert page.evaluate("() => !!document.activeElement.closest('#vd-panel')")
    screenshot(page, f"widget_phone_{width}_open", full_page=False)
    page.keyboard.press("Escape")
    assert page.locator(".vd-launcher").is_visible()
    assert active(page).startswith("button.vd-launcher")


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_axe_finds_no_wcag_violations(page_at: Any, viewport: str) -> None:
    page = page_at(DESKTOP if viewport == "desktop" else PHONE)
    assert_accessible(page, f"the demo page with the closed widget ({viewport})")
    open_chat(page)
    say(page, "bijstand")
    reply_buttons(page, "Ja").last.click()
    page.locator(".vd-msg.vd-bot", has_text=REFERENCE).wait_for()
    say(page, "html")
    page.locator(".vd-msg.vd-bot", has_text="<b>vet</b>").wait_for()
    assert_accessible(page, f"the open chat with buttons, a link and a reference ({viewport})")


def test_connection_failure_is_said_in_the_chat(page_at: Any) -> None:
    page = page_at()
    open_chat(page)
    say(page, "kapot")
    error = page.locator(".vd-msg.vd-error")
    error.wait_for()
    assert "Er ging iets mis met de verbinding" in error.inner_text()
    assert page.get_by_label("Uw bericht aan de assistent").get_attribute("maxlength") == "2000"


def test_a_municipality_restyles_with_tokens(page_at: Any) -> None:
    page = page_at()
    # as a municipality's stylesheet would set it on :root (CSSOM: the page's CSP allows it)
    page.evaluate(
        "() => document.documentElement.style.setProperty('--vd-color-primary', '#8a1538')"
    )
    color = page.evaluate(
        "() => getComputedStyle(document.querySelector('.vd-launcher')).backgroundColor"
    )
    assert color == "rgb(138, 21, 56)"
