"""A local fake of Twilio's REST API for the messaging tests.

A threading HTTP server that answers ``POST /2010-04-01/Accounts/{sid}/Messages.json`` like
Twilio (201, JSON with a new ``sid`` and ``status: queued``) and records every request: the
path, the form fields and whether HTTP basic auth named the account. ``fail_with`` makes the
next answers a Twilio error (e.g. 400 with code 21211). The API's Twilio client is pointed at
it with ``TWILIO_API_BASE_URL``.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages\.json$")


@dataclass
class Recorded:
    path: str
    form: dict[str, str]
    account: str | None


@dataclass
class FakeTwilio:
    url: str = ""
    requests: list[Recorded] = field(default_factory=list)
    fail_with: tuple[int, int, str] | None = None  # (HTTP status, Twilio code, message)
    answer_status: str = "queued"

    @property
    def messages(self) -> list[dict[str, str]]:
        return [r.form for r in self.requests]


def _handler(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
            match = MESSAGES_PATH.match(self.path)
            account = None
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                account = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
            fake.requests.append(Recorded(self.path, form, account))
            if match is None:
                self._json(404, {"code": 20404, "message": "not found", "status": 404})
                return
            if fake.fail_with is not None:
                status, code, message = fake.fail_with
                self._json(status, {"code": code, "message": message, "status": status})
                return
            sid = "SM" + uuid.uuid4().hex
            self._json(
                201,
                {
                    "sid": sid,
                    "account_sid": match.group(1),
                    "to": form.get("To"),
                    "from": form.get("From"),
                    "body": form.get("Body", ""),
                    "status": fake.answer_status,
                    "direction": "outbound-api",
                    "error_code": None,
                    "error_message": None,
                    "num_segments": "1",
                    "uri": f"/2010-04-01/Accounts/{match.group(1)}/Messages/{sid}.json",
                },
            )

    return Handler


class FakeTwilioServer:
    def __init__(self) -> None:
        self.fake = FakeTwilio()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.fake))
        self.fake.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeTwilio:
        self.thread.start()
        return self.fake

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- fixtures (imported by the messaging test modules) ------------------------------------------

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-twilio-auth-token-0123456789"
SMS_NUMBER = "+3197010000001"
WHATSAPP_NUMBER = "+14155238886"
PUBLIC_URL = "https://voordeur.example.nl"
STATUS_URL = f"{PUBLIC_URL}/api/v1/twilio/status"


def twilio_settings(db_url: str, fake_url: str, **overrides: Any) -> Any:
    from handover_api.core.config import Settings
    from tests.handover_api.conftest import SERVICE_TOKEN

    values: dict[str, Any] = {
        "VOORDEUR_ENV": "test",
        "DATABASE_URL": db_url,
        "VOORDEUR_SERVICE_TOKEN": SERVICE_TOKEN,
        "TWILIO_SEND": True,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_NUMBER": SMS_NUMBER,
        "TWILIO_WHATSAPP_NUMBER": WHATSAPP_NUMBER,
        "TWILIO_API_BASE_URL": fake_url,
        "VOORDEUR_PUBLIC_API_URL": PUBLIC_URL,
    }
    values.update(overrides)
    return Settings(**values)
