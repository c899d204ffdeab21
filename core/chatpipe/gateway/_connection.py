"""The client connection: reading a bounded body, and noticing when the client goes away.

:class:`DisconnectGuard` watches the ASGI ``receive`` channel while the request's own task
works; when the client disconnects it cancels that task, so the upstream call in progress is
cancelled too (its connection is closed), and the ``async with`` block raises
:class:`ClientDisconnected`. The upstream stream is iterated in the request's own task
throughout, never handed between tasks.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import TYPE_CHECKING

from ._errors import GatewayError

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.types import Receive

__all__ = ["ClientDisconnected", "DisconnectGuard", "read_body"]


class ClientDisconnected(Exception):
    """The client closed the connection before the reply was complete."""


def _too_large(limit: int) -> GatewayError:
    return GatewayError(
        413,
        f"the request body is larger than the gateway's limit of {limit} bytes (serve.max_body_size)",
        code="request_too_large",
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The whole request body; :class:`GatewayError` 413 as soon as it exceeds ``limit`` bytes.

    A ``Content-Length`` over the limit is refused before anything is read.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise _too_large(limit)
    parts: list[bytes] = []
    size = 0
    async for part in request.stream():
        size += len(part)
        if size > limit:
            raise _too_large(limit)
        parts.append(part)
    return b"".join(parts)


class DisconnectGuard:
    """``async with DisconnectGuard(receive):`` cancel the block when the client disconnects.

    Enter it only after the request body has been read (it consumes ``receive`` messages).
    ``disconnected`` tells whether the client left.
    """

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self._task: asyncio.Task[object] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self.disconnected = False

    async def _watch(self) -> None:
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                break
        self.disconnected = True
        if self._task is not None:
            self._task.cancel()

    async def __aenter__(self) -> DisconnectGuard:
        self._task = asyncio.current_task()
        self._watcher = asyncio.get_running_loop().create_task(self._watch())
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        if self._watcher is not None:
            self._watcher.cancel()
        if self.disconnected and (exc_type is None or issubclass(exc_type, asyncio.CancelledError)):
            if self._task is not None:
                self._task.uncancel()
            raise ClientDisconnected("the client disconnected")
        return False
