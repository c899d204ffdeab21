"""Request building (chatpipe_gemini._request, _tools, _thinking, _safety, _provider): URL,
headers, generationConfig, tools and toolConfig, thinking, safety settings, params; every body
validated against the (patched) Gemini spec."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from chatpipe.errors import ConfigError, InvalidRequestError
from chatpipe.models import ChatRequest
from chatpipe.testing.openapi import SpecValidator
from chatpipe_gemini import GeminiProvider

Build = Callable[..., dict[str, Any]]
Factory = Callable[..., GeminiProvider]
Requests = Callable[..., ChatRequest]
HI = [{"role": "user", "content": "Hi"}]
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": {"city": {"type": "string", "default": "Paris"}, "days": {"type": "integer"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
}


def test_chat_and_stream_urls_and_the_key_header(
    adapter_factory: Factory, request_factory: Requests, gemini_key: str
) -> None:
    adapter = adapter_factory()
    plain = adapter.build_chat(request_factory(HI))
    streamed = adapter.build_chat(request_factory(HI, stream=True))
    root = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash"
    assert plain.url == f"{root}:generateContent"
    assert streamed.url == f"{root}:streamGenerateContent?alt=sse"
    assert streamed.headers["Accept"] == "text/event-stream"
    for request in (plain, streamed):
        assert request.headers["x-goog-api-key"] == gemini_key
        assert gemini_key not in request.url
        assert "x-goog-api-key" in request.secret_headers
        assert gemini_key not in repr(request) and gemini_key not in str(request.redacted())
    assert gemini_key not in repr(adapter) + repr(adapter.settings)


@pytest.mark.parametrize(
    ("base", "url"),
    [
        ("https://proxy.example/gemini/", "https://proxy.example/gemini/v1beta/models/m:generateContent"),
        ("https://proxy.example/v1", "https://proxy.example/v1/models/m:generateContent"),
        ("https://proxy.example/v1alpha", "https://proxy.example/v1alpha/models/m:generateContent"),
    ],
)
def test_a_version_in_the_base_url_is_used(
    adapter_factory: Factory, request_factory: Requests, base: str, url: str
) -> None:
    assert adapter_factory(base_url=base).build_chat(request_factory(HI, model="models/m")).url == url


def test_generation_config_from_openai_params(build: Build, gemini_spec: SpecValidator) -> None:
    body = build(
        HI,
        temperature=0.4,
        top_p=0.9,
        top_k=40,
        max_tokens=256,
        stop="END",
        n=2,
        presence_penalty=0.5,
        frequency_penalty=0.25,
        seed=7,
        logprobs=True,
        top_logprobs=3,
        user="u-1",
        parallel_tool_calls=False,
    )
    assert body["generationConfig"] == {
        "temperature": 0.4,
        "topP": 0.9,
        "topK": 40,
        "maxOutputTokens": 256,
        "stopSequences": ["END"],
        "candidateCount": 2,
        "presencePenalty": 0.5,
        "frequencyPenalty": 0.25,
        "seed": 7,
        "responseLogprobs": True,
        "logprobs": 3,
    }
    assert set(body) == {"contents", "generationConfig"}  # user and parallel_tool_calls are not sent
    gemini_spec.check("GenerateContentRequest", body)


def test_max_completion_tokens_is_max_output_tokens_and_no_params_send_no_config(build: Build) -> None:
    assert build(HI, max_completion_tokens=99)["generationConfig"] == {"maxOutputTokens": 99}
    assert "generationConfig" not in build(HI)


def test_response_formats(build: Build, gemini_spec: SpecValidator) -> None:
    assert build(HI, response_format={"type": "json_object"})["generationConfig"] == {
        "responseMimeType": "application/json"
    }
    assert "generationConfig" not in build(HI, response_format={"type": "text"})
    schema = {"type": "object", "properties": {"a": {"type": ["string", "null"]}}, "additionalProperties": False}
    body = build(HI, response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}})
    assert body["generationConfig"] == {
        "responseMimeType": "application/json",
        "responseSchema": {"type": "OBJECT", "properties": {"a": {"type": "STRING", "nullable": True}}},
    }
    gemini_spec.check("GenerateContentRequest", body)
    with pytest.raises(InvalidRequestError, match="response_format"):
        build(HI, response_format={"type": "grammar"})


def test_tools_are_declared_with_reduced_schemas(build: Build, gemini_spec: SpecValidator) -> None:
    bare = {"type": "function", "function": {"name": "now"}}
    empty = {"type": "function", "function": {"name": "ping", "parameters": {"type": "object", "properties": {}}}}
    body = build(HI, tools=[WEATHER, bare, empty])
    assert body["tools"] == [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "description": "Weather for a city",
                    "parameters": {
                        "type": "OBJECT",
                        "properties": {"city": {"type": "STRING"}, "days": {"type": "INTEGER"}},
                        "required": ["city"],
                    },
                },
                {"name": "now"},
                {"name": "ping"},
            ]
        }
    ]
    assert "toolConfig" not in body
    gemini_spec.check("GenerateContentRequest", body)


@pytest.mark.parametrize(
    ("choice", "config"),
    [
        ("auto", {"mode": "AUTO"}),
        ("none", {"mode": "NONE"}),
        ("required", {"mode": "ANY"}),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            {"mode": "ANY", "allowedFunctionNames": ["get_weather"]},
        ),
        (
            {"type": "allowed_tools", "allowed_tools": {"mode": "required", "tools": [WEATHER]}},
            {"mode": "ANY", "allowedFunctionNames": ["get_weather"]},
        ),
        ({"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": [WEATHER]}}, {"mode": "AUTO"}),
    ],
)
def test_tool_choice_is_function_calling_config(
    build: Build, gemini_spec: SpecValidator, choice: Any, config: dict[str, Any]
) -> None:
    body = build(HI, tools=[WEATHER], tool_choice=choice)
    assert body["toolConfig"] == {"functionCallingConfig": config}
    gemini_spec.check("GenerateContentRequest", body)


def test_an_unknown_tool_choice_is_an_error(build: Build) -> None:
    with pytest.raises(InvalidRequestError, match="tool_choice"):
        build(HI, tools=[WEATHER], tool_choice="sometimes")


@pytest.mark.parametrize(
    ("model", "effort", "config"),
    [
        ("gemini-2.5-flash", "low", {"thinkingBudget": 1024, "includeThoughts": True}),
        ("gemini-2.5-pro", "high", {"thinkingBudget": 24576, "includeThoughts": True}),
        ("gemini-2.5-flash", "none", {"thinkingBudget": 0}),
        ("gemini-3-pro-preview", "high", {"thinkingLevel": "high", "includeThoughts": True}),
        ("gemini-3-flash", "minimal", {"thinkingLevel": "minimal", "includeThoughts": True}),
        ("gemini-3-flash", "medium", {"thinkingLevel": "medium", "includeThoughts": True}),
        ("gemini-3-flash", "none", {"thinkingLevel": "minimal", "includeThoughts": True}),
        # a Pro model takes only low and high
        ("models/gemini-3-pro-preview", "medium", {"thinkingLevel": "high", "includeThoughts": True}),
        ("gemini-3-pro-preview", "minimal", {"thinkingLevel": "low", "includeThoughts": True}),
    ],
)
def test_reasoning_effort_is_a_thinking_budget_or_level(
    build: Build, gemini_spec: SpecValidator, model: str, effort: str, config: dict[str, Any]
) -> None:
    body = build(HI, model=model, reasoning_effort=effort)
    assert body["generationConfig"] == {"thinkingConfig": config}
    gemini_spec.check("GenerateContentRequest", body)


def test_thinking_is_not_configured_unasked_and_options_and_raw_config_apply(build: Build) -> None:
    assert "generationConfig" not in build(HI, reasoning_effort="auto")
    quiet = build(HI, reasoning_effort="medium", options={"include_thoughts": False})
    assert quiet["generationConfig"] == {"thinkingConfig": {"thinkingBudget": 8192}}
    raw = build(HI, reasoning_effort="high", thinking_config={"thinkingBudget": -1})
    assert raw["generationConfig"] == {"thinkingConfig": {"thinkingBudget": -1}}
    with pytest.raises(InvalidRequestError, match="reasoning_effort 'huge'"):
        build(HI, reasoning_effort="huge")


def test_safety_settings_option_is_sent(build: Build, gemini_spec: SpecValidator) -> None:
    options = {
        "safety_settings": [
            {"category": "harm_category_harassment", "threshold": "BLOCK_ONLY_HIGH"},
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "threshold": False},  # YAML's unquoted OFF
        ]
    }
    body = build(HI, options=options)
    assert body["safetySettings"] == [
        {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"},
        {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "threshold": "OFF"},
    ]
    gemini_spec.check("GenerateContentRequest", body)


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ("BLOCK_NONE", "options.safety_settings"),
        (["x"], "options.safety_settings[0]"),
        ([{"category": "HARM_CATEGORY_HARASSMENT"}], "options.safety_settings[0].threshold"),
        ([{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "SOMETIMES"}], "options.safety_settings[0].threshold"),
        (
            [
                {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "OFF"},
                {"category": "HARM_CATEGORY_VIOLENCE", "threshold": "OFF"},
            ],
            "options.safety_settings[1].category",
        ),
        (
            [
                {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "OFF"},
                {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "OFF"},
            ],
            "options.safety_settings[1].category",
        ),
        ([{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "OFF", "method": "x"}], "options.safety_settings[0]"),
    ],
)
def test_bad_safety_settings_name_the_key_path(value: Any, path: str) -> None:
    with pytest.raises(ConfigError) as info:
        GeminiProvider.validate_options({"safety_settings": value})
    assert info.value.path == path


def test_unknown_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="safety_mode"):
        GeminiProvider.validate_options({"safety_mode": "OFF"})


def test_params_gemini_has_no_counterpart_for_are_errors(build: Build) -> None:
    with pytest.raises(InvalidRequestError, match="logit_bias") as info:
        build(HI, logit_bias={"1": 2})
    assert "include_body" in str(info.value)


def test_gemini_own_params_include_body_and_exclude_body(adapter_factory: Factory, request_factory: Requests) -> None:
    adapter = adapter_factory(include_body={"labels": {"team": "a"}}, exclude_body=("systemInstruction",))
    request = request_factory(
        [{"role": "system", "content": "S"}, *HI],
        cached_content="cachedContents/abc",
        generation_config={"responseModalities": ["TEXT"]},
        temperature=1,
    )
    body = adapter.build_chat(request).json
    assert body["cachedContent"] == "cachedContents/abc"
    assert body["generationConfig"] == {"temperature": 1, "responseModalities": ["TEXT"]}
    assert body["labels"] == {"team": "a"}
    assert "systemInstruction" not in body


def test_declared_params_cover_what_the_adapter_reads() -> None:
    problems = dict(GeminiProvider.info.param_problems({"top_k": 3, "thinking_config": {}, "safe_prompt": True}))
    assert list(problems) == ["safe_prompt"]
