"""Serves the demo municipal page with the chat widget (web/), for `voordeur run`.

Every response carries a strict Content-Security-Policy (no inline script or style), the way a
municipal site would: the widget must work under it (its styles are a file, bot text is never
HTML). ``connect-src`` allows the Rasa server the page talks to.
"""

import functools
import http.server
import threading
from urllib.parse import urlsplit

from voordeur_cli.paths import REPO

WEB_DIR = REPO / "web"


def content_security_policy(rasa_url: str) -> str:
    parts = urlsplit(rasa_url)
    rasa_origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' {rasa_origin}".rstrip()
        + "; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


class WebchatHandler(http.server.SimpleHTTPRequestHandler):
    rasa_url = "http://127.0.0.1:5005"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the chat page is static and request lines would only add noise."""

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", content_security_policy(self.rasa_url))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "strict-origin-when-cross-origin")
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/config.js":
            body = f'window.VOORDEUR_RASA_URL = "{self.rasa_url}";\n'.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/javascript; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()


def serve_webchat(port: int, rasa_url: str) -> http.server.ThreadingHTTPServer:
    handler = type("Handler", (WebchatHandler,), {"rasa_url": rasa_url})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(handler, directory=str(WEB_DIR))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
