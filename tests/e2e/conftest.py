"""End-to-end: the real handover API, action server and Rasa server as separate processes on
free ports, with a fresh SQLite database per test session. Needs a trained model (the test
command trains first)."""

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from tests.handover_api.fake_twilio import FakeTwilio, FakeTwilioServer
from voordeur_cli import system
from voordeur_cli.main import latest_model
from voordeur_cli.paths import REPO, api_bin
from voordeur_cli.stack import StackConfig, free_port, running_stack

# Explicit test secrets for the production profile, which refuses missing or placeholder
# secrets (voordeur_cli.stack.production_secret_problems) — the check is not relaxed for tests.
E2E_SERVICE_TOKEN = "e2e-service-token-0123456789"
E2E_TWILIO_ACCOUNT_SID = "AC" + "e2e0" * 8
E2E_TWILIO_AUTH_TOKEN = "e2e-twilio-auth-token-0123456789"


@pytest.fixture(scope="session")
def fake_twilio() -> Iterator[FakeTwilio]:
    """A local fake of Twilio's REST API (tests/handover_api/fake_twilio.py): it records what
    the running handover API sends and answers like Twilio (a new ``SM...`` sid, queued)."""
    with FakeTwilioServer() as fake:
        yield fake


def send_through_fake_twilio(cfg: StackConfig, fake: FakeTwilio) -> None:
    """Professionals' messages really go out, to `fake`: the handover API runs with
    TWILIO_SEND=true, its Twilio client pointed at the fake (TWILIO_API_BASE_URL) and its
    StatusCallback at its own address. The Rasa server keeps TWILIO_SEND=false: its Twilio
    client cannot be pointed at the fake, and no test may reach the real Twilio."""
    cfg.extra_env.update(
        {
            "TWILIO_SEND": "true",
            "TWILIO_API_BASE_URL": fake.url,
            "TWILIO_ACCOUNT_SID": E2E_TWILIO_ACCOUNT_SID,  # the API checks its format
            "VOORDEUR_PUBLIC_API_URL": cfg.api_url,
        }
    )
    cfg.rasa_env["TWILIO_SEND"] = "false"


@pytest.fixture(scope="session", params=["local", "production"])
def stack(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    fake_twilio: FakeTwilio,
) -> Iterator[StackConfig]:
    """The whole system, once on embedded defaults (SQLite, in-memory lock store) and once on
    the production profile (PostgreSQL, Redis lock store, RabbitMQ event broker). On both, the
    handover API sends professionals' messages to `fake_twilio` (send_through_fake_twilio)."""
    model = latest_model()
    assert model is not None, "no trained model: run ./voordeur train first"
    var_dir = tmp_path_factory.mktemp(f"var-{request.param}")
    ports = {
        "api_port": free_port(),
        "actions_port": free_port(),
        "rasa_port": free_port(),
        "var_dir": var_dir,
        "service_token": E2E_SERVICE_TOKEN,
        "env": "test",
        # Team notifications land in <var_dir>/mail; the worker runs every second.
        "mail_port": free_port(),
        "worker_interval_seconds": 1.0,
    }
    if request.param == "production":
        assert system.ensure_production_services(), "PostgreSQL, Redis and RabbitMQ are needed"
        database = f"voordeur_e2e_{uuid.uuid4().hex[:8]}"
        system.ensure_database(database)
        system.ensure_database(f"{database}_tracker")
        cfg = StackConfig.production_profile(
            model,
            database,
            twilio_account_sid=E2E_TWILIO_ACCOUNT_SID,
            twilio_auth_token=E2E_TWILIO_AUTH_TOKEN,
            **ports,
        )
        assert cfg.secret_problems() == [], cfg.secret_problems()
    else:
        cfg = StackConfig(model=model, **ports)
    send_through_fake_twilio(cfg, fake_twilio)
    try:
        with running_stack(cfg, log_dir=var_dir / "logs"):
            yield cfg
    finally:
        for log in sorted((var_dir / "logs").glob("*.log")):
            print(f"--- {log.name} (last lines)")
            print("\n".join(log.read_text(errors="replace").splitlines()[-40:]))
        if cfg.production:
            _delete_queue(cfg.environment()["RABBITMQ_QUEUE"])


def _delete_queue(queue: str) -> None:
    """The production profile's per-run RabbitMQ queue of conversation events (read by the
    review consumer, see voordeur_cli.stack) and the exchange of the same name Rasa publishes
    to: gone with the run, so test queues and exchanges don't pile up."""
    import pika  # the API venv has it (handover_api/consumer.py)

    try:
        connection = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1"))
        try:
            channel = connection.channel()
            channel.queue_delete(queue=queue)
            channel.exchange_delete(exchange=queue)
        finally:
            connection.close()
    except pika.exceptions.AMQPError as exc:
        print(f"could not delete RabbitMQ queue {queue}: {exc!r}")


def conversation_database(cfg: StackConfig) -> Engine:
    """The running stack's handover database, to read the review log directly (it has no
    public read API of its own yet)."""
    from handover_api.core.db import make_engine

    return make_engine(cfg.environment()["DATABASE_URL"])


def twilio_auth_token(cfg: StackConfig) -> str:
    """The Twilio auth token the running Rasa server checks signatures against (the local
    profile's placeholder, or the explicit test secret of the production profile)."""
    return cfg.environment()["TWILIO_AUTH_TOKEN"]


def staff_token(cfg: StackConfig, username: str, organisation: str, role: str = "staff") -> str:
    """Creates a staff user (or a front-office ``reviewer``) through the real CLI and returns
    the printed bearer token."""
    out = subprocess.run(
        [
            str(api_bin()),
            "-m",
            "handover_api.cli",
            "create-user",
            "--username",
            username,
            "--organisation",
            organisation,
            "--display-name",
            username,
            "--role",
            role,
        ],
        cwd=REPO,
        env=cfg.environment(),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    tokens = [word for line in out.splitlines() for word in line.split() if len(word) >= 32]
    assert tokens, f"no token printed by create-user: {out!r}"
    return tokens[-1]


class Chat:
    """One resident talking to the REST channel."""

    def __init__(self, cfg: StackConfig, sender: str, channel: str = "web") -> None:
        self.url = f"{cfg.rasa_url}/webhooks/rest/webhook"
        self.sender = sender
        self.channel = channel

    def say(self, text: str) -> list[dict]:
        resp = httpx.post(
            self.url,
            json={"sender": self.sender, "message": text, "metadata": {"channel": self.channel}},
            timeout=60,
        )
        resp.raise_for_status()
        return resp.json()

    @staticmethod
    def text(messages: list[dict]) -> str:
        return "\n".join(m.get("text", "") for m in messages)


def model_dir() -> Path:
    return REPO / "models"
