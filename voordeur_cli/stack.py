"""Starts and stops the running system: handover API, action server and Rasa server.

Used by `voordeur run` (a developer chats with it) and by the end-to-end tests (which start it
on free ports). Every process gets its configuration through environment variables, so the
same code serves both; nothing here knows about test doubles.

The production profile never falls back to a development placeholder: its secrets come from
the caller (the environment for `voordeur run --production`, explicit test secrets for the
end-to-end tests), and `running_stack` refuses to start it while one is missing or a
placeholder (`production_secret_problems`).
"""

import contextlib
import mailbox
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from voordeur_cli.paths import BOT, REPO, VAR, api_bin, rasa_bin

DEV_SERVICE_TOKEN = "dev-service-token"
DEV_TWILIO_ACCOUNT_SID = "ACdevelopment"
DEV_TWILIO_AUTH_TOKEN = "dev-twilio-auth-token"
# The demo municipal page of `voordeur run` (voordeur_cli/webchat.py, --web-port 8080).
LOCAL_WEBCHAT_ORIGINS = "http://127.0.0.1:8080,http://localhost:8080"
DEMO_TOKEN_VARIABLES = (
    "VOORDEUR_DEMO_TOKEN_PEEL61",
    "VOORDEUR_DEMO_TOKEN_HELMOND",
    "VOORDEUR_DEMO_TOKEN_REVIEWER",
)
# The secrets a production run must be given (the handover API also refuses short tokens).
PRODUCTION_SECRETS = ("VOORDEUR_SERVICE_TOKEN", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN")
MIN_SERVICE_TOKEN_LENGTH = 24
# Words that mark a value somebody meant to replace; compared case-insensitively.
PLACEHOLDER_MARKERS = ("dev-", "development", "changeme", "change-me", "placeholder", "example")
TWILIO_ACCOUNT_SID_RE = re.compile(r"^AC[0-9a-fA-F]{32}$")
# Twilio replay protection shared by Rasa instances (Redis db 2; db 1 is the lock store).
TWILIO_DEDUP_VARIABLE = "VOORDEUR_TWILIO_DEDUP_URL"
PRODUCTION_TWILIO_DEDUP_URL = "redis://127.0.0.1:6379/2"
# The review consumer has no health URL: it counts as started when it still runs after this.
CONSUMER_START_SECONDS = 3.0


class ProductionSecretsError(RuntimeError):
    """The production profile was asked to start with missing or placeholder secrets."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(refusal_message(problems))
        self.problems = problems


def _is_placeholder(value: str) -> bool:
    lowered = value.lower()
    return value in (DEV_SERVICE_TOKEN, DEV_TWILIO_ACCOUNT_SID, DEV_TWILIO_AUTH_TOKEN) or any(
        marker in lowered for marker in PLACEHOLDER_MARKERS
    )


def production_secret_problems(environ: Mapping[str, str]) -> list[str]:
    """One line per production secret in `environ` that is missing or a placeholder, plus
    every demo staff token that is set at all (a well-known token opens staff inboxes).

    Never includes a secret's value: the lines end up on terminals and in CI logs.
    """
    problems = []
    for name in PRODUCTION_SECRETS:
        value = environ.get(name, "").strip()
        if not value:
            problems.append(f"{name} is not set")
        elif _is_placeholder(value):
            problems.append(f"{name} is a development placeholder")
        elif name == "VOORDEUR_SERVICE_TOKEN" and len(value) < MIN_SERVICE_TOKEN_LENGTH:
            problems.append(f"{name} is shorter than {MIN_SERVICE_TOKEN_LENGTH} characters")
        elif name == "TWILIO_ACCOUNT_SID" and not TWILIO_ACCOUNT_SID_RE.match(value):
            problems.append(f"{name} is not a Twilio account SID (AC + 32 hex characters)")
    for name in DEMO_TOKEN_VARIABLES:
        if environ.get(name):
            problems.append(f"{name} is set (demo staff tokens are for local runs only)")
    return problems


def refusal_message(problems: list[str]) -> str:
    """The text shown when the production profile refuses to start."""
    lines = "\n".join(f"  - {problem}" for problem in problems)
    return (
        "Refusing to start the production profile; fix these environment variables:\n"
        f"{lines}\n"
        "Set real secrets (e.g. VOORDEUR_SERVICE_TOKEN=$(openssl rand -hex 32)) and unset "
        "VOORDEUR_DEMO_TOKEN_*."
    )


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
    service_token: str = DEV_SERVICE_TOKEN
    env: str = "development"
    database_url: str | None = None
    endpoints: Path = BOT / "endpoints.yml"
    credentials: Path = BOT / "credentials.yml"
    extra_env: dict[str, str] = field(default_factory=dict)
    # None: taken from the environment; the local profile then falls back to placeholders.
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    # Set by production_profile: no placeholder fallbacks, secrets checked before start.
    production: bool = False
    # Only for the Rasa process (e.g. the Twilio connector's shared replay store).
    rasa_env: dict[str, str] = field(default_factory=dict)
    # A local SMTP server (aiosmtpd) on this port that keeps every team notification in
    # `<var_dir>/mail` (a Maildir) instead of sending it; never with VOORDEUR_ENV=production.
    # It also notifies the teams whose `notify:` is an example (VOORDEUR_NOTIFY_EXAMPLES).
    mail_port: int | None = None
    worker_interval_seconds: float = 20.0

    @property
    def mail_dir(self) -> Path:
        return self.var_dir / "mail"

    @classmethod
    def production_profile(cls, model: Path, database: str, **kwargs: object) -> "StackConfig":
        """PostgreSQL for handovers (`database`) and the Rasa tracker store (`<database>_tracker`),
        Redis lock store, RabbitMQ event broker (queue `<database>_events`, read into the review
        log by `python -m handover_api.consumer`) — on this machine (see
        voordeur_cli.system.ensure_production_services and ensure_database).

        `VOORDEUR_ENV` is `production` unless `env` is given (the end-to-end tests pass
        `test`). The secrets (`service_token`, `twilio_account_sid`, `twilio_auth_token`) must
        be given or be in the environment: `running_stack` refuses placeholders.
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
            # Rasa publishes to it, handover_api.consumer reads it ("voordeur_events" for
            # `voordeur run --production`; one queue per database keeps test runs apart).
            "RABBITMQ_QUEUE": f"{database}_events",
        }
        kwargs.setdefault("env", "production")
        return cls(
            model=model,
            endpoints=BOT / "endpoints.production.yml",
            database_url=f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}",
            extra_env=extra,
            production=True,
            rasa_env={TWILIO_DEDUP_VARIABLE: PRODUCTION_TWILIO_DEDUP_URL},
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
        # Twilio: explicit secrets win; otherwise the environment's. Only local runs fall back
        # to placeholders (signatures are still checked against them).
        for name, value in (
            ("TWILIO_ACCOUNT_SID", self.twilio_account_sid),
            ("TWILIO_AUTH_TOKEN", self.twilio_auth_token),
        ):
            if value is not None:
                env[name] = value
        defaults = [
            ("TWILIO_NUMBER", "+3197000000000"),
            ("TWILIO_WHATSAPP_NUMBER", "whatsapp:+3197000000000"),
            ("VOORDEUR_PUBLIC_URL", ""),
            ("TWILIO_SEND", "false"),
        ]
        if not self.production:
            defaults += [
                ("TWILIO_ACCOUNT_SID", DEV_TWILIO_ACCOUNT_SID),
                ("TWILIO_AUTH_TOKEN", DEV_TWILIO_AUTH_TOKEN),
            ]
            # The local profile runs without Redis: an inherited dedup URL would need it.
            env.pop(TWILIO_DEDUP_VARIABLE, None)
            # The demo page (`voordeur run`, port 8080) polls the API for professionals'
            # messages (GET /api/v1/webchat/messages) from another origin.
            defaults.append(("VOORDEUR_CORS_ORIGINS", LOCAL_WEBCHAT_ORIGINS))
        for name, default in defaults:
            env.setdefault(name, default)
        env["VOORDEUR_WORKER_INTERVAL_SECONDS"] = str(self.worker_interval_seconds)
        if self.mail_port is not None and self.env != "production":
            env.update(
                {
                    "VOORDEUR_SMTP_HOST": "127.0.0.1",
                    "VOORDEUR_SMTP_PORT": str(self.mail_port),
                    "VOORDEUR_NOTIFY_EXAMPLES": "true",
                    "VOORDEUR_PUBLIC_API_URL": self.api_url,
                }
            )
        env.update(self.extra_env)
        return env

    def rasa_environment(self) -> dict[str, str]:
        """`environment()` plus what only the Rasa server reads (`rasa_env`)."""
        return {**self.environment(), **self.rasa_env}

    def secret_problems(self) -> list[str]:
        """Why this configuration must not start (production profile only); empty when fine."""
        if not self.production:
            return []
        return production_secret_problems(self.environment())


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


def _wait_running(seconds: float, proc: subprocess.Popen[bytes], name: str) -> None:
    """For a process without a health URL: it must not stop within its first `seconds`."""
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        return
    raise RuntimeError(f"{name} stopped during start-up (exit {proc.returncode})")


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
    problems = cfg.secret_problems()
    if problems:
        raise ProductionSecretsError(problems)
    log_dir = log_dir or cfg.var_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = cfg.environment()
    migrate(cfg)
    commands: dict[str, tuple[list[str], str | None, float]] = {
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
            # Readiness, not liveness: the database answers and is at the migration head.
            f"{cfg.api_url}/readyz",
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
    # Team notifications, escalation of unclaimed handovers and exports (outboxes). No HTTP
    # port: it counts as started when it is still running a moment later.
    commands["worker"] = (
        [str(api_bin()), "-m", "handover_api.cli", "worker"],
        None,
        CONSUMER_START_SECONDS,
    )
    if cfg.mail_port is not None and cfg.env != "production":
        cfg.mail_dir.parent.mkdir(parents=True, exist_ok=True)
        mailbox.Maildir(cfg.mail_dir, create=True)  # tmp/, new/ and cur/, as the handler needs
        commands = {
            "mailbox": (
                [
                    str(api_bin()),
                    "-m",
                    "aiosmtpd",
                    "-n",
                    "-l",
                    f"127.0.0.1:{cfg.mail_port}",
                    "-c",
                    "aiosmtpd.handlers.Mailbox",
                    str(cfg.mail_dir),
                ],
                None,
                CONSUMER_START_SECONDS,
            ),
            **commands,
        }
    if cfg.production:
        # Rasa's events from RabbitMQ into the review log. No HTTP port: it counts as started
        # when it is still running a moment later (the queue keeps events until it reads).
        commands["review-consumer"] = (
            [str(api_bin()), "-m", "handover_api.consumer"],
            None,
            CONSUMER_START_SECONDS,
        )
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, (cmd, health, timeout) in commands.items():
            log = open(log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
            procs[name] = subprocess.Popen(
                cmd,
                cwd=REPO,
                env=cfg.rasa_environment() if name == "rasa" else env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            if health is None:
                _wait_running(timeout, procs[name], name)
            else:
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
