"""What a call does when the shared store does not answer: ``state.on_state_error``.

* ``open`` (the default): keep serving. The operation is answered by an in-process store
  instead, a warning is logged (at most once per :data:`WARN_EVERY` seconds), and the shared
  store is left alone for :data:`RETRY_AFTER` seconds before it is tried again, so a down
  server costs one timeout per few seconds, not one per call. Limits then hold per process.
* ``closed``: refuse the call with :class:`~chatpipe.errors.StateUnavailableError` before
  anything is sent (limits that cannot be checked are not exceeded).

Either way, ending a call (``release``, ``record``, ``spend``) never fails the call: its reply has
arrived. A lease the shared store could not be told about ends there by its TTL.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from .._log import get_logger
from ..config._schema import ON_STATE_ERROR
from ._local import LocalStore
from ._store import Admission, Breaker, Grant, Quota, Spent, Store, StoreUnreachable

__all__ = ["GuardedStore"]

WARN_EVERY = 30.0
RETRY_AFTER = 5.0

_log = get_logger("state")
_T = TypeVar("_T")
_LOCAL = "local:"  # leases granted by the fallback store carry this prefix


class GuardedStore:
    """``remote`` with the ``on_state_error`` policy ``mode`` applied (see the module docs)."""

    def __init__(self, remote: Store, mode: str = "open", *, clock: Callable[[], float] = time.monotonic) -> None:
        if mode not in ON_STATE_ERROR:
            from ..errors import ConfigError

            raise ConfigError(
                f"state.on_state_error must be one of {', '.join(ON_STATE_ERROR)}, not {mode!r}",
                path="state.on_state_error",
            )
        self.remote, self.mode = remote, mode
        self.description = remote.description
        self.shared = remote.shared
        self._fallback = LocalStore()
        self._clock = clock
        self._skip_until = 0.0
        self._warned_at: float | None = None

    def __repr__(self) -> str:
        return f"<GuardedStore {self.remote!r} on_state_error={self.mode}>"

    # --- the policy -----------------------------------------------------------------------

    def _usable(self) -> bool:
        return self.mode == "closed" or self._clock() >= self._skip_until

    def _failed(self, error: StoreUnreachable, ending: bool = False) -> None:
        """Note an unreachable store: raise (``closed``, unless a call is ending) or warn and fall back."""
        now = self._clock()
        if self.mode == "closed" and not ending:
            from ..errors import StateUnavailableError

            raise StateUnavailableError(
                f"the shared state did not answer: {error}; the call was not sent "
                "(state.on_state_error is 'closed'; 'open' keeps serving with in-process limits)"
            ) from None
        self._skip_until = now + RETRY_AFTER
        if self._warned_at is None or now - self._warned_at >= WARN_EVERY:
            self._warned_at = now
            _log.warning("%s; limits, cooldowns and in-flight counts are kept in this process until it answers", error)

    def _call(self, shared: Callable[[], _T], local: Callable[[], _T]) -> _T:
        if self._usable():
            try:
                return shared()
            except StoreUnreachable as error:
                self._failed(error)
        return local()

    async def _acall(self, shared: Callable[[], Awaitable[_T]], local: Callable[[], _T]) -> _T:
        if self._usable():
            try:
                return await shared()
            except StoreUnreachable as error:
                self._failed(error)
        return local()

    def _end(self, shared: Callable[[], object]) -> None:
        try:
            shared()
        except StoreUnreachable as error:
            self._failed(error, ending=True)

    async def _aend(self, shared: Callable[[], Awaitable[object]]) -> None:
        try:
            await shared()
        except StoreUnreachable as error:
            self._failed(error, ending=True)

    def _local_grant(self, key: str, quota: Quota, tokens: int, ttl: float) -> Grant:
        grant = self._fallback.acquire(key, quota, tokens, ttl)
        return grant if grant.lease is None else Grant(_LOCAL + grant.lease)

    # --- Store ----------------------------------------------------------------------------

    def acquire(self, key: str, quota: Quota, tokens: int, ttl: float) -> Grant:
        return self._call(
            lambda: self.remote.acquire(key, quota, tokens, ttl), lambda: self._local_grant(key, quota, tokens, ttl)
        )

    async def aacquire(self, key: str, quota: Quota, tokens: int, ttl: float) -> Grant:
        return await self._acall(
            lambda: self.remote.aacquire(key, quota, tokens, ttl), lambda: self._local_grant(key, quota, tokens, ttl)
        )

    def release(self, key: str, quota: Quota, lease: str, tokens: int | None) -> None:
        if lease.startswith(_LOCAL):
            self._fallback.release(key, quota, lease[len(_LOCAL) :], tokens)
        else:
            self._end(lambda: self.remote.release(key, quota, lease, tokens))

    async def arelease(self, key: str, quota: Quota, lease: str, tokens: int | None) -> None:
        if lease.startswith(_LOCAL):
            self._fallback.release(key, quota, lease[len(_LOCAL) :], tokens)
        else:
            await self._aend(lambda: self.remote.arelease(key, quota, lease, tokens))

    def in_flight(self, keys: Sequence[str]) -> list[int]:
        return self._call(lambda: self.remote.in_flight(keys), lambda: self._fallback.in_flight(keys))

    async def ain_flight(self, keys: Sequence[str]) -> list[int]:
        return await self._acall(lambda: self.remote.ain_flight(keys), lambda: self._fallback.in_flight(keys))

    def admit(self, key: str, breaker: Breaker) -> Admission:
        return self._call(lambda: self.remote.admit(key, breaker), lambda: self._fallback.admit(key, breaker))

    async def aadmit(self, key: str, breaker: Breaker) -> Admission:
        return await self._acall(lambda: self.remote.aadmit(key, breaker), lambda: self._fallback.admit(key, breaker))

    def record(self, key: str, breaker: Breaker, *, failed: bool, retry_after: float | None = None) -> None:
        self._fallback.record(key, breaker, failed=failed, retry_after=retry_after)
        if self._usable():
            self._end(lambda: self.remote.record(key, breaker, failed=failed, retry_after=retry_after))

    async def arecord(self, key: str, breaker: Breaker, *, failed: bool, retry_after: float | None = None) -> None:
        self._fallback.record(key, breaker, failed=failed, retry_after=retry_after)
        if self._usable():
            await self._aend(lambda: self.remote.arecord(key, breaker, failed=failed, retry_after=retry_after))

    def spend(self, key: str, amounts: Mapping[str, float], period: float) -> None:
        if self._usable():
            try:
                self.remote.spend(key, amounts, period)
                return
            except StoreUnreachable as error:
                self._failed(error, ending=True)
        self._fallback.spend(key, amounts, period)

    async def aspend(self, key: str, amounts: Mapping[str, float], period: float) -> None:
        if self._usable():
            try:
                await self.remote.aspend(key, amounts, period)
                return
            except StoreUnreachable as error:
                self._failed(error, ending=True)
        self._fallback.spend(key, amounts, period)

    def spent(self, key: str, period: float) -> Spent:
        return self._call(lambda: self.remote.spent(key, period), lambda: self._fallback.spent(key, period))

    async def aspent(self, key: str, period: float) -> Spent:
        return await self._acall(lambda: self.remote.aspent(key, period), lambda: self._fallback.spent(key, period))

    def close(self) -> None:
        self.remote.close()

    async def aclose(self) -> None:
        await self.remote.aclose()
