"""Which HTTP library the transport runs on: httpx2 when installed, else httpx.

``CHATPIPE_HTTP_BACKEND=httpx|httpx2`` forces one. The library is imported by
:func:`load_backend`, called on the first request, never at import time.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

from ..errors import ConfigError

__all__ = ["BACKENDS", "ENV_VAR", "load_backend"]

ENV_VAR = "CHATPIPE_HTTP_BACKEND"
BACKENDS = ("httpx2", "httpx")


def load_backend(name: str | None = None) -> ModuleType:
    """Import and return the HTTP library module to use.

    ``name`` (or, when ``None``, the ``CHATPIPE_HTTP_BACKEND`` environment variable) forces
    ``"httpx2"`` or ``"httpx"``; otherwise httpx2 is preferred and httpx is the fallback.
    Raises :class:`~chatpipe.errors.ConfigError` for an unknown name, a forced backend that is
    not installed, or when neither is installed.
    """
    forced = name if name is not None else os.environ.get(ENV_VAR, "").strip()
    if forced:
        choice = forced.lower()
        if choice not in BACKENDS:
            raise ConfigError(
                f"unknown HTTP backend {forced!r}: use 'httpx2' or 'httpx' (or unset {ENV_VAR})", path=ENV_VAR
            )
        try:
            return importlib.import_module(choice)
        except ImportError:
            raise ConfigError(
                f"the HTTP backend {choice!r} is forced but not installed: pip install {choice}, "
                f"or unset {ENV_VAR} to use whichever is installed",
                path=ENV_VAR,
            ) from None
    for candidate in BACKENDS:
        try:
            return importlib.import_module(candidate)
        except ImportError:
            continue
    raise ConfigError("no HTTP library installed: pip install httpx2 (or httpx)")
