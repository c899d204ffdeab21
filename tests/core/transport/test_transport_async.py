"""The async twins (asend, astream) on both backends, concurrency, event loops, cancellation."""

from __future__ import annotations

import asyncio
import gc
import gzip
import time
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from chatpipe._transport import Transport
from chatpipe.errors import APIConnectionError, APITimeoutError
from chatpipe.http import HttpRequest, HttpResponse
from chatpipe.testing import FakeResponse, FakeServer

MakeTransport = Callable[..., Transport]
RETRYABLE = frozenset({429, 500, 502, 503, 504, 529})
PATH = "/v1/chat/completions"


def request(server: FakeServer, **json: Any) -> HttpRequest:
    return HttpRequest("POST", server.url + PATH, json=json or {"model": "m"})


def test_asend_200(server: FakeServer, make_transport: MakeTransport, backend: str) -> None:
    server.enqueue(PATH, FakeResponse.json({"ok": True}))
    transport = make_transport()

    async def main() -> HttpResponse:
        async with transport:
            return await transport.asend(request(server, q=1), retryable=RETRYABLE)

    response = asyncio.run(main())
    assert transport.backend_name == backend
    assert response.json() == {"ok": True}
    assert server.requests[0].json == {"q": 1}


def test_asend_retries_429_with_async_sleep(server: FakeServer, make_transport: MakeTransport, recorder: Any) -> None:
    server.enqueue(
        PATH, FakeResponse.json({}, status=429, headers={"retry-after": "3"}), FakeResponse.json({"ok": True})
    )
    transport = make_transport()

    async def main() -> HttpResponse:
        async with transport:
            return await transport.asend(request(server), retryable=RETRYABLE)

    assert asyncio.run(main()).status == 200
    assert recorder.sleeps == [3.0]
    assert len(server.requests) == 2


def test_asend_non_retryable_and_exhausted(server: FakeServer, make_transport: MakeTransport) -> None:
    server.enqueue(PATH, FakeResponse.json({"e": 1}, status=401))
    server.enqueue("/other", *[FakeResponse.json({"n": n}, status=503) for n in range(2)])
    transport = make_transport(max_retries=1)

    async def main() -> tuple[HttpResponse, HttpResponse]:
        async with transport:
            first = await transport.asend(request(server), retryable=RETRYABLE)
            second = await transport.asend(HttpRequest("GET", server.url + "/other"), retryable=RETRYABLE)
            return first, second

    first, second = asyncio.run(main())
    assert (first.status, first.json()) == (401, {"e": 1})
    assert (second.status, second.json()) == (503, {"n": 1})
    assert len(server.requests) == 3


def test_asend_connection_refused(make_transport: MakeTransport, recorder: Any, closed_port: int) -> None:
    transport = make_transport(max_retries=2)

    async def main() -> None:
        async with transport:
            await transport.asend(HttpRequest("GET", f"http://127.0.0.1:{closed_port}/x"), retryable=RETRYABLE)

    with pytest.raises(APIConnectionError, match="could not connect"):
        asyncio.run(main())
    assert len(recorder.sent) == 3
    assert recorder.sleeps == [0.5, 1.0]


def test_asend_read_timeout(server: FakeServer, make_transport: MakeTransport) -> None:
    server.enqueue(PATH, FakeResponse.json({}, delay=5.0))
    transport = make_transport(max_retries=0, read=0.2)

    async def main() -> None:
        async with transport:
            await transport.asend(request(server), retryable=RETRYABLE)

    with pytest.raises(APITimeoutError, match="read timeout"):
        asyncio.run(main())


def test_asend_reset_then_success(server: FakeServer, make_transport: MakeTransport) -> None:
    server.enqueue(PATH, FakeResponse.reset(), FakeResponse.json({"ok": True}))
    transport = make_transport()

    async def main() -> HttpResponse:
        async with transport:
            return await transport.asend(request(server), retryable=RETRYABLE)

    assert asyncio.run(main()).json() == {"ok": True}
    assert len(server.requests) == 2


def test_astream_incremental(server: FakeServer, make_transport: MakeTransport) -> None:
    delay = 0.4
    server.enqueue(PATH, FakeResponse.sse([{"n": 1}, {"n": 2}, {"n": 3}], delay=delay))
    transport = make_transport()

    async def main() -> tuple[list[str], list[float]]:
        data: list[str] = []
        arrivals: list[float] = []
        async with transport, transport.astream(request(server), retryable=RETRYABLE) as response:
            assert response.status == 200
            start = time.monotonic()
            async for event in response.aevents():
                data.append(event.data)
                arrivals.append(time.monotonic() - start)
        return data, arrivals

    data, arrivals = asyncio.run(main())
    assert data == ['{"n": 1}', '{"n": 2}', '{"n": 3}', "[DONE]"]
    assert arrivals[0] < delay
    assert arrivals[2] - arrivals[0] >= 2 * delay * 0.9


def test_astream_decodes_a_gzip_coded_stream(server: FakeServer, make_transport: MakeTransport) -> None:
    content = gzip.compress(b"data: one\n\ndata: two\n\n")
    head = (
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-encoding: gzip\r\n"
        f"content-length: {len(content)}\r\nconnection: close\r\n\r\n"
    )
    server.enqueue(PATH, FakeResponse.raw(head.encode() + content))
    transport = make_transport()

    async def main() -> list[str]:
        async with transport, transport.astream(request(server), retryable=RETRYABLE) as response:
            return [event.data async for event in response.aevents()]

    assert asyncio.run(main()) == ["one", "two"]


def test_astream_cut_is_not_retried(server: FakeServer, make_transport: MakeTransport) -> None:
    server.enqueue(PATH, FakeResponse.sse([{"n": 1}, {"n": 2}], cut_after=1))
    transport = make_transport(max_retries=3)
    received: list[str] = []

    async def main() -> None:
        async with transport, transport.astream(request(server), retryable=RETRYABLE) as response:
            async for event in response.aevents():
                received.append(event.data)

    with pytest.raises(APIConnectionError, match="mid-stream after 1 event") as caught:
        asyncio.run(main())
    assert not isinstance(caught.value, APITimeoutError)
    assert received == ['{"n": 1}']
    assert len(server.requests) == 1


def test_astream_stall(server: FakeServer, make_transport: MakeTransport) -> None:
    server.enqueue(PATH, FakeResponse.sse([{"n": 1}, {"n": 2}], stall_after=1))
    transport = make_transport(read=30.0, stream_idle=0.3)

    async def main() -> None:
        async with transport, transport.astream(request(server), retryable=RETRYABLE) as response:
            async for _ in response.aevents():
                pass

    start = time.monotonic()
    with pytest.raises(APITimeoutError, match="stream stalled"):
        asyncio.run(main())
    assert 0.25 <= time.monotonic() - start < 5.0
    assert server.wait_for(lambda: server.disconnects == 1)


def test_astream_error_status_and_retry(server: FakeServer, make_transport: MakeTransport, recorder: Any) -> None:
    server.enqueue(
        PATH,
        FakeResponse.json({}, status=429, headers={"retry-after": "0"}),
        FakeResponse.json({"error": "quota"}, status=402),
    )
    transport = make_transport()

    async def main() -> HttpResponse:
        async with transport, transport.astream(request(server), retryable=RETRYABLE) as response:
            return await response.aread()

    body = asyncio.run(main())
    assert (body.status, body.json()) == (402, {"error": "quota"})
    assert len(server.requests) == 2
    assert recorder.sleeps == [0.0]


def test_astream_connection_refused(make_transport: MakeTransport, recorder: Any, closed_port: int) -> None:
    transport = make_transport(max_retries=1)

    async def main() -> None:
        http = HttpRequest("GET", f"http://127.0.0.1:{closed_port}/x")
        async with transport, transport.astream(http, retryable=RETRYABLE):
            pass

    with pytest.raises(APIConnectionError, match="could not connect"):
        asyncio.run(main())
    assert len(recorder.sent) == 2


def test_200_concurrent_asends_through_one_transport(server: FakeServer, make_transport: MakeTransport) -> None:
    server.route(PATH, lambda r: FakeResponse.json({"echo": r.json["i"]}))
    transport = make_transport(max_retries=0)

    async def main() -> list[HttpResponse]:
        async with transport:
            calls = [transport.asend(request(server, i=i), retryable=RETRYABLE) for i in range(200)]
            return await asyncio.gather(*calls)

    responses = asyncio.run(main())
    assert [response.json()["echo"] for response in responses] == list(range(200))
    assert len(server.requests) == 200


def test_one_transport_across_event_loops(server: FakeServer, make_transport: MakeTransport) -> None:
    server.route(PATH, lambda r: FakeResponse.json({"ok": True}))
    transport = make_transport()

    async def call() -> int:
        return (await transport.asend(request(server), retryable=RETRYABLE)).status

    async def call_and_close() -> int:
        status = await call()
        await transport.aclose()
        return status

    # The first loop's pool is left open on purpose: the second loop must not reuse it.
    assert asyncio.run(call()) == 200
    assert asyncio.run(call_and_close()) == 200
    assert len(server.requests) == 2
    with warnings.catch_warnings():  # the abandoned first pool's sockets are reclaimed here
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def test_cancelling_a_stream_closes_its_connection(server: FakeServer, make_transport: MakeTransport) -> None:
    server.enqueue(PATH, FakeResponse.sse([{"n": 1}, {"n": 2}], stall_after=1))
    transport = make_transport()
    first = asyncio.Event()

    async def consume() -> None:
        async with transport.astream(request(server), retryable=RETRYABLE) as response:
            async for _ in response.aevents():
                first.set()

    async def main() -> None:
        async with transport:
            task = asyncio.create_task(consume())
            await asyncio.wait_for(first.wait(), 5.0)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())
    assert server.wait_for(lambda: server.disconnects == 1 and server.open_connections == 0)


def test_afinish_reads_the_end_of_a_stream_so_its_connection_is_reused() -> None:
    from chatpipe._transport import Transport
    from chatpipe.http import HttpRequest
    from chatpipe.testing import FakeResponse, FakeServer

    async def run(server: FakeServer) -> None:
        transport = Transport()
        request = HttpRequest("POST", server.url + "/v1/chat/completions", json={"stream": True})
        for _ in range(2):
            async with transport.astream(request, retryable=frozenset()) as response:
                events = response.aevents()
                assert (await anext(events)).data == '{"n": 1}' and (await anext(events)).data == "[DONE]"
                await response.afinish()
        assert server.open_connections == 1
        await transport.aclose()

    with FakeServer() as server:
        server.enqueue("/v1/chat/completions", FakeResponse.sse([{"n": 1}]), FakeResponse.sse([{"n": 1}]))
        asyncio.run(run(server))
