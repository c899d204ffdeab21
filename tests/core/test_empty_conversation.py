"""An empty conversation (issue 14, point 12): the placeholder when a converter puts it in,
as the reference's merge/semi/strict do; refused before any request when nothing does."""

from __future__ import annotations

from typing import Any

import pytest
from chatpipe import Pipeline
from chatpipe.errors import InvalidRequestError
from chatpipe.testing import MockTransport
from chatpipe.testing.fake_server import FakeResponse, FakeServer

KEY = "sk-test-PLANTED-0123456789"
REPLY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}],
}


@pytest.mark.parametrize("mode", ["merge", "merge-tools", "semi-strict", "strict", "strict-tools", "single-user"])
def test_a_converter_puts_the_placeholder_in(fake_server: FakeServer, openai_spec: Any, mode: str) -> None:
    fake_server.enqueue("POST /v1/chat/completions", FakeResponse.json(REPLY))
    pipe = Pipeline("openai", base_url=f"{fake_server.url}/v1", api_key=KEY, converters=[mode], placeholder="[Go]")
    assert pipe.complete([]).text == "Hello!"
    body = fake_server.requests[0].json
    assert body == {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "[Go]"}], "stream": False}
    openai_spec.check("CreateChatCompletionRequest", body)


@pytest.mark.parametrize("provider", ["deepseek", "perplexity"])
def test_a_required_conversion_puts_it_in(provider: str) -> None:
    messages = Pipeline(provider, api_key=KEY).explain([]).request["json"]["messages"]
    assert messages == [{"role": "user", "content": "[Start a new chat]"}]


@pytest.mark.parametrize(
    ("provider", "converters"),
    [("openai", []), ("openai", ["none"]), ("claude", []), ("cohere", []), ("gemini", []), ("gemini", ["none"])],
)
def test_nothing_fills_it_so_it_is_refused_before_sending(provider: str, converters: list[str]) -> None:
    transport = MockTransport()
    pipe = Pipeline(provider, api_key=KEY, converters=converters, transport=transport)
    with pytest.raises(InvalidRequestError, match="conversation is empty") as info:
        pipe.complete([])
    assert info.value.where == "messages"
    assert transport.requests == []
