"""Contract tests: what the adapter sends, and the fakes it is tested with, follow OpenAI's spec.

Bodies are validated against ``CreateChatCompletionRequest`` of the shared ``openai.yaml``;
the recorded-style replies and chunks used by the other tests against
``CreateChatCompletionResponse`` / ``CreateChatCompletionStreamResponse``. Skips when the
shared spec directory is absent.
"""

from __future__ import annotations

from typing import Any

import pytest
from chatpipe import wire
from chatpipe.models import ChatRequest
from oac_payloads import TOOL_CALL_FRAGMENTS, chunk, completion

REQUEST_SCHEMA = "CreateChatCompletionRequest"

CONVERSATION = [
    {"role": "developer", "content": "Answer in French."},
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Weather in Paris?", "name": "alex"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "18C, sunny"},
    {"role": "assistant", "content": "Il fait beau."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "And this picture and sound?"},
            {"type": "image_url", "image_url": {"url": "https://example.test/cat.png", "detail": "low"}},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
        ],
    },
]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            "strict": False,
        },
    }
]


def build(provider: Any, **kwargs: Any) -> dict[str, Any]:
    messages = wire.messages_from_dicts(kwargs.pop("messages", [{"role": "user", "content": "Hi"}]))
    tools = wire.tools_from_dicts(kwargs.pop("tools")) if "tools" in kwargs else None
    body: dict[str, Any] = provider.build_chat(
        ChatRequest(model="gpt-4o-mini", messages=messages, tools=tools, **kwargs)
    ).json
    return body


def test_plain_body_is_valid(openai_spec: Any, provider: Any) -> None:
    openai_spec.check(REQUEST_SCHEMA, build(provider))


def test_body_with_history_tools_and_named_tool_choice_is_valid(openai_spec: Any, provider: Any) -> None:
    choice = {"type": "function", "function": {"name": "get_weather"}}
    body = build(provider, messages=CONVERSATION, tools=TOOLS, tool_choice=choice)
    assert body["tool_choice"] == choice
    openai_spec.check(REQUEST_SCHEMA, body)


@pytest.mark.parametrize("choice", ["auto", "none", "required"])
def test_string_tool_choices_are_valid(openai_spec: Any, provider: Any, choice: str) -> None:
    openai_spec.check(REQUEST_SCHEMA, build(provider, tools=TOOLS, tool_choice=choice))


def test_rewritten_audio_data_url_is_valid(openai_spec: Any, make_provider: Any) -> None:
    adapter = make_provider()
    type(adapter).rewrite_audio = True
    try:
        body = build(
            adapter,
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "Transcribe"},
                        {"type": "audio_url", "audio_url": {"url": "data:audio/mpeg;base64,SUQzBAAAAAAA"}},
                    ],
                }
            ],
        )
    finally:
        del type(adapter).rewrite_audio
    assert body["messages"][0]["content"][1]["type"] == "input_audio"
    openai_spec.check(REQUEST_SCHEMA, body)


def test_streaming_body_with_stream_options_is_valid(openai_spec: Any, provider: Any) -> None:
    body = build(provider, stream=True)
    assert body["stream_options"] == {"include_usage": True}
    openai_spec.check(REQUEST_SCHEMA, body)


def test_body_with_params_is_valid(openai_spec: Any, provider: Any) -> None:
    params = {
        "temperature": 0.7,
        "top_p": 0.9,
        "max_completion_tokens": 256,
        "presence_penalty": 0.1,
        "frequency_penalty": 0.2,
        "stop": ["\n\nUser:"],
        "seed": 7,
        "n": 1,
        "logprobs": True,
        "top_logprobs": 3,
        "logit_bias": {"50256": -100},
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "answer",
                "strict": True,
                "schema": {
                    "type": "object",
                    "properties": {"a": {"type": "string"}},
                    "required": ["a"],
                    "additionalProperties": False,
                },
            },
        },
        "parallel_tool_calls": False,
        "reasoning_effort": "low",
        "user": "u-1",
        "store": False,
        "metadata": {"run": "1"},
    }
    body = build(provider, params=params)
    assert {k: body[k] for k in params} == params
    openai_spec.check(REQUEST_SCHEMA, body)


def test_an_invalid_body_is_caught_by_the_validator(openai_spec: Any, provider: Any) -> None:
    body = build(provider, params={"temperature": "hot"})
    assert any("temperature" in e for e in openai_spec.errors(REQUEST_SCHEMA, body))


def test_message_extras_are_allowed_by_the_spec(openai_spec: Any, provider: Any) -> None:
    """DeepSeek's ``prefix`` and ``reasoning_content`` ride on messages; the spec does not forbid them."""
    messages = [
        {"role": "user", "content": "Count to three."},
        {
            "role": "assistant",
            "content": None,
            "reasoning_content": "",
            "tool_calls": [{"id": "c", "type": "function", "function": {"name": "count", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c", "content": "1 2 3"},
        {"role": "assistant", "content": "One,", "prefix": True},
    ]
    body = build(provider, messages=messages)
    assert body["messages"][3]["prefix"] is True
    openai_spec.check(REQUEST_SCHEMA, body)
    message_schema = openai_spec.schema("ChatCompletionRequestAssistantMessage")
    assert message_schema.get("additionalProperties", True) is not False


# --- the fakes follow the contract --------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        completion("Hello there."),
        completion(
            None,
            finish_reason="tool_calls",
            tool_calls=[{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        ),
        completion("x", finish_reason="length"),
        completion("x", finish_reason="content_filter"),
    ],
)
def test_reply_fixtures_are_valid_responses(openai_spec: Any, body: dict[str, Any]) -> None:
    openai_spec.check("CreateChatCompletionResponse", body)


@pytest.mark.parametrize(
    "body",
    [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Hel"}),
        chunk({}, finish_reason="stop"),
        chunk(choices=[], usage={"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}),
        *TOOL_CALL_FRAGMENTS,
    ],
)
def test_chunk_fixtures_are_valid_stream_chunks(openai_spec: Any, body: dict[str, Any]) -> None:
    openai_spec.check("CreateChatCompletionStreamResponse", body)


def test_parsed_replies_render_back_to_valid_responses(openai_spec: Any, provider: Any) -> None:
    """The gateway renders replies with wire.response_to_dict; that shape must match the spec too."""
    from oac_payloads import http

    reply = provider.parse_chat(
        http(200, completion("Hi", usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}))
    )
    rendered = wire.response_to_dict(reply)
    rendered["choices"][0]["logprobs"] = None
    rendered["choices"][0]["message"].setdefault("refusal", None)
    openai_spec.check("CreateChatCompletionResponse", rendered)
