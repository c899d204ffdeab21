"""Cancellation: closing a stream closes its connection promptly (seen by the server), and
a thousand cancelled streams leave no connection, task or thread behind."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time

import pytest
from chatpipe.testing import FakeResponse, FakeServer
from rel_harness import CONVERSATION, Family, make_pipeline

PROMPT = 2.0  # seconds within which the server must see the client leave


def slow_stream(family: Family) -> FakeResponse:
    """A stream that sends its first events at once, then one event every 0.2 s for seconds."""
    return dataclasses.replace(family.ok_stream("word " * 40), delay=0.2)


def test_sync_close_closes_the_connection(family: Family, server: FakeServer) -> None:
    server.enqueue(family.route, slow_stream(family))
    pipe = make_pipeline(family, server.url)
    stream = pipe.stream(CONVERSATION)
    first = next(iter(stream))
    assert first is not None
    assert server.wait_for(lambda: server.open_connections == 1, PROMPT)
    started = time.monotonic()
    stream.close()
    assert server.wait_for(lambda: server.open_connections == 0 and server.disconnects == 1, PROMPT)
    assert time.monotonic() - started < PROMPT
    pipe.close()


def test_leaving_a_with_block_closes_the_connection(family: Family, server: FakeServer) -> None:
    server.enqueue(family.route, slow_stream(family))
    with make_pipeline(family, server.url) as pipe, pipe.stream(CONVERSATION) as stream:
        for _ in stream:
            break
    assert server.wait_for(lambda: server.open_connections == 0 and server.disconnects == 1, PROMPT)


def test_async_cancel_closes_the_connection(family: Family, server: FakeServer) -> None:
    server.enqueue(family.route, slow_stream(family))
    pipe = make_pipeline(family, server.url)

    async def consume(got_one: asyncio.Event) -> None:
        async for _ in pipe.astream(CONVERSATION):
            got_one.set()

    async def main() -> None:
        got_one = asyncio.Event()
        task = asyncio.create_task(consume(got_one))
        await asyncio.wait_for(got_one.wait(), PROMPT)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await pipe.aclose()

    asyncio.run(main())
    assert server.wait_for(lambda: server.open_connections == 0 and server.disconnects == 1, PROMPT)


@pytest.mark.timeout(120)
def test_a_thousand_cancelled_streams_leak_nothing(family: Family, server: FakeServer) -> None:
    """1,000 async streams, 50 at a time, each cancelled after its first chunk."""
    server.route(family.route, lambda request: slow_stream(family))
    pipe = make_pipeline(family, server.url)
    threads_before = threading.active_count()

    async def one() -> None:
        got_one = asyncio.Event()

        async def consume() -> None:
            async for _ in pipe.astream(CONVERSATION):
                got_one.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(got_one.wait(), 10)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    async def main() -> set[asyncio.Task[object]]:
        for _ in range(20):
            await asyncio.gather(*(one() for _ in range(50)))
        await pipe.aclose()
        return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}

    leftover = asyncio.run(main())
    assert leftover == set()
    assert len(server.requests) == 1000
    assert server.wait_for(lambda: server.open_connections == 0, 10), server.open_connections
    assert server.wait_for(lambda: server.disconnects == 1000, 10), server.disconnects
    assert server.wait_for(lambda: threading.active_count() <= threads_before, 10)


@pytest.mark.timeout(120)
def test_a_thousand_closed_sync_streams_leak_nothing(family: Family, server: FakeServer) -> None:
    """1,000 sync streams, each closed after its first chunk, through one pipeline."""
    server.route(family.route, lambda request: slow_stream(family))
    threads_before = threading.active_count()
    with make_pipeline(family, server.url) as pipe:
        for _ in range(1000):
            stream = pipe.stream(CONVERSATION)
            next(iter(stream))
            stream.close()
            # the pool never holds a half-read connection: at most this one is still closing
            assert server.open_connections <= 2
    assert len(server.requests) == 1000
    assert server.wait_for(lambda: server.open_connections == 0, 10), server.open_connections
    assert server.wait_for(lambda: server.disconnects == 1000, 10), server.disconnects
    assert server.wait_for(lambda: threading.active_count() <= threads_before, 10)
