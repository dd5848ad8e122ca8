import time

from actions.clients.handover_api import HandoverApiClient
from actions.config import get_settings
from actions.outbox import Outbox, deliver_due
from tests.actions.conftest import valid_request


def test_enqueue_is_idempotent_per_key(tmp_path) -> None:
    box = Outbox(tmp_path / "o.sqlite3")
    box.enqueue("k1", {"a": 1}, "down")
    box.enqueue("k1", {"a": 2}, "down again")
    due = box.due()
    assert [(d.idempotency_key, d.payload) for d in due] == [("k1", {"a": 1})]


def test_failure_backs_off_and_survives_reopen(tmp_path) -> None:
    path = tmp_path / "o.sqlite3"
    box = Outbox(path)
    box.enqueue("k1", {"a": 1}, "down")
    box.mark_failed("k1", "still down")
    assert box.due() == []
    reopened = Outbox(path)
    assert reopened.pending_count() == 1
    assert [d.idempotency_key for d in reopened.due(now=time.time() + 31)] == ["k1"]


async def test_deliver_due_sends_with_the_same_key_once(fake_api, tmp_path) -> None:
    box = Outbox(get_settings().outbox_path)
    box.enqueue("key-1", valid_request("VD-AAAA-01"), "down")
    client = HandoverApiClient(get_settings())
    assert await deliver_due(box, client) == 1
    assert await deliver_due(box, client) == 0
    assert len(fake_api.by_key) == 1
    assert fake_api.requests[0]["headers"]["Idempotency-Key"] == "key-1"
    assert box.pending_count() == 0


async def test_rejected_handover_is_parked_not_retried(fake_api) -> None:
    fake_api.fail_with = 422
    box = Outbox(get_settings().outbox_path)
    box.enqueue("key-2", {"reference": "VD-AAAA-02"}, "down")
    client = HandoverApiClient(get_settings())
    assert await deliver_due(box, client) == 0
    assert box.pending_count() == 0
    assert box.due(now=time.time() + 10_000) == []


async def test_server_error_keeps_it_queued(fake_api) -> None:
    fake_api.fail_with = 503
    box = Outbox(get_settings().outbox_path)
    box.enqueue("key-3", {"reference": "VD-AAAA-03"}, "down")
    assert await deliver_due(box, HandoverApiClient(get_settings())) == 0
    assert box.pending_count() == 1


def test_erasures_are_queued_once_and_survive_reopen(tmp_path) -> None:
    path = tmp_path / "o.sqlite3"
    box = Outbox(path)
    box.enqueue_erasure("c-1")
    box.enqueue_erasure("c-1")
    box.enqueue_erasure("c-2")
    reopened = Outbox(path)
    assert reopened.due_erasures() == ["c-1", "c-2"]
    assert reopened.pending_count() == 2
    reopened.mark_erasure_delivered("c-1")
    assert box.due_erasures() == ["c-2"] and box.pending_count() == 1


async def test_deliver_due_sends_queued_erasures(fake_api) -> None:
    box = Outbox(get_settings().outbox_path)
    box.enqueue_erasure("c-abc")
    client = HandoverApiClient(get_settings())
    assert await deliver_due(box, client) == 0  # no handovers among them
    assert fake_api.erased == ["c-abc"]
    assert [(r["method"], r["path"]) for r in fake_api.requests] == [
        ("DELETE", "/api/v1/conversations/c-abc")
    ]
    assert box.pending_count() == 0
    await deliver_due(box, client)
    assert len(fake_api.requests) == 1  # delivered once


async def test_erasure_waits_while_the_api_is_down(fake_api) -> None:
    fake_api.fail_with = 502
    box = Outbox(get_settings().outbox_path)
    box.enqueue_erasure("c-abc")
    await deliver_due(box, HandoverApiClient(get_settings()))
    assert box.due_erasures() == ["c-abc"] and fake_api.erased == []
