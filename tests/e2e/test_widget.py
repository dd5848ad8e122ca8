"""The resident's chat widget against the real trained stack: the demo page served the way
`voordeur run` serves it (voordeur_cli/webchat.py, strict CSP, config.js pointing at Rasa),
in Debian's Chromium. A question gets the assistant's answer with buttons (the AI disclosure
first), and pressing one is read by the real bot.

Only the local profile: the widget talks to Rasa's REST channel, which the production profile
serves the same way; the production services add nothing the browser can see.
"""

from __future__ import annotations

import pytest

from tests.handover_api.web.browser_support import launched_chromium, screenshot
from voordeur_cli.stack import StackConfig, free_port
from voordeur_cli.webchat import serve_webchat


@pytest.mark.parametrize("stack", ["local"], indirect=True)
def test_a_resident_asks_in_the_widget_and_presses_a_button(stack: StackConfig) -> None:
    server = serve_webchat(free_port(), stack.rasa_url)
    url = f"http://127.0.0.1:{server.server_address[1]}/index.html"
    errors: list[str] = []
    try:
        with launched_chromium() as browser:
            context = browser.new_context(locale="nl-NL", viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.set_default_timeout(45_000)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(url)
            page.get_by_role("button", name="Stel uw vraag").click()
            page.get_by_label("Uw bericht aan de assistent").fill(
                "Ik heb geen inkomen meer, kan ik bijstand krijgen? Ik woon in Helmond."
            )
            page.get_by_role("button", name="Stuur").click()
            log = page.get_by_role("log")
            log.locator(".vd-msg.vd-bot", has_text="computerprogramma").wait_for()
            yes = log.locator(".vd-choices button:not([disabled])", has_text="Ja")
            yes.last.wait_for()
            assert log.locator("a[target='_blank']").count() >= 1  # the answer's official page
            assert "Typ 'meer'" not in log.inner_text()
            screenshot(page, "widget_e2e_answer", full_page=False)
            bot_count = log.locator(".vd-msg.vd-bot").count()
            log.locator(".vd-choices button:not([disabled])", has_text="Nee").last.click()
            log.locator(".vd-msg.vd-user", has_text="Nee").wait_for()
            page.wait_for_function(
                "(n) => document.querySelectorAll('#vd-log .vd-msg.vd-bot').length > n",
                arg=bot_count,
            )
            assert log.locator(".vd-choices button:not([disabled])", has_text="Nee").count() == 0
            screenshot(page, "widget_e2e_after_button", full_page=False)
            context.close()
    finally:
        server.shutdown()
        server.server_close()
    assert errors == []
