"""The deepseek plugin: beta base, prefix completion, reasoning_content, dropped fields."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from typing import Any

import pytest
from chatpipe import Pipeline, wire
from chatpipe.errors import ConfigError, InvalidRequestError, PermissionDeniedError
from chatpipe.http import HttpResponse, SSEEvent
from chatpipe.models import ChatRequest
from chatpipe.provider import ProviderSettings
from chatpipe.registry import Registry
from chatpipe.secrets import Secret
from chatpipe.testing.fake_server import FakeResponse
from chatpipe_deepseek import DeepSeekProvider

KEY = "sk-PLANTED-deepseek-0123456789abcdef"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "now",
            "description": "Current time",
            "parameters": {"type": "object", "properties": {}, "required": []},
        },
    }
]


def make(**kwargs: Any) -> DeepSeekProvider:
    base = kwargs.pop("base_url", DeepSeekProvider.info.default_base_url)
    return DeepSeekProvider(ProviderSettings(base_url=base, api_key=Secret(KEY), **kwargs))


def request(messages: list[dict[str, Any]], **kwargs: Any) -> ChatRequest:
    tools = wire.tools_from_dicts(kwargs.pop("tools")) if "tools" in kwargs else None
    return ChatRequest(model="deepseek-chat", messages=wire.messages_from_dicts(messages), tools=tools, **kwargs)


def sent(adapter: DeepSeekProvider, req: ChatRequest) -> dict[str, Any]:
    body: dict[str, Any] = adapter.build_chat(adapter.prepare(req)).json
    return body


def test_declaration() -> None:
    info = DeepSeekProvider.info
    assert (info.name, info.package) == ("deepseek", "chatpipe-deepseek")
    assert info.default_base_url == "https://api.deepseek.com/beta"
    assert info.api_key_env == ("DEEPSEEK_API_KEY",)
    assert info.default_model == "deepseek-chat"
    assert info.required_converters == ("semi-strict-tools",)
    assert info.capabilities.reasoning


def test_entry_point_registers_the_class() -> None:
    (ep,) = [e for e in entry_points(group="chatpipe.providers") if e.name == "deepseek"]
    registry = Registry(entry_points=[])
    registry.register(ep.load())
    assert registry.provider("deepseek") is DeepSeekProvider


def test_chat_goes_to_the_beta_base_and_models_to_the_root() -> None:
    adapter = make()
    assert adapter.build_chat(request([{"role": "user", "content": "Hi"}])).url == (
        "https://api.deepseek.com/beta/chat/completions"
    )
    assert adapter.build_models().url == "https://api.deepseek.com/models"
    assert make(base_url="https://api.deepseek.com").build_models().url == "https://api.deepseek.com/models"


def test_a_trailing_assistant_message_becomes_a_prefix() -> None:
    body = sent(
        make(), request([{"role": "user", "content": "Write a haiku"}, {"role": "assistant", "content": "Autumn"}])
    )
    assert body["messages"][-1] == {"role": "assistant", "content": "Autumn", "prefix": True}
    assert "prefix" not in body["messages"][0]


@pytest.mark.parametrize(
    ("messages", "kwargs"),
    [
        (
            [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello"},
                {"role": "user", "content": "?"},
            ],
            {},
        ),
        ([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}], {"tools": TOOLS}),
        (
            [
                {"role": "user", "content": "t?"},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "now", "arguments": "{}"}}],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "12:00"},
                {"role": "assistant", "content": "It is"},
            ],
            {},
        ),
    ],
    ids=["last-is-user", "tools-defined", "tool-message-present"],
)
def test_no_prefix_when_not_last_or_tools_are_involved(messages: list[dict[str, Any]], kwargs: dict[str, Any]) -> None:
    body = sent(make(), request(messages, **kwargs))
    assert not any("prefix" in m for m in body["messages"])


def test_prefix_option_turns_it_off() -> None:
    DeepSeekProvider.validate_options({"prefix": False})
    body = sent(
        make(options={"prefix": False}),
        request([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hel"}]),
    )
    assert "prefix" not in body["messages"][-1]


@pytest.mark.parametrize("options", [{"prefix": "yes"}, {"thinking": True}])
def test_bad_options_are_config_errors(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="prefix"):
        DeepSeekProvider.validate_options(options)


def test_tool_call_messages_get_empty_reasoning_content_unless_present() -> None:
    messages = [
        {"role": "user", "content": "t?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "now", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "12:00"},
        {
            "role": "assistant",
            "content": None,
            "reasoning_content": "kept",
            "tool_calls": [{"id": "c2", "type": "function", "function": {"name": "now", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c2", "content": "12:01"},
    ]
    req = request(messages, tools=TOOLS)
    body = sent(make(), req)
    assert body["messages"][1]["reasoning_content"] == ""
    assert body["messages"][3]["reasoning_content"] == "kept"
    assert "reasoning_content" not in body["messages"][0]
    assert "reasoning_content" not in wire.message_to_dict(req.messages[1]), "prepare must not mutate its input"


def test_unsupported_fields_are_dropped_and_empty_required_removed() -> None:
    req = request(
        [{"role": "user", "content": "Hi"}],
        tools=TOOLS,
        params={"n": 2, "logit_bias": {"1": 1}, "top_k": 3, "temperature": 0.5},
    )
    body = sent(make(), req)
    assert not {"n", "logit_bias", "top_k"} & set(body)
    assert body["temperature"] == 0.5
    assert body["tools"][0]["function"]["parameters"] == {"type": "object", "properties": {}}
    assert TOOLS[0]["function"]["parameters"]["required"] == []


def test_include_body_can_force_a_dropped_field_back() -> None:
    body = sent(make(include_body={"top_k": 3}), request([{"role": "user", "content": "Hi"}], params={"top_k": 9}))
    assert body["top_k"] == 3


def test_keep_alive_lines_before_the_json_and_reasoning_content() -> None:
    payload = {
        "id": "d1",
        "object": "chat.completion",
        "created": 1,
        "model": "deepseek-reasoner",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "9.11 < 9.9", "reasoning_content": "Compare."},
                "finish_reason": "insufficient_system_resource",
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": 10,
            "completion_tokens": 5,
            "total_tokens": 15,
            "prompt_cache_hit_tokens": 6,
            "prompt_cache_miss_tokens": 4,
        },
    }
    reply = make().parse_chat(HttpResponse(200, {}, b"\n\n\n" + json.dumps(payload).encode()))
    assert reply.reasoning == "Compare." and reply.text == "9.11 < 9.9"
    assert reply.finish_reason == "error" and reply.choices[0].raw_finish_reason == "insufficient_system_resource"
    assert reply.usage is not None and reply.usage.cached_tokens == 6


def test_streamed_reasoning_content() -> None:
    parser = make().stream_parser(request([{"role": "user", "content": "Hi"}], stream=True))
    chunks = []
    for delta in (
        {"role": "assistant", "content": None, "reasoning_content": ""},
        {"reasoning_content": "Hmm"},
        {"content": "Hi!"},
    ):
        data = {
            "id": "d",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "deepseek-reasoner",
            "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
        }
        chunks.extend(parser.feed(SSEEvent(json.dumps(data))))
    assert "".join(c.reasoning for c in chunks) == "Hmm" and "".join(c.text for c in chunks) == "Hi!"


def test_402_insufficient_balance() -> None:
    body = (
        b'{"error": {"message": "Insufficient Balance", "type": "unknown_error", "param": null,'
        b' "code": "invalid_request_error"}}'
    )
    error = make().parse_error(HttpResponse(402, {}, body))
    assert isinstance(error, PermissionDeniedError) and "balance" in str(error).lower()
    assert "DEEPSEEK_API_KEY" not in str(error)


def test_the_deepseek_body_is_valid_against_openais_schema(openai_spec: Any) -> None:
    messages = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "t?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "now", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "12:00"},
    ]
    openai_spec.check("CreateChatCompletionRequest", sent(make(), request(messages, tools=TOOLS, stream=True)))
    prefixed = sent(make(), request([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "He"}]))
    assert prefixed["messages"][-1]["prefix"] is True
    openai_spec.check("CreateChatCompletionRequest", prefixed)


SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
SCHEMA_TEXT = (
    "JSON schema for the response:\n"
    '{\n    "type": "object",\n    "properties": {\n        "answer": {\n            "type": "string"\n        }\n'
    '    },\n    "required": [\n        "answer"\n    ]\n}'
)
JSON_SCHEMA = {"type": "json_schema", "json_schema": {"name": "answer", "strict": True, "schema": SCHEMA}}


def test_json_schema_becomes_json_object_and_a_schema_turn_merged_into_the_last_user_turn(openai_spec: Any) -> None:
    messages = [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Capital of France?"}]
    body = sent(make(), request(messages, params={"response_format": JSON_SCHEMA}))
    assert body == {
        "model": "deepseek-chat",
        "messages": [
            {"role": "system", "content": "Be terse."},
            {"role": "user", "content": "Capital of France?\n\n" + SCHEMA_TEXT},
        ],
        "stream": False,
        "response_format": {"type": "json_object"},
        "thinking": {"type": "disabled"},
    }
    openai_spec.check("CreateChatCompletionRequest", body)


def test_json_schema_after_an_assistant_turn_is_its_own_user_turn_and_no_prefix() -> None:
    messages = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "{"}]
    body = sent(make(), request(messages, params={"response_format": JSON_SCHEMA}))
    assert body["messages"] == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "{"},
        {"role": "user", "content": SCHEMA_TEXT},
    ]


def test_json_schema_without_a_schema_is_a_clear_error() -> None:
    bad = {"type": "json_schema", "json_schema": {"name": "a"}}
    with pytest.raises(InvalidRequestError, match=r"json_schema\.schema") as info:
        sent(make(), request([{"role": "user", "content": "Hi"}], params={"response_format": bad}))
    assert info.value.where == "params.response_format"


def test_json_object_and_text_pass_through_unchanged() -> None:
    for fmt in ({"type": "json_object"}, {"type": "text"}):
        body = sent(make(), request([{"role": "user", "content": "Hi"}], params={"response_format": fmt}))
        assert body["response_format"] == fmt
        assert body["messages"] == [{"role": "user", "content": "Hi"}]


HI = [{"role": "user", "content": "Hi"}]


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({}, {"thinking": {"type": "disabled"}}),
        ({"reasoning_effort": "none"}, {"thinking": {"type": "disabled"}}),
        ({"reasoning_effort": "auto"}, {"thinking": {"type": "disabled"}}),
        ({"reasoning_effort": "low"}, {"thinking": {"type": "enabled"}, "reasoning_effort": "high"}),
        ({"reasoning_effort": "medium"}, {"thinking": {"type": "enabled"}, "reasoning_effort": "high"}),
        ({"reasoning_effort": "high"}, {"thinking": {"type": "enabled"}, "reasoning_effort": "high"}),
        ({"reasoning_effort": "max"}, {"thinking": {"type": "enabled"}, "reasoning_effort": "max"}),
        ({"reasoning_effort": "xhigh"}, {"thinking": {"type": "enabled"}, "reasoning_effort": "max"}),
        ({"thinking": {"type": "enabled"}}, {"thinking": {"type": "enabled"}}),
        (
            {"thinking": {"type": "enabled"}, "reasoning_effort": "max"},
            {"thinking": {"type": "enabled"}, "reasoning_effort": "max"},
        ),
        ({"thinking": {"type": "disabled"}, "reasoning_effort": "high"}, {"thinking": {"type": "disabled"}}),
    ],
    ids=[
        "not-asked",
        "none",
        "auto",
        "low",
        "medium",
        "high",
        "max",
        "xhigh",
        "thinking-param",
        "thinking-param-and-effort",
        "thinking-off-wins-over-effort",
    ],
)
def test_thinking_is_always_sent_and_reasoning_effort_only_with_it(
    openai_spec: Any, params: dict[str, Any], fields: dict[str, Any]
) -> None:
    body = sent(make(), request(HI, params={"temperature": 0.5, **params}))
    assert body == {"model": "deepseek-chat", "messages": HI, "stream": False, "temperature": 0.5, **fields}
    openai_spec.check("CreateChatCompletionRequest", body)


def test_an_unknown_reasoning_effort_is_a_clear_error() -> None:
    with pytest.raises(InvalidRequestError, match="reasoning_effort 'huge' is not one of") as info:
        sent(make(), request(HI, params={"reasoning_effort": "huge"}))
    assert info.value.where == "reasoning_effort"


def test_exclude_body_can_remove_thinking_for_an_older_server() -> None:
    assert "thinking" not in sent(make(exclude_body=("thinking",)), request(HI))


def test_thinking_goes_over_the_wire(fake_server: Any) -> None:
    reply = {
        "id": "c",
        "object": "chat.completion",
        "created": 1,
        "model": "deepseek-chat",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello", "reasoning_content": "Greet back."},
                "finish_reason": "stop",
            }
        ],
    }
    fake_server.enqueue("POST /beta/chat/completions", FakeResponse.json(reply))
    pipe = Pipeline("deepseek", base_url=f"{fake_server.url}/beta", api_key=KEY)
    answer = pipe.complete(HI, reasoning_effort="medium")
    assert (answer.text, answer.reasoning) == ("Hello", "Greet back.")
    (sent_request,) = fake_server.requests
    assert sent_request.headers["authorization"] == f"Bearer {KEY}"
    assert sent_request.json == {
        "model": "deepseek-chat",
        "messages": HI,
        "stream": False,
        "thinking": {"type": "enabled"},
        "reasoning_effort": "high",
    }
