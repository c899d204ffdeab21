"""The state a router and the rate limits keep, and the contract of a store that holds it.

Two families of records, each under a key the caller namespaces (``limit:<profile>``,
``route:<router>:<target>``):

* **Rate windows and leases** — :meth:`Store.acquire` admits a call when it fits a
  :class:`Quota` (calls and tokens in a sliding window, calls in flight) and records it (its
  lease only when :attr:`Quota.holds_leases`); :meth:`Store.release` ends the call's lease
  and corrects its token estimate to the real count. A lease that is never released (a
  crashed process) ends by itself after its ``ttl``. :meth:`Store.in_flight` counts the
  leases held now.
* **Health** (a circuit breaker per target) — :meth:`Store.admit` says whether a target may
  be called now: yes while it is healthy; no while it cools down; after the cooldown yes to
  exactly one caller (the probe) per cooldown period. :meth:`Store.record` reports a call's
  outcome: ``failures`` failures within ``window`` seconds (or one failure with a
  ``Retry-After``) open the breaker for ``duration`` seconds (or the ``Retry-After``); a
  success closes it.
* **Spending** (budgets per fixed period) — :meth:`Store.spend` adds amounts (``tokens``,
  ``usd``...) to the key's current period; :meth:`Store.spent` says what the current period
  holds and when it ends (:class:`Spent`). Periods are FIXED and aligned to the Unix epoch:
  the period of a time ``t`` is ``floor(t / period)``, so every process sharing a store
  agrees on when a period ends; a new period starts at zero. These times are wall-clock
  Unix times (the process's :func:`time.time`, or the Redis server's).

Every operation is atomic: concurrent callers, in threads, tasks, processes or on several
machines sharing a store, see each other's records. Times are seconds; a store measures
them with one clock (the process's monotonic clock, or the Redis server's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import attrs

__all__ = ["Admission", "Breaker", "Grant", "Quota", "Spent", "Store", "StoreUnreachable"]


@attrs.frozen
class Quota:
    """What one key admits: at most ``calls`` calls and ``tokens`` tokens in any ``window``
    seconds, and at most ``concurrency`` calls in flight (``None``: no such limit)."""

    calls: int | None = None
    tokens: int | None = None
    concurrency: int | None = None
    window: float = 60.0

    @property
    def holds_leases(self) -> bool:
        """Whether an admitted call holds a lease until released: for ``concurrency``, and for a
        quota with no limit at all (it only counts calls in flight, see :meth:`Store.in_flight`).
        A quota of windows alone records no lease: its calls need no release unless their
        tokens are corrected."""
        return self.concurrency is not None or (self.calls is None and self.tokens is None)


@attrs.frozen
class Grant:
    """The answer of :meth:`Store.acquire`.

    ``lease`` is the admitted call's id (``None``: not admitted). When not admitted,
    ``retry_after`` is the seconds until the window would have room (``None``: unknown — the
    call waits for another call in flight to end) and ``limit`` names the quota that is full
    (``"calls"``, ``"tokens"`` or ``"concurrency"``).
    """

    lease: str | None
    retry_after: float | None = None
    limit: str | None = None


@attrs.frozen
class Breaker:
    """A target's circuit breaker: ``failures`` within ``window`` seconds open it for ``duration``."""

    failures: int = 3
    window: float = 60.0
    duration: float = 30.0


@attrs.frozen
class Admission:
    """The answer of :meth:`Store.admit`.

    ``allowed``: the target may be called now; ``probe``: this call is the one probe after a
    cooldown (its outcome must be recorded); ``failures``: failures counted so far while
    healthy (a success must be recorded to clear them); ``retry_after``: when not allowed, the
    seconds until the next probe may go.
    """

    allowed: bool
    probe: bool = False
    failures: int = 0
    retry_after: float = 0.0

    @property
    def must_record_success(self) -> bool:
        """Whether a success changes anything (a probe closing the breaker, failures to clear)."""
        return self.probe or self.failures > 0


@attrs.frozen
class Spent:
    """The answer of :meth:`Store.spent`: the ``amounts`` spent in the current period (a name
    never spent is absent) and ``resets_at``, the Unix time the period ends."""

    amounts: Mapping[str, float]
    resets_at: float


def period_bounds(now: float, period: float) -> tuple[int, float]:
    """The index of the fixed period holding Unix time ``now``, and the Unix time it ends."""
    index = int(now // period)
    return index, (index + 1) * period


class Store(Protocol):
    """Where routing and rate-limit state lives (see the module docs for the semantics).

    Every method has an async twin with the same contract (``aacquire``...). A store that
    cannot reach its backend raises :class:`StoreUnreachable`.
    """

    description: str
    """How the store is named in logs: ``in-process`` or the server's URL (password masked)."""

    shared: bool
    """Whether other processes see this store's records (what error messages say, not where)."""

    def acquire(self, key: str, quota: Quota, tokens: int, ttl: float) -> Grant: ...

    def release(self, key: str, quota: Quota, lease: str, tokens: int | None) -> None: ...

    def in_flight(self, keys: Sequence[str]) -> list[int]: ...

    def admit(self, key: str, breaker: Breaker) -> Admission: ...

    def record(self, key: str, breaker: Breaker, *, failed: bool, retry_after: float | None = None) -> None: ...

    def spend(self, key: str, amounts: Mapping[str, float], period: float) -> None: ...

    def spent(self, key: str, period: float) -> Spent: ...

    async def aacquire(self, key: str, quota: Quota, tokens: int, ttl: float) -> Grant: ...

    async def arelease(self, key: str, quota: Quota, lease: str, tokens: int | None) -> None: ...

    async def ain_flight(self, keys: Sequence[str]) -> list[int]: ...

    async def aadmit(self, key: str, breaker: Breaker) -> Admission: ...

    async def arecord(self, key: str, breaker: Breaker, *, failed: bool, retry_after: float | None = None) -> None: ...

    async def aspend(self, key: str, amounts: Mapping[str, float], period: float) -> None: ...

    async def aspent(self, key: str, period: float) -> Spent: ...

    def close(self) -> None: ...

    async def aclose(self) -> None: ...


class StoreUnreachable(Exception):
    """A store's backend did not answer (connection refused or dropped, timeout, server error)."""
