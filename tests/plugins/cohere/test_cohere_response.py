"""Parsing Cohere replies, stream events, error bodies and the model list."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chatpipe._accumulate import StreamAccumulator
from chatpipe.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    ServerError,
)
from chatpipe.http import HttpResponse, SSEEvent
from chatpipe.models import ChatRequest, ChatResponse, Message
from chatpipe.provider import ProviderSettings
from chatpipe.secrets import Secret
from chatpipe_cohere import CohereProvider

KEY = "co-PLANTED-cohere-0123456789abcdef"
USAGE = {
    "billed_units": {"input_tokens": 9, "output_tokens": 5, "search_units": 1},
    "tokens": {"input_tokens": 120, "output_tokens": 5},
    "cached_tokens": 100,
}


def adapter(**kwargs: Any) -> CohereProvider:
    return CohereProvider(ProviderSettings(base_url="https://api.cohere.com", api_key=Secret(KEY), **kwargs))


def reply(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(status, headers or {}, json.dumps(data).encode())


def parse(data: Any) -> ChatResponse:
    return adapter().parse_chat(reply(data))


def run_stream(events: list[Any], *, finish: bool = True) -> ChatResponse:
    """Feed ``events`` (dicts, or raw strings) through a parser and assemble the reply."""
    parser = adapter().stream_parser(ChatRequest(model="m", messages=(Message("user", "hi"),), stream=True))
    acc = StreamAccumulator(provider="cohere")
    for item in events:
        data = item if isinstance(item, str) else json.dumps(item)
        event = SSEEvent(data, event=item.get("type", "message") if isinstance(item, dict) else "message")
        for chunk in parser.feed(event):
            acc.add(chunk)
    if finish:
        for chunk in parser.finish():
            acc.add(chunk)
    return acc.response()


def delta(**message: Any) -> dict[str, Any]:
    return {"message": message}


# --- non-streaming ---------------------------------------------------------------------------


def test_text_blocks_join_and_thinking_becomes_reasoning() -> None:
    response = parse(
        {
            "id": "r1",
            "finish_reason": "COMPLETE",
            "message": {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "The user greets. "},
                    {"type": "text", "text": "Hello"},
                    {"type": "thinking", "thinking": "Be kind."},
                    {"type": "text", "text": " there."},
                ],
            },
            "usage": USAGE,
        }
    )
    assert response.text == "Hello there."
    assert response.reasoning == "The user greets. Be kind."
    assert (response.finish_reason, response.choices[0].raw_finish_reason) == ("stop", "COMPLETE")
    assert (response.id, response.provider) == ("r1", "cohere")
    assert response.raw["usage"] == USAGE


def test_usage_comes_from_tokens_with_billed_units_kept() -> None:
    usage = parse({"id": "r", "finish_reason": "COMPLETE", "message": {"content": []}, "usage": USAGE}).usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens, usage.cached_tokens) == (120, 5, 125, 100)
    assert usage.extra == {"billed_units": USAGE["billed_units"]}


def test_tool_calls_with_their_plan() -> None:
    response = parse(
        {
            "id": "r",
            "finish_reason": "TOOL_CALL",
            "message": {
                "role": "assistant",
                "tool_plan": "I will check the weather.",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                    },
                    {"id": "c2", "type": "function", "function": {"name": "get_time", "arguments": {"tz": "CET"}}},
                ],
            },
        }
    )
    assert response.finish_reason == "tool_calls"
    assert response.message.content is None
    assert response.message.extra == {"tool_plan": "I will check the weather."}
    assert [(c.id, c.function.name, json.loads(c.function.arguments)) for c in response.tool_calls] == [
        ("c1", "get_weather", {"city": "Paris"}),
        ("c2", "get_time", {"tz": "CET"}),
    ]


def test_citations_and_logprobs_are_surfaced_on_the_response() -> None:
    citation = {"start": 0, "end": 5, "text": "Sunny", "sources": [{"type": "document", "id": "d1", "document": {}}]}
    logprobs = [{"token_ids": [1], "logprobs": [-0.1], "text": "Sunny"}]
    response = parse(
        {
            "id": "r",
            "finish_reason": "COMPLETE",
            "message": {"content": [{"type": "text", "text": "Sunny"}], "citations": [citation]},
            "logprobs": logprobs,
        }
    )
    assert response.extra == {"citations": [citation]}
    assert response.choices[0].logprobs == {
        "content": [{"token": "Sunny", "logprob": -0.1, "bytes": list(b"Sunny"), "top_logprobs": [], "token_ids": [1]}],
        "refusal": None,
    }


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("COMPLETE", "stop"),
        ("STOP_SEQUENCE", "stop"),
        ("MAX_TOKENS", "length"),
        ("TOOL_CALL", "tool_calls"),
        ("ERROR", "error"),
        ("TIMEOUT", "error"),
        ("SOMETHING_NEW", None),
    ],
)
def test_finish_reasons(raw: str, normalised: str | None) -> None:
    choice = parse({"id": "r", "finish_reason": raw, "message": {"content": []}}).choices[0]
    assert (choice.finish_reason, choice.raw_finish_reason) == (normalised, raw)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ([1], "JSON object, got list"),
        ({"message": "oops"}, "no 'message' object"),
        ({"message": {"content": [{"type": "text", "text": None}, 3]}}, r"content\[1\]"),
        ({"message": {"tool_calls": {"id": "c"}}}, "tool_calls should be a list"),
        ({"message": {"tool_plan": 5}}, "tool_plan should be a string"),
        ({"message": {"citations": "x"}}, "citations should be a list"),
        ({"message": {}, "usage": {"tokens": []}}, "usage.tokens"),
    ],
)
def test_malformed_replies_are_protocol_errors(body: Any, problem: str) -> None:
    with pytest.raises(ProtocolError, match=problem):
        parse(body)


def test_a_reply_that_is_not_json_is_a_protocol_error_without_the_key() -> None:
    with pytest.raises(ProtocolError, match="not valid JSON") as info:
        adapter().parse_chat(HttpResponse(200, {}, f"<html>{KEY}</html>".encode()))
    assert KEY not in repr(info.value) and KEY not in (info.value.body or "")


# --- streaming -------------------------------------------------------------------------------


def test_a_full_stream_assembles_text_reasoning_tool_calls_plan_citations_and_usage() -> None:
    citation = {"start": 0, "end": 5, "text": "Sunny", "sources": []}
    response = run_stream(
        [
            {"type": "message-start", "id": "r9", "delta": delta(role="assistant")},
            {"type": "content-start", "index": 0, "delta": delta(content={"type": "thinking", "thinking": ""})},
            {"type": "content-delta", "index": 0, "delta": delta(content={"thinking": "Think. "})},
            {"type": "content-end", "index": 0},
            {"type": "content-start", "index": 1, "delta": delta(content={"type": "text", "text": ""})},
            {"type": "content-delta", "index": 1, "delta": delta(content={"text": "Sun"})},
            {"type": "content-delta", "index": 1, "delta": delta(content={"text": "ny"})},
            {"type": "content-end", "index": 1},
            {"type": "citation-start", "index": 0, "delta": delta(citations=citation)},
            {"type": "citation-end", "index": 0},
            {"type": "tool-plan-delta", "delta": delta(tool_plan="I will ")},
            {"type": "tool-plan-delta", "delta": delta(tool_plan="check.")},
            {
                "type": "tool-call-start",
                "index": 0,
                "delta": delta(
                    tool_calls={"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a"'}}
                ),
            },
            {"type": "tool-call-delta", "index": 0, "delta": delta(tool_calls={"function": {"arguments": ": 1}"}})},
            {"type": "tool-call-end", "index": 0},
            {
                "type": "tool-call-start",
                "index": 1,
                "delta": delta(tool_calls={"id": "c2", "type": "function", "function": {"name": "g"}}),
            },
            {"type": "tool-call-delta", "index": 1, "delta": delta(tool_calls={"function": {"arguments": "{}"}})},
            {"type": "tool-call-end", "index": 1},
            {"type": "debug", "prompt": "internal"},
            {"type": "message-end", "id": "r9", "delta": {"finish_reason": "TOOL_CALL", "usage": USAGE}},
        ]
    )
    assert response.id == "r9"
    assert response.text == "Sunny" and response.reasoning == "Think. "
    assert [(c.id, c.function.name, c.function.arguments) for c in response.tool_calls] == [
        ("c1", "f", '{"a": 1}'),
        ("c2", "g", "{}"),
    ]
    assert response.message.extra == {"tool_plan": "I will check."}
    assert response.extra == {"citations": [citation]}
    assert (response.finish_reason, response.choices[0].raw_finish_reason) == ("tool_calls", "TOOL_CALL")
    assert response.usage is not None and response.usage.extra == {"billed_units": USAGE["billed_units"]}
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (120, 5)


def test_done_at_message_end_and_a_trailing_done_marker_is_tolerated() -> None:
    parser = adapter().stream_parser(ChatRequest(model="m", messages=()))
    end = {"type": "message-end", "delta": {"finish_reason": "COMPLETE"}}
    assert next(iter(parser.feed(SSEEvent(json.dumps(end))))).finish_reason == "stop"
    assert parser.done
    assert list(parser.feed(SSEEvent("[DONE]"))) == []
    assert list(parser.finish()) == []


def test_the_event_name_is_used_when_the_data_has_no_type() -> None:
    parser = adapter().stream_parser(ChatRequest(model="m", messages=()))
    (chunk,) = parser.feed(SSEEvent(json.dumps({"delta": delta(content={"text": "hi"})}), event="content-delta"))
    assert chunk.text == "hi"


def test_unknown_event_types_are_ignored() -> None:
    response = run_stream(
        [
            {"type": "message-start", "id": "r"},
            {"type": "x-new-event", "delta": {"whatever": 1}},
            {"type": "content-delta", "delta": delta(content={"text": "ok"})},
            {"type": "message-end", "delta": {"finish_reason": "COMPLETE"}},
        ]
    )
    assert response.text == "ok"


def test_an_error_at_message_end_is_a_typed_error_and_keeps_the_text() -> None:
    parser = adapter().stream_parser(ChatRequest(model="m", messages=()))
    acc = StreamAccumulator()
    for chunk in parser.feed(SSEEvent(json.dumps({"type": "content-delta", "delta": delta(content={"text": "Half"})}))):
        acc.add(chunk)
    end = {"type": "message-end", "id": "r", "delta": {"finish_reason": "ERROR", "error": f"internal failure {KEY}"}}
    with pytest.raises(ServerError, match="error inside the stream: internal failure") as info:
        parser.feed(SSEEvent(json.dumps(end)))
    assert KEY not in str(info.value) and KEY not in (info.value.body or "")
    assert info.value.provider == "cohere" and acc.partial_text == "Half"


def test_a_bare_message_event_is_an_error() -> None:
    parser = adapter().stream_parser(ChatRequest(model="m", messages=()))
    with pytest.raises(APIStatusError, match="upstream went away"):
        parser.feed(SSEEvent(json.dumps({"message": "upstream went away", "id": "x"})))


@pytest.mark.parametrize(
    "event",
    [
        "{broken",
        "[1, 2]",
        json.dumps({"no": "type"}),
        json.dumps({"type": "content-delta", "delta": {"message": {"content": "text"}}}),
        json.dumps({"type": "tool-call-start", "index": "0", "delta": delta(tool_calls={"function": {"name": "f"}})}),
        json.dumps({"type": "tool-call-start", "index": 0, "delta": delta(tool_calls={"id": "c"})}),
        json.dumps({"type": "tool-call-delta", "index": 0, "delta": delta(tool_calls={"function": {"arguments": 5}})}),
        json.dumps({"type": "message-end", "delta": "done"}),
        json.dumps({"type": "message-end", "delta": {"usage": {"tokens": {"output_tokens": "x"}}}}),
    ],
)
def test_malformed_stream_events_are_protocol_errors(event: str) -> None:
    parser = adapter().stream_parser(ChatRequest(model="m", messages=()))
    with pytest.raises(ProtocolError):
        parser.feed(SSEEvent(event))


def test_a_stream_that_ends_before_message_end_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="before its message-end"):
        run_stream(
            [{"type": "message-start", "id": "r"}, {"type": "content-delta", "delta": delta(content={"text": "a"})}]
        )


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (422, BadRequestError),
        (429, RateLimitError),
        (498, AuthenticationError),
        (499, APIStatusError),
        (500, ServerError),
        (501, ServerError),
        (503, OverloadedError),
        (504, ServerError),
    ],
)
def test_error_statuses(status: int, expected: type[APIStatusError]) -> None:
    error = adapter().parse_error(reply({"message": f"bad thing with {KEY}", "id": "req-77"}, status))
    assert type(error) is expected
    assert (error.status, error.provider, error.request_id) == (status, "cohere", "req-77")
    assert "bad thing" in str(error) and KEY not in str(error) and KEY not in (error.body or "")


def test_rate_limit_retry_after_and_key_hints() -> None:
    limited = adapter().parse_error(reply({"message": "slow down"}, 429, {"retry-after": "7"}))
    assert isinstance(limited, RateLimitError) and limited.retry_after == 7.0
    invalid = adapter().parse_error(reply({"message": "invalid api token"}, 498))
    assert "CO_API_KEY" in str(invalid)
    missing = CohereProvider(ProviderSettings(base_url="https://api.cohere.com")).parse_error(
        reply({"message": "no"}, 401)
    )
    assert "No API key was sent" in str(missing)
    unknown_model = adapter().parse_error(reply({"message": "model 'x' not found"}, 404))
    assert "chatpipe models -p cohere" in str(unknown_model)


def test_the_header_request_id_wins_and_non_json_errors_are_readable() -> None:
    error = adapter().parse_error(HttpResponse(502, {"x-request-id": "hdr-1"}, b"Bad gateway"))
    assert isinstance(error, ServerError) and error.request_id == "hdr-1" and "Bad gateway" in str(error)


# --- model list ------------------------------------------------------------------------------


def test_model_list_request() -> None:
    http = adapter().build_models()
    assert (http.method, http.url) == ("GET", "https://api.cohere.com/v1/models?endpoint=chat&page_size=1000")
    assert http.headers["Authorization"] == f"Bearer {KEY}" and "Content-Type" not in http.headers
    assert "Authorization" in http.secret_headers


def test_model_ids_come_from_name() -> None:
    entry = {"name": "command-a-03-2025", "endpoints": ["chat"], "context_length": 256000.0, "features": ["tools"]}
    models = adapter().parse_models(reply({"models": [entry, {"name": "command-r7b-12-2024"}]}))
    assert [m.id for m in models] == ["command-a-03-2025", "command-r7b-12-2024"]
    assert models[0].context_length == 256000
    assert models[0].extra == {"endpoints": ["chat"], "features": ["tools"]}


def test_a_paged_model_list_asks_for_the_next_page() -> None:
    cohere = adapter()
    page = reply({"models": [{"name": "a"}], "next_page_token": "t2"})
    assert [m.id for m in cohere.parse_models(page)] == ["a"]
    following = cohere.next_models(page)
    assert following is not None and following.url.endswith("/v1/models?endpoint=chat&page_size=1000&page_token=t2")
    assert cohere.next_models(reply({"models": [{"name": "b"}]})) is None


@pytest.mark.parametrize("body", [{"data": []}, {"models": [{"id": "x"}]}, {"models": ["x"]}, []])
def test_malformed_model_lists_are_protocol_errors(body: Any) -> None:
    with pytest.raises(ProtocolError):
        adapter().parse_models(reply(body))


def test_streamed_logprobs_are_assembled_in_openai_shape() -> None:
    response = run_stream(
        [
            {"type": "message-start", "id": "r", "delta": delta(role="assistant")},
            {"type": "content-delta", "index": 0, "delta": delta(content={"text": "Sun"}),
             "logprobs": {"text": "Sun", "token_ids": [7], "logprobs": [-0.5]}},
            {"type": "content-delta", "index": 0, "delta": delta(content={"text": "ny"}),
             "logprobs": {"text": "ny", "token_ids": [8, 9], "logprobs": [-0.25, -0.25]}},
            {"type": "message-end", "delta": {"finish_reason": "COMPLETE"}},
        ]
    )  # fmt: skip
    assert response.text == "Sunny"
    content = response.choices[0].logprobs["content"]  # type: ignore[index]
    assert [(e["token"], e["logprob"], e["token_ids"]) for e in content] == [("Sun", -0.5, [7]), ("ny", -0.5, [8, 9])]


def test_malformed_logprobs_are_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="logprobs"):
        parse({"id": "r", "finish_reason": "COMPLETE", "message": {"content": []}, "logprobs": [{"logprobs": ["x"]}]})
