"""The openrouter plugin's replies: reasoning, usage with cost, errors in bodies and streams, the model list."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from chatpipe import Pipeline
from chatpipe.errors import (
    AuthenticationError,
    ContentFilterError,
    OverloadedError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    ServerError,
)
from chatpipe.http import HttpResponse
from chatpipe.provider import ProviderSettings
from chatpipe.secrets import Secret
from chatpipe.testing import FakeResponse, FakeServer
from chatpipe_openrouter import OpenRouterProvider

KEY = "sk-or-v1-PLANTED-openrouter-replies-0123456789"
HI = [{"role": "user", "content": "Hi"}]
ROUTE = "POST /api/v1/chat/completions"
USAGE = {
    "prompt_tokens": 100,
    "completion_tokens": 40,
    "total_tokens": 140,
    "cost": 0.00042,
    "is_byok": False,
    "prompt_tokens_details": {"cached_tokens": 60, "cache_write_tokens": 30, "audio_tokens": 0},
    "cost_details": {"upstream_inference_cost": None},
    "completion_tokens_details": {"reasoning_tokens": 25, "image_tokens": 0},
}


def make() -> OpenRouterProvider:
    return OpenRouterProvider(ProviderSettings(base_url="https://openrouter.ai/api/v1", api_key=Secret(KEY)))


def pipe(server: FakeServer, **kwargs: Any) -> Pipeline:
    return Pipeline("openrouter", model="m/x", base_url=f"{server.url}/api/v1", api_key=KEY, **kwargs)


def completion(message: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": "gen-1",
        "object": "chat.completion",
        "created": 1_760_000_000,
        "model": "deepseek/deepseek-r1",
        "provider": "DeepInfra",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}],
        **extra,
    }


def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": "gen-2",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "deepseek/deepseek-r1",
        "provider": "DeepInfra",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }


def parse(body: dict[str, Any], status: int = 200) -> Any:
    return make().parse_chat(HttpResponse(status, {}, json.dumps(body).encode()))


# --- replies ------------------------------------------------------------------------------


def test_reasoning_and_usage_with_cost() -> None:
    details = [{"type": "reasoning.text", "text": "Think.", "signature": "sig", "format": "anthropic-claude-v1"}]
    reply = parse(completion({"content": "Answer", "reasoning": "Think.", "reasoning_details": details}, usage=USAGE))
    assert (reply.text, reply.reasoning) == ("Answer", "Think.")
    usage = reply.usage
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (100, 40, 140)
    assert (usage.cached_tokens, usage.cache_creation_tokens, usage.reasoning_tokens) == (60, 30, 25)
    assert usage.extra["cost"] == 0.00042 and usage.extra["is_byok"] is False
    assert reply.extra["provider"] == "DeepInfra"
    assert reply.choices[0].message.extra["reasoning_details"] == details, "kept to be sent back in the next turn"


def test_reasoning_from_reasoning_details_when_reasoning_is_empty() -> None:
    details = [
        {"type": "reasoning.summary", "summary": "Summed up. "},
        {"type": "reasoning.encrypted", "data": "opaque"},
        {"type": "reasoning.text", "text": "Then this."},
    ]
    reply = parse(completion({"content": "Ok", "reasoning": None, "reasoning_details": details}))
    assert reply.reasoning == "Summed up. Then this."


def test_no_reasoning_when_there_is_none() -> None:
    assert parse(completion({"content": "Ok"})).reasoning is None


def test_stream_skips_processing_comments_and_reads_reasoning_and_usage(fake_server: FakeServer) -> None:
    events = [
        b": OPENROUTER PROCESSING\n\n",
        chunk({"role": "assistant", "content": "", "reasoning": "Let me"}),
        b": OPENROUTER PROCESSING\n\n",
        chunk({"reasoning": " think.", "reasoning_details": [{"type": "reasoning.text", "text": " think."}]}),
        chunk({"content": "Hel"}),
        chunk({"content": "lo"}, "stop"),
        {**chunk({}), "choices": [], "usage": USAGE},
    ]
    fake_server.enqueue(ROUTE, FakeResponse.sse(events, comments=["OPENROUTER PROCESSING"]))
    reply = pipe(fake_server).stream(HI).collect()
    assert (reply.text, reply.reasoning) == ("Hello", "Let me think.")
    assert reply.usage is not None and reply.usage.cache_creation_tokens == 30 and reply.usage.extra["cost"] == 0.00042
    (seen,) = fake_server.requests
    assert seen.json["stream_options"] == {"include_usage": True}


def test_streamed_reasoning_details_alone_are_read(fake_server: FakeServer) -> None:
    events = [
        chunk({"role": "assistant", "reasoning_details": [{"type": "reasoning.summary", "summary": "Plan."}]}),
        chunk({"content": "Done"}, "stop"),
    ]
    fake_server.enqueue(ROUTE, FakeResponse.sse(events))
    reply = pipe(fake_server).stream(HI).collect()
    assert (reply.text, reply.reasoning) == ("Done", "Plan.")


def test_streamed_reasoning_details_are_assembled_and_sent_back_next_turn(fake_server: FakeServer) -> None:
    text = "reasoning.text"
    events = [
        chunk(
            {"role": "assistant", "reasoning": "Let", "reasoning_details": [{"type": text, "text": "Let", "index": 0}]}
        ),
        chunk({"reasoning": " me", "reasoning_details": [{"type": text, "text": " me", "index": 0, "format": "f1"}]}),
        chunk({"reasoning_details": [{"type": text, "text": "", "signature": "sig", "index": 0}]}),
        chunk({"reasoning_details": [{"type": "reasoning.encrypted", "data": "xyz", "index": 1}]}),
        chunk({"content": "Done"}, "stop"),
    ]
    fake_server.enqueue(ROUTE, FakeResponse.sse(events))
    reply = pipe(fake_server).stream(HI).collect()
    assert (reply.text, reply.reasoning) == ("Done", "Let me")
    assembled = [
        {"type": text, "text": "Let me", "index": 0, "format": "f1", "signature": "sig"},
        {"type": "reasoning.encrypted", "data": "xyz", "index": 1},
    ]
    message = reply.choices[0].message
    assert message.extra["reasoning_details"] == assembled
    body = pipe(fake_server).explain([*HI, message, {"role": "user", "content": "And?"}]).request["json"]
    assert body["messages"][1]["reasoning_details"] == assembled


# --- errors -------------------------------------------------------------------------------


def test_402_insufficient_credits_is_clear_and_not_retried(fake_server: FakeServer) -> None:
    body = {
        "error": {
            "code": 402,
            "message": "Insufficient credits. Add more using https://openrouter.ai/settings/credits",
            "metadata": {"limit_source": "openrouter_key_limit"},
        }
    }
    fake_server.enqueue(ROUTE, FakeResponse.json(body, status=402))
    with pytest.raises(PermissionDeniedError) as info:
        pipe(fake_server, max_retries=2).complete(HI)
    message = str(info.value)
    assert info.value.status == 402 and "HTTP 402" in message
    assert "credit limit is used up" in message and "openrouter.ai/settings/credits" in message
    assert len(fake_server.requests) == 1


def test_402_when_the_balance_cannot_cover_the_request() -> None:
    body = {
        "error": {"code": 402, "message": "Insufficient credits", "metadata": {"limit_source": "openrouter_credits"}}
    }
    error = make().parse_error(HttpResponse(402, {}, json.dumps(body).encode()))
    assert isinstance(error, PermissionDeniedError)
    assert "balance cannot cover" in error.message and "add credits" in error.message


def test_moderation_403_is_a_content_filter_error_with_its_reasons() -> None:
    body = {
        "error": {
            "code": 403,
            "message": 'openai/gpt-4o requires moderation on OpenAI. Your input was flagged for "harassment".',
            "metadata": {
                "reasons": ["harassment", "hate"],
                "flagged_input": "some text",
                "provider_name": "OpenAI",
                "model_slug": "openai/gpt-4o",
            },
        }
    }
    error = make().parse_error(HttpResponse(403, {}, json.dumps(body).encode()))
    assert isinstance(error, ContentFilterError) and error.status == 403
    assert "flagged by moderation for: harassment, hate" in error.message and "provider OpenAI" in error.message


def test_401_names_the_key_variable() -> None:
    body = {"error": {"code": 401, "message": "No auth credentials found"}}
    error = make().parse_error(HttpResponse(401, {}, json.dumps(body).encode()))
    assert isinstance(error, AuthenticationError)
    assert "set OPENROUTER_API_KEY or run 'chatpipe keys set openrouter'" in error.message


def test_429_keeps_retry_after() -> None:
    body = {"error": {"code": 429, "message": "Rate limit exceeded: free-models-per-min"}}
    error = make().parse_error(HttpResponse(429, {"retry-after": "7"}, json.dumps(body).encode()))
    assert isinstance(error, RateLimitError) and error.retry_after == 7


def test_a_provider_error_names_the_provider_and_its_raw_error_and_never_the_key() -> None:
    body = {
        "error": {
            "code": 502,
            "message": "Provider returned error",
            "metadata": {"provider_name": "Together", "raw": f"upstream rejected key {KEY}"},
        }
    }
    error = make().parse_error(HttpResponse(502, {}, json.dumps(body).encode()))
    assert isinstance(error, ServerError)
    assert "provider Together" in error.message and "upstream rejected key" in error.message
    assert KEY not in str(error) + (error.body or "") + repr(error)


def test_an_error_object_in_a_200_body_raises_its_typed_error() -> None:
    with pytest.raises(OverloadedError, match="error in a 200 reply: No endpoints available"):
        parse({"error": {"code": 503, "message": "No endpoints available", "metadata": {}}})


def test_an_error_inside_a_choice_of_a_200_body_raises() -> None:
    body = completion({"content": ""})
    body["choices"][0].update(finish_reason="error", error={"code": 502, "message": "Upstream died"})
    with pytest.raises(ServerError, match="Upstream died"):
        parse(body)


def test_a_top_level_error_beside_choices_raises() -> None:
    body = completion({"content": "part"}, error={"code": 500, "message": "Internal"})
    with pytest.raises(ServerError, match="Internal"):
        parse(body)


def test_a_mid_stream_error_raises_and_keeps_the_text_so_far(fake_server: FakeServer) -> None:
    failed = chunk({"content": ""}, "error", error={"code": "server_error", "message": "Provider disconnected"})
    events = [chunk({"role": "assistant", "content": "Half an"}), chunk({"content": " answer"}), failed]
    fake_server.enqueue(ROUTE, FakeResponse.sse(events, done=False))
    with pytest.raises(ServerError) as info:
        pipe(fake_server, max_retries=0).stream(HI).collect()
    assert "error inside the stream: Provider disconnected" in str(info.value)
    assert info.value.partial_text == "Half an answer"


def test_an_error_event_before_any_token_raises_its_status_class(fake_server: FakeServer) -> None:
    events = [{"error": {"code": 429, "message": "Rate limited upstream", "metadata": {"provider_name": "Groq"}}}]
    fake_server.enqueue(ROUTE, FakeResponse.sse(events, done=False))
    with pytest.raises(RateLimitError, match="Rate limited upstream"):
        pipe(fake_server, max_retries=0).stream(HI).collect()


def test_an_error_inside_a_stream_choice_raises() -> None:
    parser = make().stream_parser(make().prepare(_stream_request()))
    from chatpipe.http import SSEEvent

    assert list(parser.feed(SSEEvent(json.dumps(chunk({"content": "a"})))))
    bad = chunk({"content": ""}, "error")
    bad["choices"][0]["error"] = {"code": 503, "message": "Overloaded"}
    with pytest.raises(OverloadedError, match="Overloaded"):
        parser.feed(SSEEvent(json.dumps(bad)))


def test_a_chunk_merely_mentioning_error_in_its_text_is_text() -> None:
    parser = make().stream_parser(_stream_request())
    from chatpipe.http import SSEEvent

    (only,) = parser.feed(SSEEvent(json.dumps(chunk({"content": 'the key "error" is fine'}))))
    assert only.text == 'the key "error" is fine'


def test_malformed_stream_data_is_still_a_protocol_error() -> None:
    parser = make().stream_parser(_stream_request())
    from chatpipe.http import SSEEvent

    with pytest.raises(ProtocolError):
        parser.feed(SSEEvent('{"error": '))


def _stream_request() -> Any:
    from chatpipe import wire
    from chatpipe.models import ChatRequest

    return ChatRequest(model="m/x", messages=wire.messages_from_dicts(HI), stream=True)


# --- model list ---------------------------------------------------------------------------

MODELS = {
    "data": [
        {
            "id": "openai/gpt-4o",
            "canonical_slug": "openai/gpt-4o",
            "name": "OpenAI: GPT-4o",
            "created": 1715367049,
            "context_length": 128000,
            "architecture": {"modality": "text+image->text", "tokenizer": "GPT"},
            "pricing": {
                "prompt": "0.0000025",
                "completion": "0.00001",
                "request": "0",
                "image": "0.003613",
                "input_cache_read": "0.00000125",
            },
            "top_provider": {"context_length": 128000, "max_completion_tokens": 16384, "is_moderated": True},
            "supported_parameters": ["tools", "temperature"],
        },
        {
            "id": "openrouter/auto",
            "name": "Auto Router",
            "created": 1699401600,
            "context_length": None,
            "pricing": {"prompt": "-1", "completion": "-1"},
            "top_provider": {"context_length": 2000000, "is_moderated": False},
        },
        {"id": "vendor/free:free", "context_length": 32768, "pricing": {"prompt": "0", "completion": "0"}},
    ]
}


def test_model_list_has_context_length_and_prices() -> None:
    gpt, auto, free = make().parse_models(HttpResponse(200, {}, json.dumps(MODELS).encode()))
    assert (gpt.id, gpt.created, gpt.context_length) == ("openai/gpt-4o", 1715367049, 128000)
    assert gpt.extra["pricing"]["prompt"] == "0.0000025", "OpenRouter's own figures are kept as sent"
    assert gpt.extra["prices"] == {"input": "2.5", "output": "10", "cached_input": "1.25"}
    assert Decimal(gpt.extra["prices"]["input"]) / 1_000_000 == Decimal("0.0000025")
    assert gpt.extra["supported_parameters"] == ["tools", "temperature"]
    assert auto.context_length == 2000000, "the top provider's context length stands in"
    assert "prices" not in auto.extra, "a negative price means unknown"
    assert free.extra["prices"] == {"input": "0", "output": "0"}


def test_the_model_list_over_the_wire(fake_server: FakeServer) -> None:
    fake_server.enqueue("GET /api/v1/models", FakeResponse.json(MODELS))
    models = pipe(fake_server).models()
    assert [m.id for m in models] == ["openai/gpt-4o", "openrouter/auto", "vendor/free:free"]
    (seen,) = fake_server.requests
    assert seen.headers["authorization"] == f"Bearer {KEY}"


def test_a_malformed_model_list_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        make().parse_models(HttpResponse(200, {}, b'{"data": 3}'))
