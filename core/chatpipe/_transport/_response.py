"""Open streaming responses, as handed to the caller inside ``Transport.stream``/``astream``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ChatpipeError
from ..http import HttpResponse, SSEDecoder, SSEEvent
from ._errors import BODY, STREAM

if TYPE_CHECKING:
    import httpx2

__all__ = ["HEAD_BYTES", "AsyncStreamResponse", "Fail", "StreamResponse"]

HEAD_BYTES = 2000

# Maps a backend exception raised in a phase (after ``events`` events) to the error to raise.
Fail = Callable[[BaseException, str, int], ChatpipeError]


def lower_headers(response: httpx2.Response) -> dict[str, str]:
    """The response headers as a plain dict with lower-cased names (repeated headers joined by ``", "``)."""
    return {name.lower(): value for name, value in response.headers.items()}


class _Base:
    """What the sync and async responses share: the head, and turning body bytes into events."""

    def __init__(self, response: httpx2.Response, errors: type[BaseException], fail: Fail) -> None:
        self._response = response
        self._errors = errors
        self._fail = fail
        self._decoder = SSEDecoder()
        self.status: int = response.status_code
        """The HTTP status code."""
        self.headers: Mapping[str, str] = lower_headers(response)
        """The response headers, names lower-cased."""
        self.events_received = 0
        """How many server-sent events the body has yielded so far."""
        self.head = b""
        """The first :data:`HEAD_BYTES` bytes of the body read so far (to quote a body that is no stream)."""

    def _whole(self, content: bytes) -> HttpResponse:
        return HttpResponse(status=self.status, headers=dict(self.headers), content=content)

    def _decode(self, chunk: bytes) -> list[SSEEvent]:
        """The events ``chunk`` completes (its first bytes are kept in :attr:`head`)."""
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[: HEAD_BYTES - len(self.head)]
        return self._decoder.feed(chunk)

    def limit_idle(self, seconds: float) -> None:
        """From now on, ``seconds`` bounds the silence between body bytes (not the wait for the head)."""
        # The HTTP core reads the timeouts from the request's extensions when the body iteration starts.
        extensions = self._response.request.extensions
        timeout = dict(extensions.get("timeout") or {})
        timeout["read"] = seconds
        extensions["timeout"] = timeout

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status})"


class StreamResponse(_Base):
    """A response whose body is still arriving (sync).

    Check :attr:`status` first: for an error status call :meth:`read` to get the whole body
    (it is not a stream); otherwise iterate :meth:`events`. The connection is closed when the
    ``Transport.stream`` block exits (or by :meth:`close`).
    """

    _events: Iterator[SSEEvent] | None = None

    def read(self) -> HttpResponse:
        """Read the whole body.

        Raises APIConnectionError/APITimeoutError if the connection fails (and closes it).
        """
        try:
            return self._whole(self._response.read())
        except self._errors as exc:
            error = self._fail(exc, BODY, 0)
        self.close()
        raise error

    def events(self) -> Iterator[SSEEvent]:
        """The body decoded as server-sent events, each yielded as soon as it is complete.

        At the end of the body a final event without a trailing blank line is still yielded.
        Raises :class:`~chatpipe.errors.APIConnectionError` if the connection drops and
        :class:`~chatpipe.errors.APITimeoutError` ("stream stalled") if no byte arrives within
        the stream idle timeout; events already yielded stay delivered (never retried).
        """
        self._events = self._iterate()
        return self._events

    def _iterate(self) -> Iterator[SSEEvent]:
        error: ChatpipeError | None = None
        try:
            for chunk in self._response.iter_bytes():
                for event in self._decode(chunk):
                    self.events_received += 1
                    yield event
        except self._errors as exc:
            error = self._fail(exc, STREAM, self.events_received)
        if error is not None:
            raise error
        for event in self._decoder.flush():
            self.events_received += 1
            yield event

    def close(self) -> None:
        """Stop reading and close the connection (idempotent)."""
        if self._events is not None:
            events, self._events = self._events, None
            events.close()  # type: ignore[attr-defined]
        self._response.close()


class AsyncStreamResponse(_Base):
    """A response whose body is still arriving (async twin of :class:`StreamResponse`).

    Check :attr:`status`; for an error status ``await`` :meth:`aread`, otherwise
    ``async for`` over :meth:`aevents`. Closed when the ``Transport.astream`` block exits.
    """

    _events: AsyncIterator[SSEEvent] | None = None

    async def aread(self) -> HttpResponse:
        """Read the whole body; same contract as :meth:`StreamResponse.read`."""
        try:
            return self._whole(await self._response.aread())
        except self._errors as exc:
            error = self._fail(exc, BODY, 0)
        await self.aclose()
        raise error

    def aevents(self) -> AsyncIterator[SSEEvent]:
        """The body as server-sent events; same contract as :meth:`StreamResponse.events`."""
        self._events = self._iterate()
        return self._events

    async def _iterate(self) -> AsyncIterator[SSEEvent]:
        chunks: Any = self._response.aiter_bytes()
        error: ChatpipeError | None = None
        try:
            async for chunk in chunks:
                for event in self._decode(chunk):
                    self.events_received += 1
                    yield event
        except self._errors as exc:
            error = self._fail(exc, STREAM, self.events_received)
        finally:
            await chunks.aclose()
        if error is not None:
            raise error
        for event in self._decoder.flush():
            self.events_received += 1
            yield event

    async def aclose(self) -> None:
        """Stop reading and close the connection (idempotent)."""
        if self._events is not None:
            events, self._events = self._events, None
            await events.aclose()  # type: ignore[attr-defined]
        await self._response.aclose()
