"""Tool-call arguments given as an object are taken and sent as compact JSON text (issue 14, point 6).

The reference accepts ``"arguments": {"city": "Paris"}``; chatpipe takes it too and sends the
JSON text every vendor's contract asks for, in every converter mode and through every provider.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from chatpipe import Pipeline, wire
from chatpipe.errors import InvalidRequestError
from chatpipe.testing.fake_server import FakeResponse, FakeServer

KEY = "sk-test-PLANTED-0123456789"
ARGUMENTS = {"city": "Paris", "note": "été"}
TEXT = '{"city":"Paris","note":"été"}'
CONVERSATION: list[dict[str, Any]] = [
    {"role": "user", "content": "Weather?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": ARGUMENTS}}
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]
CALL_SENT = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": TEXT}}


def test_an_arguments_object_becomes_compact_json_text() -> None:
    message = wire.message_from_dict(CONVERSATION[1])
    assert message.tool_calls is not None
    assert message.tool_calls[0].function.arguments == TEXT
    assert wire.message_to_dict(message)["tool_calls"] == [CALL_SENT]


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (["Paris"], "got list"),
        (5, "got int"),
        ({"when": {1, 2}}, "not JSON"),
        ({"x": math.nan}, "not JSON"),
    ],
    ids=["list", "number", "set-inside", "nan-inside"],
)
def test_arguments_that_are_neither_text_nor_a_json_object_are_refused(arguments: Any, fragment: str) -> None:
    bad = {"role": "assistant", "tool_calls": [{"id": "a", "function": {"name": "f", "arguments": arguments}}]}
    with pytest.raises(InvalidRequestError) as info:
        wire.messages_from_dicts([bad])
    assert info.value.where == "messages[0].tool_calls[0].function.arguments"
    assert fragment in str(info.value)


def test_the_openai_body_carries_the_text_and_follows_the_spec(fake_server: FakeServer, openai_spec: Any) -> None:
    reply = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "18C."}, "finish_reason": "stop"}],
    }
    fake_server.enqueue("POST /v1/chat/completions", FakeResponse.json(reply))
    pipe = Pipeline("openai", model="gpt-4o-mini", base_url=f"{fake_server.url}/v1", api_key=KEY)
    pipe.complete(CONVERSATION, tools=TOOLS)
    body = fake_server.requests[0].json
    assert body == {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": None, "tool_calls": [CALL_SENT]},
            {"role": "tool", "content": "18C", "tool_call_id": "call_1"},
        ],
        "tools": TOOLS,
        "stream": False,
    }
    openai_spec.check("CreateChatCompletionRequest", body)  # type: ignore[attr-defined]


@pytest.mark.parametrize("mode", ["merge-tools", "semi-strict-tools", "strict-tools"])
def test_tools_modes_send_the_text(mode: str) -> None:
    messages = Pipeline("openai", api_key=KEY, converters=[mode]).explain(CONVERSATION, tools=TOOLS).request["json"]
    assert messages["messages"] == [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": "", "tool_calls": [CALL_SENT]},
        {"role": "tool", "content": "18C", "tool_call_id": "call_1"},
    ]


@pytest.mark.parametrize("mode", ["merge", "semi-strict", "strict"])
def test_folding_modes_fold_the_text(mode: str) -> None:
    body = Pipeline("openai", api_key=KEY, converters=[mode]).explain(CONVERSATION).request["json"]
    assert body["messages"] == [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": f"[Tool call get_weather({TEXT})]"},
        {"role": "user", "content": "18C"},
    ]


def test_single_user_folds_the_text() -> None:
    body = Pipeline("openai", api_key=KEY, converters=["single-user"]).explain(CONVERSATION).request["json"]
    assert body["messages"] == [{"role": "user", "content": f"Weather?\n\n[Tool call get_weather({TEXT})]\n\n18C"}]


@pytest.mark.parametrize(
    "provider", ["deepseek", "ai21", "fireworks", "custom", "cohere", "openrouter", "xai", "groq", "ollama"]
)
def test_every_openai_shaped_provider_sends_the_text(provider: str) -> None:
    base = {"base_url": "http://127.0.0.1:9/v1", "model": "m"} if provider == "custom" else {}
    body = Pipeline(provider, api_key=KEY, **base).explain(CONVERSATION, tools=TOOLS).request["json"]
    (assistant,) = [m for m in body["messages"] if m["role"] == "assistant"]
    assert assistant["tool_calls"] == [CALL_SENT]


def test_mistral_sends_the_text_under_its_rewritten_id() -> None:
    body = Pipeline("mistral", api_key=KEY).explain(CONVERSATION, tools=TOOLS).request["json"]
    (call,) = body["messages"][1]["tool_calls"]
    assert call["function"] == {"name": "get_weather", "arguments": TEXT}


def test_gemini_sends_the_object_as_function_call_args() -> None:
    body = Pipeline("gemini", api_key=KEY).explain(CONVERSATION, tools=TOOLS).request["json"]
    assert body["contents"][1] == {
        "role": "model",
        "parts": [{"functionCall": {"name": "get_weather", "args": ARGUMENTS}}],
    }


def test_claude_sends_the_object_as_tool_use_input() -> None:
    body = Pipeline("claude", api_key=KEY).explain(CONVERSATION, tools=TOOLS).request["json"]
    assert body["messages"][1] == {
        "role": "assistant",
        "content": [{"type": "tool_use", "id": "call_1", "name": "get_weather", "input": ARGUMENTS}],
    }
