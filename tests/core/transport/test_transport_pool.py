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


def test_a_streams_socket_is_looked_up_once_and_its_readability_checked_each_time() -> None:
    import socket

    from chatpipe._transport._pool import _AsyncStream

    class Inner:
        def __init__(self, sock: socket.socket) -> None:
            self.sock, self.asked = sock, []

        def get_extra_info(self, info: str) -> Any:
            self.asked.append(info)
            return {"socket": self.sock, "client_addr": ("127.0.0.1", 1)}.get(info)

    ours, theirs = socket.socketpair()
    inner = Inner(ours)
    stream = _AsyncStream(inner, core=None)
    seen = [stream.get_extra_info("is_readable")]
    theirs.sendall(b"x")
    seen.append(stream.get_extra_info("is_readable"))
    ours.recv(1)
    seen.append(stream.get_extra_info("is_readable"))
    theirs.close()  # the peer's end: readable (an empty read) from now on
    seen.append(stream.get_extra_info("is_readable"))
    assert seen == [False, True, False, True]
    assert stream.get_extra_info("socket") is ours and stream.get_extra_info("client_addr") == ("127.0.0.1", 1)
    assert inner.asked == ["socket", "client_addr"]
    ours.close()
    assert stream.get_extra_info("is_readable") is True  # a closed socket: expired, as the core decides


def test_a_connection_the_server_closed_while_idle_is_not_reused(server: FakeServer, backend: str) -> None:
    # The pool checks the cached socket of each idle connection before reuse: closed ones are dropped.
    body = b'{"ok": true}'
    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body)
    server.route(PATH, lambda _: FakeResponse.raw(head + body))  # then the server closes, unannounced
    transport = Transport(backend=backend, retry=RetryPolicy(max_retries=0))

    async def calls() -> list[int]:
        statuses = []
        for _ in range(4):
            statuses.append((await transport.asend(request(server), retryable=RETRYABLE)).status)
            await asyncio.sleep(0.05)  # the close reaches the client's socket
        await transport.aclose()
        return statuses

    assert asyncio.run(calls()) == [200] * 4
