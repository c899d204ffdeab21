"""The in-process store: the state of :mod:`._store` in this process's memory.

The default. Threads and asyncio tasks of one process share it (one lock, held for
microseconds, never across a wait); other processes do not see it. Times come from
:func:`time.monotonic`. Records are pruned whenever their key is used, so memory is bounded
by the calls of one window per key.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence

import attrs

from ._store import Admission, Breaker, Grant, Quota, Spent, period_bounds

__all__ = ["LocalStore"]

_HEALTHY = Admission(True)


@attrs.define
class _Window:
    calls: deque[tuple[float, str]] = attrs.Factory(deque)  # (admitted at, lease), oldest first
    tokens: dict[str, int] = attrs.Factory(dict)
    total: int = 0
    leases: dict[str, float] = attrs.Factory(dict)  # lease -> expires at

    def prune(self, now: float, window: float) -> None:
        calls, since = self.calls, now - window
        while calls and calls[0][0] <= since:
            self.total -= self.tokens.pop(calls.popleft()[1], 0)
        if self.leases:
            for lease in [lease for lease, ends in self.leases.items() if ends <= now]:
                del self.leases[lease]

    def tokens_wait(self, now: float, quota: Quota, tokens: int, limit: int) -> float:
        """Seconds until enough calls leave the window for ``tokens`` more to fit ``limit``."""
        freed = 0
        for admitted, lease in self.calls:
            freed += self.tokens.get(lease, 0)
            if self.total - freed + tokens <= limit:
                return admitted + quota.window - now
        return quota.window


@attrs.define
class _Health:
    failures: int = 0
    first: float = 0.0
    until: float | None = None
    probe: float | None = None
    expires: float = 0.0


class LocalStore:
    """The :class:`~chatpipe.state.Store` of one process (see the module docs).

    ``clock`` returns the time in seconds (default :func:`time.monotonic`; tests pass a fake);
    ``wall_clock`` the Unix time periods of spending are aligned to (default :func:`time.time`).
    """

    description = "in-process"
    shared = False

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, wall_clock: Callable[[], float] = time.time
    ) -> None:
        self._clock = clock
        self._wall_clock = wall_clock
        self._spending: dict[tuple[str, float], tuple[int, dict[str, float]]] = {}
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        self._health: dict[str, _Health] = {}
        self._ids = itertools.count(1)

    def clear(self) -> None:
        """Forget every record (tests start each from a clean store)."""
        with self._lock:
            self._windows.clear()
            self._health.clear()
            self._spending.clear()

    # --- rate windows and leases ----------------------------------------------------------

    def acquire(self, key: str, quota: Quota, tokens: int, ttl: float) -> Grant:
        with self._lock:
            now = self._clock()
            win = self._windows.get(key)
            if win is None:
                win = self._windows[key] = _Window()
            win.prune(now, quota.window)
            wait: float | None = None
            full: str | None = None
            if quota.concurrency is not None and len(win.leases) >= quota.concurrency:
                full = "concurrency"
            if quota.calls is not None and len(win.calls) >= quota.calls:
                wait, full = win.calls[0][0] + quota.window - now, full or "calls"
            if quota.tokens is not None and win.total + tokens > quota.tokens:
                tokens_wait = win.tokens_wait(now, quota, tokens, quota.tokens)
                wait, full = max(wait or 0.0, tokens_wait), full or "tokens"
            if full is not None:
                return Grant(None, None if full == "concurrency" and wait is None else wait, full)
            lease = str(next(self._ids))
            if quota.calls is not None or quota.tokens is not None:
                win.calls.append((now, lease))
            if quota.tokens is not None:
                win.tokens[lease] = tokens
                win.total += tokens
            if quota.holds_leases:
                win.leases[lease] = now + ttl
            return Grant(lease)

    def release(self, key: str, quota: Quota, lease: str, tokens: int | None) -> None:
        with self._lock:
            win = self._windows.get(key)
            if win is None:
                return
            win.leases.pop(lease, None)
            if tokens is not None and lease in win.tokens:
                win.total += tokens - win.tokens[lease]
                win.tokens[lease] = tokens

    def in_flight(self, keys: Sequence[str]) -> list[int]:
        with self._lock:
            now = self._clock()
            counts = []
            for key in keys:
                win = self._windows.get(key)
                if win is not None and win.leases:
                    win.prune(now, float("inf"))  # leases only: an infinite window keeps the calls
                counts.append(len(win.leases) if win is not None else 0)
            return counts

    # --- health ---------------------------------------------------------------------------

    def admit(self, key: str, breaker: Breaker) -> Admission:
        with self._lock:
            now = self._clock()
            health = self._current(key, now)
            if health is None:
                return _HEALTHY
            if health.until is None:
                return Admission(True, failures=health.failures)
            if now < health.until:
                return Admission(False, retry_after=health.until - now)
            if health.probe is not None and health.probe > now:
                return Admission(False, retry_after=health.probe - now)
            health.probe = now + breaker.duration
            health.expires = max(health.expires, health.probe + breaker.duration)
            return Admission(True, probe=True)

    def record(self, key: str, breaker: Breaker, *, failed: bool, retry_after: float | None = None) -> None:
        with self._lock:
            now = self._clock()
            health = self._current(key, now)
            if not failed:
                self._health.pop(key, None)
                return
            if health is None:
                health = self._health[key] = _Health(first=now)
            elif health.until is None and now - health.first > breaker.window:
                health.failures, health.first = 0, now
            if health.until is None and not retry_after:
                health.failures += 1
                if health.failures < breaker.failures:
                    health.expires = health.first + breaker.window
                    return
            cooldown = retry_after or breaker.duration
            health.until, health.probe, health.failures = now + cooldown, None, 0
            health.expires = health.until + 2 * breaker.duration

    def _current(self, key: str, now: float) -> _Health | None:
        health = self._health.get(key)
        if health is not None and health.expires <= now:
            del self._health[key]
            return None
        return health

    # --- spending --------------------------------------------------------------------------

    def spend(self, key: str, amounts: Mapping[str, float], period: float) -> None:
        with self._lock:
            index, _ = period_bounds(self._wall_clock(), period)
            found = self._spending.get((key, period))
            if found is None or found[0] != index:
                found = self._spending[(key, period)] = (index, {})
            totals = found[1]
            for name, amount in amounts.items():
                totals[name] = totals.get(name, 0.0) + amount

    def spent(self, key: str, period: float) -> Spent:
        with self._lock:
            index, resets_at = period_bounds(self._wall_clock(), period)
            found = self._spending.get((key, period))
            if found is None or found[0] != index:
                return Spent({}, resets_at)
            return Spent(dict(found[1]), resets_at)

    # --- async twins: the same calls (they never block) -------------------------------------

    async def aacquire(self, key: str, quota: Quota, tokens: int, ttl: float) -> Grant:
        return self.acquire(key, quota, tokens, ttl)

    async def arelease(self, key: str, quota: Quota, lease: str, tokens: int | None) -> None:
        self.release(key, quota, lease, tokens)

    async def ain_flight(self, keys: Sequence[str]) -> list[int]:
        return self.in_flight(keys)

    async def aadmit(self, key: str, breaker: Breaker) -> Admission:
        return self.admit(key, breaker)

    async def arecord(self, key: str, breaker: Breaker, *, failed: bool, retry_after: float | None = None) -> None:
        self.record(key, breaker, failed=failed, retry_after=retry_after)

    async def aspend(self, key: str, amounts: Mapping[str, float], period: float) -> None:
        self.spend(key, amounts, period)

    async def aspent(self, key: str, period: float) -> Spent:
        return self.spent(key, period)

    def close(self) -> None:
        """Nothing to close."""

    async def aclose(self) -> None:
        """Nothing to close."""
