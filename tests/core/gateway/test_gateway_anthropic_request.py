"""Anthropic Messages request bodies → chatpipe's ChatCall: every mapping rule and every refusal."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chatpipe.gateway import GatewayError
from chatpipe.gateway._anthropic_request import parse_count_tokens_body, parse_messages_body, reasoning_effort
from chatpipe.models import ImagePart, Message, TextPart

BASE: dict[str, Any] = {"model": "gpt", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}


def parse(**fields: Any):
    return parse_messages_body(json.dumps({**BASE, **fields}).encode())


def refused(body: dict[str, Any] | bytes, parser=parse_messages_body) -> GatewayError:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(GatewayError) as info:
        parser(raw)
    assert info.value.status == 400
    return info.value


def test_plain_request():
    call = parse()
    assert call.model == "gpt"
    assert call.messages == (Message("user", (TextPart("hi"),)),)
    assert call.params == {"max_tokens": 100}
    assert (call.stream, call.tools, call.tool_choice) == (False, None, None)


def test_system_as_string_and_as_text_blocks():
    assert parse(system="Be brief.").messages[0] == Message("system", "Be brief.")
    blocks = [
        {"type": "text", "text": "One."},
        {"type": "text", "text": "Two.", "cache_control": {"type": "ephemeral"}},
    ]
    assert parse(system=blocks).messages[0] == Message("system", "One.\n\nTwo.")
    assert parse(system="").messages[0].role == "user"
    error = refused({**BASE, "system": [{"type": "image", "source": {}}]})
    assert error.param == "system.0.type"


def test_sampling_parameters_stop_sequences_and_user():
    call = parse(temperature=0.2, top_p=0.9, top_k=5, stop_sequences=["END", "STOP"], metadata={"user_id": "u-7"})
    assert call.params == {
        "max_tokens": 100,
        "temperature": 0.2,
        "top_p": 0.9,
        "top_k": 5,
        "stop": ["END", "STOP"],
        "user": "u-7",
    }
    assert "stop" not in parse(stop_sequences=[]).params
    assert parse(service_tier="auto").params == {"max_tokens": 100}  # accepted, ignored


def test_images_base64_and_url():
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBOR"}},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
    ]
    (message,) = parse(messages=[{"role": "user", "content": content}]).messages
    assert message.content[0] == TextPart("What is this?")
    assert isinstance(message.content[1], ImagePart)
    assert message.content[1].image_url.url == "data:image/png;base64,iVBOR"
    assert message.content[2].image_url.url == "https://example.com/cat.jpg"
    error = refused(
        {**BASE, "messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "file"}}]}]}
    )
    assert error.param == "messages.0.content.0.source.type"


def test_tool_use_and_tool_results_round_trip():
    messages = [
        {"role": "user", "content": "Weather in Paris and Rome?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_2", "name": "weather", "input": {"city": "Rome"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "here you go"},
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"},
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_2",
                    "content": [{"type": "text", "text": "no such city"}],
                    "is_error": True,
                },
            ],
        },
    ]
    out = parse(messages=messages).messages
    assistant = out[1]
    assert assistant.content == "Checking."
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in assistant.tool_calls] == [
        ("toolu_1", "weather", {"city": "Paris"}),
        ("toolu_2", "weather", {"city": "Rome"}),
    ]
    # the tool results come first (right after the assistant's calls, as OpenAI requires), then the text
    assert out[2] == Message("tool", "sunny", tool_call_id="toolu_1")
    assert out[3] == Message("tool", (TextPart("no such city"),), tool_call_id="toolu_2", extra={"is_error": True})
    assert out[4] == Message("user", (TextPart("here you go"),))
    assert len(out) == 5


def test_assistant_with_only_tool_use_has_no_content():
    messages = [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}]},
    ]
    assistant = parse(messages=messages).messages[1]
    assert assistant.content is None
    assert assistant.tool_calls[0].function.arguments == "{}"


def test_thinking_blocks_are_kept_with_their_signature():
    thinking = {"type": "thinking", "thinking": "Let me think.", "signature": "sig-abc"}
    redacted = {"type": "redacted_thinking", "data": "opaque"}
    messages = [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": [thinking, redacted, {"type": "text", "text": "Answer."}]},
    ]
    assistant = parse(messages=messages).messages[1]
    assert assistant.content == "Answer."
    assert assistant.extra == {"thinking_blocks": [thinking, redacted], "reasoning_content": "Let me think."}


def test_unsigned_thinking_is_reasoning_text_only():
    unsigned = {"type": "thinking", "thinking": "Another vendor's reasoning.", "signature": ""}
    messages = [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": [unsigned, {"type": "text", "text": "A"}]},
    ]
    assert parse(messages=messages).messages[1].extra == {"reasoning_content": "Another vendor's reasoning."}


def test_tools_and_tool_choice():
    tools = [{"name": "weather", "description": "Weather", "input_schema": {"type": "object", "properties": {}}}]
    call = parse(tools=tools, tool_choice={"type": "tool", "name": "weather", "disable_parallel_tool_use": True})
    (tool,) = call.tools
    assert (tool.function.name, tool.function.description) == ("weather", "Weather")
    assert tool.function.parameters == {"type": "object", "properties": {}}
    assert call.tool_choice == {"type": "function", "function": {"name": "weather"}}
    assert call.params["parallel_tool_calls"] is False
    assert parse(tools=tools, tool_choice={"type": "auto"}).tool_choice == "auto"
    assert parse(tools=tools, tool_choice={"type": "any"}).tool_choice == "required"
    assert parse(tools=tools, tool_choice={"type": "none"}).tool_choice == "none"
    assert refused({**BASE, "tool_choice": {"type": "sometimes"}}).param == "tool_choice.type"


def test_server_tools_are_refused():
    error = refused({**BASE, "tools": [{"type": "web_search_20250305", "name": "web_search"}]})
    assert error.param == "tools.0.type"
    assert "server tools" in error.message


@pytest.mark.parametrize(
    ("thinking", "max_tokens", "effort"),
    [
        ({"type": "enabled", "budget_tokens": 1024}, 16000, "low"),
        ({"type": "enabled", "budget_tokens": 4000}, 16000, "medium"),
        ({"type": "enabled", "budget_tokens": 8000}, 16000, "high"),
        ({"type": "adaptive"}, 16000, "medium"),
        ({"type": "disabled"}, 16000, None),
        (None, 16000, None),
    ],
)
def test_thinking_becomes_reasoning_effort(thinking, max_tokens, effort):
    assert reasoning_effort(thinking, max_tokens) == effort
    call = parse(max_tokens=max_tokens, **({} if thinking is None else {"thinking": thinking}))
    assert call.params.get("reasoning_effort") == effort


def test_bad_thinking():
    assert refused({**BASE, "thinking": {"type": "enabled"}}).param == "thinking.budget_tokens"
    assert refused({**BASE, "thinking": {"type": "maybe"}}).param == "thinking.type"


def test_stream_flag():
    call = parse(stream=True)
    assert call.stream and call.include_usage
    assert refused({**BASE, "stream": "yes"}).param == "stream"


@pytest.mark.parametrize(
    ("body", "param", "words"),
    [
        ({k: v for k, v in BASE.items() if k != "max_tokens"}, "max_tokens", "'max_tokens' is required"),
        ({**BASE, "max_tokens": 0}, "max_tokens", "positive integer"),
        ({**BASE, "model": " "}, "model", "'model' is required"),
        ({**BASE, "messages": []}, "messages", "non-empty list"),
        ({**BASE, "messages": [{"role": "system", "content": "x"}]}, "messages.0.role", "'user' or 'assistant'"),
        ({**BASE, "messages": [{"role": "user", "content": 5}]}, "messages.0.content", "string or a list"),
        (
            {**BASE, "messages": [{"role": "user", "content": [{"type": "document", "source": {}}]}]},
            "messages.0.content.0.type",
            "'document' are not supported",
        ),
        ({**BASE, "mcp_servers": []}, "mcp_servers", "unsupported field(s) ['mcp_servers']"),
        ({**BASE, "temperature": "hot"}, "temperature", "must be a number"),
        ({**BASE, "stop_sequences": "END"}, "stop_sequences", "list of strings"),
        ({**BASE, "metadata": {"user_id": 5}}, "metadata.user_id", "must be a string"),
        (
            {
                **BASE,
                "messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "is_error": 1}]}],
            },
            "messages.0.content.0.is_error",
            "true or false",
        ),
    ],
)
def test_refusals_name_the_field(body, param, words):
    error = refused(body)
    assert error.param == param
    assert words in error.message


def test_a_tool_input_with_infinity_is_a_400():
    use = {"type": "tool_use", "id": "t", "name": "f", "input": {"x": 1e999}}
    body = (
        b'{"model": "gpt", "max_tokens": 5, "messages": [{"role": "assistant", "content": [%s]}]}'
        % json.dumps(use).replace("Infinity", "1e999").encode()
    )
    assert refused(body).param == "messages.0.content.0.input"


def test_not_json_is_a_400():
    assert "not valid JSON" in refused(b"{oops").message


def test_count_tokens_body_needs_no_max_tokens():
    call = parse_count_tokens_body(json.dumps({"model": "gpt", "messages": BASE["messages"], "system": "S"}).encode())
    assert call.messages[0] == Message("system", "S")
    assert refused({**BASE, "max_tokens": 5}, parse_count_tokens_body).param == "max_tokens"
