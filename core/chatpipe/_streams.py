"""Streaming calls: iterate chunks, keep what arrived, close the connection when done.

A :class:`ChatStream` opens its connection on first iteration and closes it when the
iteration ends, fails, or the stream is closed early (``close()`` / leaving a ``with``
block / breaking out of a ``for`` loop and dropping the generator). On a failure the raised
:class:`~chatpipe.errors.ProviderError` carries ``partial_text`` and ``partial_reasoning``.
A 200 reply whose body held no server-sent event at all raises
:class:`~chatpipe.errors.ProtocolError` (never an empty reply).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from ._accumulate import StreamAccumulator
from .errors import ProtocolError, ProviderError
from .http import HttpRequest, HttpResponse
from .models import ChatChunk, ChatRequest, ChatResponse
from .secrets import scrub

if TYPE_CHECKING:
    from .http import AsyncStreamResponseProtocol, StreamResponseProtocol
    from .pipeline import Pipeline

__all__ = ["AsyncChatStream", "ChatStream"]


def _not_a_stream(
    pipeline: Pipeline, response: StreamResponseProtocol | AsyncStreamResponseProtocol
) -> ProtocolError:
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
        provider=pipeline.provider_class.info.name,
        status=response.status,
        request_id=HttpResponse(response.status, dict(response.headers)).request_id,
        body=scrub(body, pipeline.adapter.secrets()),
    )


def _attach_partial(error: ProviderError, accumulator: StreamAccumulator) -> ProviderError:
    if not error.partial_text and accumulator.partial_text:
        error.partial_text = accumulator.partial_text
    if not error.partial_reasoning and accumulator.partial_reasoning:
        error.partial_reasoning = accumulator.partial_reasoning
    error.args = (error._render(),)
    return error


class _StreamBase:
    def __init__(self, pipeline: Pipeline, request: ChatRequest, http: HttpRequest) -> None:
        self._pipeline = pipeline
        self._request = request
        self._http = http
        self._accumulator = StreamAccumulator(provider=pipeline.provider_class.info.name)
        self._response: ChatResponse | None = None

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

    def _finish(self) -> None:
        self._response = self._pipeline._observe(self._accumulator.response())


class ChatStream(_StreamBase):
    """A synchronous stream of :class:`~chatpipe.models.ChatChunk`."""

    def __init__(self, pipeline: Pipeline, request: ChatRequest, http: HttpRequest) -> None:
        super().__init__(pipeline, request, http)
        self._iterator: Iterator[ChatChunk] | None = None

    def __iter__(self) -> Iterator[ChatChunk]:
        if self._iterator is None:
            self._iterator = self._run()
        return self._iterator

    def __next__(self) -> ChatChunk:
        return next(iter(self))

    def _run(self) -> Iterator[ChatChunk]:
        pipeline = self._pipeline
        adapter = pipeline.adapter
        try:
            with pipeline.transport.stream(self._http, retryable=pipeline._retryable()) as response:
                if response.status >= 400:
                    raise adapter.parse_error(response.read())
                parser = adapter.stream_parser(self._request)
                for event in response.events():
                    for chunk in parser.feed(event):
                        self._accumulator.add(chunk)
                        yield chunk
                    if parser.done:
                        break
                if not response.events_received:
                    raise _not_a_stream(pipeline, response)
                for chunk in parser.finish():
                    self._accumulator.add(chunk)
                    yield chunk
        except ProviderError as error:
            raise _attach_partial(error, self._accumulator) from error.__cause__
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


class AsyncChatStream(_StreamBase):
    """An asynchronous stream of :class:`~chatpipe.models.ChatChunk`."""

    def __init__(self, pipeline: Pipeline, request: ChatRequest, http: HttpRequest) -> None:
        super().__init__(pipeline, request, http)
        self._iterator: AsyncIterator[ChatChunk] | None = None

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        if self._iterator is None:
            self._iterator = self._run()
        return self._iterator

    async def __anext__(self) -> ChatChunk:
        return await self.__aiter__().__anext__()

    async def _run(self) -> AsyncIterator[ChatChunk]:
        pipeline = self._pipeline
        adapter = pipeline.adapter
        try:
            async with pipeline.transport.astream(self._http, retryable=pipeline._retryable()) as response:
                if response.status >= 400:
                    raise adapter.parse_error(await response.aread())
                parser = adapter.stream_parser(self._request)
                async for event in response.aevents():
                    for chunk in parser.feed(event):
                        self._accumulator.add(chunk)
                        yield chunk
                    if parser.done:
                        break
                if not response.events_received:
                    raise _not_a_stream(pipeline, response)
                for chunk in parser.finish():
                    self._accumulator.add(chunk)
                    yield chunk
        except ProviderError as error:
            raise _attach_partial(error, self._accumulator) from error.__cause__
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
