"""A status line on a terminal while a call waits for its first token.

A vendor may take seconds to answer, the embedded local model seconds to start: on a
terminal (stderr a TTY) ``chatpipe chat`` shows ``⠋ waiting for MODEL…`` on stderr until the
first content arrives, then clears the line. Nothing is shown when stderr is not a terminal.
"""

from __future__ import annotations

import sys
import threading
from types import TracebackType

__all__ = ["Spinner"]

_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_FIRST_FRAME_AFTER = 0.3  # seconds: a fast answer shows nothing at all
_EVERY = 0.1


class Spinner:
    """``with Spinner("waiting for m"): ...`` — shows ``text`` with a turning frame until :meth:`stop` or the end."""

    def __init__(self, text: str, *, enabled: bool | None = None) -> None:
        self.text = text
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._stopped = threading.Event()
        self._shown = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._spin, name="chatpipe-spinner", daemon=True)

    def __enter__(self) -> Spinner:
        if self.enabled:
            self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    def _spin(self) -> None:
        if self._stopped.wait(_FIRST_FRAME_AFTER):
            return
        frame = 0
        while True:
            with self._lock:
                if self._stopped.is_set():
                    return
                sys.stderr.write(f"\r{_FRAMES[frame % len(_FRAMES)]} {self.text}…")
                sys.stderr.flush()
                self._shown = True
            frame += 1
            if self._stopped.wait(_EVERY):
                return

    def stop(self) -> None:
        """Stop, and clear the line if something was shown (idempotent; the reply then prints on a clean line)."""
        with self._lock:
            if self._stopped.is_set():
                return
            self._stopped.set()
            if self._shown:
                sys.stderr.write("\r\033[K")
                sys.stderr.flush()
        if self._thread.is_alive():
            self._thread.join()
