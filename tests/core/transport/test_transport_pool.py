"""What the transport changes in the HTTP library's pool (``_transport._pool``), on both libraries."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from chatpipe._transport import RetryPolicy, Timeouts, Transport
from chatpipe._transport._pool import _AsyncBackend, _Backend
from chatpipe.errors import APITimeoutError
from chatpipe.http import HttpRequest
from chatpipe.testing import FakeResponse, FakeServer

PATH = "POST /v1/chat/completions"
RETRYABLE = frozenset({503})


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as fake:
        yield fake


def request(server: FakeServer, **changes: Any) -> HttpRequest:
    return HttpRequest("POST", f"{server.url}/v1/chat/completions", json={}, **changes)


def test_every_pool_gets_the_bounded_network_backend(backend: str) -> None:
    transport = Transport(backend=backend)
    sync_pool = transport._sync_client()._transport._pool  # type: ignore[attr-defined]
    assert isinstance(sync_pool._network_backend, _Backend)

    async def pool() -> Any:
        return transport._async_client()._transport._pool  # type: ignore[attr-defined]

    assert isinstance(asyncio.run(pool())._network_backend, _AsyncBackend)
    transport.close()


def test_a_trickled_body_ends_at_the_deadline(server: FakeServer, backend: str) -> None:
    body = b'{"ok": true, "padding": "' + b"x" * 200 + b'"}'
    steps: list[bytes | float] = [b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body)]
    for byte in body:
        steps += [bytes([byte]), 0.02]
    server.enqueue(PATH, FakeResponse.script(*steps))
    transport = Transport(backend=backend, timeouts=Timeouts(read=5.0, deadline=0.5))
    with transport, pytest.raises(APITimeoutError, match=r"the call .* longer than 0.5s \(timeout.deadline\)"):
        transport.send(request(server), retryable=RETRYABLE)


def test_the_request_deadline_wins_over_the_configured_one(server: FakeServer, backend: str) -> None:
    server.enqueue(PATH, FakeResponse.json({}, delay=3.0))
    transport = Transport(backend=backend, timeouts=Timeouts(read=10.0))
    with transport, pytest.raises(APITimeoutError, match=r"0.3s \(deadline=\)"):
        transport.send(request(server, deadline=0.3), retryable=RETRYABLE)


def test_a_connection_with_bytes_past_its_body_is_not_reused(server: FakeServer, backend: str) -> None:
    server.enqueue(
        PATH,
        FakeResponse.script(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}SURPLUS", keep_open=True),
        FakeResponse.json({"second": True}),
    )
    with Transport(backend=backend, timeouts=Timeouts(read=5.0), retry=RetryPolicy(max_retries=0)) as transport:
        assert transport.send(request(server), retryable=RETRYABLE).content == b"{}"
        assert transport.send(request(server), retryable=RETRYABLE).json() == {"second": True}
    assert server.wait_for(lambda: server.open_connections == 0)


def test_a_slow_consumer_is_no_stall_of_the_server(server: FakeServer, backend: str) -> None:
    server.enqueue(PATH, FakeResponse.sse([{"n": 1}, {"n": 2}, {"n": 3}], done=False))
    transport = Transport(backend=backend, timeouts=Timeouts(read=5.0, stream_progress=0.3))
    with transport, transport.stream(request(server), retryable=RETRYABLE) as response:
        seen = []
        for event in response.events():
            seen.append(event.data)
            time.sleep(0.5)  # longer than stream_progress, between the caller's reads
    assert seen == ['{"n": 1}', '{"n": 2}', '{"n": 3}']
