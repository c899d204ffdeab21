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
from ..http import EventTooLarge, safe_url
from ..secrets import Secret, scrub
from ._deadline import PROGRESS, Deadline
from ._policy import Timeouts

__all__ = ["BODY", "REQUEST", "STREAM", "BodyTooLarge", "map_exception", "with_cause"]

# The phases of one attempt: waiting for the response head, reading a whole body, streaming.
REQUEST = "request"
BODY = "body"
STREAM = "stream"


class BodyTooLarge(Exception):
    """A non-streamed body (or its declared ``Content-Length``, when ``declared``) is over ``limit`` bytes."""

    def __init__(self, limit: int, declared: int | None = None) -> None:
        super().__init__(f"response body over {limit} bytes")
        self.limit = limit
        self.declared = declared


def with_cause(error: ChatpipeError, cause: BaseException, secrets: Iterable[Secret | str], url: str) -> ChatpipeError:
    """Set a copy of ``cause`` — same type, same message, nothing else — as ``error.__cause__``.

    The HTTP library's exception keeps the request (its headers hold the API key) and its own
    chain; the copy keeps neither. No cause is set when the message contains one of
    ``secrets``, when ``url`` carries credentials, or when the type cannot be rebuilt from a
    message.
    """
    text = str(cause)
    if scrub(text, secrets) != text or safe_url(url) != url:
        return error
    try:
        copy = type(cause)(text)
    except Exception:  # a type that takes other arguments: no cause rather than a leaky one
        return error
    copy.__suppress_context__ = True
    error.__cause__ = copy
    return error


def _events(count: int) -> str:
    return f"{count} event" if count == 1 else f"{count} events"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


def _deadline_message(deadline: Deadline, passed: str, where: str, phase: str, events: int) -> str:
    if passed == PROGRESS:
        return (
            f"stream made no progress: {where} sent no event but keep-alives for {deadline.progress:g}s "
            f"after {_events(events)} — raise timeout.stream_progress if the model thinks that long"
        )
    what = "stream" if deadline.progress is not None else "call"
    got = f"after {_events(events)}" if phase == STREAM else "before the reply was complete"
    own = deadline.setting == "deadline="
    fix = "pass a larger deadline=" if own else f"raise {deadline.setting} or pass deadline="
    return (
        f"deadline: the {what} to {where} took longer than {deadline.seconds:g}s ({deadline.setting}), "
        f"{got} — {fix} to the call for longer replies"
    )


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
    deadline: Deadline | None = None,
) -> ChatpipeError | None:
    """The chatpipe error for ``exc`` (an httpx/httpx2 exception, :class:`BodyTooLarge` or
    :class:`~chatpipe.http.EventTooLarge`), or ``None`` if it is none of those.

    ``phase`` is :data:`REQUEST`, :data:`BODY` or :data:`STREAM`; ``events`` is how many
    events a stream had delivered; a timeout once ``deadline`` has passed is reported as the
    deadline. The message is scrubbed of ``secrets``; the returned error has ``provider`` set
    and, when safe, the original exception as ``__cause__``.
    """
    secrets = list(secrets)
    where = safe_url(url)
    reason = _reason(exc)
    error: ChatpipeError
    cls: type[ProviderError]
    passed = deadline.expired() if deadline is not None and isinstance(exc, backend.TimeoutException) else None
    if passed is not None:
        assert deadline is not None
        message = _deadline_message(deadline, passed, where, phase, events)
        return with_cause(APITimeoutError(scrub(message, secrets), provider=provider), exc, secrets, url)
    if isinstance(exc, BodyTooLarge):
        size = f"declared a {exc.declared}-byte body" if exc.declared is not None else "sent a body"
        message = (
            f"{where} {size} over the {exc.limit}-byte limit — raise limits.max_body_bytes if replies "
            "this big are expected"
        )
        return ProtocolError(scrub(message, secrets), provider=provider)
    if isinstance(exc, EventTooLarge):
        message = (
            f"{where} sent a server-sent event over the {exc.limit}-byte limit after {_events(events)} — "
            "raise limits.max_event_bytes if the vendor really sends events this big"
        )
        return ProtocolError(scrub(message, secrets), provider=provider)
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
        cls = APITimeoutError
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
