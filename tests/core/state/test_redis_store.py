"""The Redis store's own promises: TTLs on every key, prefixes, and failing fast and masked."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
import redis
from chatpipe.state import Breaker, Quota, RedisStore, StoreUnreachable

LONG = 60.0


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_every_key_written_expires_by_itself(redis_url: str):
    store = RedisStore(redis_url, prefix="ttl")
    quota = Quota(calls=5, tokens=1000, concurrency=5, window=30)
    lease = store.acquire("limit:p", quota, 10, 120).lease
    assert lease is not None
    store.release("limit:p", quota, lease, 12)
    store.acquire("limit:p", quota, 10, 120)
    breaker = Breaker(failures=3, window=20, duration=10)
    store.record("route:r:a", breaker, failed=True)
    store.record("route:r:b", breaker, failed=True, retry_after=5)
    store.admit("route:r:b", breaker)
    client = redis.Redis.from_url(redis_url)
    keys = client.keys("ttl:*")
    assert len(keys) == 5  # calls, tokens, leases of the limit; two health records
    ttls = {key.decode(): client.pttl(key) for key in keys}
    assert all(0 < ttl <= 130_000 for ttl in ttls.values()), ttls
    assert all(key.startswith("ttl:{") for key in ttls)  # one hash tag per record: one cluster slot
    store.close()


def test_prefixes_keep_deployments_apart(redis_url: str):
    blue, green = RedisStore(redis_url, prefix="blue"), RedisStore(redis_url, prefix="green")
    quota = Quota(calls=1, window=LONG)
    assert blue.acquire("k", quota, 0, LONG).lease is not None
    assert green.acquire("k", quota, 0, LONG).lease is not None
    assert blue.acquire("k", quota, 0, LONG).lease is None
    blue.close()
    green.close()


def test_two_clients_share_one_count(redis_url: str):
    first, second = RedisStore(redis_url), RedisStore(redis_url)
    quota = Quota(concurrency=1)
    assert first.acquire("k", quota, 0, LONG).lease is not None
    assert second.acquire("k", quota, 0, LONG).lease is None
    first.close()
    second.close()


def test_an_unreachable_server_fails_fast_with_the_password_masked():
    url = f"redis://:hunter2-secret@127.0.0.1:{_closed_port()}/0"
    store = RedisStore(url, timeout=0.5)
    assert "hunter2" not in repr(store) and "hunter2" not in store.description
    started = time.monotonic()
    with pytest.raises(StoreUnreachable) as caught:
        store.acquire("k", Quota(calls=1), 0, LONG)
    assert time.monotonic() - started < 2
    assert "hunter2" not in str(caught.value) and caught.value.__cause__ is None
    assert "127.0.0.1" in str(caught.value)

    async def run() -> None:
        with pytest.raises(StoreUnreachable):
            await store.aadmit("t", Breaker())

    asyncio.run(run())


def test_a_server_that_never_answers_is_given_up_after_the_timeout():
    with socket.socket() as silent:  # accepts connections (the backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        store = RedisStore(f"redis://127.0.0.1:{silent.getsockname()[1]}/0", timeout=0.3)
        started = time.monotonic()
        with pytest.raises(StoreUnreachable):
            store.in_flight(["k"])
        assert time.monotonic() - started < 2
