"""AnthropicEvents builds Messages-API answers the claude provider reads, streamed or not."""

from __future__ import annotations

import json

import pytest
from chatpipe import Pipeline
from chatpipe.errors import InvalidRequestError, OverloadedError
from chatpipe.testing import AnthropicEvents, FakeServer, MockTransport

HI = [{"role": "user", "content": "Weather in Paris?"}]
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]


def claude(**kwargs: object) -> Pipeline:
    return Pipeline("claude", model="claude-test", api_key="sk-ant-test-0000", max_retries=0, **kwargs)  # type: ignore[arg-type]


def test_stream_and_message_agree_through_a_real_pipeline(fake_server: FakeServer) -> None:
    reply = AnthropicEvents(input_tokens=5, output_tokens=9).text("Let me check.")
    reply.tool_use("toolu_1", "get_weather", {"city": "Paris"})
    fake_server.enqueue("POST /v1/messages", reply.response(), reply.sse())
    pipe = claude(base_url=fake_server.url)
    complete = pipe.complete(HI, tools=TOOLS)
    streamed = pipe.stream(HI, tools=TOOLS).collect()
    for response in (complete, streamed):
        assert response.text == "Let me check."
        (call,) = response.tool_calls
        assert (call.id, call.function.name, json.loads(call.function.arguments)) == (
            "toolu_1",
            "get_weather",
            {"city": "Paris"},
        )
        assert response.finish_reason == "tool_calls"
        assert response.usage is not None and response.usage.completion_tokens == 9


def test_events_stream_text_in_pieces() -> None:
    events = AnthropicEvents(pieces=3).text("abcdefghi").events()
    names = [name for name, _ in events]
    assert names[0] == "message_start" and names[-1] == "message_stop"
    deltas = [data["delta"]["text"] for name, data in events if name == "content_block_delta"]
    assert deltas == ["abc", "def", "ghi"]
    assert AnthropicEvents().text("x").final_stop_reason == "end_turn"
    assert AnthropicEvents().text("x").stop_reason("max_tokens").message()["stop_reason"] == "max_tokens"


def test_errors_and_the_mock_transport(mock_transport: MockTransport, anthropic_events: AnthropicEvents) -> None:
    mock_transport.enqueue(AnthropicEvents.error(529, "busy"), anthropic_events.text("Fine.").sse())
    pipe = claude(transport=mock_transport)
    with pytest.raises(OverloadedError):
        pipe.complete(HI)
    assert pipe.stream(HI).collect().text == "Fine."


def test_bad_blocks_are_refused() -> None:
    with pytest.raises(InvalidRequestError):
        AnthropicEvents().text(5)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError):
        AnthropicEvents().tool_use("t", "f", [1])  # type: ignore[arg-type]
