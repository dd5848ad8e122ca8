"""Starts and stops the running system: handover API, action server and Rasa server.

Used by `voordeur run` (a developer chats with it) and by the end-to-end tests (which start it
on free ports). Every process gets its configuration through environment variables, so the
same code serves both; nothing here knows about test doubles.
"""

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from voordeur_cli.paths import BOT, REPO, VAR, api_bin, rasa_bin


def free_port() -> int:
    """A TCP port on the loopback interface that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class StackConfig:
    """Ports, files and secrets of one running system."""

    model: Path
    api_port: int = 8000
    actions_port: int = 5055
    rasa_port: int = 5005
    var_dir: Path = VAR
    service_token: str = "dev-service-token"
    env: str = "development"
    database_url: str | None = None
    endpoints: Path = BOT / "endpoints.yml"
    credentials: Path = BOT / "credentials.yml"
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def production_profile(cls, model: Path, database: str, **kwargs: object) -> "StackConfig":
        """PostgreSQL for handovers (`database`) and the Rasa tracker store (`<database>_tracker`),
        Redis lock store, RabbitMQ event broker — on this machine (see
        voordeur_cli.system.ensure_production_services and ensure_database).
        """
        extra = {
            "TRACKER_DB_HOST": "127.0.0.1",
            "TRACKER_DB_PORT": "5432",
            "TRACKER_DB_NAME": f"{database}_tracker",
            "TRACKER_DB_USER": "postgres",
            "TRACKER_DB_PASSWORD": "",
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": "6379",
            "RABBITMQ_HOST": "127.0.0.1",
            "RABBITMQ_USER": "guest",
            "RABBITMQ_PASSWORD": "guest",
        }
        return cls(
            model=model,
            endpoints=BOT / "endpoints.production.yml",
            database_url=f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}",
            extra_env=extra,
            **kwargs,  # type: ignore[arg-type]
        )

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def environment(self) -> dict[str, str]:
        """Environment shared by the three processes (each reads what it needs)."""
        env = dict(os.environ)
        env.update(
            {
                "PYTHONPATH": str(REPO),
                "VOORDEUR_ENV": self.env,
                "VOORDEUR_SERVICE_TOKEN": self.service_token,
                "DATABASE_URL": self.database_url
                or f"sqlite:///{self.var_dir / 'handover.sqlite3'}",
                "HANDOVER_API_URL": self.api_url,
                "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{self.actions_port}/webhook",
                "TRACKER_DB": str(self.var_dir / "tracker.sqlite3"),
                "VOORDEUR_OUTBOX": str(self.var_dir / "outbox.sqlite3"),
                "VOORDEUR_VAR_DIR": str(self.var_dir),
                "TF_CPP_MIN_LOG_LEVEL": "2",
                "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            }
        )
        # Twilio: local runs get placeholders (signatures are still checked against them).
        for name, default in (
            ("TWILIO_ACCOUNT_SID", "ACdevelopment"),
            ("TWILIO_AUTH_TOKEN", "dev-twilio-auth-token"),
            ("TWILIO_NUMBER", "+3197000000000"),
            ("TWILIO_WHATSAPP_NUMBER", "whatsapp:+3197000000000"),
            ("VOORDEUR_PUBLIC_URL", ""),
            ("TWILIO_SEND", "false"),
        ):
            env.setdefault(name, default)
        env.update(self.extra_env)
        return env


def _wait_http(url: str, timeout: float, proc: subprocess.Popen[bytes], name: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} stopped during start-up (exit {proc.returncode})")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status < 500:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{name} did not answer on {url} within {timeout:.0f} s")


def migrate(cfg: StackConfig) -> None:
    """Brings the handover database to the newest Alembic revision."""
    cfg.var_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [str(api_bin()), "-m", "handover_api.cli", "migrate"],
        cwd=REPO,
        env=cfg.environment(),
        check=True,
    )


@contextlib.contextmanager
def running_stack(cfg: StackConfig, log_dir: Path | None = None) -> Iterator[StackConfig]:
    """Runs the three processes until the block ends; logs go to files in `log_dir`."""
    log_dir = log_dir or cfg.var_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = cfg.environment()
    migrate(cfg)
    commands = {
        "handover-api": (
            [
                str(api_bin()),
                "-m",
                "uvicorn",
                "handover_api.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(cfg.api_port),
                "--no-access-log",
            ],
            f"{cfg.api_url}/healthz",
            60,
        ),
        "action-server": (
            [
                str(rasa_bin("rasa")),
                "run",
                "actions",
                "--actions",
                "actions",
                "--port",
                str(cfg.actions_port),
            ],
            f"http://127.0.0.1:{cfg.actions_port}/health",
            120,
        ),
        "rasa": (
            [
                str(rasa_bin("rasa")),
                "run",
                "--enable-api",
                "--cors",
                "*",
                "--port",
                str(cfg.rasa_port),
                "--model",
                str(cfg.model),
                "--endpoints",
                str(cfg.endpoints),
                "--credentials",
                str(cfg.credentials),
            ],
            f"{cfg.rasa_url}/status",
            300,
        ),
    }
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, (cmd, health, timeout) in commands.items():
            log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
            procs[name] = subprocess.Popen(
                cmd,
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            _wait_http(health, timeout, procs[name], name)
        yield cfg
    finally:
        for proc in reversed(procs.values()):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
