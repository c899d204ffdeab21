"""Fixtures for the transport tests: both HTTP backends, a fake server, recorded sleeps."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from chatpipe._transport import RetryPolicy, Timeouts, Transport
from chatpipe.http import HttpRequest
from chatpipe.testing import FakeServer

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture(params=["httpx2", "httpx"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs the test once per HTTP library, forced through CHATPIPE_HTTP_BACKEND."""
    name: str = request.param
    monkeypatch.setenv("CHATPIPE_HTTP_BACKEND", name)
    for var in PROXY_VARS:  # the fake server is on 127.0.0.1: never go through a proxy
        monkeypatch.delenv(var, raising=False)
    return name


@pytest.fixture
def server() -> Iterator[FakeServer]:
    """A fresh fake server, closed after the test."""
    with FakeServer() as fake:
        yield fake


class Recorder:
    """Collects the waits a transport asked for (sync and async) and the on_send calls."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.sent: list[HttpRequest] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def on_send(self, request: HttpRequest) -> None:
        self.sent.append(request)


@pytest.fixture
def recorder() -> Recorder:
    """Records sleeps and on_send calls."""
    return Recorder()


MakeTransport = Callable[..., Transport]


@pytest.fixture
def make_transport(backend: str, recorder: Recorder) -> Iterator[MakeTransport]:
    """Builds transports on the test's backend, with recorded sleeps and no jitter; closes them."""
    made: list[Transport] = []

    def make(
        *,
        max_retries: int = 2,
        connect: float = 5.0,
        read: float = 10.0,
        stream_idle: float | None = None,
        **kwargs: Any,
    ) -> Transport:
        options: dict[str, Any] = {
            "timeouts": Timeouts(connect=connect, read=read, stream_idle=stream_idle),
            "retry": RetryPolicy(max_retries=max_retries, jitter=0.0),
            "provider": "fake",
            "on_send": recorder.on_send,
            "sleep": recorder.sleep,
            "async_sleep": recorder.async_sleep,
        }
        options.update(kwargs)
        transport = Transport(**options)
        made.append(transport)
        return transport

    yield make
    for transport in made:
        transport.close()


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
