"""A router's streams: the first target with content answers; none is restarted after it.

Chunks without content (the role, keep-alives) are held until a chunk with content (text,
reasoning or a tool call) arrives, so a target that fails before that leaves nothing behind
and the next target takes over; once content has been delivered, a failure is raised with
the text received. :attr:`RoutedStream.route` names the target answering (set at its first
content), so a server can name it before sending anything.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._streams import AsyncChatStream, ChatStream
from ..errors import ProviderError
from ..models import ChatChunk, ChatResponse, Message

if TYPE_CHECKING:
    from ._router import Router

__all__ = ["AsyncRoutedStream", "RoutedStream"]


def _has_content(chunk: ChatChunk) -> bool:
    return bool(chunk.text or chunk.reasoning or chunk.tool_calls)


class _Routed:
    """What the sync and async routed streams share."""

    def __init__(
        self,
        router: Router,
        messages: Sequence[Mapping[str, Any] | Message],
        call: Mapping[str, Any],
        wait: float | None,
    ) -> None:
        self._router, self._messages, self._args, self._wait = router, messages, call, wait
        self._inner: ChatStream | AsyncChatStream | None = None
        self._response: ChatResponse | None = None
        self.route: str | None = None
        """The profile answering (through nested routers, the innermost), once content has arrived."""

    @property
    def text(self) -> str:
        """The text received so far (from the target now answering)."""
        return self._inner.text if self._inner is not None else ""

    def _answering(self, name: str, started: float) -> None:
        inner_route = getattr(self._inner, "route", None)
        self.route = inner_route or name
        if self._router.strategy == "latency":
            self._router._latencies.observe(name, time.monotonic() - started)


class RoutedStream(_Routed, ChatStream):
    """A router's sync stream (see the module docs)."""

    def __init__(
        self,
        router: Router,
        messages: Sequence[Mapping[str, Any] | Message],
        call: Mapping[str, Any],
        wait: float | None,
    ) -> None:
        _Routed.__init__(self, router, messages, call, wait)
        self._iterator: Iterator[ChatChunk] | None = None

    def _run(self) -> Iterator[ChatChunk]:
        router = self._router
        hops = router._hops(self._args, self._wait)
        last: tuple[str, ProviderError] | None = None
        while (hop := hops.next()) is not None:
            target, args, room = hop
            admission = router._admit(target)
            if admission is not None and not admission.allowed:
                hops.cooling(target, admission)
                continue
            args, last = router._tried(args, target, last), None
            lease, started = router._enter(target), time.monotonic()
            inner = self._inner = target.pipe._stream_within(self._messages, args, room)
            held: list[ChatChunk] | None = []
            try:
                with inner:
                    for chunk in inner:
                        if held is None:
                            yield chunk
                            continue
                        held.append(chunk)
                        if _has_content(chunk):
                            self._answering(target.name, started)
                            router._record(target, admission, None)
                            yield from held
                            held = None  # content arrived: no more holding
            except ProviderError as error:
                if held is None:
                    raise
                router._record(target, admission, error if hops.failed(target, error) else None)
                last = (target.name, error)
                continue
            finally:
                router._leave(target, lease)
            if held is not None:  # a reply without content (an empty answer) is still an answer
                self._answering(target.name, started)
                router._record(target, admission, None)
                yield from held
            self._response = router._named(inner.response, self.route or target.name)
            return
        raise hops.exhausted()


class AsyncRoutedStream(_Routed, AsyncChatStream):
    """A router's async stream (see the module docs)."""

    def __init__(
        self,
        router: Router,
        messages: Sequence[Mapping[str, Any] | Message],
        call: Mapping[str, Any],
        wait: float | None,
    ) -> None:
        _Routed.__init__(self, router, messages, call, wait)
        self._iterator: AsyncIterator[ChatChunk] | None = None

    async def _run(self) -> AsyncIterator[ChatChunk]:
        router = self._router
        hops = await router._ahops(self._args, self._wait)
        last: tuple[str, ProviderError] | None = None
        while (hop := hops.next()) is not None:
            target, args, room = hop
            admission = await router._aadmit(target)
            if admission is not None and not admission.allowed:
                hops.cooling(target, admission)
                continue
            args, last = router._tried(args, target, last), None
            lease, started = await router._aenter(target), time.monotonic()
            inner = self._inner = target.pipe._astream_within(self._messages, args, room)
            held: list[ChatChunk] | None = []
            try:
                async with inner:
                    async for chunk in inner:
                        if held is None:
                            yield chunk
                            continue
                        held.append(chunk)
                        if _has_content(chunk):
                            self._answering(target.name, started)
                            await router._arecord(target, admission, None)
                            for item in held:
                                yield item
                            held = None
            except ProviderError as error:
                if held is None:
                    raise
                await router._arecord(target, admission, error if hops.failed(target, error) else None)
                last = (target.name, error)
                continue
            finally:
                await router._aleave(target, lease)
            if held is not None:
                self._answering(target.name, started)
                await router._arecord(target, admission, None)
                for item in held:
                    yield item
            self._response = router._named(inner.response, self.route or target.name)
            return
        raise hops.exhausted()
