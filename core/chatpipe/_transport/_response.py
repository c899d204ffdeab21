"""Open streaming responses, as handed to the caller inside ``Transport.stream``/``astream``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ChatpipeError
from ..http import EventTooLarge, HttpResponse, SSEDecoder, SSEEvent
from ._deadline import KEEP_ALIVE_EVENTS, Deadline
from ._errors import BODY, STREAM, BodyTooLarge
from ._pool import drop_if_surplus

if TYPE_CHECKING:
    import httpx2

__all__ = ["HEAD_BYTES", "AsyncStreamResponse", "Fail", "StreamResponse", "aread_body", "read_body"]

HEAD_BYTES = 2000
DRAIN_SECONDS = 0.02
DRAIN_EVENTS = 4
"""How long, and for how many events, :meth:`StreamResponse.finish` reads on after a stream's end."""

# Maps a backend exception raised in a phase (after ``events`` events) to the error to raise.
Fail = Callable[[BaseException, str, int], ChatpipeError]


def lower_headers(response: httpx2.Response) -> dict[str, str]:
    """The response headers as a plain dict with lower-cased names (repeated headers joined by ``", "``)."""
    return {name.lower(): value for name, value in response.headers.items()}


class _Body:
    """The chunks of one body, at most ``limit`` bytes in all (see :func:`read_body`)."""

    def __init__(self, response: httpx2.Response, limit: int) -> None:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise BodyTooLarge(limit, int(declared))
        self.response = response
        self.limit = limit
        self.size = 0
        self.chunks: list[bytes] = []

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise BodyTooLarge(self.limit)
        self.chunks.append(chunk)

    def whole(self) -> bytes:
        drop_if_surplus(self.response)
        chunks = self.chunks
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def read_body(response: httpx2.Response, limit: int) -> bytes:
    """The whole (decompressed) body of ``response``; over ``limit`` bytes raises :class:`~._errors.BodyTooLarge`.

    A declared ``Content-Length`` over the limit fails before any byte is read. The
    connection is not reused if the server sent bytes past the body (:func:`~._pool.drop_if_surplus`).
    """
    body = _Body(response, limit)
    for chunk in response.iter_bytes():
        body.add(chunk)
    return body.whole()


async def aread_body(response: httpx2.Response, limit: int) -> bytes:
    """Async twin of :func:`read_body`."""
    body = _Body(response, limit)
    async for chunk in response.aiter_bytes():
        body.add(chunk)
    return body.whole()


class _Base:
    """What the sync and async responses share: the head, and turning body bytes into events."""

    def __init__(
        self,
        response: httpx2.Response,
        errors: type[BaseException],
        fail: Fail,
        deadline: Deadline,
        max_event: int,
        max_body: int,
    ) -> None:
        self._response = response
        self._errors = (errors, BodyTooLarge, EventTooLarge)
        self._fail = fail
        self._deadline = deadline
        self._max_body = max_body
        self._decoder = SSEDecoder(max_event)
        self._body: HttpResponse | None = None
        self.status: int = response.status_code
        """The HTTP status code."""
        self.headers: Mapping[str, str] = lower_headers(response)
        """The response headers, names lower-cased."""
        self.events_received = 0
        """How many server-sent events the body has yielded so far."""
        self.head = b""
        """The first :data:`HEAD_BYTES` bytes of the body read so far (to quote a body that is no stream)."""
        # No content coding: the events are decoded from the raw bytes, skipping httpx's identity
        # decoder and re-chunker (two generator steps per chunk).
        self._raw = self.headers.get("content-encoding", "identity").strip().lower() in ("identity", "")

    def _whole(self, content: bytes) -> HttpResponse:
        return HttpResponse(status=self.status, headers=dict(self.headers), content=content)

    def _decode(self, chunk: bytes) -> list[SSEEvent]:
        """The events ``chunk`` completes (its first bytes are kept in :attr:`head`).

        Once the head is full, the iterators call the decoder's ``feed`` directly.
        """
        self.head += chunk[: HEAD_BYTES - len(self.head)]
        return self._decoder.feed(chunk)

    def limit_idle(self, seconds: float) -> None:
        """From now on ``seconds``, and the deadline, bound the silence between body bytes (not the head's wait)."""
        # The HTTP core reads the timeouts from the request's extensions when the body iteration starts.
        extensions = self._response.request.extensions
        timeout = dict(extensions.get("timeout") or {})
        timeout["read"] = self._deadline.budget(seconds)
        extensions["timeout"] = timeout

    @staticmethod
    def _progress(events: list[SSEEvent]) -> bool:
        """Whether ``events`` are progress: anything but keep-alives (the last one is checked first, inline)."""
        return any(e.event not in KEEP_ALIVE_EVENTS for e in events)

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
        """Read the whole body (once: a second call returns the same response).

        Raises APIConnectionError/APITimeoutError if the connection fails (and closes it).
        """
        if self._body is not None:
            return self._body
        try:
            self._body = self._whole(read_body(self._response, self._max_body))
            return self._body
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
        decode, feed, progressed = self._decode, self._decoder.feed, self._deadline.progressed
        heading = True
        try:
            for chunk in self._response.iter_raw() if self._raw else self._response.iter_bytes():
                if heading:
                    events = decode(chunk)
                    heading = len(self.head) < HEAD_BYTES
                else:
                    events = feed(chunk)
                if events:
                    for event in events:
                        self.events_received += 1
                        yield event
                    # Once the caller took them: the time it spends on events is no stall of the server's.
                    if events[-1].event not in KEEP_ALIVE_EVENTS or self._progress(events):
                        progressed()
        except self._errors as exc:
            error = self._fail(exc, STREAM, self.events_received)
        if error is not None:
            raise error
        for event in self._decoder.flush():
            self.events_received += 1
            yield event

    def finish(self) -> None:
        """The caller has the stream's last event: read the rest of the body, so the connection is reused.

        What follows a stream's end marker (OpenAI's ``[DONE]``) is usually only the end of the
        chunked body, already received; without reading it the connection would be closed, and
        the next call would open a new one. At most :data:`DRAIN_EVENTS` events and
        :data:`DRAIN_SECONDS` are spent: a server that sends more, or stalls, loses its
        connection as before. Nothing is raised: the stream is complete.
        """
        if self._events is None:
            return
        self._deadline.end_within(DRAIN_SECONDS)
        try:
            for count, _ in enumerate(self._events, 1):
                if count >= DRAIN_EVENTS:
                    return
        except ChatpipeError:
            pass

    def close(self) -> None:
        """Stop reading and close the connection (idempotent)."""
        if self._events is not None:
            events, self._events = self._events, None
            events.close()  # type: ignore[attr-defined]
        drop_if_surplus(self._response)
        self._response.close()


class AsyncStreamResponse(_Base):
    """A response whose body is still arriving (async twin of :class:`StreamResponse`).

    Check :attr:`status`; for an error status ``await`` :meth:`aread`, otherwise
    ``async for`` over :meth:`aevents`. Closed when the ``Transport.astream`` block exits.
    """

    _events: AsyncIterator[SSEEvent] | None = None

    async def aread(self) -> HttpResponse:
        """Read the whole body; same contract as :meth:`StreamResponse.read`."""
        if self._body is not None:
            return self._body
        try:
            self._body = self._whole(await aread_body(self._response, self._max_body))
            return self._body
        except self._errors as exc:
            error = self._fail(exc, BODY, 0)
        await self.aclose()
        raise error

    def aevents(self) -> AsyncIterator[SSEEvent]:
        """The body as server-sent events; same contract as :meth:`StreamResponse.events`."""
        self._events = self._iterate()
        return self._events

    async def _iterate(self) -> AsyncIterator[SSEEvent]:
        chunks: Any = self._response.aiter_raw() if self._raw else self._response.aiter_bytes()
        error: ChatpipeError | None = None
        decode, feed, progressed = self._decode, self._decoder.feed, self._deadline.progressed
        heading = True
        try:
            async for chunk in chunks:
                if heading:
                    events = decode(chunk)
                    heading = len(self.head) < HEAD_BYTES
                else:
                    events = feed(chunk)
                if events:
                    for event in events:
                        self.events_received += 1
                        yield event
                    # Once the caller took them: the time it spends on events is no stall of the server's.
                    if events[-1].event not in KEEP_ALIVE_EVENTS or self._progress(events):
                        progressed()
        except self._errors as exc:
            error = self._fail(exc, STREAM, self.events_received)
        finally:
            await chunks.aclose()
        if error is not None:
            raise error
        for event in self._decoder.flush():
            self.events_received += 1
            yield event

    async def afinish(self) -> None:
        """Async twin of :meth:`StreamResponse.finish`."""
        if self._events is None:
            return
        self._deadline.end_within(DRAIN_SECONDS)
        count = 0
        try:
            async for _ in self._events:
                count += 1
                if count >= DRAIN_EVENTS:
                    return
        except ChatpipeError:
            pass

    async def aclose(self) -> None:
        """Stop reading and close the connection (idempotent)."""
        if self._events is not None:
            events, self._events = self._events, None
            await events.aclose()  # type: ignore[attr-defined]
        drop_if_surplus(self._response)
        await self._response.aclose()
