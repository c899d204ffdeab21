"""Fixtures: a gateway app (Starlette TestClient) in front of a FakeServer OpenAI-style vendor."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from chatpipe.config import parse_config
from chatpipe.testing import FakeServer

VENDOR_KEY = "sk-vendor-secret-4242"
GATEWAY_KEY = "gw-key-aaaaaaaaaaaaaaaa"
LOCAL_CLIENT = ("127.0.0.1", 50000)
"""The client address of the test requests (TestClient's default, ``testclient``, is no loopback address)."""


@pytest.fixture
def vendor() -> Iterator[FakeServer]:
    """The fake upstream vendor."""
    with FakeServer() as server:
        yield server


@pytest.fixture
def make_client(vendor: FakeServer) -> Iterator[Callable[..., Any]]:
    """``make_client(serve="...", client=(host, port))``: a TestClient on a gateway with profile ``gpt`` → ``vendor``.

    Requests come from ``client`` (default :data:`LOCAL_CLIENT`); ``extra`` is more top-level
    YAML (e.g. ``"state: {...}"``).
    """
    from chatpipe.gateway import create_app
    from starlette.testclient import TestClient

    clients: list[Any] = []

    def make(
        serve: str = "{}", extra_profiles: str = "", client: tuple[str, int] = LOCAL_CLIENT, extra: str = ""
    ) -> Any:
        config = parse_config(
            f"""
profiles:
  gpt: {{provider: openai, base_url: '{vendor.url}/v1', api_key: {VENDOR_KEY}, model: gpt-x, max_retries: 0}}
{extra_profiles}
serve: {serve}
{extra}
""",
            env={},
        )
        test_client = TestClient(create_app(config), raise_server_exceptions=False, client=client)
        test_client.__enter__()
        clients.append(test_client)
        return test_client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
