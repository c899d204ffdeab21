"""One Pipeline shared by 200 asyncio tasks and by 8 threads: every caller gets its own reply.

The server echoes each request's last user message back (in the family's own wire format,
streamed when the request asks for a stream), so a mixed-up reply is caught at once.
"""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from chatpipe import Pipeline
from chatpipe.testing import FakeResponse, FakeServer, RecordedRequest
from chatpipe.testing.conformance import Reply
from rel_harness import Family, make_pipeline


def echo(family: Family) -> object:
    def answer(request: RecordedRequest) -> FakeResponse:
        body = request.json
        text = json.dumps(body, sort_keys=True)
        marker = text[text.index("ask-") : text.index("-end") + 4]
        reply = Reply(text=f"reply to {marker}")
        streamed = '"stream": true' in text
        return family.simulator.stream(reply) if streamed else family.simulator.reply(reply)

    return answer


def ask(n: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"ask-{n}-end"}]


def check_one(pipe: Pipeline, n: int) -> None:
    text = pipe.stream(ask(n)).collect().text if n % 2 else pipe.complete(ask(n)).text
    assert text == f"reply to ask-{n}-end"


@pytest.mark.timeout(120)
def test_200_async_tasks_share_one_pipeline(family: Family, server: FakeServer) -> None:
    server.route(family.route, echo(family))  # type: ignore[arg-type]
    pipe = make_pipeline(family, server.url)

    async def one(n: int) -> str:
        if n % 2:
            return (await pipe.astream(ask(n)).collect()).text
        return (await pipe.acomplete(ask(n))).text

    async def main() -> list[str]:
        try:
            return await asyncio.gather(*(one(n) for n in range(200)))
        finally:
            await pipe.aclose()

    replies = asyncio.run(main())
    assert replies == [f"reply to ask-{n}-end" for n in range(200)]
    assert len(server.requests) == 200


@pytest.mark.timeout(120)
def test_8_threads_share_one_pipeline(family: Family, server: FakeServer) -> None:
    server.route(family.route, echo(family))  # type: ignore[arg-type]
    barrier = threading.Barrier(8)
    with make_pipeline(family, server.url) as pipe:

        def worker(w: int) -> int:
            barrier.wait(10)
            for i in range(25):
                check_one(pipe, w * 100 + i)
            return w

        with ThreadPoolExecutor(8) as pool:
            assert sorted(pool.map(worker, range(8))) == list(range(8))
    assert len(server.requests) == 200


def test_sync_and_async_use_on_one_pipeline_at_once(family: Family, server: FakeServer) -> None:
    """Threads and an event loop at the same time: separate pools, no cross-talk."""
    server.route(family.route, echo(family))  # type: ignore[arg-type]
    pipe = make_pipeline(family, server.url)

    async def loop_side(threads_done: threading.Event) -> list[str]:
        try:
            return [r.text for r in await asyncio.gather(*(pipe.acomplete(ask(n)) for n in range(50)))]
        finally:
            # aclose() also closes the *sync* pool (Transport.aclose contract), which would cut
            # the threads' streams: close only once they are done.
            await asyncio.to_thread(threads_done.wait, 60)
            await pipe.aclose()

    done = threading.Event()
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(check_one, pipe, 1000 + n) for n in range(40)]
        pool.submit(lambda: [f.result() for f in futures] and done.set())
        texts = asyncio.run(loop_side(done))
        for future in futures:
            future.result()
    assert texts == [f"reply to ask-{n}-end" for n in range(50)]
