"""Every exception chatpipe raises, in one tree.

::

    ChatpipeError
    ├── ConfigError                 bad config file or value; ``path`` names the key
    ├── PluginNotFoundError         unknown provider/converter; did-you-mean + package to install
    ├── InvalidRequestError         bad messages/params caught before any network call
    └── ProviderError               a call to a vendor failed (provider, status, request_id, body)
        ├── APIConnectionError      could not connect, or the connection dropped
        │   └── APITimeoutError     connect/read timeout, or a stalled stream
        ├── ProtocolError           the vendor sent something malformed (bad JSON, bad SSE)
        ├── APIStatusError          the vendor answered with an error status or error event
        │   ├── BadRequestError         400, 413, 422
        │   │   ├── ContextLengthError  the prompt does not fit the model's context
        │   │   └── ContentFilterError  refused by the vendor's content filter
        │   ├── AuthenticationError     401 (and 498 invalid token)
        │   ├── PermissionDeniedError   403
        │   ├── NotFoundError           404 (wrong model or URL)
        │   ├── RateLimitError          429 (``retry_after`` in seconds when given)
        │   │   └── LimitExceededError  a profile's own ``limits`` (rpm, tpm, concurrency) kept the call back
        │   └── ServerError             5xx
        │       └── OverloadedError     503, 529: the vendor is overloaded
        ├── AllTargetsFailedError   every target of a router failed (``failures``: each one's error)
        ├── CoolingDownError        a router skipped a target that is cooling down after failures
        └── StateUnavailableError   the shared state (Redis) is unreachable and ``on_state_error: closed``

Warnings: :class:`ChatpipeWarning` (a ``UserWarning``) marks input chatpipe accepted but
corrected on the user's behalf, e.g. a base URL that already ended in ``/chat/completions``.

Contracts:

* ``str(error)`` is one readable sentence naming the problem and, where there is one, the fix.
* No message, attribute or repr ever contains an API key: bodies are scrubbed of the key
  before they are stored (see :func:`chatpipe.secrets.scrub`).
* ``partial_text`` / ``partial_reasoning`` hold what a stream delivered before it failed, so a
  mid-stream failure loses nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AllTargetsFailedError",
    "AuthenticationError",
    "BadRequestError",
    "ChatpipeError",
    "ChatpipeWarning",
    "ConfigError",
    "ContentFilterError",
    "ContextLengthError",
    "CoolingDownError",
    "InvalidRequestError",
    "LimitExceededError",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "PluginNotFoundError",
    "ProtocolError",
    "ProviderError",
    "RateLimitError",
    "ServerError",
    "StateUnavailableError",
]


class ChatpipeError(Exception):
    """Root of every chatpipe exception."""


class ChatpipeWarning(UserWarning):
    """A value was accepted but corrected (e.g. a base URL with a doubled path).

    Silence it with ``warnings.filterwarnings("ignore", category=ChatpipeWarning)``.
    """


class ConfigError(ChatpipeError):
    """A configuration file or value is invalid.

    ``path`` is the dotted key path (``profiles.local.base_url``) or ``None`` for the file;
    ``message`` is the text without the file and path in front. ``problems`` holds every
    ``(path, message)`` when the loader found several (the first is ``path``/``message``; empty
    for an error raised alone).
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        file: str | None = None,
        problems: Sequence[tuple[str | None, str]] = (),
    ) -> None:
        self.path = path
        self.file = file
        self.message = message
        self.problems = tuple(problems)
        where = ""
        if file:
            where = f"{file}: "
        if path:
            where += f"{path}: "
        super().__init__(f"{where}{message}")


class PluginNotFoundError(ChatpipeError):
    """No installed plugin provides the requested provider or converter."""

    def __init__(
        self,
        kind: str,
        name: str,
        *,
        suggestions: list[str] | None = None,
        package: str | None = None,
        available: list[str] | None = None,
    ) -> None:
        self.kind = kind
        self.name = name
        self.suggestions = suggestions or []
        self.package = package
        self.available = available or []
        parts = [f"unknown {kind} {name!r}."]
        if self.suggestions:
            parts.append("Did you mean " + " or ".join(repr(s) for s in self.suggestions) + "?")
        if package:
            parts.append(f"If a plugin provides it, install it: pip install {package}.")
        if self.available:
            parts.append("Installed: " + ", ".join(self.available) + ".")
        super().__init__(" ".join(parts))


class InvalidRequestError(ChatpipeError, ValueError):
    """The messages or parameters are invalid; raised before any network call.

    ``where`` locates the problem (``messages[2].role``).
    """

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class ProviderError(ChatpipeError):
    """A call to a vendor failed.

    Attributes: ``provider`` (registered name), ``status`` (HTTP status or ``None``),
    ``request_id`` (the vendor's, when sent), ``body`` (raw response text, key-scrubbed),
    ``partial_text`` and ``partial_reasoning`` (stream content received before the failure).
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status: int | None = None,
        request_id: str | None = None,
        body: str | None = None,
        partial_text: str = "",
        partial_reasoning: str = "",
        vendor_type: str | None = None,
    ) -> None:
        self.message = message
        self.provider = provider
        self.status = status
        self.request_id = request_id
        self.body = body
        self.partial_text = partial_text
        self.partial_reasoning = partial_reasoning
        self.vendor_type = vendor_type
        super().__init__(self._render())

    def _render(self) -> str:
        head = []
        if self.provider:
            head.append(self.provider)
        if self.status is not None:
            head.append(f"HTTP {self.status}")
        text = f"{' '.join(head)}: {self.message}" if head else self.message
        if self.request_id:
            text += f" (request id {self.request_id})"
        if self.partial_text:
            text += f" [{len(self.partial_text)} characters of reply received before the failure]"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._render()!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.__dict__.copy()))


def _detached(error: ProviderError) -> ProviderError:
    """``error`` without its ``__context__``: the internal exception it was raised while handling.

    An adapter raises its typed error inside ``except`` blocks whose exceptions hold what it
    was parsing (a decoder's error keeps the whole body, an ``ErrorInBody`` its envelope),
    key and all. The pipeline detaches every error before it reaches the caller; ``__cause__``,
    set on purpose, stays.
    """
    error.__context__ = None
    return error


def _rebuild(cls: type[ProviderError], state: dict[str, Any]) -> ProviderError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, error._render())
    return error


class APIConnectionError(ProviderError):
    """The connection could not be made or broke before the reply was complete."""


class APITimeoutError(APIConnectionError):
    """A connect or read timeout expired, or a stream stalled."""


class ProtocolError(ProviderError):
    """The vendor's reply was malformed: invalid JSON, missing fields, broken SSE."""


class APIStatusError(ProviderError):
    """The vendor answered with an error status (or an error event inside a stream)."""


class BadRequestError(APIStatusError):
    """400/413/422: the vendor rejected the request as invalid."""


class ContextLengthError(BadRequestError):
    """The conversation is longer than the model's context window."""


class ContentFilterError(BadRequestError):
    """The vendor's content filter refused the request."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, wrong or expired."""


class PermissionDeniedError(APIStatusError):
    """403: the key is valid but not allowed to do this."""


class NotFoundError(APIStatusError):
    """404: unknown model or wrong URL."""


class RateLimitError(APIStatusError):
    """429: too many requests or quota exhausted. ``retry_after`` is in seconds, if known."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class LimitExceededError(RateLimitError):
    """A profile's own rate limit kept the call back: sending it would exceed ``limits``.

    Raised without any request sent, after waiting up to ``limits.max_wait`` (inside a router,
    at once: the router moves on). ``limit`` names the setting (``rpm``, ``tpm`` or
    ``concurrency``), ``retry_after`` the seconds until it would fit, when known; ``status``
    is ``None`` (no vendor answered).
    """

    def __init__(self, message: str, *, limit: str, retry_after: float | None = None, **kwargs: Any) -> None:
        self.limit = limit
        super().__init__(message, retry_after=retry_after, **kwargs)


class ServerError(APIStatusError):
    """5xx: the vendor failed."""


class OverloadedError(ServerError):
    """503/529: the vendor is overloaded; retrying later usually works."""


class AllTargetsFailedError(ProviderError):
    """Every target a router tried failed (see :class:`chatpipe.routing.Router`).

    ``failures`` holds, in the order tried, each target's name (its profile) and its error;
    the message lists them all. ``status`` is ``None``: the individual errors keep theirs.
    """

    def __init__(self, failures: Sequence[tuple[str, ProviderError]], **kwargs: Any) -> None:
        self.failures: tuple[tuple[str, ProviderError], ...] = tuple(failures)
        listed = "; ".join(f"{name}: {type(error).__name__}: {error}" for name, error in self.failures)
        super().__init__(f"every target failed ({listed})", **kwargs)


class CoolingDownError(ProviderError):
    """A router did not try a target: it failed repeatedly and is cooling down (no request sent).

    Found in :attr:`AllTargetsFailedError.failures`; ``retry_after`` is the seconds until the
    target gets its next probe call.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class StateUnavailableError(ProviderError):
    """The shared state (``state: {backend: redis}``) could not be reached and the config says
    ``on_state_error: closed``, so the call was refused rather than run without shared limits.
    No request was sent to the vendor. The message names the server (password masked)."""
