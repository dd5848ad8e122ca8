"""The MessageSid stores: claim with a lease, mark done, release — across processes."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.channels import twilio_dedup
from bot.channels.twilio_dedup import (
    ClaimOutcome,
    DedupStore,
    MemoryDedupStore,
    RedisDedupStore,
    SqliteDedupStore,
    dedup_store_from_url,
)

REDIS_URL = "redis://127.0.0.1:6379/0"


async def _semantics(first: DedupStore, second: DedupStore) -> None:
    """What every store must do; `second` is another process (or the same one restarted)."""
    claim = await first.claim("SMa")
    assert claim.outcome is ClaimOutcome.CLAIMED and claim.token
    assert (await second.claim("SMa")).outcome is ClaimOutcome.IN_PROGRESS
    await first.mark_done("SMa", claim.token)
    assert (await second.claim("SMa")).outcome is ClaimOutcome.DONE
    assert (await first.claim("SMa")).outcome is ClaimOutcome.DONE

    failed = await first.claim("SMb")
    await first.release("SMb", failed.token)  # handling failed: the retry must be handled
    retry = await second.claim("SMb")
    assert retry.outcome is ClaimOutcome.CLAIMED
    await first.release("SMb", failed.token)  # a stale release must not free someone else's claim
    assert (await first.claim("SMb")).outcome is ClaimOutcome.IN_PROGRESS
    await second.mark_done("SMb", retry.token)
    assert (await first.claim("SMb")).outcome is ClaimOutcome.DONE


async def _only_one_wins(stores: list[DedupStore], sid: str) -> None:
    claims = await asyncio.gather(*(stores[i % len(stores)].claim(sid) for i in range(20)))
    outcomes = [c.outcome for c in claims]
    assert outcomes.count(ClaimOutcome.CLAIMED) == 1
    assert outcomes.count(ClaimOutcome.IN_PROGRESS) == 19


async def _lease_expires(store: DedupStore, sid: str) -> None:
    """A claim of a crashed process (never done, never released) frees itself."""
    assert (await store.claim(sid)).claimed
    assert (await store.claim(sid)).outcome is ClaimOutcome.IN_PROGRESS
    await asyncio.sleep(0.3)
    assert (await store.claim(sid)).claimed


async def test_sqlite_store_is_shared_by_two_instances_and_survives_a_restart(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sub" / "seen.sqlite3"  # the folder is created
    await _semantics(SqliteDedupStore(path), SqliteDedupStore(path))
    restarted = SqliteDedupStore(path)
    assert (await restarted.claim("SMa")).outcome is ClaimOutcome.DONE


async def test_sqlite_store_lets_only_one_of_many_concurrent_claims_win(tmp_path: Path) -> None:
    path = tmp_path / "seen.sqlite3"
    await _only_one_wins([SqliteDedupStore(path), SqliteDedupStore(path)], "SMrace")


async def test_sqlite_lease_expires_and_done_ttl_expires(tmp_path: Path) -> None:
    store = SqliteDedupStore(tmp_path / "s.sqlite3", lease_seconds=0.2, done_ttl_seconds=0.2)
    await _lease_expires(store, "SMlease")
    claim = await store.claim("SMttl")
    await store.mark_done("SMttl", claim.token)
    assert (await store.claim("SMttl")).outcome is ClaimOutcome.DONE
    await asyncio.sleep(0.3)
    assert (await store.claim("SMttl")).claimed  # long gone: the table does not grow forever


async def test_memory_store_has_the_same_semantics() -> None:
    store = MemoryDedupStore()
    await _semantics(store, store)
    await _lease_expires(MemoryDedupStore(lease_seconds=0.2), "SMlease")


@pytest.fixture
async def redis_stores() -> AsyncIterator[tuple[RedisDedupStore, RedisDedupStore]]:
    """Two Redis stores (two replicas) on the local Redis, under a random key prefix."""
    from redis import asyncio as redis_asyncio

    admin = redis_asyncio.Redis.from_url(REDIS_URL)
    try:
        await admin.ping()
    except Exception as exc:  # only when this machine has no Redis at all
        await admin.close()
        pytest.skip(f"no Redis at {REDIS_URL} ({type(exc).__name__}); start redis-server")
    prefix = f"voordeur-test:{uuid.uuid4().hex}:"
    stores = (
        RedisDedupStore(REDIS_URL, prefix=prefix, lease_seconds=0.2),
        RedisDedupStore(REDIS_URL, prefix=prefix, lease_seconds=0.2),
    )
    try:
        yield stores
    finally:
        for store in stores:
            await store.close()
        keys = [key async for key in admin.scan_iter(match=f"{prefix}*")]
        if keys:
            await admin.delete(*keys)
        await admin.close()


async def test_redis_store_is_shared_by_two_replicas(
    redis_stores: tuple[RedisDedupStore, RedisDedupStore],
) -> None:
    first, second = redis_stores
    await _semantics(first, second)
    await _only_one_wins([first, second], "SMrace")
    # done is kept for a long time, a claim only for its lease
    from redis import asyncio as redis_asyncio

    admin = redis_asyncio.Redis.from_url(REDIS_URL)
    try:
        assert await admin.ttl(first.key("SMa")) > 47 * 3600
        assert 0 < await admin.pttl(first.key("SMrace")) <= 200
    finally:
        await admin.close()
    await _lease_expires(first, "SMlease")


def test_the_store_is_chosen_by_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(twilio_dedup.DEDUP_URL_ENV, raising=False)
    monkeypatch.setenv("VOORDEUR_VAR_DIR", str(tmp_path / "var"))
    default = dedup_store_from_url()
    assert isinstance(default, SqliteDedupStore)
    assert default.path == tmp_path / "var" / "twilio_seen.sqlite3" and default.path.exists()

    monkeypatch.delenv("VOORDEUR_VAR_DIR")
    assert twilio_dedup.default_sqlite_path() == twilio_dedup.REPO / "var" / "twilio_seen.sqlite3"

    absolute = dedup_store_from_url(f"sqlite:///{tmp_path / 'abs.sqlite3'}")
    assert isinstance(absolute, SqliteDedupStore) and absolute.path == tmp_path / "abs.sqlite3"

    monkeypatch.setenv(twilio_dedup.DEDUP_URL_ENV, f"{REDIS_URL}?prefix=tenant:helmond:")
    from_env = dedup_store_from_url()
    assert isinstance(from_env, RedisDedupStore)
    assert from_env.prefix == "tenant:helmond:" and from_env.url == REDIS_URL
    assert isinstance(dedup_store_from_url("redis://localhost"), RedisDedupStore)
    assert dedup_store_from_url("redis://localhost").prefix == twilio_dedup.DEFAULT_REDIS_PREFIX

    assert isinstance(dedup_store_from_url("memory://"), MemoryDedupStore)  # argument wins
    with pytest.raises(ValueError, match="unknown store"):
        dedup_store_from_url("postgresql://x")
    with pytest.raises(ValueError, match="sqlite:///"):
        dedup_store_from_url("sqlite://")
