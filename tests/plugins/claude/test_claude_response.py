"""Claude replies, errors and the model list, parsed by the adapter (no network)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from chatpipe import wire
from chatpipe.errors import (
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
)
from chatpipe.http import HttpResponse
from chatpipe_claude import ClaudeProvider

Factory = Callable[..., ClaudeProvider]

THINKING = {"type": "thinking", "thinking": "The user wants weather.", "signature": "EqQBCgIYAh=="}
REDACTED = {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"}
CITATION = {"type": "char_location", "cited_text": "Paris", "document_index": 0, "start_char_index": 0}


def message(content: list[dict[str, Any]], stop: str | None = "end_turn", **extra: Any) -> dict[str, Any]:
    return {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {
            "input_tokens": 10,
            "output_tokens": 20,
            "cache_creation_input_tokens": 100,
            "cache_read_input_tokens": 1000,
            "service_tier": "standard",
        },
        **extra,
    }


def ok(body: Any, **headers: str) -> HttpResponse:
    return HttpResponse(200, headers, json.dumps(body).encode())


def test_a_full_reply(adapter_factory: Factory) -> None:
    body = message(
        [
            THINKING,
            REDACTED,
            {"type": "text", "text": "It is ", "citations": None},
            {"type": "text", "text": "sunny in Paris.", "citations": [CITATION]},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
        ],
        stop="tool_use",
        container={"id": "c1"},
    )
    reply = adapter_factory().parse_chat(ok(body))
    assert reply.text == "It is sunny in Paris."
    assert reply.reasoning == "The user wants weather."
    assert reply.message.extra == {"thinking_blocks": [THINKING, REDACTED]}
    (call,) = reply.tool_calls
    assert (call.id, call.function.name, json.loads(call.function.arguments)) == (
        "toolu_1",
        "get_weather",
        {"city": "Paris"},
    )
    assert (reply.finish_reason, reply.choices[0].raw_finish_reason) == ("tool_calls", "tool_use")
    assert reply.extra == {"container": {"id": "c1"}, "citations": [CITATION]}
    assert (reply.id, reply.model, reply.provider) == ("msg_01", "claude-sonnet-4-5", "claude")
    assert reply.raw == body


def test_usage_counts_cached_tokens_in_the_prompt(adapter_factory: Factory) -> None:
    usage = adapter_factory().parse_chat(ok(message([{"type": "text", "text": "x"}]))).usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (1110, 20, 1130)
    assert (usage.cached_tokens, usage.cache_creation_tokens) == (1000, 100)
    assert usage.extra["service_tier"] == "standard"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("pause_turn", "pause"),
        ("brand_new_reason", None),
    ],
)
def test_stop_reasons_are_mapped_and_kept(adapter_factory: Factory, raw: str, expected: str | None) -> None:
    reply = adapter_factory().parse_chat(ok(message([{"type": "text", "text": "x"}], stop=raw)))
    assert (reply.finish_reason, reply.choices[0].raw_finish_reason) == (expected, raw)


def test_the_matched_stop_sequence_is_kept(adapter_factory: Factory) -> None:
    body = message([{"type": "text", "text": "x"}], stop="stop_sequence")
    body["stop_sequence"] = "END"
    assert adapter_factory().parse_chat(ok(body)).extra["stop_sequence"] == "END"


def test_server_tool_blocks_are_kept_and_replayed(adapter_factory: Factory, request_factory: Any) -> None:
    server = {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "paris"}}
    result = {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []}
    adapter = adapter_factory()
    reply = adapter.parse_chat(ok(message([server, result, {"type": "text", "text": "Found."}], stop="pause_turn")))
    assert reply.finish_reason == "pause"
    assert reply.message.extra == {"vendor_blocks": [server, result]}
    history = [{"role": "user", "content": "Search"}, wire.message_to_dict(reply.message)]
    body = adapter.build_chat(request_factory(history)).json
    assert body["messages"][1]["content"] == [server, result, {"type": "text", "text": "Found."}]


def test_a_thinking_reply_replays_its_blocks_unchanged(adapter_factory: Factory, request_factory: Any) -> None:
    adapter = adapter_factory()
    use = {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}
    reply = adapter.parse_chat(ok(message([THINKING, use], stop="tool_use")))
    history = [
        {"role": "user", "content": "Go"},
        wire.message_to_dict(reply.message),
        {"role": "tool", "tool_call_id": "toolu_1", "content": "done"},
    ]
    tools = [{"type": "function", "function": {"name": "f"}}]
    body = adapter.build_chat(request_factory(history, tools=tools, reasoning_effort="low")).json
    assert body["messages"][1]["content"] == [THINKING, use]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{oops",
        b"[]",
        json.dumps({"type": "message", "content": {"type": "text"}}).encode(),
        json.dumps({"type": "message", "content": [{"type": "thinking", "thinking": None}]}).encode(),
        json.dumps({"type": "message", "content": [{"type": "tool_use", "id": 1, "name": "f", "input": {}}]}).encode(),
    ],
)
def test_malformed_replies_are_protocol_errors(adapter_factory: Factory, body: bytes) -> None:
    with pytest.raises(ProtocolError) as info:
        adapter_factory().parse_chat(HttpResponse(200, {}, body))
    assert info.value.provider == "claude"


def test_an_error_envelope_in_a_200_is_a_typed_error(adapter_factory: Factory) -> None:
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}, "request_id": "req_9"}
    with pytest.raises(OverloadedError) as info:
        adapter_factory().parse_chat(ok(body))
    assert info.value.request_id == "req_9"


# --- errors ---------------------------------------------------------------------------------


def error(status: int, kind: str, text: str, **headers: str) -> HttpResponse:
    body = {"type": "error", "error": {"type": kind, "message": text}, "request_id": "req_body"}
    return HttpResponse(status, headers, json.dumps(body).encode())


@pytest.mark.parametrize(
    ("status", "kind", "expected"),
    [
        (400, "invalid_request_error", BadRequestError),
        (401, "authentication_error", AuthenticationError),
        (402, "billing_error", PermissionDeniedError),
        (403, "permission_error", PermissionDeniedError),
        (404, "not_found_error", NotFoundError),
        (413, "request_too_large", BadRequestError),
        (429, "rate_limit_error", RateLimitError),
        (529, "overloaded_error", OverloadedError),
    ],
)
def test_error_statuses_map_to_typed_errors(adapter_factory: Factory, status: int, kind: str, expected: type) -> None:
    err = adapter_factory().parse_error(error(status, kind, f"simulated {kind}"))
    assert type(err) is expected
    assert (err.status, err.provider, err.vendor_type) == (status, "claude", kind)
    assert f"simulated {kind}" in str(err)


def test_the_request_id_header_wins_over_the_body(adapter_factory: Factory) -> None:
    adapter = adapter_factory()
    assert adapter.parse_error(error(500, "api_error", "x", **{"request-id": "req_hdr"})).request_id == "req_hdr"
    assert adapter.parse_error(error(500, "api_error", "x")).request_id == "req_body"


def test_a_too_long_prompt_is_a_context_length_error(adapter_factory: Factory) -> None:
    err = adapter_factory().parse_error(
        error(400, "invalid_request_error", "prompt is too long: 210000 tokens > 200000")
    )
    assert isinstance(err, ContextLengthError)


def test_rate_limits_carry_retry_after_and_hints_name_the_env_var(adapter_factory: Factory) -> None:
    adapter = adapter_factory()
    limited = adapter.parse_error(error(429, "rate_limit_error", "slow down", **{"retry-after": "7"}))
    assert isinstance(limited, RateLimitError) and limited.retry_after == 7.0
    assert "ANTHROPIC_API_KEY" in str(adapter.parse_error(error(401, "authentication_error", "invalid x-api-key")))


def test_the_key_never_appears_in_an_error(adapter_factory: Factory, claude_key: str) -> None:
    err = adapter_factory().parse_error(error(401, "authentication_error", f"bad key {claude_key}"))
    assert claude_key not in str(err) and claude_key not in repr(err) and claude_key not in (err.body or "")


def test_retry_decisions(adapter_factory: Factory) -> None:
    adapter = adapter_factory()
    assert 529 in ClaudeProvider.info.retryable_statuses and 429 in ClaudeProvider.info.retryable_statuses
    assert adapter.should_retry(error(529, "overloaded_error", "Overloaded"))
    assert adapter.should_retry(error(429, "rate_limit_error", "slow down"))
    spend = {
        "type": "error",
        "error": {
            "type": "rate_limit_error",
            "message": "limit",
            "details": {"error_code": "enforced_spend_limit_reached"},
        },
    }
    spend_response = HttpResponse(429, {}, json.dumps(spend).encode())
    assert not adapter.should_retry(spend_response)
    assert "spend limit" in str(adapter.parse_error(spend_response))
    assert not adapter.should_retry(error(429, "rate_limit_error", "enforced_spend_limit_reached for org"))
    # ``x-should-retry: false`` is the transport's check: test_claude_plugin.py proves it holds for Claude.


# --- model list -----------------------------------------------------------------------------


def test_the_model_list(adapter_factory: Factory, claude_key: str) -> None:
    adapter = adapter_factory()
    request = adapter.build_models()
    assert request.method == "GET" and request.url == "https://api.anthropic.com/v1/models?limit=1000"
    assert request.headers["x-api-key"] == claude_key and request.headers["anthropic-version"] == "2023-06-01"
    assert "Content-Type" not in request.headers
    assert adapter.build_check() == request
    page = {
        "data": [
            {
                "type": "model",
                "id": "claude-sonnet-4-5-20250929",
                "display_name": "Claude Sonnet 4.5",
                "created_at": "2025-09-29T00:00:00Z",
                "max_input_tokens": 200000,
            },
            {"type": "model", "id": "claude-haiku-4-5", "display_name": "Claude Haiku 4.5", "created_at": "bad"},
        ],
        "has_more": False,
        "first_id": "claude-sonnet-4-5-20250929",
        "last_id": "claude-haiku-4-5",
    }
    first, second = adapter.parse_models(ok(page))
    assert (first.id, first.owned_by, first.created, first.context_length) == (
        "claude-sonnet-4-5-20250929",
        "anthropic",
        1759104000,
        200000,
    )
    assert first.extra["display_name"] == "Claude Sonnet 4.5"
    assert (second.id, second.created, second.context_length) == ("claude-haiku-4-5", None, None)


def test_a_paged_model_list_asks_for_the_next_page(adapter_factory: Factory) -> None:
    adapter = adapter_factory()
    page = {"data": [{"type": "model", "id": "m"}], "has_more": True, "last_id": "m"}
    assert [m.id for m in adapter.parse_models(ok(page))] == ["m"]
    following = adapter.next_models(ok(page))
    assert following is not None and following.url.endswith("/v1/models?limit=1000&after_id=m")
    assert adapter.next_models(ok({**page, "has_more": False})) is None


@pytest.mark.parametrize("page", [[{"id": "m"}], {"data": "x"}, {"data": [{"type": "model"}]}])
def test_a_malformed_model_list_is_a_protocol_error(adapter_factory: Factory, page: Any) -> None:
    with pytest.raises(ProtocolError):
        adapter_factory().parse_models(ok(page))
