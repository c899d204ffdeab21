"""Timeouts and the retry policy: plain values and pure arithmetic, no I/O."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ..errors import ConfigError
from ..vendor._retry_after import retry_after

__all__ = ["DEFAULT_DEADLINE", "Limits", "RetryPolicy", "Timeouts"]

DEFAULT_DEADLINE = 600.0
"""A non-streaming call's default total, in seconds (the official SDKs' ten minutes)."""
MiB = 1024 * 1024


def _positive(optional: bool = False) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None and optional:
            return
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or math.isinf(value):
            raise ConfigError(
                f"must be a positive number of seconds, got {value!r}",
                path=f"{type(instance).__name__}.{attribute.name}",
            )

    return check


def _size(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"must be a whole number of bytes >= 1, got {value!r}", path=f"limits.{attribute.name}")


def _non_negative(kind: type) -> Callable[[Any, attrs.Attribute[Any], Any], None]:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        ok = isinstance(value, (int, float)) if kind is float else isinstance(value, int)
        if isinstance(value, bool) or not ok or not value >= 0 or math.isinf(value):
            what = "a whole number >= 0" if kind is int else "a finite number >= 0"
            raise ConfigError(f"must be {what}, got {value!r}", path=f"{type(instance).__name__}.{attribute.name}")

    return check


@attrs.frozen
class Timeouts:
    """How long the transport waits, in seconds.

    * ``connect``: to open a connection.
    * ``read``: for the response to start, and between bytes of a non-streamed body.
    * ``stream_idle``: the longest silence between bytes of a streamed body (SSE keep-alive
      comments count as bytes); ``None`` means the same as ``read``.
    * ``deadline``: the most a non-streaming call may take in all, retries and their waits
      included; ``None`` means :data:`DEFAULT_DEADLINE`, or ``read`` when that is longer.
    * ``stream_progress``: the longest a stream may go without progress (an event other than a
      keep-alive), from its start or its last progress; ``None`` means ``read``.
    * ``stream_deadline``: the most a stream may take in all; ``None``: no total.

    Non-positive values raise :class:`~chatpipe.errors.ConfigError`.
    """

    connect: float = attrs.field(default=10.0, validator=_positive())
    read: float = attrs.field(default=600.0, validator=_positive())
    stream_idle: float | None = attrs.field(default=None, validator=_positive(optional=True))
    deadline: float | None = attrs.field(default=None, validator=_positive(optional=True))
    stream_progress: float | None = attrs.field(default=None, validator=_positive(optional=True))
    stream_deadline: float | None = attrs.field(default=None, validator=_positive(optional=True))

    @property
    def idle(self) -> float:
        """The effective stream idle timeout (``stream_idle``, else ``read``)."""
        return self.read if self.stream_idle is None else self.stream_idle

    @property
    def total(self) -> float:
        """The effective non-streaming deadline (``deadline``, else the default or ``read`` if longer)."""
        return max(DEFAULT_DEADLINE, self.read) if self.deadline is None else self.deadline

    @property
    def progress(self) -> float:
        """The effective stream progress limit (``stream_progress``, else ``read``)."""
        return self.read if self.stream_progress is None else self.stream_progress


@attrs.frozen
class Limits:
    """How big a reply may be, in bytes (the ``limits:`` config section).

    * ``max_event_bytes`` (16 MiB): one server-sent event, as received (its ``data`` lines and
      the line not yet ended, up to the blank line that ends the event);
    * ``max_body_bytes`` (256 MiB): one non-streamed body (decompressed), or a declared
      ``Content-Length`` above it.

    A reply over a limit fails with :class:`~chatpipe.errors.ProtocolError` naming the setting.
    """

    max_event_bytes: int = attrs.field(default=16 * MiB, validator=_size)
    max_body_bytes: int = attrs.field(default=256 * MiB, validator=_size)


@attrs.frozen
class RetryPolicy:
    """When and how long to wait before retrying a failed attempt.

    ``max_retries`` retries follow the first attempt. :meth:`delay` computes each wait.
    Invalid values raise :class:`~chatpipe.errors.ConfigError`.
    """

    max_retries: int = attrs.field(default=2, validator=_non_negative(int))
    backoff_base: float = attrs.field(default=0.5, validator=_non_negative(float))
    backoff_max: float = attrs.field(default=8.0, validator=_non_negative(float))
    jitter: float = attrs.field(default=0.25, validator=_non_negative(float))
    max_retry_after: float = attrs.field(default=60.0, validator=_non_negative(float))

    def delay(
        self,
        attempt: int,
        headers: Mapping[str, str] | None = None,
        *,
        now: float | None = None,
        rand: Callable[[], float] = random.random,
    ) -> float | None:
        """Seconds to wait before retry number ``attempt`` (0 for the first retry), or ``None``.

        The vendor's own instruction wins: ``retry-after-ms`` (milliseconds), then
        ``Retry-After`` (seconds, or an HTTP date), used as given (no jitter). If that wait is
        longer than ``max_retry_after`` the result is ``None``, meaning *do not retry* (the
        caller then returns/raises the failure at once). Without a usable header the wait is
        ``backoff_base * 2**attempt`` capped at ``backoff_max``, randomised by ±``jitter``
        (a fraction) and never above ``backoff_max``. Header names are matched
        case-insensitively; ``now`` (epoch seconds) and ``rand`` (``[0, 1)``) are injectable.
        """
        told = retry_after(headers or {}, now=now)
        if told is not None:
            return None if told > self.max_retry_after else told
        base = min(self.backoff_base * (2.0 ** max(attempt, 0)), self.backoff_max)
        spread = 1.0 + self.jitter * (2.0 * rand() - 1.0)
        return max(0.0, min(base * spread, self.backoff_max))
