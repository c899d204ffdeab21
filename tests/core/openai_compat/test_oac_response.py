"""Non-streaming replies and model lists: parsing, tolerance, and malformed bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chatpipe.errors import APIStatusError, ContextLengthError, ProtocolError
from chatpipe.vendor import normalise_finish_reason
from oac_payloads import completion, http


def test_a_plain_completion_parses_into_the_model(provider: Any) -> None:
    body = completion("Hello there.")
    reply = provider.parse_chat(http(200, body))
    assert reply.text == "Hello there."
    assert reply.id == body["id"] and reply.model == body["model"]
    assert reply.finish_reason == "stop" and reply.choices[0].raw_finish_reason == "stop"
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.total_tokens) == (12, 4, 16)
    assert reply.usage.cached_tokens == 0
    assert reply.provider == "example"
    assert reply.raw == body


def test_tool_calls_are_parsed_with_null_content(provider: Any) -> None:
    calls = [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]
    reply = provider.parse_chat(http(200, completion(None, finish_reason="tool_calls", tool_calls=calls)))
    assert reply.message.content is None
    assert [(c.id, c.function.name, c.function.arguments) for c in reply.tool_calls] == [
        ("call_1", "get_weather", '{"city":"Paris"}')
    ]
    assert reply.finish_reason == "tool_calls"


@pytest.mark.parametrize("key", ["reasoning_content", "reasoning"])
def test_reasoning_is_read_from_either_key_and_kept_in_extra(provider: Any, key: str) -> None:
    reply = provider.parse_chat(http(200, completion("42", message_extra={key: "Let me think."})))
    assert reply.reasoning == "Let me think."
    assert reply.message.extra[key] == "Let me think."


def test_unknown_top_level_keys_are_kept_in_extra(provider: Any) -> None:
    body = completion("Paris.", citations=["https://a.test"], search_results=[{"title": "A", "url": "https://a.test"}])
    reply = provider.parse_chat(http(200, body))
    assert reply.extra["citations"] == ["https://a.test"]
    assert reply.extra["search_results"][0]["url"] == "https://a.test"
    assert reply.extra["system_fingerprint"] == "fp_0ba0d124f1"
    assert "choices" not in reply.extra and "usage" not in reply.extra


def test_leading_blank_keep_alive_lines_are_skipped(provider: Any) -> None:
    raw = b"\n\n\n  \n" + json.dumps(completion("late")).encode()
    assert provider.parse_chat(http(200, raw)).text == "late"


def test_whitespace_after_the_json_is_fine_but_trailing_data_is_not(provider: Any) -> None:
    raw = json.dumps(completion("tail")).encode()
    assert provider.parse_chat(http(200, raw + b"\r\n\n ")).text == "tail"
    with pytest.raises(ProtocolError, match="not valid JSON"):
        provider.parse_chat(http(200, raw + b"{}"))


def test_a_body_that_is_not_utf8_is_decoded_leniently(provider: Any) -> None:
    raw = json.dumps(completion("caf\u00e9"), ensure_ascii=False).encode("latin-1")
    assert provider.parse_chat(http(200, raw)).text == "caf\ufffd"


def test_missing_optional_fields_are_tolerated(provider: Any) -> None:
    reply = provider.parse_chat(http(200, {"choices": [{"message": {"content": "hi"}}]}))
    assert reply.text == "hi"
    assert reply.message.role == "assistant"
    assert (reply.id, reply.model, reply.usage, reply.finish_reason) == (None, None, None, None)
    assert reply.choices[0].index == 0


def test_several_choices_keep_their_indexes(provider: Any) -> None:
    body = completion("a")
    body["choices"].append({"index": 1, "message": {"role": "assistant", "content": "b"}, "finish_reason": "length"})
    reply = provider.parse_chat(http(200, body))
    assert [(c.index, c.message.content, c.finish_reason) for c in reply.choices] == [
        (0, "a", "stop"),
        (1, "b", "length"),
    ]


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("stop", "stop"),
        ("length", "length"),
        ("tool_calls", "tool_calls"),
        ("content_filter", "content_filter"),
        ("function_call", "tool_calls"),
        ("model_length", "length"),
        ("eos", "stop"),
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("insufficient_system_resource", "error"),
        ("error", "error"),
        ("something_new", None),
    ],
)
def test_finish_reasons_are_normalised_and_the_raw_value_kept(provider: Any, raw: str, normalised: str | None) -> None:
    reply = provider.parse_chat(http(200, completion("x", finish_reason=raw)))
    assert reply.finish_reason == normalised
    assert reply.choices[0].raw_finish_reason == raw


def test_a_null_finish_reason_has_no_raw_value() -> None:
    assert normalise_finish_reason(None) == (None, None)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html>oops</html>", "not valid JSON"),
        (b"", "empty"),
        (b"[1, 2]", "JSON object"),
        (b'{"id": "x"}', "choices"),
        (b'{"choices": "nope"}', "choices"),
        (b'{"choices": [42]}', r"choices\[0\]"),
        (b'{"choices": [{"index": "0", "message": {"content": "x"}}]}', "index"),
        (b'{"choices": [{"message": "text"}]}', "message"),
        (b'{"choices": [{"message": {"role": "assistant", "content": 5}}]}', "content"),
        (b'{"choices": [{"message": {"content": "x"}}], "usage": 7}', "usage"),
    ],
)
def test_malformed_bodies_raise_protocol_error_naming_the_problem(provider: Any, body: bytes, problem: str) -> None:
    with pytest.raises(ProtocolError, match=problem) as info:
        provider.parse_chat(http(200, body))
    assert info.value.provider == "example"
    assert info.value.body == body.decode()


def test_protocol_error_bodies_are_truncated_and_scrubbed(provider: Any, planted_key: str) -> None:
    body = ("x" * 5000 + planted_key).encode()
    with pytest.raises(ProtocolError) as info:
        provider.parse_chat(http(200, b"not json " + body))
    assert info.value.body is not None and len(info.value.body) < 2100
    assert planted_key not in str(info.value) and planted_key not in (info.value.body or "")


def test_an_error_envelope_inside_a_200_raises_the_typed_error(provider: Any) -> None:
    body = {
        "error": {
            "message": "This model's maximum context length is 8192 tokens.",
            "type": "invalid_request_error",
            "code": "context_length_exceeded",
            "param": "messages",
        }
    }
    with pytest.raises(ContextLengthError, match="maximum context length") as info:
        provider.parse_chat(http(200, body, x_request_id="req_1"))
    assert info.value.request_id == "req_1"
    assert isinstance(info.value, APIStatusError)


# --- model lists -------------------------------------------------------------------------


def test_model_list_in_openai_shape(provider: Any) -> None:
    body = {
        "object": "list",
        "data": [
            {"id": "gpt-4o-mini", "object": "model", "created": 1721172741, "owned_by": "system"},
            {"id": "o3", "object": "model", "created": 1744225308, "owned_by": "system"},
        ],
    }
    models = provider.parse_models(http(200, body))
    assert [(m.id, m.owned_by, m.created) for m in models] == [
        ("gpt-4o-mini", "system", 1721172741),
        ("o3", "system", 1744225308),
    ]


def test_model_list_as_a_bare_list_keeps_unknown_keys(provider: Any) -> None:
    models = provider.parse_models(http(200, [{"id": "local-model", "context_length": 8192, "loaded": True}, "other"]))
    assert models[0].id == "local-model" and models[0].context_length == 8192 and models[0].extra == {"loaded": True}
    assert models[1].id == "other"


@pytest.mark.parametrize("body", [b"nope", b'{"models": []}', b'{"data": [{"name": "x"}]}', b'{"data": [{"id": 5}]}'])
def test_malformed_model_lists_raise_protocol_error(provider: Any, body: bytes) -> None:
    with pytest.raises(ProtocolError):
        provider.parse_models(http(200, body))


def test_created_is_the_vendors_timestamp(provider: Any) -> None:
    reply = provider.parse_chat(http(200, completion("Hi")))
    assert reply.created == 1764300000 and "created" not in reply.extra
    odd = provider.parse_chat(http(200, completion("Hi", created="soon")))
    assert odd.created is None and odd.extra["created"] == "soon"
