"""on_state_error: what a call does when the shared store does not answer (chatpipe.state._guarded)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import pytest
from chatpipe.errors import ConfigError, StateUnavailableError
from chatpipe.state import Admission, Breaker, Grant, GuardedStore, LocalStore, Quota, StoreUnreachable

LONG = 60.0


class Switchable(LocalStore):
    """An in-process store that can be made unreachable, counting the calls that reached it."""

    description = "Redis at redis://127.0.0.1:1/0"

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.calls = 0

    def _check(self) -> None:
        self.calls += 1
        if self.down:
            raise StoreUnreachable(f"{self.description} did not answer (ConnectionError: refused)")

    def acquire(self, key: str, quota: Quota, tokens: int, ttl: float) -> Grant:
        self._check()
        return super().acquire(key, quota, tokens, ttl)

    def release(self, key: str, quota: Quota, lease: str, tokens: int | None) -> None:
        self._check()
        super().release(key, quota, lease, tokens)

    def in_flight(self, keys: Sequence[str]) -> list[int]:
        self._check()
        return super().in_flight(keys)

    def admit(self, key: str, breaker: Breaker) -> Admission:
        self._check()
        return super().admit(key, breaker)

    def record(self, key: str, breaker: Breaker, *, failed: bool, retry_after: float | None = None) -> None:
        self._check()
        super().record(key, breaker, failed=failed, retry_after=retry_after)

    async def aacquire(self, key: str, quota: Quota, tokens: int, ttl: float) -> Grant:
        return self.acquire(key, quota, tokens, ttl)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_open_keeps_serving_from_the_process_and_warns_once(caplog: pytest.LogCaptureFixture):
    shared, clock = Switchable(), Clock()
    store = GuardedStore(shared, "open", clock=clock)
    quota = Quota(calls=2, window=LONG)
    shared.down = True
    with caplog.at_level(logging.WARNING, logger="chatpipe.state"):
        grants = [store.acquire("k", quota, 0, LONG) for _ in range(3)]
    assert [g.lease is not None for g in grants] == [True, True, False]  # the local limit still holds
    assert shared.calls == 1  # the down store is left alone for a few seconds, not asked per call
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "in this process" in warnings[0].getMessage()
    store.release("k", quota, grants[0].lease or "", 5)  # a local lease goes back to the local store

    clock.now += 10  # past the pause: the shared store is asked again, and answers
    shared.down = False
    assert store.acquire("k", quota, 0, LONG).lease is not None
    assert shared.calls == 2


def test_closed_refuses_the_call_and_names_the_setting():
    shared = Switchable()
    store = GuardedStore(shared, "closed")
    shared.down = True
    with pytest.raises(StateUnavailableError) as caught:
        store.acquire("k", Quota(calls=1), 0, LONG)
    message = str(caught.value)
    assert "on_state_error" in message and "redis://127.0.0.1:1/0" in message
    with pytest.raises(StateUnavailableError):
        store.admit("t", Breaker())
    with pytest.raises(StateUnavailableError):
        asyncio.run(store.aacquire("k", Quota(calls=1), 0, LONG))


@pytest.mark.parametrize("mode", ["open", "closed"])
def test_ending_a_call_never_fails_it(mode: str):
    shared = Switchable()
    store = GuardedStore(shared, mode)
    lease = store.acquire("k", Quota(concurrency=1), 0, LONG).lease
    shared.down = True
    store.release("k", Quota(concurrency=1), lease or "", 10)  # no exception: the reply has arrived
    store.record("t", Breaker(), failed=True)


def test_an_unknown_mode_is_a_config_error():
    with pytest.raises(ConfigError, match="on_state_error"):
        GuardedStore(LocalStore(), "sometimes")
