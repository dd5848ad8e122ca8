"""Serves the demo municipal page with the chat widget (web/), for `voordeur run`."""

import functools
import http.server
import threading

from voordeur_cli.paths import REPO


class _Handler(http.server.SimpleHTTPRequestHandler):
    rasa_url = "http://127.0.0.1:5005"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the chat page is static and request lines would only add noise."""

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
    handler = type("Handler", (_Handler,), {"rasa_url": rasa_url})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(handler, directory=str(REPO / "web"))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
