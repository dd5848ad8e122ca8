"""Restart one service mid-conversation and the resident's conversation goes on: every turn
after the restart is answered from the conversation's state, the handover is created exactly
once, and the front office's review log (RabbitMQ -> review consumer) has every turn once.

On the scaled-out production profile (tests/e2e/scaled_stack.py: two Rasa instances and two
action servers behind nginx) with a PostgreSQL, Redis and RabbitMQ of its own, so that
restarting them disturbs nothing else on the machine.
"""

from __future__ import annotations

import pytest

from tests.e2e.scaled_stack import (
    ScaledStack,
    assert_complete,
    new_sender,
    scaled_stack,
    turn,
)
from voordeur_cli.stack import start_service, stop_service


@pytest.fixture(scope="module")
def scaled(request: pytest.FixtureRequest) -> ScaledStack:
    return scaled_stack(request)


def test_a_rasa_instance_restarts_mid_conversation(scaled: ScaledStack) -> None:
    cfg = scaled.cfg
    first, _second = cfg.rasa_instance_urls
    sender = new_sender("rasa-restart")
    turn(cfg.rasa_url, sender, 0)
    turn(first, sender, 1)
    stop_service(cfg, "rasa-1")
    try:
        # Instance 1 refuses connections: the balancer hands the turns to instance 2.
        turn(cfg.rasa_url, sender, 2)
        turn(cfg.rasa_url, sender, 3)
    finally:
        start_service(cfg, "rasa-1")
    last = turn(first, sender, 4)  # the restarted instance picks the conversation up
    assert_complete(scaled, sender, last)


def test_the_action_servers_restart_mid_conversation(scaled: ScaledStack) -> None:
    cfg = scaled.cfg
    sender = new_sender("actions-restart")
    turn(cfg.rasa_url, sender, 0)
    turn(cfg.rasa_url, sender, 1)
    # One at a time: the turns in between run their actions on the other action server.
    for number, name in ((2, "action-server-1"), (3, "action-server-2")):
        stop_service(cfg, name)
        try:
            turn(cfg.rasa_url, sender, number)
        finally:
            start_service(cfg, name)
    # All of them at once, between two turns.
    for name in ("action-server-1", "action-server-2"):
        stop_service(cfg, name)
    for name in ("action-server-1", "action-server-2"):
        start_service(cfg, name)
    last = turn(cfg.rasa_url, sender, 4)  # the handover, by a restarted action server
    assert_complete(scaled, sender, last)


def test_postgresql_restarts_mid_conversation(scaled: ScaledStack) -> None:
    """A fast shutdown ends every connection: the tracker store (both Rasa instances), the
    handover API's workers, the worker and the review consumer reconnect."""
    cfg = scaled.cfg
    first, second = cfg.rasa_instance_urls
    sender = new_sender("postgres-restart")
    turn(cfg.rasa_url, sender, 0)
    turn(cfg.rasa_url, sender, 1)
    scaled.postgres.restart()
    turn(first, sender, 2)
    turn(second, sender, 3)
    last = turn(cfg.rasa_url, sender, 4)
    assert_complete(scaled, sender, last)


def test_rabbitmq_restarts_mid_conversation(scaled: ScaledStack) -> None:
    """While the broker is stopped the resident is still answered; the events of that turn
    reach the review log once RabbitMQ is back, none twice."""
    cfg = scaled.cfg
    sender = new_sender("rabbitmq-restart")
    turn(cfg.rasa_url, sender, 0)
    turn(cfg.rasa_url, sender, 1)
    scaled.rabbitmq.stop_app()
    try:
        turn(cfg.rasa_url, sender, 2)
    finally:
        scaled.rabbitmq.start_app()
    turn(cfg.rasa_url, sender, 3)
    last = turn(cfg.rasa_url, sender, 4)
    assert_complete(scaled, sender, last)


def test_redis_restarts_mid_conversation(scaled: ScaledStack) -> None:
    """The lock store (and Twilio's replay store) forgets everything: nothing depends on it
    between turns."""
    cfg = scaled.cfg
    sender = new_sender("redis-restart")
    turn(cfg.rasa_url, sender, 0)
    turn(cfg.rasa_url, sender, 1)
    scaled.redis.restart()
    turn(cfg.rasa_url, sender, 2)
    turn(cfg.rasa_url, sender, 3)
    last = turn(cfg.rasa_url, sender, 4)
    assert_complete(scaled, sender, last)
