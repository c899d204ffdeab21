"""One routed call's way through the targets: what to try next, what each failure means.

A :class:`Hops` is the pure part of a routed call, shared by the four drivers (complete,
acomplete, stream, astream), which do the I/O: asking the store whether a target may be
called (its cooldown), calling it, telling the store how it went. The rules it applies are
:class:`~chatpipe.config.RouteConfig`'s:

* a failure named by ``fallback_on`` moves on to the next target (its own rate limit too:
  :class:`~chatpipe.errors.LimitExceededError` is a ``rate_limit``); any other is raised as
  it is; a context-length error moves on to the ``context_fallbacks`` only;
* a target cooling down is skipped (a :class:`~chatpipe.errors.CoolingDownError` failure);
* when every target has been tried and some were skipped only for their own rate limit, the
  one with room soonest is called once more, now waiting for room (up to its ``max_wait``);
* a call's ``deadline=`` bounds all hops together: each target gets what is left;
* when nothing is left, :class:`~chatpipe.errors.AllTargetsFailedError` lists every failure.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ..config._schema import fallback_condition
from ..errors import (
    AllTargetsFailedError,
    APITimeoutError,
    ContextLengthError,
    CoolingDownError,
    LimitExceededError,
    ProviderError,
    RateLimitError,
)

if TYPE_CHECKING:
    from ..pipeline import Pipeline
    from ..state import Admission

__all__ = ["Hops", "Target"]


@attrs.frozen
class Target:
    """A router's target: its ``name`` (a profile), its ``pipe`` and its ``weight``."""

    name: str
    pipe: Pipeline
    weight: float = 1.0


class Hops:
    """The progress of one routed call (see the module docs).

    ``order`` is the strategy's order of the targets; ``context_targets`` the context
    fallbacks; ``fallback_on`` the conditions that move on; ``call`` the call's arguments
    (``deadline`` among them); ``wait`` the most an outer router lets it wait for room
    (``None``: no bound but the targets' ``max_wait``).
    """

    def __init__(
        self,
        order: list[Target],
        context_targets: tuple[Target, ...],
        fallback_on: frozenset[str],
        call: Mapping[str, Any],
        wait: float | None,
    ) -> None:
        self.left = order
        self.context_targets = context_targets
        self.fallback_on = fallback_on
        self.moves_on_limits = "rate_limit" in fallback_on
        self.call = call
        self.wait = wait
        self.failures: list[tuple[str, ProviderError]] = []
        self._limited: list[tuple[Target, float]] = []
        self._waited = False
        self._deadline = call["deadline"]
        self._ends = None if self._deadline is None else time.monotonic() + self._deadline

    def next(self) -> tuple[Target, Mapping[str, Any], float | None] | None:
        """The next target with its call arguments and its wait for room; ``None``: none left."""
        if self.left:
            target = self.left.pop(0)
            wait: float | None = 0.0 if self.moves_on_limits else self.wait
        elif self._limited and not self._waited:
            self._waited = True
            target = min(self._limited, key=lambda item: item[1])[0]
            wait = self.wait
        else:
            return None
        if self._ends is None:
            return target, self.call, wait
        remaining = self._ends - time.monotonic()
        if remaining <= 0:
            self.failures.append(
                (
                    target.name,
                    APITimeoutError(f"the call's deadline of {self._deadline:g} s ran out before this target"),
                )
            )
            raise AllTargetsFailedError(self.failures) from None
        bounded = remaining if wait is None else min(wait, remaining)
        return target, {**self.call, "deadline": remaining}, bounded

    def cooling(self, target: Target, admission: Admission) -> None:
        """``target`` was not called: it is cooling down."""
        self.failures.append(
            (
                target.name,
                CoolingDownError(
                    f"skipped: it failed repeatedly and cools down for {admission.retry_after:.1f} s more",
                    retry_after=admission.retry_after,
                ),
            )
        )

    def failed(self, target: Target, error: ProviderError) -> bool:
        """Note ``target``'s failure; raises it when it does not move on. Returns whether it
        counts against the target's health (its own rate limit and a long context do not)."""
        self.failures.append((target.name, error))
        if isinstance(error, ContextLengthError):
            tried = {name for name, _ in self.failures}
            self.left = [t for t in self.context_targets if t.name not in tried]
            if not self.left and len(self.failures) == 1:
                raise error
            return False
        if isinstance(error, LimitExceededError):
            if not self.moves_on_limits:
                raise error
            self._limited.append((target, error.retry_after or 0.0))
            return False
        if not isinstance(error, AllTargetsFailedError) and fallback_condition(error) not in self.fallback_on:
            raise error  # a nested router that ran out of targets moves on like its targets' failures
        return True

    def exhausted(self) -> AllTargetsFailedError:
        """The error to raise when no target is left."""
        return AllTargetsFailedError(self.failures)


def retry_after(error: ProviderError) -> float | None:
    """The cooldown a failure asks for: a vendor's 429 ``Retry-After`` (``None`` otherwise)."""
    if isinstance(error, RateLimitError) and not isinstance(error, LimitExceededError):
        return error.retry_after
    return None
