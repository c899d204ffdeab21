"""Turn an HTTP library exception into the chatpipe error a user can act on.

Every message names the URL (without credentials), what went wrong and the setting or check
that fixes it, and is scrubbed of the request's secrets. The original exception is kept as
``__cause__`` only when its own text is free of secrets.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType

from ..errors import (
    APIConnectionError,
    APITimeoutError,
    ChatpipeError,
    InvalidRequestError,
    ProtocolError,
    ProviderError,
)
from ..http import safe_url
from ..secrets import Secret, scrub
from ._policy import Timeouts

__all__ = ["BODY", "REQUEST", "STREAM", "map_exception", "with_cause"]

# The phases of one attempt: waiting for the response head, reading a whole body, streaming.
REQUEST = "request"
BODY = "body"
STREAM = "stream"


def with_cause(error: ChatpipeError, cause: BaseException, secrets: Iterable[Secret | str], url: str) -> ChatpipeError:
    """Set ``cause`` as ``error.__cause__`` unless it could reveal a secret.

    It is dropped when its text or attributes contain one of ``secrets``, or when ``url``
    (which the HTTP library keeps on the exception) carries credentials.
    """
    try:
        text = f"{cause!s} {cause!r} {vars(cause)!r}"
    except TypeError:
        text = f"{cause!s} {cause!r}"
    if scrub(text, secrets) == text and safe_url(url) == url:
        error.__cause__ = cause
    return error


def _events(count: int) -> str:
    return f"{count} event" if count == 1 else f"{count} events"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


def map_exception(
    backend: ModuleType,
    exc: BaseException,
    *,
    url: str,
    phase: str,
    timeouts: Timeouts,
    provider: str | None,
    secrets: Iterable[Secret | str],
    events: int = 0,
) -> ChatpipeError | None:
    """The chatpipe error for ``exc`` (an httpx/httpx2 exception), or ``None`` if it is not one.

    ``phase`` is :data:`REQUEST`, :data:`BODY` or :data:`STREAM`; ``events`` is how many
    events a stream had delivered. The message is scrubbed of ``secrets``; the returned
    error has ``provider`` set and, when safe, the original exception as ``__cause__``.
    """
    secrets = list(secrets)
    where = safe_url(url)
    reason = _reason(exc)
    error: ChatpipeError
    if isinstance(exc, (backend.UnsupportedProtocol, backend.InvalidURL)):
        message = (
            f"invalid or unsupported URL {where!r}: {reason}; base_url must be an absolute "
            "http:// or https:// URL such as 'http://127.0.0.1:1234/v1'"
        )
        return with_cause(InvalidRequestError(scrub(message, secrets)), exc, secrets, url)
    if isinstance(exc, backend.LocalProtocolError):
        message = f"could not send the request to {where}: {reason} (check the extra headers and the body)"
        return with_cause(InvalidRequestError(scrub(message, secrets)), exc, secrets, url)
    if isinstance(exc, backend.ConnectTimeout):
        message = (
            f"connect timeout: no connection to {where} within {timeouts.connect:g}s — is the server reachable? "
            "If it is just slow, raise Timeouts.connect (timeout=(connect, read))"
        )
        cls: type[ProviderError] = APITimeoutError
    elif isinstance(exc, backend.ReadTimeout):
        cls = APITimeoutError
        if phase == STREAM:
            message = (
                f"stream stalled: no data from {where} for {timeouts.idle:g}s after {_events(events)} — "
                "raise Timeouts.stream_idle (or the read timeout) if the model pauses longer"
            )
        elif phase == BODY:
            message = (
                f"read timeout: {where} stopped sending the response body for {timeouts.read:g}s — "
                "raise Timeouts.read (the timeout= setting) if the server is just slow"
            )
        else:
            message = (
                f"read timeout: {where} sent no response within {timeouts.read:g}s — raise Timeouts.read "
                "(the timeout= setting) for slow models or long prompts"
            )
    elif isinstance(exc, backend.WriteTimeout):
        cls = APITimeoutError
        message = (
            f"write timeout: could not send the request to {where} within {timeouts.read:g}s — "
            "raise Timeouts.read (the timeout= setting) or check the network"
        )
    elif isinstance(exc, backend.PoolTimeout):
        cls = APITimeoutError
        message = (
            f"pool timeout: no free connection to {where} within {timeouts.read:g}s — too many requests at once "
            "through one transport; lower the concurrency or raise Timeouts.read"
        )
    elif isinstance(exc, backend.TimeoutException):
        cls = APITimeoutError
        message = f"timeout talking to {where}: {reason} — raise the timeout= setting"
    elif isinstance(exc, backend.ConnectError):
        cls = APIConnectionError
        message = f"could not connect to {where}: {reason} — is the server running / is base_url right?"
    elif isinstance(exc, backend.DecodingError):
        cls = ProtocolError
        message = f"{where} sent a response body that could not be decoded: {reason}"
    elif isinstance(exc, backend.TransportError):
        cls = APIConnectionError
        if phase == STREAM:
            message = f"connection to {where} dropped mid-stream after {_events(events)}: {reason}"
        elif phase == BODY:
            message = f"connection to {where} dropped while reading the response body: {reason}"
        else:
            message = f"connection to {where} closed before a response arrived: {reason}"
    elif isinstance(exc, backend.HTTPError):
        cls = APIConnectionError
        message = f"request to {where} failed: {reason}"
    else:
        return None
    error = cls(scrub(message, secrets), provider=provider)
    return with_cause(error, exc, secrets, url)
