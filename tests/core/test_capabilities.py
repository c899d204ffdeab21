"""Requests are checked against the provider's declared capabilities before any network call."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from chatpipe import Pipeline
from chatpipe.errors import InvalidRequestError
from chatpipe.provider import Capabilities, ProviderInfo
from chatpipe.registry import Registry
from chatpipe.testing import MockTransport

HI = [{"role": "user", "content": "Hi"}]
IMAGE = [
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "see"},
            {"type": "image_url", "image_url": {"url": "https://e.com/a.png"}},
        ],
    }
]
TOOLS = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}]
BASE = ProviderInfo(
    name="limited", package="chatpipe-limited", display_name="Limited", default_base_url="https://l.example/v1"
)


def pipeline(**capabilities: bool) -> tuple[Pipeline, MockTransport]:
    registry = Registry(entry_points=[])
    registry.register(attrs.evolve(BASE, capabilities=Capabilities(**capabilities)))
    transport = MockTransport()
    return Pipeline("limited", model="m", api_key="sk-x", registry=registry, transport=transport), transport


@pytest.mark.parametrize(
    ("flag", "call", "message"),
    [
        ("streaming", lambda p: p.stream(HI), "cannot stream replies; use complete()"),
        ("tools", lambda p: p.complete(HI, tools=TOOLS), "does not support tools; remove 'tools'"),
        ("vision", lambda p: p.complete(IMAGE), "does not accept images, but message 0"),
    ],
)
def test_a_request_needing_a_missing_capability_fails_before_sending(flag: str, call: Any, message: str) -> None:
    pipe, transport = pipeline(**{flag: False})
    with pytest.raises(InvalidRequestError, match=message):
        call(pipe)
    with pytest.raises(InvalidRequestError, match=message):
        pipe.explain(
            IMAGE if flag == "vision" else HI, stream=flag == "streaming", tools=TOOLS if flag == "tools" else None
        )
    assert transport.requests == []


def test_requests_within_the_capabilities_are_built() -> None:
    pipe, _ = pipeline(vision=True)
    assert pipe.explain(IMAGE, stream=True, tools=TOOLS).request["json"]["tools"]


def test_no_model_listing_or_status_check_sends_no_request() -> None:
    pipe, transport = pipeline(model_listing=False, status_check=False)
    assert pipe.models() == []
    result = pipe.check()
    assert result.ok and result.bypassed and "has no status check" in result.detail
    assert transport.requests == []
