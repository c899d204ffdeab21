"""When one call must be over: its deadline, carried to every socket wait.

A :class:`Deadline` is made per call. It hands the HTTP library timeouts that are
:class:`Budget` values — plain numbers of seconds (the library uses them as ever) that also
carry their deadline, whose ``until`` is the moment (``time.monotonic()``) the call must end.
The connection pool's network streams (:mod:`._pool`) shorten every connect, read and write
to what is left before ``until`` and fail the wait at once when nothing is left, so neither a server that trickles one
byte a second nor a silent one holds a call past its deadline, sync or async.

The rules:

* a non-streaming call (its retries and waits included) ends ``seconds`` after it started
  (``timeout.deadline``, or the call's ``deadline=``);
* a stream ends when it has made no progress — no event other than a keep-alive ``ping``
  (SSE comments and blank lines are never events) — for ``progress`` seconds since it started
  or since the caller took its last progress (``timeout.stream_progress``; time the caller
  spends between events is not the server's stall), or ``seconds`` after it started
  when a total is set (``timeout.stream_deadline``, or the call's ``deadline=``).
"""

from __future__ import annotations

import math
import time

__all__ = ["KEEP_ALIVE_EVENTS", "Budget", "Deadline"]

KEEP_ALIVE_EVENTS = frozenset({"ping"})
"""SSE event names that are keep-alives, not progress (Anthropic's ``ping``)."""

TOTAL = "total"
PROGRESS = "progress"
TIE = 0.75
"""The fraction of a timeout below which a wait cut short by the deadline fails as the deadline's."""


class Budget(float):
    """A timeout in seconds that also ends when its :attr:`deadline` does.

    The value itself (what the HTTP library sees) never changes; the deadline's ``until`` may
    move on (a stream's progress).
    """

    __slots__ = ("deadline",)

    deadline: Deadline

    def left(self) -> float:
        """How long one wait may take now: the timeout, or what is left of the deadline when that is shorter.

        The result is negative once the deadline has passed. Sets the deadline's ``cut``: whether
        a timeout of this wait is the deadline's — it is when the deadline cut the wait to less
        than :data:`TIE` of the timeout; a deadline ending about when the timeout would (as
        ``stream_progress`` does by default, being ``read``) leaves the timeout's own error.
        """
        deadline = self.deadline
        left = deadline.until - time.monotonic()
        if left < self:
            deadline.cut = left < self * TIE
            return left
        deadline.cut = False
        return float(self)


class Deadline:
    """The end of one call (see the module docstring for the rules).

    ``seconds`` is the total (``None``: none, for a stream); ``progress`` is a stream's
    longest time without progress (``None`` for a non-streaming call). ``setting`` names what
    sets the total (``timeout.deadline``, ``timeout.stream_deadline`` or ``deadline=``), for
    the error message.
    """

    __slots__ = ("_total_at", "cut", "progress", "seconds", "setting", "until")

    def __init__(
        self, seconds: float | None, *, progress: float | None = None, setting: str = "timeout.deadline"
    ) -> None:
        now = time.monotonic()
        self.seconds = seconds
        self.progress = progress
        self.setting = setting
        self._total_at = math.inf if seconds is None else now + seconds
        self.until = self._total_at if progress is None else min(self._total_at, now + progress)
        """The moment (``time.monotonic()``) the call must end, as things stand (progress moves it on)."""
        self.cut = False
        """Whether the deadline shortened the last wait (so a timeout of that wait is the deadline's)."""

    def budget(self, seconds: float) -> Budget:
        """A timeout of ``seconds`` bounded by this deadline."""
        budget = Budget(seconds)
        budget.deadline = self
        return budget

    def timeouts(self, connect: float, read: float) -> dict[str, float]:
        """The HTTP library's timeout extension for one attempt: every wait bounded by this deadline."""
        connect_budget, read_budget = Budget(connect), Budget(read)
        connect_budget.deadline = read_budget.deadline = self
        pool = min(read, max(self.until - time.monotonic(), 0.0))
        return {"connect": connect_budget, "read": read_budget, "write": read_budget, "pool": pool}

    def progressed(self) -> None:
        """A stream made progress: it may run ``progress`` seconds more (never past its total)."""
        if self.progress is not None:
            self.until = min(self._total_at, time.monotonic() + self.progress)

    def end_within(self, seconds: float) -> None:
        """From now on the call waits at most ``seconds`` for anything (a stream's progress gives no more)."""
        self.until = min(self.until, time.monotonic() + seconds)
        if self.progress is not None:
            self.progress = min(self.progress, seconds)

    def left(self) -> float:
        """Seconds left before the deadline (negative once it has passed)."""
        return self.until - time.monotonic()

    def expired(self) -> str | None:
        """Which limit ended the last wait: ``"total"``, ``"progress"``, or ``None`` (the wait's own timeout)."""
        if not self.cut:
            return None
        return TOTAL if time.monotonic() >= self._total_at else PROGRESS
