"""OpenAI clients talking to a Claude profile through the gateway: the fake vendor speaks
Anthropic's Messages API (typed SSE events), the client sees OpenAI format."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from chatpipe.testing import FakeResponse

from .conftest import VENDOR_KEY

pytest.importorskip("chatpipe_claude")

ROUTE = "POST /v1/messages"
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather in Paris?"}]
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
USAGE = {"input_tokens": 21, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}


def claude_profile(server) -> str:
    return (
        f"  claude: {{provider: claude, base_url: '{server.url}', api_key: {VENDOR_KEY}, "
        "model: claude-sonnet-4-5, max_retries: 0}\n"
    )


def message(content: list[dict[str, Any]], stop: str = "end_turn") -> dict[str, Any]:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {**USAGE, "output_tokens": 9},
    }


def events(*blocks: tuple[dict[str, Any], list[dict[str, Any]]], stop: str = "end_turn") -> FakeResponse:
    """An Anthropic event stream: message_start, each (block start, deltas), message_delta, message_stop."""
    start = {**message([], stop), "stop_reason": None, "usage": USAGE}
    items: list[Any] = [("message_start", {"type": "message_start", "message": start}), ("ping", {"type": "ping"})]
    for index, (block, deltas) in enumerate(blocks):
        items.append(("content_block_start", {"type": "content_block_start", "index": index, "content_block": block}))
        for delta in deltas:
            items.append(("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}))
        items.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    items.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": 9},
            },
        )
    )
    items.append(("message_stop", {"type": "message_stop"}))
    return FakeResponse.sse(items, done=False)


def test_stream_with_thinking_text_and_usage(start_gateway, vendor):
    gateway = start_gateway(claude_profile(vendor))
    vendor.enqueue(
        ROUTE,
        events(
            (
                {"type": "thinking", "thinking": "", "signature": ""},
                [
                    {"type": "thinking_delta", "thinking": "Paris in June... "},
                    {"type": "thinking_delta", "thinking": "likely sunny."},
                    {"type": "signature_delta", "signature": "sig-abc"},
                ],
            ),
            (
                {"type": "text", "text": ""},
                [{"type": "text_delta", "text": "Sunny, "}, {"type": "text_delta", "text": "about 24 C."}],
            ),
        ),
    )
    chunks = list(
        gateway.client().chat.completions.create(
            model="claude", messages=MESSAGES, stream=True, stream_options={"include_usage": True}, max_tokens=256
        )
    )
    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert "".join((d.model_extra or {}).get("reasoning_content") or "" for d in deltas) == (
        "Paris in June... likely sunny."
    )
    assert "".join(d.content or "" for d in deltas) == "Sunny, about 24 C."
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage.prompt_tokens == 21 and chunks[-1].usage.completion_tokens == 9
    assert {c.id for c in chunks} == {"msg_01"}
    sent = vendor.requests[0]
    assert sent.headers["x-api-key"] == VENDOR_KEY
    assert sent.json["system"] in ("Be brief.", [{"type": "text", "text": "Be brief."}])
    assert sent.json["max_tokens"] == 256
    assert sent.json["stream"] is True


def test_completion_and_tool_round_trip(start_gateway, vendor):
    gateway = start_gateway(claude_profile(vendor))
    client = gateway.client()
    vendor.enqueue(
        ROUTE,
        FakeResponse.json(
            message(
                [
                    {"type": "text", "text": "Let me check."},
                    {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}},
                ],
                stop="tool_use",
            )
        ),
    )
    first = client.chat.completions.create(model="claude", messages=MESSAGES, tools=[TOOL])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Let me check."
    (call,) = choice.message.tool_calls
    assert (call.id, call.function.name, json.loads(call.function.arguments)) == (
        "toolu_01",
        "get_weather",
        {"city": "Paris"},
    )
    assert vendor.requests[0].json["tools"][0]["name"] == "get_weather"

    vendor.enqueue(ROUTE, FakeResponse.json(message([{"type": "text", "text": "Sunny, 18 C."}])))
    history = [
        *MESSAGES,
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "18 C and sunny"},
    ]
    second = client.chat.completions.create(model="claude", messages=history, tools=[TOOL])
    assert second.choices[0].message.content == "Sunny, 18 C."
    sent = vendor.requests[-1].json["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    uses = [b for b in sent[1]["content"] if b["type"] == "tool_use"]
    assert uses == [{"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}}]
    results = [b for b in sent[2]["content"] if b["type"] == "tool_result"]
    assert [(r["tool_use_id"], r["content"]) for r in results] == [("toolu_01", "18 C and sunny")]


def test_streamed_tool_call(start_gateway, vendor):
    gateway = start_gateway(claude_profile(vendor))
    vendor.enqueue(
        ROUTE,
        events(
            (
                {"type": "tool_use", "id": "toolu_02", "name": "get_weather", "input": {}},
                [
                    {"type": "input_json_delta", "partial_json": '{"city": '},
                    {"type": "input_json_delta", "partial_json": '"Paris"}'},
                ],
            ),
            stop="tool_use",
        ),
    )
    stream = gateway.client().chat.completions.create(model="claude", messages=MESSAGES, tools=[TOOL], stream=True)
    calls = [d for c in stream for ch in c.choices for d in (ch.delta.tool_calls or [])]
    assert [d.id for d in calls if d.id] == ["toolu_02"]
    assert json.loads("".join(d.function.arguments or "" for d in calls)) == {"city": "Paris"}


def test_overloaded_and_error_events(start_gateway, vendor):
    gateway = start_gateway(claude_profile(vendor))
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    vendor.enqueue(ROUTE, FakeResponse.json(overloaded, status=529))
    with pytest.raises(openai.InternalServerError) as info:
        gateway.client().chat.completions.create(model="claude", messages=MESSAGES)
    assert info.value.status_code == 503
    assert VENDOR_KEY not in info.value.response.text

    start = {**message([], "end_turn"), "stop_reason": None, "usage": USAGE}
    text_start = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    text_delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Partial"}}
    vendor.enqueue(
        ROUTE,
        FakeResponse.sse(
            [
                ("message_start", {"type": "message_start", "message": start}),
                ("content_block_start", text_start),
                ("content_block_delta", text_delta),
                ("error", overloaded),
            ],
            done=False,
        ),
    )
    received = []
    with pytest.raises(openai.APIError, match="Overloaded"):
        for chunk in gateway.client().chat.completions.create(model="claude", messages=MESSAGES, stream=True):
            received.extend(c.delta.content or "" for c in chunk.choices)
    assert "".join(received) == "Partial"
