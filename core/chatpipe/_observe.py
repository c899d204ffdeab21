"""One observed call: the :class:`CallInfo` its events share and the calls of the observer hooks.

A pipeline makes an :class:`Observed` for a call only when some plugin implements one of the
call hooks (:data:`CALL_HOOKS`); a call nobody observes pays one check. Every hook
implementation is called on its own: one that raises is logged on ``chatpipe.observe`` (at
most once per hook and plugin every :data:`LOG_INTERVAL` seconds, scrubbed of the call's
secrets) and never breaks the call, nor keeps the other observers from seeing the event.

The transport's retries reach the call through :data:`CURRENT`, set by the pipeline around the
send (and around a stream's opening, where its retries happen).
"""

from __future__ import annotations

import contextvars
import itertools
import os
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ._lazy import lazy_attributes
from ._log import get_logger
from .secrets import Secret, scrub

if TYPE_CHECKING:
    from ._callinfo import CallInfo
    from .errors import ProviderError
    from .models import ChatResponse
    from .registry import ObservationHook, Observer, Registry

__all__ = ["CALL_HOOKS", "CURRENT", "CallInfo", "Observed", "new_call_id", "safe_call", "server_of"]

CALL_HOOKS = (
    "chatpipe_call_started",
    "chatpipe_call_retry",
    "chatpipe_router_hop",
    "chatpipe_rate_limit_wait",
    "chatpipe_first_token",
    "chatpipe_call_finished",
    "chatpipe_call_failed",
)
"""The hooks of a call's life; a pipeline tracks a call only when one of them is implemented."""

LOG_INTERVAL = 60.0
"""Seconds between two log records of the same hook failing in the same plugin."""

_log = get_logger("observe")
_ids = itertools.count(1)
_prefix = f"{os.getpid():x}-{int(time.time()):x}"
_last_logged: dict[tuple[str, str], float] = {}
_log_lock = threading.Lock()


def new_call_id() -> str:
    """A call id unique in this process and unlikely to repeat across processes (pid, start, count)."""
    return f"{_prefix}-{next(_ids)}"


_DEFAULT_PORTS = {"http": 80, "https": 443}


def server_of(url: str) -> tuple[str | None, int | None]:
    """The host and port ``url`` names (the scheme's port when none is given); ``(None, None)`` if unparsable."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None, None
    if port is None:
        port = _DEFAULT_PORTS.get(parts.scheme.lower())
    return parts.hostname or None, port


CURRENT: contextvars.ContextVar[Observed | None] = contextvars.ContextVar("chatpipe_observed_call", default=None)


def safe_call(registry: Registry, hook: ObservationHook, secrets: Sequence[Secret], kwargs: dict[str, Any]) -> None:
    """Call every implementation of ``hook`` with ``kwargs``; an exception is logged, never raised."""
    _dispatch(registry.observers(hook), hook, secrets, kwargs)


def _dispatch(observers: Sequence[Observer], hook: str, secrets: Sequence[Secret], kwargs: dict[str, Any]) -> None:
    for function, names, plugin in observers:
        try:
            function(*[kwargs[name] for name in names])
        except Exception as exc:  # an observer never breaks the call
            _log_failure(hook, plugin, exc, secrets)


def _log_failure(hook: str, plugin: str, exc: Exception, secrets: Sequence[Secret]) -> None:
    now = time.monotonic()
    with _log_lock:
        last = _last_logged.get((hook, plugin))
        if last is not None and now - last < LOG_INTERVAL:
            return
        _last_logged[(hook, plugin)] = now
    _log.warning(
        "%s",
        scrub(f"observer {plugin!r} raised in {hook} (ignored): {type(exc).__name__}: {exc}", secrets),
    )


class Observed:
    """The events of one observed call, each sent to the plugins implementing its hook."""

    __slots__ = ("_registry", "_secrets", "_started", "info")

    def __init__(self, registry: Registry, info: CallInfo, secrets: Sequence[Secret]) -> None:
        self._registry = registry
        self._secrets = secrets
        self._started = time.monotonic()
        self.info = info

    def _emit(self, hook: ObservationHook, **kwargs: Any) -> None:
        observers = self._registry.observers(hook)
        if observers:
            _dispatch(observers, hook, self._secrets, {"call": self.info, **kwargs})

    def started(self) -> None:
        """The call starts (the clock of its latency starts here)."""
        self._started = time.monotonic()
        self._emit("chatpipe_call_started")

    def retry(self, attempt: int, reason: str, status: int | None, wait: float) -> None:
        """The transport retries: attempt ``attempt`` (2 is the first retry) after ``wait`` seconds."""
        self._emit("chatpipe_call_retry", attempt=attempt, reason=reason, status=status, wait=wait)

    def rate_limit_wait(self, limit: str, seconds: float, admitted: bool) -> None:
        """The call waited ``seconds`` for room in its rate limit ``limit``, and got it or not."""
        self._emit("chatpipe_rate_limit_wait", limit=limit, seconds=seconds, admitted=admitted)

    def first_token(self) -> None:
        """A stream's first content arrived."""
        self._emit("chatpipe_first_token", seconds=time.monotonic() - self._started)

    def finished(self, response: ChatResponse) -> None:
        """The call answered ``response``."""
        self._emit("chatpipe_call_finished", response=response, seconds=time.monotonic() - self._started)

    def failed(self, error: ProviderError) -> None:
        """The call ended with ``error``."""
        self._emit("chatpipe_call_failed", error=error, seconds=time.monotonic() - self._started)


# CallInfo is defined in chatpipe._callinfo and created with the first observed call (an attrs
# class costs ~0.5 ms to create; a pipeline nobody observes never needs it). Importable here.
# Hidden from type checkers, which would otherwise accept any name imported from this module.
if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_attributes(
        globals(), {"CallInfo": "chatpipe._callinfo:CallInfo"}, {*globals(), *__all__}
    )
