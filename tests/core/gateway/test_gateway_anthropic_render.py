"""chatpipe replies and gateway errors rendered in Anthropic's Messages shape (pure)."""

from __future__ import annotations

import pytest
from chatpipe.gateway import GatewayError
from chatpipe.gateway._anthropic_render import (
    anthropic_status,
    error_json,
    message_id,
    message_json,
    stop_reason,
    usage_json,
)
from chatpipe.models import ChatResponse, Choice, FunctionCall, Message, ToolCall, Usage


def reply(message: Message, finish="stop", raw=None, reasoning=None, usage=None, extra=None, rid="chatcmpl-1"):
    choice = Choice(0, message, finish_reason=finish, raw_finish_reason=raw, reasoning=reasoning)
    return ChatResponse(id=rid, model="vendor-model", choices=(choice,), usage=usage, extra=extra or {})


def test_text_reply():
    usage = Usage(prompt_tokens=30, completion_tokens=5, total_tokens=35, cached_tokens=20, cache_creation_tokens=4)
    body = message_json(reply(Message("assistant", "Hello!"), usage=usage), model="gpt")
    assert body == {
        "id": "msg_chatcmpl-1",
        "type": "message",
        "role": "assistant",
        "model": "vendor-model",
        "content": [{"type": "text", "text": "Hello!"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 6,
            "output_tokens": 5,
            "cache_creation_input_tokens": 4,
            "cache_read_input_tokens": 20,
        },
    }


def test_ids_and_model_fallback():
    assert message_id("msg_abc") == "msg_abc"
    assert message_id(None).startswith("msg_") and len(message_id(None)) > 10
    response = ChatResponse(id=None, model=None, choices=(Choice(0, Message("assistant", "x")),))
    assert message_json(response, model="gpt")["model"] == "gpt"


def test_tool_calls_become_tool_use_blocks_with_parsed_input():
    calls = (
        ToolCall("call_1", FunctionCall("weather", '{"city": "Paris"}')),
        ToolCall("call_2", FunctionCall("now", "")),
    )
    body = message_json(reply(Message("assistant", "Checking.", tool_calls=calls), finish="tool_calls"), model="m")
    assert body["content"] == [
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "call_1", "name": "weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "call_2", "name": "now", "input": {}},
    ]
    assert body["stop_reason"] == "tool_use"


def test_tool_arguments_that_are_not_an_object_are_a_502():
    calls = (ToolCall("c", FunctionCall("f", "[1, 2")),)
    with pytest.raises(GatewayError) as info:
        message_json(reply(Message("assistant", None, tool_calls=calls)), model="m")
    assert info.value.status == 502
    assert "'f'" in info.value.message


def test_thinking_signed_by_the_vendor_is_sent_verbatim():
    blocks = [
        {"type": "thinking", "thinking": "Hmm.", "signature": "sig-1"},
        {"type": "redacted_thinking", "data": "x"},
    ]
    message = Message("assistant", "Done.", extra={"thinking_blocks": blocks})
    body = message_json(reply(message, reasoning="Hmm."), model="m")
    assert body["content"] == [*blocks, {"type": "text", "text": "Done."}]


def test_plain_reasoning_becomes_an_unsigned_thinking_block():
    body = message_json(reply(Message("assistant", "42"), reasoning="Six times seven."), model="m")
    assert body["content"][0] == {"type": "thinking", "thinking": "Six times seven.", "signature": ""}


@pytest.mark.parametrize(
    ("finish", "raw", "tools", "sequence", "expected"),
    [
        ("stop", None, False, None, "end_turn"),
        ("stop", "stop_sequence", False, "END", "stop_sequence"),
        ("length", None, False, None, "max_tokens"),
        ("length", None, True, None, "max_tokens"),
        ("tool_calls", None, True, None, "tool_use"),
        ("stop", None, True, None, "tool_use"),
        ("content_filter", None, False, None, "refusal"),
        ("pause", "pause_turn", False, None, "pause_turn"),
        (None, None, False, None, "end_turn"),
    ],
)
def test_stop_reasons(finish, raw, tools, sequence, expected):
    assert stop_reason(finish, raw, has_tool_calls=tools, stop_sequence=sequence) == expected


def test_stop_sequence_from_the_vendor():
    response = reply(Message("assistant", "a"), raw="stop_sequence", extra={"stop_sequence": "END"})
    body = message_json(response, model="m")
    assert (body["stop_reason"], body["stop_sequence"]) == ("stop_sequence", "END")


def test_unknown_usage_is_zeros():
    assert usage_json(None) == {
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (400, None, "invalid_request_error"),
        (401, "invalid_api_key", "authentication_error"),
        (403, None, "permission_error"),
        (404, "model_not_found", "not_found_error"),
        (413, None, "request_too_large"),
        (409, None, "invalid_request_error"),
        (429, "rate_limit_exceeded", "rate_limit_error"),
        (500, None, "api_error"),
        (502, "upstream_error", "api_error"),
        (504, "request_timeout", "timeout_error"),
        (503, "upstream_overloaded", "overloaded_error"),
    ],
)
def test_error_types(status, code, kind):
    assert error_json(GatewayError(status, "why", code=code)) == {
        "type": "error",
        "error": {"type": kind, "message": "why"},
    }


def test_an_overloaded_vendor_is_a_529_others_keep_their_status():
    assert anthropic_status(GatewayError(503, "busy", code="upstream_overloaded")) == 529
    assert anthropic_status(GatewayError(503, "state", code="state_unavailable")) == 503
    assert anthropic_status(GatewayError(429, "slow")) == 429
