"""Fixtures for the reliability tests; the harness itself is ``rel_harness.py`` (on sys.path here)."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from chatpipe.testing import FakeServer

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # rel_harness / rel_faults live beside this conftest
    sys.path.insert(0, str(HERE))

from rel_harness import FAMILIES, MODES, PROXY_VARS, Family  # noqa: E402


@pytest.fixture(params=FAMILIES, ids=[f.name for f in FAMILIES])
def family(request: pytest.FixtureRequest) -> Family:
    """Each provider family in turn."""
    value: Family = request.param
    return value


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """Each call mode in turn: sync, async, sync-stream, async-stream."""
    value: str = request.param
    return value


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake server is on 127.0.0.1: never route through a proxy from the environment."""
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    """A fresh fake server, closed after the test."""
    with FakeServer() as fake:
        yield fake


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def unresponsive_port() -> Iterator[int]:
    """A local port whose accept queue is full: a new connection attempt hangs (connect timeout)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port: int = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        filler.setblocking(False)
        try:
            filler.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(filler)
    try:
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()
