"""Serves the demo municipal page with the chat widget (web/), for `voordeur run`.

Every response carries a strict Content-Security-Policy (no inline script or style), the way a
municipal site would: the widget must work under it (its styles are a file, bot text is never
HTML). ``connect-src`` allows the Rasa server the page talks to, and the handover API whose
``GET /api/v1/webchat/messages`` brings a professional's messages into the open chat.

``/config.js`` sets ``window.VOORDEUR_RASA_URL`` and, when an API URL is given,
``window.VOORDEUR_API_URL`` (without it the widget does not poll). The API must allow this
page's origin in ``VOORDEUR_CORS_ORIGINS`` (the local run does: voordeur_cli/stack.py).
"""

import functools
import http.server
import json
import threading
from urllib.parse import urlsplit

from voordeur_cli.paths import REPO

WEB_DIR = REPO / "web"


def _origin(url: str | None) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def content_security_policy(rasa_url: str, api_url: str | None = None) -> str:
    origins = " ".join(dict.fromkeys(o for o in (_origin(rasa_url), _origin(api_url)) if o))
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' {origins}".rstrip()
        + "; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def config_js(rasa_url: str, api_url: str | None) -> str:
    """The page's ``/config.js``: where the widget finds Rasa and (optionally) the API."""
    lines = [f"window.VOORDEUR_RASA_URL = {json.dumps(rasa_url)};"]
    if api_url:
        lines.append(f"window.VOORDEUR_API_URL = {json.dumps(api_url)};")
    return "\n".join(lines) + "\n"


class WebchatHandler(http.server.SimpleHTTPRequestHandler):
    rasa_url = "http://127.0.0.1:5005"
    # The handover API for professionals' messages; None: the widget does not poll.
    api_url: str | None = None

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the chat page is static and request lines would only add noise."""

    def end_headers(self) -> None:
        self.send_header(
            "Content-Security-Policy", content_security_policy(self.rasa_url, self.api_url)
        )
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "strict-origin-when-cross-origin")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/config.js":
            body = config_js(self.rasa_url, self.api_url).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/javascript; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()


def serve_webchat(
    port: int, rasa_url: str, api_url: str | None = None
) -> http.server.ThreadingHTTPServer:
    handler = type("Handler", (WebchatHandler,), {"rasa_url": rasa_url, "api_url": api_url})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(handler, directory=str(WEB_DIR))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
