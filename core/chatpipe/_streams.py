"""Streaming calls: iterate chunks, keep what arrived, close the connection when done.

A :class:`ChatStream` opens its connection on first iteration and closes it when the
iteration ends, fails, or the stream is closed early (``close()`` / leaving a ``with``
block / breaking out of a ``for`` loop and dropping the generator). On a failure the raised
:class:`~chatpipe.errors.ProviderError` carries ``partial_text`` and ``partial_reasoning``.
A 200 reply whose body held no server-sent event at all raises
:class:`~chatpipe.errors.ProtocolError` (never an empty reply).

A stream knows its pipeline only through a :class:`StreamCall`: the adapter, the request in
both forms, the transport, the observer of the assembled reply and, for a profile with rate
limits, its :class:`StreamLimit` (a stream holds a lease from its first step to its end).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from ._accumulate import StreamAccumulator
from .errors import ProtocolError, ProviderError, _detached
from .http import HttpRequest, HttpResponse
from .models import ChatChunk, ChatRequest, ChatResponse
from .secrets import scrub

if TYPE_CHECKING:
    from ._limiter import Limiter
    from ._observe import Observed
    from .http import AsyncStreamResponseProtocol, StreamResponseProtocol, TransportProtocol
    from .provider import Provider, StreamParser

__all__ = ["AsyncChatStream", "ChatStream", "StreamCall", "StreamLimit"]


@attrs.frozen
class StreamLimit:
    """A stream's place in its profile's rate limits: the ``limiter``, the call's estimated
    ``tokens`` and how long to ``wait`` for room (``None``: the limiter's ``max_wait``)."""

    limiter: Limiter
    tokens: int
    wait: float | None


@attrs.frozen
class StreamCall:
    """Everything a stream needs from the pipeline that started it (one per streaming call).

    ``http`` (the wire form of ``request``) goes through ``transport``, retrying the
    ``retryable`` statuses; ``adapter`` parses the events (``stream_parser(request)``), maps an
    error status (``parse_error``) and names the secrets scrubbed from a quoted body
    (``secrets()``); ``observe`` receives the assembled reply and returns it; ``observed``
    (only when a plugin observes calls) reports the call's life: started at the first step,
    first token, finished or failed.
    """

    adapter: Provider
    request: ChatRequest
    http: HttpRequest
    transport: TransportProtocol
    retryable: frozenset[int]
    observe: Callable[[ChatResponse], ChatResponse]
    limit: StreamLimit | None = None
    observed: Observed | None = None


def _has_content(chunk: ChatChunk) -> bool:
    return bool(chunk.text or chunk.reasoning or chunk.tool_calls)


_END: Any = object()


def _not_a_stream(call: StreamCall, response: StreamResponseProtocol | AsyncStreamResponseProtocol) -> ProtocolError:
    """The error for a 200 streaming reply whose body held no server-sent event at all.

    Raised instead of returning an empty reply: the server ignored ``stream: true`` or a proxy
    answered with a page of its own.
    """
    kind = response.headers.get("content-type", "") or "none"
    body = response.head.decode("utf-8", errors="replace")
    if "event-stream" in kind:
        what = "an event stream that ended without any event"
    elif not body.strip():
        what = "an empty body"
    else:
        what = f"a body that is not an event stream (content-type {kind})"
    return ProtocolError(
        f"the server answered a streaming request with {what}; check base_url, or that the server supports "
        "streaming (use --no-stream / complete() if it does not)",
        provider=call.adapter.info.name,
        status=response.status,
        request_id=HttpResponse(response.status, dict(response.headers)).request_id,
        body=scrub(body, call.adapter.secrets()),
    )


_Chunks = TypeVar("_Chunks", Iterator[ChatChunk], AsyncIterator[ChatChunk])


class _StreamBase(Generic[_Chunks]):
    """What the sync and async streams share; each drives it from its own loop over the events.

    The three-line loop over one event's chunks stays in each driver: a shared per-event call
    measured ~0.25 µs more per event, on the per-chunk path the speed rules protect.
    """

    def __init__(self, call: StreamCall) -> None:
        self._call = call
        self._accumulator = StreamAccumulator(provider=call.adapter.info.name)
        self._response: ChatResponse | None = None
        self._iterator: _Chunks | None = None

    @property
    def response(self) -> ChatResponse:
        """The assembled reply; available once the stream has been fully consumed."""
        if self._response is None:
            raise RuntimeError("the stream has not finished yet; iterate it to the end first")
        return self._response

    @property
    def text(self) -> str:
        """The text received so far."""
        return self._accumulator.partial_text

    def _chunks(self) -> _Chunks:
        """The one iterator of the stream's chunks (the connection opens on its first step)."""
        if self._iterator is None:
            self._iterator = self._run()
        return self._iterator

    def _run(self) -> _Chunks:
        raise NotImplementedError

    def _parser(self, failure: HttpResponse | None) -> StreamParser:
        """The parser for a 2xx/3xx reply; ``failure`` (an error reply, read whole) is raised mapped."""
        if failure is not None:
            raise self._call.adapter.parse_error(failure)
        return self._call.adapter.stream_parser(self._call.request)

    def _end(
        self, parser: StreamParser, response: StreamResponseProtocol | AsyncStreamResponseProtocol
    ) -> Iterator[ChatChunk]:
        """The chunks still pending when the body ended; a body without any event is an error."""
        if not response.events_received:
            raise _not_a_stream(self._call, response)
        for chunk in parser.finish():
            self._accumulator.add(chunk)
            yield chunk

    def _failed(self, error: ProviderError) -> ProviderError:
        """``error`` carrying what arrived before it (``partial_text``, ``partial_reasoning``), detached.

        Detached: without the internal exception it was raised while handling (see
        :func:`~chatpipe.errors._detached`).
        """
        _detached(error)
        accumulator = self._accumulator
        if not error.partial_text and accumulator.partial_text:
            error.partial_text = accumulator.partial_text
        if not error.partial_reasoning and accumulator.partial_reasoning:
            error.partial_reasoning = accumulator.partial_reasoning
        error.args = (error._render(),)
        return error

    def _finish(self) -> None:
        self._response = self._call.observe(self._accumulator.response())

    def _used_tokens(self, error: ProviderError | None) -> int | None:
        """The tokens to count for a stream that ended (the vendor's usage, else what is known)."""
        from ._limiter import used_tokens

        if self._response is not None:
            return used_tokens(self._response.usage)
        if error is not None and error.status is not None and not self._accumulator.partial_text:
            return 0
        return None


class ChatStream(_StreamBase[Iterator[ChatChunk]]):
    """A synchronous stream of :class:`~chatpipe.models.ChatChunk`."""

    def __iter__(self) -> Iterator[ChatChunk]:
        return self._chunks()

    def __next__(self) -> ChatChunk:
        return next(iter(self))

    def _run(self) -> Iterator[ChatChunk]:
        limit = self._call.limit
        chunks = self._events() if limit is None else self._limited(limit)
        observed = self._call.observed
        return chunks if observed is None else self._observed(chunks, observed)

    def _observed(self, chunks: Iterator[ChatChunk], observed: Observed) -> Iterator[ChatChunk]:
        """``chunks`` with the call's life reported; only chunks up to the first content are looked at."""
        from ._observe import CURRENT

        observed.started()
        try:
            token = CURRENT.set(observed)  # the retries happen while the stream opens, in its first step
            try:
                chunk = next(chunks, _END)
            finally:
                CURRENT.reset(token)
            while chunk is not _END:
                if _has_content(chunk):
                    observed.first_token()
                    yield chunk
                    yield from chunks
                    break
                yield chunk
                chunk = next(chunks, _END)
        except ProviderError as error:
            observed.failed(error)
            raise
        finally:
            chunks.close()  # type: ignore[attr-defined]
        observed.finished(self.response)

    def _limited(self, limit: StreamLimit) -> Iterator[ChatChunk]:
        lease = limit.limiter.acquire(limit.tokens, limit.wait)
        failure: ProviderError | None = None
        try:
            yield from self._events()
        except ProviderError as error:
            failure = error
            raise
        finally:
            limit.limiter.release(lease, self._used_tokens(failure))

    def _events(self) -> Iterator[ChatChunk]:
        call, add = self._call, self._accumulator.add
        try:
            with call.transport.stream(call.http, retryable=call.retryable) as response:
                parser = self._parser(response.read() if response.status >= 400 else None)
                for event in response.events():
                    for chunk in parser.feed(event):
                        add(chunk)
                        yield chunk
                    if parser.done:
                        _finish(response)
                        break
                yield from self._end(parser, response)
        except ProviderError as error:
            raise self._failed(error) from error.__cause__
        self._finish()

    def close(self) -> None:
        """Stop early and close the connection."""
        if self._iterator is not None:
            self._iterator.close()  # type: ignore[attr-defined]

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def collect(self) -> ChatResponse:
        """Consume the whole stream and return the assembled reply."""
        for _ in self:
            pass
        return self.response


class AsyncChatStream(_StreamBase[AsyncIterator[ChatChunk]]):
    """An asynchronous stream of :class:`~chatpipe.models.ChatChunk`."""

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        return self._chunks()

    async def __anext__(self) -> ChatChunk:
        return await self.__aiter__().__anext__()

    def _run(self) -> AsyncIterator[ChatChunk]:
        limit = self._call.limit
        chunks = self._events() if limit is None else self._limited(limit)
        observed = self._call.observed
        return chunks if observed is None else self._observed(chunks, observed)

    async def _observed(self, chunks: AsyncIterator[ChatChunk], observed: Observed) -> AsyncIterator[ChatChunk]:
        """Async twin of :meth:`ChatStream._observed`."""
        from ._observe import CURRENT

        observed.started()
        try:
            token = CURRENT.set(observed)
            try:
                chunk = await anext(chunks, _END)
            finally:
                CURRENT.reset(token)
            while chunk is not _END:
                if _has_content(chunk):
                    observed.first_token()
                    yield chunk
                    async for chunk in chunks:
                        yield chunk
                    break
                yield chunk
                chunk = await anext(chunks, _END)
        except ProviderError as error:
            observed.failed(error)
            raise
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]
        observed.finished(self.response)

    async def _limited(self, limit: StreamLimit) -> AsyncIterator[ChatChunk]:
        lease = await limit.limiter.aacquire(limit.tokens, limit.wait)
        failure: ProviderError | None = None
        events = self._events()
        try:
            async for chunk in events:
                yield chunk
        except ProviderError as error:
            failure = error
            raise
        finally:
            await events.aclose()  # type: ignore[attr-defined]
            await limit.limiter.arelease(lease, self._used_tokens(failure))

    async def _events(self) -> AsyncIterator[ChatChunk]:
        call, add = self._call, self._accumulator.add
        try:
            async with call.transport.astream(call.http, retryable=call.retryable) as response:
                parser = self._parser(await response.aread() if response.status >= 400 else None)
                async for event in response.aevents():
                    for chunk in parser.feed(event):
                        add(chunk)
                        yield chunk
                    if parser.done:
                        await _afinish(response)
                        break
                for chunk in self._end(parser, response):
                    yield chunk
        except ProviderError as error:
            raise self._failed(error) from error.__cause__
        self._finish()

    async def aclose(self) -> None:
        """Stop early and close the connection."""
        if self._iterator is not None:
            await self._iterator.aclose()  # type: ignore[attr-defined]

    async def __aenter__(self) -> AsyncChatStream:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def collect(self) -> ChatResponse:
        """Consume the whole stream and return the assembled reply."""
        async for _ in self:
            pass
        return self.response


def _finish(response: StreamResponseProtocol) -> None:
    """Let the built-in transport read the end of a finished stream's body (its connection is then reused).

    A transport of the caller's (``Pipeline(transport=...)``) need not have ``finish``.
    """
    finish = getattr(response, "finish", None)
    if finish is not None:
        finish()


async def _afinish(response: AsyncStreamResponseProtocol) -> None:
    """Async twin of :func:`_finish`."""
    finish = getattr(response, "afinish", None)
    if finish is not None:
        await finish()
