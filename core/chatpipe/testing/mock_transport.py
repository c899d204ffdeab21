"""A transport without sockets: run a Pipeline against scripted answers, in-process.

:class:`MockTransport` has the interface of the built-in transport
(:class:`~chatpipe.http.TransportProtocol`) and answers each request with a
:class:`~chatpipe.testing.FakeResponse` — the same values :class:`~chatpipe.testing.FakeServer`
serves, so the conformance simulators and :func:`~chatpipe.testing.replay_sse` work with
both::

    from chatpipe import Pipeline
    from chatpipe.testing import FakeResponse, MockTransport

    transport = MockTransport()
    transport.enqueue(FakeResponse.json({"choices": [...]}))
    pipe = Pipeline("openai", model="m", api_key="sk-test", transport=transport)
    pipe.complete([{"role": "user", "content": "Hi"}])
    assert transport.requests[0].json["model"] == "m"

Answers come from the queue first (first-in first-out), then from ``handler(request)``.
A request nothing answers raises :class:`~chatpipe.errors.InvalidRequestError` saying how to
script it. Failure modes of :class:`FakeResponse` are honoured: ``reset()`` raises
:class:`~chatpipe.errors.APIConnectionError`, ``sse(cut_after=N)`` raises it after N events,
``sse(stall_after=N)`` raises :class:`~chatpipe.errors.APITimeoutError` after N events;
``delay`` is ignored (nothing waits). ``raw()`` needs a socket and is refused. There are no
retries: each call asks for exactly one answer.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping

from ..errors import APIConnectionError, APITimeoutError, InvalidRequestError
from ..http import HttpRequest, HttpResponse, SSEDecoder, SSEEvent
from .fake_server import FakeResponse

__all__ = ["MockAsyncStreamResponse", "MockStreamResponse", "MockTransport"]

Handler = Callable[[HttpRequest], "FakeResponse | HttpResponse"]
HEAD_BYTES = 2000


def _parts(response: FakeResponse) -> tuple[list[bytes], list[bytes]]:
    """``(prelude, chunks)`` of a body or SSE answer; refuses kinds that need a socket."""
    if response.kind == "raw":
        raise InvalidRequestError(
            "MockTransport cannot send FakeResponse.raw() bytes (they need a socket); use FakeServer for those"
        )
    if response.kind == "sse":
        return list(response.prelude), list(response.chunks)
    return [], [response.body] if response.body else []


class _MockStreamBase:
    """What the sync and async stream responses share: head, chunks and failure points."""

    def __init__(self, request: HttpRequest, answer: FakeResponse) -> None:
        self._request = request
        self._answer = answer
        self._prelude, self._chunks = _parts(answer)
        self.status: int = answer.status
        self.headers: Mapping[str, str] = dict(answer.headers)
        self.events_received = 0
        self.head = b""
        self.closed = False

    def _body(self) -> HttpResponse:
        return HttpResponse(self.status, dict(self.headers), b"".join([*self._prelude, *self._chunks]))

    def _iterate(self) -> Iterator[SSEEvent]:
        decoder = SSEDecoder()
        limit = self._answer.cut_after if self._answer.cut_after is not None else self._answer.stall_after
        for chunk in self._prelude:
            yield from self._deliver(decoder.feed(chunk))
        for index, chunk in enumerate(self._chunks):
            if limit is not None and index >= limit:
                raise self._failure()
            if len(self.head) < HEAD_BYTES:
                self.head += chunk[: HEAD_BYTES - len(self.head)]
            yield from self._deliver(decoder.feed(chunk))
        if limit is not None and limit <= len(self._chunks) and self._answer.kind == "sse":
            raise self._failure()
        yield from self._deliver(decoder.flush())

    def _deliver(self, events: list[SSEEvent]) -> Iterator[SSEEvent]:
        for event in events:
            if self.closed:
                return
            self.events_received += 1
            yield event

    def _failure(self) -> APIConnectionError:
        where = f"{self._request.method} {self._request.url}"
        if self._answer.stall_after is not None:
            return APITimeoutError(f"stream stalled: no data from {where} (simulated by MockTransport)")
        return APIConnectionError(
            f"the connection to {where} was closed mid-stream after {self.events_received} events "
            "(simulated by MockTransport)"
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.status})"


class MockStreamResponse(_MockStreamBase):
    """A scripted streaming response with the interface of the transport's StreamResponse."""

    def read(self) -> HttpResponse:
        """The whole body (as the transport does for an error status)."""
        return self._body()

    def events(self) -> Iterator[SSEEvent]:
        """The body decoded as server-sent events, one chunk (one scripted event) at a time."""
        return self._iterate()

    def close(self) -> None:
        """Stop delivering events (idempotent)."""
        self.closed = True


class MockAsyncStreamResponse(_MockStreamBase):
    """Async twin of :class:`MockStreamResponse`."""

    async def aread(self) -> HttpResponse:
        """The whole body."""
        return self._body()

    async def aevents(self) -> AsyncIterator[SSEEvent]:
        """The body decoded as server-sent events."""
        for event in self._iterate():
            yield event

    async def aclose(self) -> None:
        """Stop delivering events (idempotent)."""
        self.closed = True


class MockTransport:
    """A :class:`~chatpipe.http.TransportProtocol` answering from a script.

    ``handler(request)`` (optional) answers whatever the queue (:meth:`enqueue`) does not;
    it returns a :class:`FakeResponse` or an :class:`~chatpipe.http.HttpResponse`.
    Every request is recorded in :attr:`requests`. Thread-safe.
    """

    def __init__(self, handler: Handler | None = None) -> None:
        if handler is not None and not callable(handler):
            raise InvalidRequestError(f"MockTransport needs a callable handler, got {type(handler).__name__}")
        self._handler = handler
        self._queue: deque[FakeResponse | HttpResponse] = deque()
        self._requests: list[HttpRequest] = []
        self._lock = threading.Lock()
        self.closed = False

    @property
    def requests(self) -> list[HttpRequest]:
        """A snapshot of every request received so far, in order."""
        with self._lock:
            return list(self._requests)

    def enqueue(self, *responses: FakeResponse | HttpResponse) -> None:
        """Queue answers, served in order before the handler is asked."""
        for response in responses:
            if not isinstance(response, (FakeResponse, HttpResponse)):
                raise InvalidRequestError(
                    f"MockTransport.enqueue() takes FakeResponse or HttpResponse values, got {type(response).__name__}"
                )
        with self._lock:
            self._queue.extend(responses)

    def __repr__(self) -> str:
        return f"MockTransport({len(self.requests)} requests)"

    def _answer(self, request: HttpRequest) -> FakeResponse:
        with self._lock:
            self._requests.append(request)
            answer = self._queue.popleft() if self._queue else None
        if answer is None:
            if self._handler is None:
                raise InvalidRequestError(
                    f"MockTransport: nothing scripted for {request.method} {request.url}; "
                    "call transport.enqueue(FakeResponse...) or pass MockTransport(handler)"
                )
            answer = self._handler(request)
        if isinstance(answer, HttpResponse):
            return FakeResponse(
                kind="body", status=answer.status, headers=tuple(answer.headers.items()), body=answer.content
            )
        if not isinstance(answer, FakeResponse):
            raise InvalidRequestError(
                f"the MockTransport handler returned {type(answer).__name__}; return a FakeResponse or HttpResponse"
            )
        if answer.kind == "reset":
            raise APIConnectionError(f"connection reset by {request.url} (simulated by MockTransport)")
        return answer

    # --- the transport interface ------------------------------------------------------------

    def send(self, request: HttpRequest, *, retryable: frozenset[int] = frozenset()) -> HttpResponse:
        """The complete scripted response; a cut or stalled stream raises as it would over HTTP."""
        stream = MockStreamResponse(request, self._answer(request))
        if stream._answer.cut_after is not None or stream._answer.stall_after is not None:
            for _ in stream.events():
                pass
        return stream.read()

    async def asend(self, request: HttpRequest, *, retryable: frozenset[int] = frozenset()) -> HttpResponse:
        """Async twin of :meth:`send`."""
        return self.send(request, retryable=retryable)

    @contextlib.contextmanager
    def stream(self, request: HttpRequest, *, retryable: frozenset[int] = frozenset()) -> Iterator[MockStreamResponse]:
        """A scripted streaming response, closed when the ``with`` block exits."""
        response = MockStreamResponse(request, self._answer(request))
        try:
            yield response
        finally:
            response.close()

    @contextlib.asynccontextmanager
    async def astream(
        self, request: HttpRequest, *, retryable: frozenset[int] = frozenset()
    ) -> AsyncIterator[MockAsyncStreamResponse]:
        """Async twin of :meth:`stream`."""
        response = MockAsyncStreamResponse(request, self._answer(request))
        try:
            yield response
        finally:
            await response.aclose()

    def close(self) -> None:
        """Mark the transport closed (it keeps answering: nothing is pooled)."""
        self.closed = True

    async def aclose(self) -> None:
        """Async twin of :meth:`close`."""
        self.close()
