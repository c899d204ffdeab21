"""The xai plugin: declaration, reasoning_effort per model, dropped params, reasoning output, errors, explain."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from typing import Any

import pytest
from chatpipe import Pipeline, wire
from chatpipe.errors import APIStatusError, AuthenticationError, BadRequestError, InvalidRequestError
from chatpipe.http import HttpResponse
from chatpipe.models import ChatRequest
from chatpipe.provider import ProviderSettings
from chatpipe.registry import Registry
from chatpipe.secrets import Secret
from chatpipe.testing import FakeResponse, FakeServer
from chatpipe_xai import XAIProvider, effort_for, is_reasoning_model

KEY = "xai-PLANTED-key-0123456789abcdefghijklmnop"
HI = [{"role": "user", "content": "Hi"}]
ROUTE = "POST /v1/chat/completions"
SAMPLING = {"presence_penalty": 0.5, "frequency_penalty": 0.2, "stop": ["\n\n"], "temperature": 0.7}


def make(**kwargs: Any) -> XAIProvider:
    base = kwargs.pop("base_url", XAIProvider.info.default_base_url)
    return XAIProvider(ProviderSettings(base_url=base, api_key=Secret(KEY), **kwargs))


def sent(model: str, params: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    adapter = make(**kwargs)
    req = ChatRequest(model=model, messages=wire.messages_from_dicts(HI), params=params)
    body: dict[str, Any] = adapter.build_chat(adapter.prepare(req)).json
    return body


def test_declaration() -> None:
    info = XAIProvider.info
    assert (info.name, info.package, info.display_name) == ("xai", "chatpipe-xai", "xAI")
    assert info.default_base_url == "https://api.x.ai/v1"
    assert info.api_key_env == ("XAI_API_KEY",)
    assert info.default_model == "grok-4.3"
    assert info.required_converters == ()
    assert info.capabilities.reasoning and info.capabilities.vision


def test_entry_point_registers_the_class() -> None:
    (ep,) = [e for e in entry_points(group="chatpipe.providers") if e.name == "xai"]
    registry = Registry(entry_points=[])
    registry.register(ep.load())
    assert registry.provider("xai") is XAIProvider


def test_urls() -> None:
    adapter = make()
    req = ChatRequest(model="grok-4.3", messages=wire.messages_from_dicts(HI))
    assert adapter.build_chat(req).url == "https://api.x.ai/v1/chat/completions"
    assert adapter.build_models().url == "https://api.x.ai/v1/models"


# --- reasoning_effort ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "effort", "expected"),
    [
        ("grok-3-mini", "low", "low"),
        ("grok-3-mini", "high", "high"),
        ("grok-3-mini", "medium", "low"),
        ("grok-3-mini", "none", "low"),
        ("grok-3-mini", "minimal", "low"),
        ("grok-3-mini-fast", "xhigh", "high"),
        ("grok-3-mini", "max", "high"),
        ("grok-3-mini", "auto", None),
        ("grok-4.3", "none", "none"),
        ("grok-4.3", "min", "low"),
        ("grok-4.3", "medium", "medium"),
        ("grok-4.3", "HIGH", "high"),
        ("grok-4.3-latest", "max", "high"),
        ("grok-4.3", "auto", None),
        ("grok-4", "high", None),
        ("grok-4-0709", "low", None),
        ("grok-4-fast-reasoning", "high", None),
        ("grok-4-1-fast-reasoning", "high", None),
        ("grok-4.20-0309-reasoning", "high", None),
        ("grok-code-fast-1", "high", None),
        ("grok-3", "high", None),
    ],
)
def test_reasoning_effort_only_where_xai_takes_it(
    openai_spec: Any, model: str, effort: str, expected: str | None
) -> None:
    body = sent(model, {"reasoning_effort": effort})
    assert body.get("reasoning_effort") == expected
    openai_spec.check("CreateChatCompletionRequest", body)


def test_an_unknown_effort_is_an_error_even_for_a_model_that_takes_none() -> None:
    for model in ("grok-3-mini", "grok-4"):
        with pytest.raises(InvalidRequestError, match="reasoning_effort 'huge' is not one of") as info:
            sent(model, {"reasoning_effort": "huge"})
        assert info.value.where == "reasoning_effort"


def test_include_body_forces_reasoning_effort_for_a_newer_model() -> None:
    assert sent("grok-5", {}, include_body={"reasoning_effort": "high"})["reasoning_effort"] == "high"


# --- dropped params -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "model", ["grok-4", "grok-4.3", "grok-3-mini", "grok-4-1-fast-reasoning", "grok-code-fast-1", "x-ai/grok-4"]
)
def test_reasoning_models_get_no_penalties_or_stop(openai_spec: Any, model: str) -> None:
    body = sent(model, dict(SAMPLING))
    assert not {"presence_penalty", "frequency_penalty", "stop"} & set(body)
    assert body["temperature"] == 0.7
    openai_spec.check("CreateChatCompletionRequest", body)


@pytest.mark.parametrize(
    "model", ["grok-3", "grok-3-latest", "grok-2-1212", "grok-4-fast-non-reasoning", "my-proxy-model"]
)
def test_other_models_keep_them(openai_spec: Any, model: str) -> None:
    body = sent(model, dict(SAMPLING))
    assert {k: body[k] for k in SAMPLING} == SAMPLING
    openai_spec.check("CreateChatCompletionRequest", body)


def test_include_body_can_force_stop_back() -> None:
    assert sent("grok-4", {"stop": ["x"]}, include_body={"stop": ["END"]})["stop"] == ["END"]


def test_the_rules_by_model_id() -> None:
    assert is_reasoning_model("GROK-4") and is_reasoning_model("grok-3-mini-latest")
    assert not is_reasoning_model("grok-3-fast") and not is_reasoning_model("llama-3")
    assert effort_for("grok-3-mini", "medium") == "low" and effort_for("grok-4", "medium") is None


# --- replies ------------------------------------------------------------------------------


def completion(message: dict[str, Any], usage: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "x1",
        "object": "chat.completion",
        "created": 1_760_000_000,
        "model": "grok-3-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}],
        "system_fingerprint": "fp_1",
    }
    if usage is not None:
        body["usage"] = usage
    return body


USAGE = {
    "prompt_tokens": 20,
    "completion_tokens": 300,
    "total_tokens": 320,
    "prompt_tokens_details": {"text_tokens": 20, "audio_tokens": 0, "image_tokens": 0, "cached_tokens": 6},
    "completion_tokens_details": {"reasoning_tokens": 290, "audio_tokens": 0},
    "num_sources_used": 0,
}


def test_reasoning_content_and_reasoning_tokens() -> None:
    body = completion({"content": "303", "reasoning_content": "101 times 3..."}, USAGE)
    reply = make().parse_chat(HttpResponse(200, {}, json.dumps(body).encode()))
    assert (reply.text, reply.reasoning) == ("303", "101 times 3...")
    assert reply.usage is not None
    assert (reply.usage.reasoning_tokens, reply.usage.cached_tokens) == (290, 6)
    assert reply.usage.extra["num_sources_used"] == 0


def test_streamed_reasoning_content_over_the_wire(fake_server: FakeServer) -> None:
    def event(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "x2",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "grok-3-mini",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    events = [
        event({"role": "assistant", "reasoning_content": "Let me"}),
        event({"reasoning_content": " multiply."}),
        event({"content": "303"}, "stop"),
        {**event({}), "choices": [], "usage": USAGE},
    ]
    fake_server.enqueue(ROUTE, FakeResponse.sse(events))
    pipe = Pipeline("xai", model="grok-3-mini", base_url=f"{fake_server.url}/v1", api_key=KEY)
    reply = pipe.stream(HI, reasoning_effort="high", stop=["\n"]).collect()
    assert (reply.text, reply.reasoning) == ("303", "Let me multiply.")
    assert reply.usage is not None and reply.usage.reasoning_tokens == 290
    (seen,) = fake_server.requests
    assert seen.headers["authorization"] == f"Bearer {KEY}"
    assert seen.json["reasoning_effort"] == "high" and "stop" not in seen.json
    assert seen.json["stream_options"] == {"include_usage": True}


# --- errors -------------------------------------------------------------------------------


def test_a_wrong_key_400_is_an_authentication_error_naming_the_variable() -> None:
    body = {
        "code": "Client specified an invalid argument",
        "error": "Incorrect%20API%20key%20provided:%20xa***op.%20You%20can%20obtain%20an%20API%20key%20from%20https://console.x.ai.",
    }
    error = make().parse_error(HttpResponse(400, {}, json.dumps(body).encode()))
    assert isinstance(error, AuthenticationError) and error.status == 400
    assert "Incorrect API key provided" in error.message
    assert "set XAI_API_KEY or run 'chatpipe keys set xai'" in error.message
    assert KEY not in str(error) + (error.body or "")


def test_an_unsupported_parameter_400_stays_a_bad_request() -> None:
    body = {
        "code": "Client specified an invalid argument",
        "error": "Model grok-4-0709 does not support parameter reasoningEffort.",
    }
    error = make().parse_error(HttpResponse(400, {}, json.dumps(body).encode()))
    assert type(error) is BadRequestError and "does not support parameter reasoningEffort" in error.message


def test_live_search_410_is_reported_as_xai_says() -> None:
    body = {"code": "Gone", "error": "Live search is deprecated. Please switch to the Agent Tools API"}
    error = make().parse_error(HttpResponse(410, {}, json.dumps(body).encode()))
    assert isinstance(error, APIStatusError) and error.status == 410 and "Agent Tools API" in error.message


# --- explain ------------------------------------------------------------------------------


def test_explain_shows_the_real_url_and_body_with_the_key_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XAI_API_KEY", KEY)
    pipe = Pipeline("xai", model="grok-3-mini")
    explained = pipe.explain(HI, reasoning_effort="medium", presence_penalty=1.0, temperature=0.2).request
    assert explained["url"] == "https://api.x.ai/v1/chat/completions"
    assert explained["headers"]["Authorization"] == "***"
    assert explained["json"] == {
        "model": "grok-3-mini",
        "messages": HI,
        "stream": False,
        "temperature": 0.2,
        "reasoning_effort": "low",
    }
    assert KEY not in json.dumps(explained) + repr(pipe) + repr(pipe.adapter)
