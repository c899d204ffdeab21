"""The terminal progress line of a batch: done/total, rate, ETA, errors, tokens.

On a terminal, one line of stderr is rewritten in place (``\\r``), at most every
``interval`` seconds; elsewhere (a file, a pipe, CI logs) nothing is printed while running.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress", "format_duration"]


def format_duration(seconds: float) -> str:
    """``seconds`` as ``m:ss`` or ``h:mm:ss``."""
    whole = int(seconds + 0.5)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """A progress line for ``total`` rows (``None``: unknown), of which ``skipped`` were done before.

    ``enabled`` defaults to whether ``stream`` is a terminal. :meth:`update` is cheap when the
    line is not due (one clock read), so it may be called for every row.
    """

    def __init__(
        self,
        total: int | None,
        *,
        skipped: int = 0,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        interval: float = 0.2,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total = total
        self.skipped = skipped
        self.interval = interval
        self.started = time.monotonic()
        self._next = 0.0
        self._width = 0

    def line(self, done: int, errors: int, tokens: int, now: float | None = None) -> str:
        """The progress text for ``done`` rows this run (``skipped`` not included)."""
        now = time.monotonic() if now is None else now
        elapsed = max(now - self.started, 1e-9)
        rate = done / elapsed
        finished = done + self.skipped
        parts = [f"{finished:,}" if self.total is None else f"{finished:,}/{self.total:,}"]
        if self.total:
            parts[0] += f" ({100 * finished / self.total:.1f}%)"
        parts.append(f"{rate:,.1f}/s")
        if self.total is not None and rate > 0:
            parts.append(f"ETA {format_duration(max(self.total - finished, 0) / rate)}")
        parts.append(f"errors {errors:,}")
        parts.append(f"tokens {tokens:,}")
        return "  ".join(parts)

    def update(self, done: int, errors: int, tokens: int, *, force: bool = False) -> None:
        """Redraw the line if it is due (or ``force``)."""
        if not self.enabled:
            return
        now = time.monotonic()
        if now < self._next and not force:
            return
        self._next = now + self.interval
        self._draw(self.line(done, errors, tokens, now))

    def _draw(self, text: str) -> None:
        pad = max(self._width - len(text), 0)
        self._width = len(text)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()

    def note(self, text: str) -> None:
        """Print ``text`` on a line of its own (above the progress line on a terminal)."""
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self._width = 0
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End the progress line (the summary follows on a fresh line)."""
        if self.enabled and self._width:
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0
