"""Starts and stops the running system: handover API, action server and Rasa server (and the
worker, the review consumer, the local mailbox).

Used by `voordeur run` (a developer chats with it) and by the end-to-end tests (which start it
on free ports). Every process gets its configuration through environment variables, so the
same code serves both; nothing here knows about test doubles.

Scale-out (docs/production-profile.md): `rasa_instances` Rasa servers and `action_servers`
action servers run behind one nginx (voordeur_cli/balancer.py) on `rasa_port` and
`actions_port`; the handover API runs `api_workers` uvicorn workers. `cfg.pids` names every
process group, and `stop_service` / `start_service` restart one service of a running stack.

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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from voordeur_cli import preflight
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
# A served turn does small matrix products for one message; the thread pools of OpenBLAS,
# OpenMP and TensorFlow spin idle threads between them. Measured on 2 cores
# (tests/bench/rasa_turns.py): 85 -> 52 ms of Rasa CPU per turn at the same turns/s, which
# leaves the second core to a second Rasa instance. Training (`voordeur train`) keeps them.
SERVING_THREADS = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "TF_INTRA_OP_PARALLELISM_THREADS": "1",
    "TF_INTER_OP_PARALLELISM_THREADS": "1",
}
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
    # Scale-out (voordeur_cli/balancer.py): more than one Rasa instance or action server puts
    # Debian's nginx on `rasa_port` / `actions_port` in front of them, each instance on a port
    # of its own (`rasa_instance_ports` / `action_server_ports`: free ports when left empty).
    # The instances share the tracker store, lock store and event broker of the profile, so
    # several Rasa instances need the production profile (the local SQLite tracker store and
    # in-memory lock store are one process's).
    rasa_instances: int = 1
    action_servers: int = 1
    rasa_instance_ports: list[int] = field(default_factory=list)
    action_server_ports: list[int] = field(default_factory=list)
    # `uvicorn --workers`: worker processes of the handover API behind one port.
    api_workers: int = 1
    # Filled by running_stack: process (group) id per service, for benchmarks that read a
    # service's CPU time and tests that restart one service. Names: "handover-api",
    # "action-server" (or "action-server-1", ...), "rasa" (or "rasa-1", ...), "balancer",
    # "worker", "review-consumer", "mailbox" (see `service_names`).
    pids: dict[str, int] = field(default_factory=dict)
    # The running services (command, health URL, process), for restart_service.
    services: dict[str, "Service"] = field(default_factory=dict, repr=False, compare=False)

    @property
    def mail_dir(self) -> Path:
        return self.var_dir / "mail"

    @classmethod
    def production_profile(
        cls,
        model: Path,
        database: str,
        *,
        postgres_port: int = 5432,
        redis_port: int = 6379,
        rabbitmq_port: int = 5672,
        **kwargs: object,
    ) -> "StackConfig":
        """PostgreSQL for handovers (`database`) and the Rasa tracker store (`<database>_tracker`),
        Redis lock store, RabbitMQ event broker (queue `<database>_events`, read into the review
        log by `python -m handover_api.consumer`) — on this machine (see
        voordeur_cli.system.ensure_production_services and ensure_database), on their default
        ports unless given (the restart tests run their own servers on free ports).

        `VOORDEUR_ENV` is `production` unless `env` is given (the end-to-end tests pass
        `test`). The secrets (`service_token`, `twilio_account_sid`, `twilio_auth_token`) must
        be given or be in the environment: `running_stack` refuses placeholders, and checks
        that PostgreSQL, Redis and RabbitMQ answer before it starts anything
        (voordeur_cli/preflight.py).
        """
        extra = {
            "TRACKER_DB_HOST": "127.0.0.1",
            "TRACKER_DB_PORT": str(postgres_port),
            "TRACKER_DB_NAME": f"{database}_tracker",
            "TRACKER_DB_USER": "postgres",
            "TRACKER_DB_PASSWORD": "",
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": str(redis_port),
            "RABBITMQ_HOST": "127.0.0.1",
            "RABBITMQ_PORT": str(rabbitmq_port),
            "RABBITMQ_USER": "guest",
            "RABBITMQ_PASSWORD": "guest",
            # Rasa publishes to it, handover_api.consumer reads it ("voordeur_events" for
            # `voordeur run --production`; one queue per database keeps test runs apart).
            "RABBITMQ_QUEUE": f"{database}_events",
        }
        kwargs.setdefault("env", "production")
        dedup_url = PRODUCTION_TWILIO_DEDUP_URL.replace(":6379/", f":{redis_port}/")
        return cls(
            model=model,
            endpoints=BOT / "endpoints.production.yml",
            database_url=f"postgresql+psycopg://postgres@127.0.0.1:{postgres_port}/{database}",
            extra_env=extra,
            production=True,
            rasa_env={TWILIO_DEDUP_VARIABLE: dedup_url},
            **kwargs,  # type: ignore[arg-type]
        )

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def rasa_url(self) -> str:
        """Where clients talk to Rasa: the balancer when there are several instances."""
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def balanced(self) -> bool:
        """Whether nginx runs in front of several Rasa instances or action servers."""
        return self.rasa_instances > 1 or self.action_servers > 1

    def _instance_ports(self, count: int, ports: list[int], port: int) -> list[int]:
        if count <= 1:
            return [port]
        if len(ports) != count:
            ports[:] = [free_port() for _ in range(count)]
        return ports

    @property
    def rasa_ports(self) -> list[int]:
        """The port of each Rasa instance (`rasa_port` itself when there is one)."""
        return self._instance_ports(self.rasa_instances, self.rasa_instance_ports, self.rasa_port)

    @property
    def rasa_instance_urls(self) -> list[str]:
        """Each Rasa instance's own URL, bypassing the balancer (one instance: `rasa_url`)."""
        return [f"http://127.0.0.1:{port}" for port in self.rasa_ports]

    @property
    def action_ports(self) -> list[int]:
        """The port of each action server (`actions_port` itself when there is one)."""
        return self._instance_ports(
            self.action_servers, self.action_server_ports, self.actions_port
        )

    def rasa_names(self) -> list[str]:
        """Service names of the Rasa instances: "rasa", or "rasa-1", "rasa-2", ..."""
        return _names("rasa", self.rasa_instances)

    def action_server_names(self) -> list[str]:
        """ "action-server", or "action-server-1", "action-server-2", ..."""
        return _names("action-server", self.action_servers)

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
        """`environment()` plus what only the Rasa server reads (`rasa_env`), with one thread
        per numeric library (SERVING_THREADS) unless the environment already says otherwise."""
        env = self.environment()
        for name, value in SERVING_THREADS.items():
            env.setdefault(name, value)
        return {**env, **self.rasa_env}

    def secret_problems(self) -> list[str]:
        """Why this configuration must not start (production profile only); empty when fine."""
        if not self.production:
            return []
        return production_secret_problems(self.environment())


def _names(base: str, count: int) -> list[str]:
    return [base] if count <= 1 else [f"{base}-{number}" for number in range(1, count + 1)]


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


@dataclass
class Service:
    """One process of the stack: how to start it and how to know it is ready."""

    name: str
    cmd: list[str]
    env: dict[str, str]
    # Readiness URL; None: ready when it still runs after `timeout` seconds.
    health: str | None
    timeout: float
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> int:
        with open(self.log, "ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                self.cmd,
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self.proc.pid

    def wait_ready(self) -> None:
        assert self.proc is not None, f"{self.name} was not started"
        if self.health is None:
            _wait_running(self.timeout, self.proc, self.name)
        else:
            _wait_http(self.health, self.timeout, self.proc, self.name)

    def send_signal(self, signum: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signum)

    def wait_stopped(self, timeout: float = 20) -> None:
        """Waits for the process (after `send_signal`), then kills its whole group: workers too."""
        if self.proc is None:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=timeout)
        # A supervisor (uvicorn --workers, nginx) may leave children behind when it is killed.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)

    def stop(self, timeout: float = 20, signum: int = signal.SIGTERM) -> None:
        self.send_signal(signum)
        self.wait_stopped(timeout)


def migrate(cfg: StackConfig) -> None:
    """Brings the handover database to the newest Alembic revision."""
    cfg.var_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [str(api_bin()), "-m", "handover_api.cli", "migrate"],
        cwd=REPO,
        env=cfg.environment(),
        check=True,
    )


def _balancer_service(cfg: StackConfig, log_dir: Path, env: dict[str, str]) -> Service:
    """nginx in front of the Rasa instances and/or the action servers (voordeur_cli/balancer)."""
    from voordeur_cli import balancer, system

    binary = system.ensure_nginx()
    if binary is None:
        raise RuntimeError(
            f"{cfg.rasa_instances} Rasa instances / {cfg.action_servers} action servers need "
            "nginx as load balancer: apt-get install nginx"
        )
    upstreams = []
    if cfg.rasa_instances > 1:
        upstreams.append(
            balancer.Upstream("rasa", cfg.rasa_port, tuple(cfg.rasa_ports), socketio=True)
        )
    if cfg.action_servers > 1:
        # Rasa posts the whole tracker to the action server: long conversations are large.
        upstreams.append(
            balancer.Upstream("actions", cfg.actions_port, tuple(cfg.action_ports), max_body="64m")
        )
    prefix = cfg.var_dir / "balancer"
    conf = balancer.write_config(prefix, upstreams)
    checked = subprocess.run(
        balancer.check_command(binary, prefix, conf), capture_output=True, text=True, check=False
    )
    if checked.returncode != 0:
        raise RuntimeError(f"nginx refused {conf}:\n{checked.stderr.strip()}")
    return Service(
        "balancer",
        balancer.nginx_command(binary, prefix, conf),
        env,
        f"http://127.0.0.1:{upstreams[0].listen_port}{balancer.HEALTH_PATH}",
        30,
        log_dir / "balancer.log",
    )


def plan(cfg: StackConfig, log_dir: Path) -> list[list[Service]]:
    """The services of `cfg` in start-up groups: a group starts together, and the next group
    starts when all of it is ready (the Rasa instances load their model side by side)."""
    env = cfg.environment()
    rasa_env = cfg.rasa_environment()

    def service(name: str, cmd: list[str], health: str | None, timeout: float) -> Service:
        return Service(
            name,
            cmd,
            rasa_env if name in cfg.rasa_names() else env,
            health,
            timeout,
            log_dir / f"{name}.log",
        )

    groups: list[list[Service]] = []
    if cfg.mail_port is not None and cfg.env != "production":
        cfg.mail_dir.parent.mkdir(parents=True, exist_ok=True)
        mailbox.Maildir(cfg.mail_dir, create=True)  # tmp/, new/ and cur/, as the handler needs
        groups.append(
            [
                service(
                    "mailbox",
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
                )
            ]
        )
    uvicorn = [
        str(api_bin()),
        "-m",
        "uvicorn",
        "handover_api.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(cfg.api_port),
        "--no-access-log",
    ]
    if cfg.api_workers > 1:
        uvicorn += ["--workers", str(cfg.api_workers)]
    # Readiness, not liveness: the database answers and is at the migration head.
    groups.append([service("handover-api", uvicorn, f"{cfg.api_url}/readyz", 60)])
    groups.append(
        [
            service(
                name,
                [
                    str(rasa_bin("rasa")),
                    "run",
                    "actions",
                    "--actions",
                    "actions",
                    "--port",
                    str(port),
                ],
                f"http://127.0.0.1:{port}/health",
                120,
            )
            for name, port in zip(cfg.action_server_names(), cfg.action_ports, strict=True)
        ]
    )
    if cfg.balanced:
        groups.append([_balancer_service(cfg, log_dir, env)])
    groups.append(
        [
            service(
                name,
                [
                    str(rasa_bin("rasa")),
                    "run",
                    "--enable-api",
                    "--cors",
                    "*",
                    "--port",
                    str(port),
                    "--model",
                    str(cfg.model),
                    "--endpoints",
                    str(cfg.endpoints),
                    "--credentials",
                    str(cfg.credentials),
                ],
                f"{url}/status",
                300,
            )
            for name, port, url in zip(
                cfg.rasa_names(), cfg.rasa_ports, cfg.rasa_instance_urls, strict=True
            )
        ]
    )
    # Team notifications, escalation of unclaimed handovers and exports (outboxes). No HTTP
    # port: it counts as started when it is still running a moment later.
    groups.append(
        [
            service(
                "worker",
                [str(api_bin()), "-m", "handover_api.cli", "worker"],
                None,
                CONSUMER_START_SECONDS,
            )
        ]
    )
    if cfg.production:
        # Rasa's events from RabbitMQ into the review log. No HTTP port: it counts as started
        # when it is still running a moment later (the queue keeps events until it reads).
        groups.append(
            [
                service(
                    "review-consumer",
                    [str(api_bin()), "-m", "handover_api.consumer"],
                    None,
                    CONSUMER_START_SECONDS,
                )
            ]
        )
    return groups


def service_names(cfg: StackConfig) -> list[str]:
    """The names `running_stack` gives the services of `cfg` (keys of `cfg.pids`)."""
    names = ["mailbox"] if cfg.mail_port is not None and cfg.env != "production" else []
    names += ["handover-api", *cfg.action_server_names()]
    names += ["balancer"] if cfg.balanced else []
    names += [*cfg.rasa_names(), "worker"]
    return names + (["review-consumer"] if cfg.production else [])


def check_services(cfg: StackConfig) -> None:
    """Raises ServicesUnavailableError naming each service of the production profile that
    does not answer (PostgreSQL, Redis, RabbitMQ); nothing for the local profile."""
    if not cfg.production:
        return
    problems = preflight.production_service_problems(cfg.environment())
    if problems:
        raise preflight.ServicesUnavailableError(problems)


def stop_service(cfg: StackConfig, name: str, *, signum: int = signal.SIGTERM) -> None:
    """Stops one service of a running stack (SIGTERM to its process group; SIGKILL after 20 s
    or with `signum=signal.SIGKILL`). For tests that restart a service mid-conversation."""
    cfg.services[name].stop(signum=signum)


def start_service(cfg: StackConfig, name: str) -> None:
    """Starts a stopped service of a running stack again, as before, and waits until it is
    ready; `cfg.pids[name]` is its new process (group) id."""
    service = cfg.services[name]
    if service.proc is not None and service.proc.poll() is None:
        raise RuntimeError(f"{name} is still running")
    cfg.pids[name] = service.start()
    service.wait_ready()


def restart_service(cfg: StackConfig, name: str, *, signum: int = signal.SIGTERM) -> None:
    """`stop_service`, then `start_service`."""
    stop_service(cfg, name, signum=signum)
    start_service(cfg, name)


@contextlib.contextmanager
def running_stack(
    cfg: StackConfig,
    log_dir: Path | None = None,
    *,
    model_ready: Callable[[], Path] | None = None,
) -> Iterator[StackConfig]:
    """Runs the stack's processes until the block ends; logs go to files in `log_dir`.

    With `model_ready`, the model is still being trained: the services that need none (the
    handover API, the action servers, the mailbox) start meanwhile, and `model_ready()` gives
    the model just before the Rasa instances start (`./voordeur run` on a fresh clone).

    The production profile is refused with placeholder secrets (ProductionSecretsError) and
    when PostgreSQL, Redis or RabbitMQ do not answer (preflight.ServicesUnavailableError),
    before anything is started.
    """
    problems = cfg.secret_problems()
    if problems:
        raise ProductionSecretsError(problems)
    if cfg.rasa_instances > 1 and not cfg.production:
        raise ValueError(
            "several Rasa instances need the production profile (shared tracker and lock store)"
        )
    check_services(cfg)
    log_dir = log_dir or cfg.var_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    migrate(cfg)
    started: list[Service] = []
    cfg.services.clear()
    try:
        for planned in plan(cfg, log_dir):
            group, names = planned, {service.name for service in planned}
            if model_ready is not None and names & set(cfg.rasa_names()):
                cfg.model = model_ready()  # and plan this group again, with the model
                group = [s for again in plan(cfg, log_dir) for s in again if s.name in names]
            for service in group:
                cfg.services[service.name] = service
                cfg.pids[service.name] = service.start()
                started.append(service)
            for service in group:
                service.wait_ready()
        yield cfg
    finally:
        for service in reversed(started):
            service.send_signal(signal.SIGTERM)
        for service in started:
            service.wait_stopped()
