"""Files written whole or not at all: a crash leaves the old file or the new one, never half of each."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["write_atomically"]

_POSIX = os.name == "posix"


def write_atomically(path: Path, text: str, *, private: bool = False) -> None:
    """Replace ``path`` with ``text``: a temporary file in the same directory (mode 0600 when
    ``private``), flushed to disk, renamed over ``path``, the directory synced (POSIX)."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            if private and _POSIX:
                os.fchmod(handle.fileno(), 0o600)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    if _POSIX:
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
