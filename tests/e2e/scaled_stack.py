"""The scaled-out production profile for tests/e2e/test_scale_out.py and test_restarts.py: two
Rasa instances and two action servers behind nginx, two handover API workers, on a PostgreSQL,
Redis and RabbitMQ of its own (tests/e2e/private_services.py) so that the restart tests can
stop them. Started once per test session (it takes a few minutes: two Rasa instances load
their model side by side) and shared by both modules.

Also the conversation both modules hold: the consent and handover flow of
tests/e2e/test_warm_handover.py, five turns that end with a handover reference.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from handover_api.consumer import sender_key
from handover_api.models import Conversation, ConversationEvent, Handover
from tests.e2e.conftest import (
    E2E_SERVICE_TOKEN,
    E2E_TWILIO_ACCOUNT_SID,
    E2E_TWILIO_AUTH_TOKEN,
    conversation_database,
    staff_token,
)
from tests.e2e.private_services import PrivatePostgres, PrivateRabbitMQ, PrivateRedis
from voordeur_cli.main import latest_model
from voordeur_cli.stack import StackConfig, free_port, running_stack

REFERENCE = re.compile(r"VD-[A-Z0-9]{4}-\d{2}")
# The resident's side of a warm handover (see test_warm_handover.py): question, municipality,
# "yes, hand me over", consent, phone number -> reference.
TURNS = (
    "ik heb geen inkomen meer, kan ik bijstand krijgen?",
    "Helmond",
    "ja",
    "ja",
    "06 12345678",
)
# What each turn's answer must contain: the conversation's state decides it.
EXPECTED = (
    "In welke gemeente woont u?",  # first turn: the municipality is asked
    "Senzer",  # the answer again, for Helmond's regional organisation
    "Mag ik dit delen?",  # consent asked; the municipality is not asked twice
    "telefoonnummer",  # consent given: the phone number is asked
    "Uw kenmerk is VD-",  # the handover's reference
)
# The review log keeps the resident's messages redacted (handover_api.services.conversation_log).
REVIEWED = [*TURNS[:4], "[telefoon]"]
REVIEW_WAIT_SECONDS = 90


@dataclass
class ScaledStack:
    cfg: StackConfig
    postgres: PrivatePostgres
    redis: PrivateRedis
    rabbitmq: PrivateRabbitMQ
    log_dir: Path


@dataclass
class _Shared:
    stack: ScaledStack | None = None
    error: BaseException | None = None
    exits: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)


_SHARED = _Shared()


def scaled_stack(request: pytest.FixtureRequest) -> ScaledStack:
    """The session's scaled-out stack, started on first use, stopped at the session's end."""
    if _SHARED.error is not None:
        pytest.fail(f"the scaled-out stack did not start: {_SHARED.error!r}")
    if _SHARED.stack is not None:
        return _SHARED.stack
    model = latest_model()
    assert model is not None, "no trained model: run ./voordeur train first"
    exits = _SHARED.exits
    session = request.session
    request.config.add_cleanup(exits.close)
    # Not pytest's tmp_path: PostgreSQL's user must be able to reach its directory.
    base = Path(tempfile.mkdtemp(prefix="voordeur-scaled-"))
    base.chmod(0o711)
    exits.callback(shutil.rmtree, base, True)
    log_dir = base / "var" / "logs"
    exits.callback(_print_logs_if_failed, session, log_dir, base)
    try:
        postgres = exits.enter_context(PrivatePostgres(base / "postgres"))
        redis = exits.enter_context(PrivateRedis(base / "redis"))
        rabbitmq = exits.enter_context(PrivateRabbitMQ(base / "rabbitmq"))
        database = f"voordeur_scaled_{uuid.uuid4().hex[:8]}"
        postgres.create_database(database)
        postgres.create_database(f"{database}_tracker")
        cfg = StackConfig.production_profile(
            model,
            database,
            postgres_port=postgres.port,
            redis_port=redis.port,
            rabbitmq_port=rabbitmq.port,
            api_port=free_port(),
            actions_port=free_port(),
            rasa_port=free_port(),
            var_dir=base / "var",
            service_token=E2E_SERVICE_TOKEN,
            twilio_account_sid=E2E_TWILIO_ACCOUNT_SID,
            twilio_auth_token=E2E_TWILIO_AUTH_TOKEN,
            env="test",
            rasa_instances=2,
            action_servers=2,
            api_workers=2,
            worker_interval_seconds=1.0,
        )
        exits.enter_context(running_stack(cfg, log_dir=log_dir))
    except BaseException as exc:
        _SHARED.error = exc
        raise
    _SHARED.stack = ScaledStack(cfg, postgres, redis, rabbitmq, log_dir)
    return _SHARED.stack


def _print_logs_if_failed(session: pytest.Session, log_dir: Path, base: Path) -> None:
    if not session.testsfailed and _SHARED.error is None:
        return
    for log in [*sorted(log_dir.glob("*.log")), base / "postgres" / "postgres.log"]:
        if log.exists():
            print(f"--- {log.name} (last lines)")
            print("\n".join(log.read_text(errors="replace").splitlines()[-60:]))


def say(url: str, sender: str, text: str) -> str:
    """One turn on the REST channel of the Rasa server (or balancer) at `url`; the answer."""
    resp = httpx.post(
        f"{url}/webhooks/rest/webhook",
        json={"sender": sender, "message": text, "metadata": {"channel": "web"}},
        timeout=120,
    )
    resp.raise_for_status()
    return "\n".join(m.get("text", "") for m in resp.json())


def turn(url: str, sender: str, number: int) -> str:
    """Turn `number` (0-based) of TURNS; asserts its answer shows the conversation's state."""
    answer = say(url, sender, TURNS[number])
    assert EXPECTED[number] in answer, f"turn {number + 1} via {url}: {answer!r}"
    return answer


def new_sender(name: str) -> str:
    return f"e2e-{name}-{uuid.uuid4().hex[:8]}"


def handovers_of_conversation(cfg: StackConfig, reference: str) -> int:
    """How many handovers the conversation behind `reference` has in the handover database."""
    engine = conversation_database(cfg)
    try:
        with Session(engine) as session:
            conversation = session.scalar(
                select(Handover.conversation_id).where(Handover.reference == reference)
            )
            assert conversation is not None, f"no handover {reference}"
            return int(
                session.scalar(
                    select(func.count())
                    .select_from(Handover)
                    .where(Handover.conversation_id == conversation)
                )
                or 0
            )
    finally:
        engine.dispose()


def reviewed_user_texts(cfg: StackConfig, sender: str) -> list[str]:
    """The resident's messages in the review log (RabbitMQ -> review consumer), in order,
    once at least len(TURNS) arrived (or after REVIEW_WAIT_SECONDS)."""
    key = sender_key(cfg.service_token, sender)
    engine = conversation_database(cfg)
    texts: list[str] = []
    try:
        deadline = time.monotonic() + REVIEW_WAIT_SECONDS
        while time.monotonic() < deadline:
            texts = _user_texts(engine, key)
            if len(texts) >= len(TURNS):
                time.sleep(2)  # anything still arriving (a duplicate) arrives now
                return _user_texts(engine, key)
            time.sleep(0.5)
        return texts
    finally:
        engine.dispose()


def _user_texts(engine: Engine, key: str) -> list[str]:
    with Session(engine) as session:
        ids = select(Conversation.id).where(Conversation.sender_key == key)
        events = session.scalars(
            select(ConversationEvent)
            .where(ConversationEvent.conversation_id.in_(ids), ConversationEvent.sender == "user")
            .order_by(ConversationEvent.at, ConversationEvent.id)
        ).all()
        return [e.text for e in events]


def assert_complete(stack: ScaledStack, sender: str, last_answer: str) -> str:
    """The conversation ended in exactly one handover, and the review log has every turn once.
    Returns the reference."""
    match = REFERENCE.search(last_answer)
    assert match, last_answer
    reference = match.group(0)
    assert handovers_of_conversation(stack.cfg, reference) == 1
    # What the receiving organisation's case worker sees: the one handover and its transcript.
    token = staff_token(stack.cfg, f"e2e-{uuid.uuid4().hex[:8]}", "peel61")
    with httpx.Client(
        base_url=stack.cfg.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as api:
        listing = api.get("/api/v1/handovers", params={"page_size": 100})
        assert listing.status_code == 200, listing.text
        found = [h for h in listing.json()["items"] if h["reference"] == reference]
        assert len(found) == 1, found
        transcript = api.get(f"/api/v1/handovers/{found[0]['id']}/transcript")
        assert transcript.status_code == 200, transcript.text
        users = [e["text"] for e in transcript.json()["events"] if e["sender"] == "user"]
        assert users == REVIEWED, users
    # The front office's review log, filled through RabbitMQ by the review consumer.
    texts = reviewed_user_texts(stack.cfg, sender)
    assert texts == REVIEWED, texts
    return reference
