"""The groq adapter: dropped fields, reasoning parameters and fields, x_groq, model list, errors, explain."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chatpipe import Pipeline
from chatpipe.errors import (
    AuthenticationError,
    InvalidRequestError,
    NotFoundError,
    OverloadedError,
    RateLimitError,
)
from chatpipe.http import HttpResponse, SSEEvent
from chatpipe.models import ChatRequest, Message
from chatpipe.provider import ProviderSettings
from chatpipe.secrets import Secret
from chatpipe.testing import FakeServer
from chatpipe.testing.fake_server import FakeResponse
from chatpipe_groq import GroqProvider

KEY = "gsk_PLANTED_groq_key_0123456789"
BASE = "https://api.groq.com/openai/v1"
HI = [{"role": "user", "content": "Hi"}]


def make() -> GroqProvider:
    return GroqProvider(ProviderSettings(base_url=BASE, api_key=Secret(KEY)))


def body_for(**params: Any) -> dict[str, Any]:
    request = ChatRequest(model="llama-3.1-8b-instant", messages=(Message("user", "Hi"),), params=params)
    json_body = make().build_chat(request).json
    assert isinstance(json_body, dict)
    return json_body


def completion(message: dict[str, Any], **top: Any) -> HttpResponse:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "qwen/qwen3-32b",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7, "queue_time": 0.01},
        **top,
    }
    return HttpResponse(200, {}, json.dumps(body).encode())


# --- request ------------------------------------------------------------------------------------


def test_url_and_auth() -> None:
    http = make().build_chat(ChatRequest(model="m", messages=(Message("user", "Hi"),)))
    assert (http.method, http.url) == ("POST", f"{BASE}/chat/completions")
    assert http.headers["Authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("field", ["logprobs", "top_logprobs", "logit_bias", "n"])
def test_fields_groq_rejects_are_dropped(field: str) -> None:
    value = {"logprobs": True, "top_logprobs": 2, "logit_bias": {"1": 2}, "n": 1}[field]
    body = body_for(**{field: value}, temperature=0.5)
    assert field not in body
    assert body["temperature"] == 0.5


def test_include_body_can_force_a_dropped_field_back() -> None:
    adapter = GroqProvider(ProviderSettings(base_url=BASE, api_key=Secret(KEY), include_body={"n": 1}))
    http = adapter.build_chat(ChatRequest(model="m", messages=(Message("user", "Hi"),), params={"n": 1}))
    assert isinstance(http.json, dict) and http.json["n"] == 1


def test_message_names_are_removed() -> None:
    request = ChatRequest(
        model="m", messages=(Message("system", "Be kind.", name="narrator"), Message("user", "Hi", name="alex"))
    )
    body = make().build_chat(request).json
    assert isinstance(body, dict)
    assert body["messages"] == [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi"}]


def test_config_check_reports_the_dropped_fields() -> None:
    problems = dict(GroqProvider.info.param_problems({"logprobs": True, "reasoning_format": "parsed", "n": 1}))
    assert set(problems) == {"logprobs"}


@pytest.mark.parametrize("fmt", ["parsed", "raw", "hidden"])
def test_reasoning_format_is_sent(fmt: str) -> None:
    assert body_for(reasoning_format=fmt)["reasoning_format"] == fmt


@pytest.mark.parametrize("effort", ["none", "default", "low", "medium", "high"])
def test_reasoning_effort_is_sent(effort: str) -> None:
    assert body_for(reasoning_effort=effort)["reasoning_effort"] == effort


def test_bad_reasoning_format_is_an_error_naming_the_values() -> None:
    with pytest.raises(InvalidRequestError, match="reasoning_format 'json' is not one of parsed, raw, hidden"):
        body_for(reasoning_format="json")


def test_bad_reasoning_effort_is_an_error_naming_the_values() -> None:
    with pytest.raises(InvalidRequestError, match=r"reasoning_effort 'xhigh'.*none, default, low, medium, high"):
        body_for(reasoning_effort="xhigh")


def test_include_reasoning_with_reasoning_format_is_an_error() -> None:
    assert body_for(include_reasoning=False)["include_reasoning"] is False
    with pytest.raises(InvalidRequestError, match="include_reasoning and reasoning_format"):
        body_for(include_reasoning=False, reasoning_format="parsed")


# --- replies ------------------------------------------------------------------------------------


def test_parsed_reasoning_is_the_reply_reasoning_and_x_groq_is_kept() -> None:
    reply = make().parse_chat(
        completion({"content": "3", "reasoning": "Count the r's."}, x_groq={"id": "req_01abc"}, usage_breakdown=None)
    )
    assert (reply.text, reply.reasoning) == ("3", "Count the r's.")
    assert reply.extra["x_groq"] == {"id": "req_01abc"}
    assert reply.usage is not None and reply.usage.total_tokens == 7


def _stream(*payloads: dict[str, Any]) -> list[Any]:
    parser = make().stream_parser(ChatRequest(model="m", messages=(Message("user", "Hi"),), stream=True))
    chunks = []
    for payload in payloads:
        chunks += list(parser.feed(SSEEvent(data=json.dumps(payload))))
    chunks += list(parser.feed(SSEEvent(data="[DONE]")))
    assert parser.done
    chunks += list(parser.finish())
    return chunks


def _chunk(delta: dict[str, Any], finish: str | None = None, **top: Any) -> dict[str, Any]:
    return {
        "id": "c",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **top,
    }


def test_streamed_reasoning_deltas_and_usage_in_x_groq() -> None:
    usage = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7, "queue_time": 0.02}
    chunks = _stream(
        _chunk({"role": "assistant", "reasoning": "Think"}),
        _chunk({"reasoning": "ing."}),
        _chunk({"content": "Yes"}),
        _chunk({}, "stop", x_groq={"id": "req_1", "usage": usage}),
    )
    assert "".join(c.reasoning for c in chunks) == "Thinking."
    assert "".join(c.text for c in chunks) == "Yes"
    assert [c.usage.total_tokens for c in chunks if c.usage] == [7]


def test_top_level_stream_usage_wins_over_x_groq() -> None:
    top = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    other = {"prompt_tokens": 9, "completion_tokens": 9, "total_tokens": 18}
    chunks = _stream(_chunk({"content": "A"}, "stop", usage=top, x_groq={"id": "r", "usage": other}))
    assert [c.usage.total_tokens for c in chunks if c.usage] == [2]


def test_a_pipeline_stream_reads_x_groq_usage(fake_server: FakeServer) -> None:
    usage = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    events = [
        _chunk({"role": "assistant", "content": "Hel"}),
        _chunk({"content": "lo"}),
        _chunk({}, "stop", x_groq={"id": "req_1", "usage": usage}),
        "[DONE]",
    ]
    fake_server.enqueue("POST /openai/v1/chat/completions", FakeResponse.sse(events))
    pipe = Pipeline("groq", api_key=KEY, base_url=fake_server.url + "/openai/v1")
    stream = pipe.stream(HI)
    assert "".join(c.text for c in stream) == "Hello"
    assert stream.response.usage is not None and stream.response.usage.total_tokens == 7


# --- models -------------------------------------------------------------------------------------


def test_model_list_fills_context_length_from_context_window() -> None:
    body = {
        "object": "list",
        "data": [
            {
                "id": "llama-3.1-8b-instant",
                "object": "model",
                "created": 1693721698,
                "owned_by": "Meta",
                "active": True,
                "context_window": 131072,
                "public_apps": None,
                "max_completion_tokens": 131072,
            },
            {"id": "whisper-large-v3", "object": "model", "owned_by": "OpenAI", "active": True},
        ],
    }
    models = make().parse_models(HttpResponse(200, {}, json.dumps(body).encode()))
    assert [(m.id, m.context_length, m.owned_by) for m in models] == [
        ("llama-3.1-8b-instant", 131072, "Meta"),
        ("whisper-large-v3", None, "OpenAI"),
    ]
    assert models[0].extra["max_completion_tokens"] == 131072


def test_models_through_the_pipeline(fake_server: FakeServer) -> None:
    listing = {"object": "list", "data": [{"id": "qwen/qwen3-32b", "object": "model", "context_window": 131072}]}
    fake_server.enqueue("GET /openai/v1/models", FakeResponse.json(listing))
    models = Pipeline("groq", api_key=KEY, base_url=fake_server.url + "/openai/v1").models()
    assert [(m.id, m.context_length) for m in models] == [("qwen/qwen3-32b", 131072)]
    assert fake_server.requests[0].headers["authorization"] == f"Bearer {KEY}"


# --- errors -------------------------------------------------------------------------------------


def _error(status: int, error: dict[str, Any]) -> HttpResponse:
    return HttpResponse(status, {"retry-after": "2"}, json.dumps({"error": error}).encode())


def test_rate_limit() -> None:
    error = make().parse_error(
        _error(
            429,
            {
                "message": "Rate limit reached for model `llama-3.1-8b-instant` on tokens per minute (TPM)",
                "type": "tokens",
                "code": "rate_limit_exceeded",
            },
        )
    )
    assert isinstance(error, RateLimitError) and error.retry_after == 2
    assert "tokens per minute" in str(error)


def test_model_not_found() -> None:
    error = make().parse_error(
        _error(
            404,
            {
                "message": "The model `llama-9` does not exist or you do not have access to it.",
                "type": "invalid_request_error",
                "code": "model_not_found",
            },
        )
    )
    assert isinstance(error, NotFoundError) and "llama-9" in str(error)


def test_498_flex_capacity_is_overloaded_and_retried() -> None:
    error = make().parse_error(_error(498, {"message": "Capacity exceeded", "code": "capacity_exceeded"}))
    assert isinstance(error, OverloadedError)
    assert error.status == 498 and "flex tier" in str(error)
    assert 498 in GroqProvider.info.retryable_statuses


def test_401_names_the_key_variable_and_never_the_key() -> None:
    error = make().parse_error(
        _error(401, {"message": f"Invalid API Key {KEY}", "type": "invalid_request_error", "code": "invalid_api_key"})
    )
    assert isinstance(error, AuthenticationError)
    assert "GROQ_API_KEY" in str(error) and KEY not in str(error) + (error.body or "")


# --- explain ------------------------------------------------------------------------------------


def test_explain_shows_the_real_url_and_body_with_the_key_redacted() -> None:
    pipe = Pipeline("groq", api_key=KEY, model="qwen/qwen3-32b")
    explained = pipe.explain(HI, reasoning_format="parsed", logprobs=True)
    request = explained.request
    assert request["url"] == "https://api.groq.com/openai/v1/chat/completions"
    assert request["headers"]["Authorization"] == "***"
    assert request["json"]["model"] == "qwen/qwen3-32b"
    assert request["json"]["reasoning_format"] == "parsed"
    assert "logprobs" not in request["json"]
    assert KEY not in json.dumps(request)
