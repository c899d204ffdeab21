"""What a Pipeline needs from a transport, as typing protocols (no I/O here).

:class:`Pipeline <chatpipe.pipeline.Pipeline>` sends every request through an object with
the interface of :class:`TransportProtocol`. By default that is the built-in pooled HTTP
transport (``chatpipe._transport.Transport``); ``Pipeline(..., transport=...)`` takes any
other object with the same methods — :class:`chatpipe.testing.MockTransport` runs a
pipeline without sockets.

Contract of a transport:

* ``send(request, retryable=...)`` returns the complete :class:`~chatpipe.http.HttpResponse`;
  an error status is *returned*, not raised (the pipeline maps it with the adapter);
* ``stream(request, retryable=...)`` is a context manager yielding a
  :class:`StreamResponseProtocol`; the connection closes when the block exits;
* ``asend`` / ``astream`` are the async twins; ``close`` / ``aclose`` release resources;
* failures to reach the server raise :mod:`chatpipe.errors` exceptions
  (``APIConnectionError``, ``APITimeoutError``), never a library exception.

``retryable`` is the set of statuses the provider allows retrying; a transport may ignore it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Protocol

from ._messages import HttpRequest, HttpResponse, SSEEvent

__all__ = ["AsyncStreamResponseProtocol", "StreamResponseProtocol", "TransportProtocol"]


class _StreamHead(Protocol):
    @property
    def status(self) -> int:
        """The HTTP status code."""
        ...

    @property
    def headers(self) -> Mapping[str, str]:
        """The response headers, names lower-cased."""
        ...

    @property
    def head(self) -> bytes:
        """The first bytes of the body read so far (quoted when a 200 body is no event stream)."""
        ...

    @property
    def events_received(self) -> int:
        """How many server-sent events the body has yielded so far."""
        ...


class StreamResponseProtocol(_StreamHead, Protocol):
    """An open streaming response: check ``status``; ``read()`` an error body, else iterate ``events()``."""

    def read(self) -> HttpResponse:
        """The whole body (for an error status)."""
        ...

    def events(self) -> Iterator[SSEEvent]:
        """The body decoded as server-sent events, each yielded as soon as it is complete."""
        ...


class AsyncStreamResponseProtocol(_StreamHead, Protocol):
    """Async twin of :class:`StreamResponseProtocol`."""

    async def aread(self) -> HttpResponse:
        """The whole body (for an error status)."""
        ...

    def aevents(self) -> AsyncIterator[SSEEvent]:
        """The body decoded as server-sent events."""
        ...


class TransportProtocol(Protocol):
    """The interface of a transport (see the module docstring for the contract)."""

    def send(self, request: HttpRequest, *, retryable: frozenset[int]) -> HttpResponse:
        """Send ``request`` and return the complete response (error statuses included)."""
        ...

    async def asend(self, request: HttpRequest, *, retryable: frozenset[int]) -> HttpResponse:
        """Async twin of :meth:`send`."""
        ...

    def stream(
        self, request: HttpRequest, *, retryable: frozenset[int]
    ) -> AbstractContextManager[StreamResponseProtocol]:
        """Open a streaming response, closed when the ``with`` block exits."""
        ...

    def astream(
        self, request: HttpRequest, *, retryable: frozenset[int]
    ) -> AbstractAsyncContextManager[AsyncStreamResponseProtocol]:
        """Async twin of :meth:`stream`."""
        ...

    def close(self) -> None:
        """Release sync resources (idempotent)."""
        ...

    async def aclose(self) -> None:
        """Release async resources (idempotent)."""
        ...
