"""The streamed reply as an ASGI response: SSE frames until ``[DONE]``, cancelled on disconnect.

The endpoint has already read the first chunk (so an upstream failure before any output is
answered with its real HTTP status, never a 200); :class:`SSEResponse` sends the headers,
that chunk, and the rest of the stream, watching for the client leaving and for the
request deadline. Any failure mid-stream — upstream, a chunk that cannot be encoded, the
deadline — becomes one error frame and ends the stream without ``[DONE]``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Protocol

from .._log import get_logger
from ..errors import ChatpipeError
from ._connection import ClientDisconnected, DisconnectGuard
from ._errors import GatewayError, internal_error, request_timeout_error
from ._ready import END, Step

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

    from .._streams import AsyncChatStream
    from ..models import ChatChunk, ChatResponse, Usage

__all__ = ["FrameRenderer", "SSEResponse"]

_log = get_logger("gateway")

BATCH_FRAMES = 16
BATCH_BYTES = 16384
"""The most frames, and bytes, of chunks already received that are sent in one write."""

SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


class FrameRenderer(Protocol):
    """What renders a stream's frames: OpenAI's (:class:`~._render.StreamRenderer`) or Anthropic's."""

    def chunk(self, chunk: ChatChunk) -> bytes | None: ...

    def finish(self, usage: Usage | None = None) -> bytes: ...

    def error(self, error: GatewayError) -> bytes: ...


class SSEResponse:
    """An ASGI app streaming ``stream`` (whose first chunk, if any, is ``first``) as SSE.

    ``deadline`` is the event-loop time by which the stream must end; ``map_error`` turns a
    chatpipe error into the :class:`GatewayError` reported in the error frame; ``headers``
    are sent with the SSE ones (e.g. the answering target of a router profile); a stream that
    ends well gives its response to ``on_reply`` (its log line and the budgets), before the final
    frame is sent.
    """

    def __init__(
        self,
        stream: AsyncChatStream,
        iterator: AsyncIterator[ChatChunk],
        first: ChatChunk | None,
        renderer: FrameRenderer,
        *,
        deadline: float,
        map_error: Callable[[ChatpipeError], GatewayError],
        headers: Mapping[str, str] | None = None,
        on_end: Callable[[int, str | None], None] | None = None,
        on_reply: Callable[[ChatResponse], Awaitable[None]] | None = None,
    ) -> None:
        self._on_reply = on_reply
        self._stream = stream
        self._iterator = iterator
        self._first = first
        self._renderer = renderer
        self._deadline = deadline
        self._map_error = map_error
        extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
        self._headers = [*SSE_HEADERS, *extra]
        self._on_end = on_end

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Send the whole stream; returns early (upstream closed) when the client leaves."""
        status: int = 499
        code: str | None = "cancelled"  # unless the stream ends or the client leaves
        try:
            async with DisconnectGuard(receive):
                await send({"type": "http.response.start", "status": 200, "headers": self._headers})
                error = await self._pump(send)
                status, code = 200, None if error is None else error.code or error.type
        except ClientDisconnected:
            _log.info("client disconnected mid-stream; upstream call cancelled")
            status, code = 499, "client_disconnected"
        finally:
            await self._stream.aclose()
            if self._on_end is not None:
                self._on_end(status, code)

    async def _body(self, send: Send, data: bytes, more: bool = True) -> None:
        await send({"type": "http.response.body", "body": data, "more_body": more})

    async def _pump(self, send: Send) -> GatewayError | None:
        """Send the chunks and the end; returns the error the stream ended with (``None``: ``[DONE]``).

        Frames of chunks that are already here when the previous one is rendered are sent
        together (at most :data:`BATCH_FRAMES` frames or :data:`BATCH_BYTES` bytes at once), so
        a burst costs one write, not one per chunk. Until the first frame carrying output (text,
        reasoning or a tool call) has gone out, that frame goes out at once, with the frames before
        it: the first token is never held back behind the ones that arrived with it. A chunk the
        stream had to wait for goes out at once too. Frames not yet sent when the stream fails go
        out with the error frame.
        """
        renderer = self._renderer
        frames: list[bytes] = []
        size = 0
        eager = True  # no output sent yet
        output = False  # ``frames`` hold output (looked for while ``eager``)
        try:
            async with asyncio.timeout_at(self._deadline):
                if self._first is not None:
                    frame = renderer.chunk(self._first)
                    if frame:
                        frames.append(frame)
                        size = len(frame)
                        output = _carries_output(self._first)
                while True:
                    step: Step[ChatChunk] = Step(self._iterator)
                    if frames and (
                        not step.ready or (eager and output) or len(frames) >= BATCH_FRAMES or size >= BATCH_BYTES
                    ):
                        data = b"".join(frames)
                        frames.clear()
                        size = 0
                        try:
                            await self._body(send, data)
                        except BaseException as exc:
                            await step.abandon(exc)
                            raise
                        eager = eager and not output
                    chunk = await step
                    if chunk is END:
                        break
                    frame = renderer.chunk(chunk)
                    if frame:
                        frames.append(frame)
                        size += len(frame)
                        if eager and not output:
                            output = _carries_output(chunk)
        except (ChatpipeError, GatewayError) as exc:  # GatewayError: a chunk that cannot be sent on (encode_json)
            error = exc if isinstance(exc, GatewayError) else self._map_error(exc)
            _log.warning("stream failed after it started: %s", error.message)
        except TimeoutError:
            error = request_timeout_error()
        except ClientDisconnected:
            raise
        except Exception:  # a bug, not a vendor fault: the client still gets an end, never a silent cut
            _log.exception("unexpected gateway failure mid-stream")
            error = internal_error()
        else:
            try:
                response = self._stream.response
            except RuntimeError:
                usage = None
            else:
                usage = response.usage
                if self._on_reply is not None:
                    await self._on_reply(response)
            await self._body(send, b"".join(frames) + renderer.finish(usage), more=False)
            return None
        await self._body(send, b"".join(frames) + renderer.error(error), more=False)
        return error


def _carries_output(chunk: ChatChunk) -> bool:
    """Whether ``chunk`` carries the model's output (text, reasoning, a tool call), not only a role or an end."""
    return bool(chunk.text or chunk.reasoning or chunk.tool_calls)
