"""End-to-end fixtures: ``chatpipe serve`` as a real subprocess in front of FakeServer vendors.

``start_gateway(profiles_yaml, serve_yaml="{}", *args, top="")`` writes a config (``top``: more
top-level sections, e.g. ``state: {...}``), starts the server on a free loopback port, waits for
``/health`` and returns a :class:`Gateway`; every gateway is stopped (SIGTERM, then kill) when
the test ends.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from chatpipe.testing import FakeServer

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
openai = pytest.importorskip("openai")

CHATPIPE = str(Path(sys.executable).with_name("chatpipe"))
VENDOR_KEY = "sk-vendor-secret-e2e-1234"
GATEWAY_KEY = "gw-key-e2e-aaaaaaaaaaaa"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Gateway:
    """A running ``chatpipe serve`` process."""

    def __init__(self, process: subprocess.Popen[str], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, api_key: str = "unused", **kwargs: Any) -> Any:
        """An ``openai.OpenAI`` client pointed at the gateway (no retries)."""
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=api_key, max_retries=0, **kwargs)

    def async_client(self, api_key: str = "unused", **kwargs: Any) -> Any:
        """An ``openai.AsyncOpenAI`` client pointed at the gateway (no retries)."""
        return openai.AsyncOpenAI(base_url=f"{self.url}/v1", api_key=api_key, max_retries=0, **kwargs)

    def output(self) -> str:
        """What the server wrote to stdout/stderr so far."""
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, wait; kill if it does not stop. Returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def _wait_healthy(gateway: Gateway, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gateway.process.poll() is not None:
            raise AssertionError(f"chatpipe serve exited early:\n{gateway.output()}")
        try:
            with urllib.request.urlopen(f"{gateway.url}/health", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"chatpipe serve did not become healthy:\n{gateway.output()}")


@pytest.fixture
def vendor() -> Iterator[FakeServer]:
    """An OpenAI-style fake vendor."""
    with FakeServer() as server:
        yield server


@pytest.fixture
def start_gateway(tmp_path: Path) -> Iterator[Callable[..., Gateway]]:
    """Start ``chatpipe serve`` with the given ``profiles:`` body and ``serve:`` section."""
    started: list[Gateway] = []

    def start(profiles: str, serve: str = "{}", *args: str, top: str = "") -> Gateway:
        index = len(started)
        config = tmp_path / f"gateway-{index}.yaml"
        config.write_text(f"profiles:\n{profiles}\nserve: {serve}\n{top}")
        port = free_port()
        log = tmp_path / f"gateway-{index}.log"
        with log.open("w") as sink:
            process = subprocess.Popen(
                [CHATPIPE, "serve", "--config", str(config), "--port", str(port), *args],
                stdout=sink,
                stderr=subprocess.STDOUT,
                text=True,
                env=dict(os.environ),
            )
        gateway = Gateway(process, port, log)
        started.append(gateway)
        _wait_healthy(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.stop()


def openai_profile(name: str, server: FakeServer, **extra: str) -> str:
    """One ``profiles:`` entry for an OpenAI-provider profile at ``server``."""
    fields = {
        "provider": "openai",
        "base_url": f"'{server.url}/v1'",
        "api_key": VENDOR_KEY,
        "model": "vendor-model",
        "max_retries": "0",
        **extra,
    }
    return f"  {name}: {{{', '.join(f'{k}: {v}' for k, v in fields.items())}}}\n"
