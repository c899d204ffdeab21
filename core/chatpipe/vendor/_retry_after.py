"""The server's retry instruction: ``retry-after-ms``, else ``Retry-After`` (pure)."""

from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = ["retry_after"]


def retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds the server asks a client to wait, or ``None`` when it gives no usable instruction.

    ``retry-after-ms`` (milliseconds) wins over ``Retry-After`` (seconds, or an HTTP date
    measured from ``now``, a POSIX timestamp defaulting to the current time; a date in the past
    means 0). Header names match case-insensitively and values are stripped. A value that is
    not a number, negative, NaN or infinite, and a date without a time zone, are unusable:
    ``retry-after-ms`` then falls through to ``Retry-After``, which then gives ``None``.
    This is the one parser: the transport's retry policy and the 429 errors both use it.
    """
    lowered = {str(name).lower(): str(value).strip() for name, value in headers.items()}
    millis = _seconds(lowered.get("retry-after-ms"))
    if millis is not None:
        return millis / 1000.0
    after = lowered.get("retry-after")
    if not after:
        return None
    seconds = _seconds(after)
    if seconds is not None:
        return seconds
    return _until(after, now)


def _seconds(text: str | None) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _until(date: str, now: float | None) -> float | None:
    from email.utils import parsedate_to_datetime  # rare path: kept off the import

    try:
        when = parsedate_to_datetime(date)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    if now is None:
        import time

        now = time.time()
    return max(0.0, when.timestamp() - now)
