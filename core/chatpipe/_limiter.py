"""A profile's rate limits (``limits: {rpm, tpm, concurrency}``) applied to its calls.

A call first takes a lease from the store (:meth:`Limiter.acquire`), waiting for room up to
``max_wait`` (or the wait it is given: ``0`` inside a router, which moves on instead), and
gives it back when it ends (:meth:`Limiter.release`) with the tokens the vendor reported, which
replace the estimate made before sending (:func:`estimate_tokens`). A pipeline without rate
limits has no limiter: the call path then pays nothing for this module.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ._observe import CURRENT
from .errors import LimitExceededError

if TYPE_CHECKING:
    from .models import Usage
    from .state import Grant, Quota, Store

__all__ = ["RATE_KEYS", "Limiter", "estimate_tokens", "used_tokens"]

RATE_KEYS = frozenset({"rpm", "tpm", "concurrency", "window", "max_wait"})
"""The ``limits`` keys that are rate limits (the others bound reply sizes: the transport's)."""

_SETTING = {"calls": "rpm", "tokens": "tpm", "concurrency": "concurrency"}
_OUTPUT_KEYS = ("max_tokens", "max_completion_tokens", "max_output_tokens")
_FIRST_POLL, _LONGEST_POLL = 0.005, 0.1
# A call waiting for a slot in flight cannot be told when one frees (another process may hold
# it), so it looks again soon: a slot is often held for less than _LONGEST_POLL.
_LONGEST_SLOT_POLL = 0.02


def estimate_tokens(body: Any) -> int:
    """A call's tokens before it is sent: its JSON body's length / 4, plus its output budget.

    The output budget is the body's ``max_tokens`` (or ``max_completion_tokens`` /
    ``max_output_tokens``) when set. Rough on purpose: the vendor's usage replaces it.
    """
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)
    reserve = 0
    if isinstance(body, Mapping):
        for key in _OUTPUT_KEYS:
            value = body.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                reserve = value
                break
    return len(text) // 4 + reserve


def used_tokens(usage: Usage | None) -> int | None:
    """The tokens a reply's usage reports (total, else prompt + completion); ``None`` if unknown."""
    if usage is None:
        return None
    if usage.total_tokens is not None:
        return usage.total_tokens
    if usage.prompt_tokens is None and usage.completion_tokens is None:
        return None
    return (usage.prompt_tokens or 0) + (usage.completion_tokens or 0)


def _report_wait(limit: str, seconds: float, *, admitted: bool) -> None:
    """Tell the observers of the call in progress (if any) that it waited for room in ``limit``."""
    observed = CURRENT.get()
    if observed is not None:
        observed.rate_limit_wait(limit, seconds, admitted)


class Limiter:
    """The limits ``quota`` of ``profile`` kept in ``store`` under ``key``.

    ``max_wait`` is how long a call may wait for room by default; ``lease_ttl`` how long a
    lease may be held before it ends by itself (the longest a call can take); ``settings`` the
    config key path of the limits, for messages (``profiles.NAME.limits``). ``prepare``, when
    given, is called (with ``is_async``) before each lease is asked for, to get the call ready
    to leave at once when it is granted (the pipeline builds its HTTP pool).
    """

    def __init__(
        self,
        store: Store,
        key: str,
        quota: Quota,
        *,
        max_wait: float,
        lease_ttl: float,
        profile: str,
        settings: str,
        per_minute: Mapping[str, int | None],
        prepare: Callable[[bool], None] | None = None,
    ) -> None:
        self.store, self.key, self.quota = store, key, quota
        self.max_wait, self.lease_ttl = max_wait, lease_ttl
        self.counts_tokens = quota.tokens is not None
        self._releases = quota.holds_leases or self.counts_tokens
        self._profile, self._settings, self._per_minute = profile, settings, per_minute
        self._prepare = prepare

    def __repr__(self) -> str:
        return f"<Limiter {self.key} {self.quota} in {self.store.description}>"

    def _too_big(self, tokens: int) -> None:
        if self.quota.tokens is not None and tokens > self.quota.tokens:
            raise LimitExceededError(
                f"profile {self._profile!r}: this call's estimated {tokens} tokens exceed the whole "
                f"{self._settings}.tpm budget of a window ({self.quota.tokens}); raise {self._settings}.tpm",
                limit="tpm",
            )

    def _exceeded(self, grant: Grant, waited: float) -> LimitExceededError:
        setting = _SETTING.get(grant.limit or "", "concurrency")
        value = self._per_minute.get(setting)
        limit = f"{value} per minute" if setting != "concurrency" else f"{value} calls in flight"
        when = f"; room in {grant.retry_after:.2f} s" if grant.retry_after is not None else ""
        return LimitExceededError(
            f"profile {self._profile!r} is at its limit of {limit} ({self._settings}.{setting}, "
            f"counted {'across processes in the shared state' if self.store.shared else 'in this process'}); "
            f"waited {waited:.2f} s ({self._settings}.max_wait){when}",
            limit=setting,
            retry_after=grant.retry_after,
        )

    @staticmethod
    def _pause(grant: Grant, poll: float, left: float) -> float:
        import random  # only a call that waits for its limit needs it (~1.3 ms to import)

        base = grant.retry_after if grant.retry_after is not None else poll
        return min(max(base, 0.001) + random.random() * 0.005, left)

    @staticmethod
    def _next_poll(grant: Grant, poll: float) -> float:
        """The backoff after ``poll``: doubling up to a cap, a short one while waiting for a slot."""
        return min(poll * 2, _LONGEST_SLOT_POLL if grant.retry_after is None else _LONGEST_POLL)

    def acquire(self, tokens: int, wait: float | None = None) -> str:
        """A lease for a call of ``tokens`` estimated tokens.

        Waits for room up to ``max_wait``, or ``wait`` when that is shorter (``0``: not at all);
        then raises :class:`~chatpipe.errors.LimitExceededError`.
        """
        self._too_big(tokens)
        if self._prepare is not None:
            self._prepare(False)
        start = time.monotonic()
        give_up = start + (self.max_wait if wait is None else min(wait, self.max_wait))
        poll = _FIRST_POLL
        full: str | None = None
        while True:
            grant = self.store.acquire(self.key, self.quota, tokens, self.lease_ttl)
            if grant.lease is not None:
                if full is not None:
                    _report_wait(full, time.monotonic() - start, admitted=True)
                return grant.lease
            full = full or _SETTING.get(grant.limit or "", "concurrency")
            now = time.monotonic()
            if now >= give_up:
                _report_wait(full, now - start, admitted=False)
                raise self._exceeded(grant, now - start)
            time.sleep(self._pause(grant, poll, give_up - now))
            poll = self._next_poll(grant, poll)

    async def aacquire(self, tokens: int, wait: float | None = None) -> str:
        """Async twin of :meth:`acquire`."""
        self._too_big(tokens)
        if self._prepare is not None:
            self._prepare(True)
        start = time.monotonic()
        give_up = start + (self.max_wait if wait is None else min(wait, self.max_wait))
        poll = _FIRST_POLL
        full: str | None = None
        while True:
            grant = await self.store.aacquire(self.key, self.quota, tokens, self.lease_ttl)
            if grant.lease is not None:
                if full is not None:
                    _report_wait(full, time.monotonic() - start, admitted=True)
                return grant.lease
            full = full or _SETTING.get(grant.limit or "", "concurrency")
            now = time.monotonic()
            if now >= give_up:
                _report_wait(full, now - start, admitted=False)
                raise self._exceeded(grant, now - start)
            import asyncio  # (here: importing asyncio costs ~30 ms, and only async calls wait with it)

            await asyncio.sleep(self._pause(grant, poll, give_up - now))
            poll = self._next_poll(grant, poll)

    def release(self, lease: str, tokens: int | None) -> None:
        """End ``lease``; ``tokens`` (the vendor's count, when known) replaces its estimate.

        A call under windows of calls alone has nothing to end (no lease, no tokens): no round trip.
        """
        if self._releases:
            self.store.release(self.key, self.quota, lease, tokens if self.counts_tokens else None)

    async def arelease(self, lease: str, tokens: int | None) -> None:
        """Async twin of :meth:`release`."""
        if self._releases:
            await self.store.arelease(self.key, self.quota, lease, tokens if self.counts_tokens else None)
