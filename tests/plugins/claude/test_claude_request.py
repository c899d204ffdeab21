"""Claude request building: headers, URLs, max_tokens, params, tools and tool_choice, thinking,
structured output, include/exclude — and the bodies validated against the 2024 spec."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from chatpipe.errors import ConfigError, InvalidRequestError
from chatpipe_claude import ClaudeProvider
from chatpipe_claude._models import FALLBACK_MAX_TOKENS, default_max_tokens
from chatpipe_claude._thinking import MIN_BUDGET, NON_STREAM_MAX_BUDGET, thinking_for

Build = Callable[..., dict[str, Any]]
HI = [{"role": "user", "content": "Hi"}]
TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "lookup",
        "description": "Look a word up",
        "parameters": {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "properties": {"word": {"$ref": "#/$defs/word"}},
            "$defs": {"word": {"type": "string"}},
        },
    },
}


# --- HTTP shape -----------------------------------------------------------------------------


def test_headers_and_url(adapter_factory: Callable[..., ClaudeProvider], request_factory: Any, claude_key: str) -> None:
    adapter = adapter_factory(options={"betas": ["prompt-caching-2024-07-31", "context-1m-2025-08-07"]})
    http = adapter.build_chat(request_factory(HI, stream=True))
    assert http.url == "https://api.anthropic.com/v1/messages"
    assert http.headers["x-api-key"] == claude_key
    assert http.headers["anthropic-version"] == "2023-06-01"
    assert http.headers["anthropic-beta"] == "prompt-caching-2024-07-31,context-1m-2025-08-07"
    assert http.headers["Accept"] == "text/event-stream"
    assert "Authorization" not in http.headers
    assert claude_key not in repr(http) and claude_key not in str(http.redacted())


def test_no_key_sends_no_key_header(request_factory: Any) -> None:
    from chatpipe.provider import ProviderSettings

    adapter = ClaudeProvider(ProviderSettings(base_url="https://api.anthropic.com"))
    assert "x-api-key" not in adapter.build_chat(request_factory(HI)).headers


@pytest.mark.parametrize("base", ["https://proxy.example/", "https://proxy.example/v1", "https://proxy.example/v1/"])
def test_a_base_url_with_or_without_v1_gives_one_v1(
    adapter_factory: Callable[..., ClaudeProvider], request_factory: Any, base: str
) -> None:
    adapter = adapter_factory(base_url=base)
    assert adapter.build_chat(request_factory(HI)).url == "https://proxy.example/v1/messages"
    assert adapter.build_models().url == "https://proxy.example/v1/models?limit=1000"


def test_profile_headers_override_and_stay_secret(
    adapter_factory: Callable[..., ClaudeProvider], request_factory: Any
) -> None:
    adapter = adapter_factory(headers={"X-API-KEY": "sk-other", "anthropic-version": "2099-01-01"})
    http = adapter.build_chat(request_factory(HI))
    assert http.headers["X-API-KEY"] == "sk-other" and "x-api-key" not in http.headers
    assert http.headers["anthropic-version"] == "2099-01-01"
    assert "sk-other" not in repr(http)


@pytest.mark.parametrize(
    "options",
    [
        {"unknown": 1},
        {"betas": "a,b"},
        {"betas": ["ok", 3]},
        {"max_tokens": 0},
        {"adaptive_thinking": "yes"},
        {"web_search": "yes"},
    ],
)
def test_bad_options_are_config_errors(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        ClaudeProvider.validate_options(options)


# --- max_tokens -----------------------------------------------------------------------------


def test_max_tokens_comes_from_params_then_option_then_the_model(build: Build) -> None:
    assert build(HI, max_tokens=100)["max_tokens"] == 100
    assert build(HI, max_completion_tokens=200)["max_tokens"] == 200
    assert build(HI, options={"max_tokens": 300})["max_tokens"] == 300
    assert build(HI, options={"max_tokens": 300}, max_tokens=50)["max_tokens"] == 50
    assert build(HI)["max_tokens"] == default_max_tokens("claude-sonnet-4-5") == 8192


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("claude-sonnet-4-5", 8192),
        ("claude-opus-4-1-20250805", 8192),
        ("claude-haiku-4-5", 8192),
        ("claude-3-7-sonnet-latest", 8192),
        ("claude-3-5-haiku-20241022", 8192),
        ("claude-3-opus-20240229", 4096),
        ("claude-2.1", FALLBACK_MAX_TOKENS),
        ("my-proxy-model", FALLBACK_MAX_TOKENS),
    ],
)
def test_default_max_tokens_table(model: str, expected: int) -> None:
    assert default_max_tokens(model) == expected


def test_a_bad_max_tokens_is_an_error(build: Build) -> None:
    with pytest.raises(InvalidRequestError, match="max_tokens"):
        build(HI, max_tokens=0)


# --- params ---------------------------------------------------------------------------------


def test_params_are_mapped(build: Build) -> None:
    body = build(
        HI,
        model="claude-sonnet-4-20250514",  # takes every sampling knob (limited models: the tests below)
        stop="END",
        temperature=0.2,
        top_p=0.9,
        top_k=40,
        user="u-1",
        service_tier="auto",
    )
    assert body["stop_sequences"] == ["END"]
    assert (body["temperature"], body["top_p"], body["top_k"]) == (0.2, 0.9, 40)
    assert body["metadata"] == {"user_id": "u-1"}
    assert body["service_tier"] == "auto"
    assert "stop" not in body and "user" not in body
    assert build(HI, stop=["a", "b"])["stop_sequences"] == ["a", "b"]


@pytest.mark.parametrize(
    ("sampling", "sent"),
    [
        ({"temperature": 0.7, "top_p": 0.9, "top_k": 5}, {"top_p": 0.9, "top_k": 5}),
        ({"temperature": 0.7, "top_p": 1}, {"temperature": 0.7}),
        ({"temperature": 0.7}, {"temperature": 0.7}),
        ({"top_p": 0.5}, {"top_p": 0.5}),
        ({"top_p": 1.0}, {}),
    ],
)
@pytest.mark.parametrize(
    "model",
    [
        "claude-opus-4-1-20250805",
        "claude-sonnet-4-5",
        "claude-haiku-4-5-20251001",
        "claude-opus-4-5",
        "claude-opus-4-6",
        "claude-sonnet-4-6",
    ],
)
def test_limited_sampling_models_get_temperature_or_top_p(
    build: Build, anthropic: Any, model: str, sampling: dict[str, Any], sent: dict[str, Any]
) -> None:
    # reference 3.2 "Sampling rules": top_p < 1 drops temperature, otherwise top_p is dropped
    body = build(HI, model=model, **sampling)
    assert body == {
        "model": model,
        "max_tokens": 8192,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
        "stream": False,
        **sent,
    }
    anthropic.check("CreateMessageParams", body)


def test_opus_4_7_gets_no_sampling_knobs_and_older_models_get_all(build: Build, anthropic: Any) -> None:
    sampling = {"temperature": 0.7, "top_p": 0.9, "top_k": 5}
    body = build(HI, model="claude-opus-4-7", **sampling)
    assert body == {
        "model": "claude-opus-4-7",
        "max_tokens": 8192,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
        "stream": False,
    }
    anthropic.check("CreateMessageParams", body)
    for model in ("claude-opus-4-20250514", "claude-3-7-sonnet-latest", "claude-3-5-haiku-latest"):
        assert {k: build(HI, model=model, **sampling).get(k) for k in sampling} == sampling


def test_a_limited_sampling_model_needs_a_numeric_top_p(build: Build) -> None:
    with pytest.raises(InvalidRequestError, match="top_p must be a number") as caught:
        build(HI, temperature=0.5, top_p="0.9")
    assert caught.value.where == "top_p"


def test_openai_only_params_are_not_sent_and_n_must_be_one(build: Build) -> None:
    body = build(HI, seed=1, frequency_penalty=0.5, presence_penalty=0.1, logprobs=True, n=1, temperature=None)
    assert set(body) == {"model", "max_tokens", "messages", "stream"}
    with pytest.raises(InvalidRequestError, match="n must be 1"):
        build(HI, n=2)


@pytest.mark.parametrize("param", [{"stop": 5}, {"response_format": "json"}, {"metadata": "x"}, {"system": "s"}])
def test_bad_params_are_named_errors(build: Build, param: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequestError) as info:
        build(HI, **param)
    assert next(iter(param)) in str(info.value)


def test_include_and_exclude_body(adapter_factory: Callable[..., ClaudeProvider], request_factory: Any) -> None:
    adapter = adapter_factory(include_body={"top_k": 5, "container": "c1"}, exclude_body=("stream",))
    body = adapter.build_chat(request_factory(HI)).json
    assert (body["top_k"], body["container"]) == (5, "c1")
    assert "stream" not in body


def test_structured_output(build: Build) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": False}
    body = build(HI, response_format={"type": "json_schema", "json_schema": {"name": "r", "schema": schema}})
    assert body["output_config"] == {"format": {"type": "json_schema", "schema": schema}}
    assert "response_format" not in body
    assert "output_config" not in build(HI, response_format={"type": "text"})
    with pytest.raises(InvalidRequestError, match="json_schema"):
        build(HI, response_format={"type": "json_object"})


# --- tools ----------------------------------------------------------------------------------


def test_tools_become_claude_tools_with_extra_keys(build: Build) -> None:
    cached = {**TOOL, "cache_control": {"type": "ephemeral"}}
    cached["function"] = {**TOOL["function"], "strict": True}
    (tool,) = build(HI, tools=[cached])["tools"]
    assert tool == {
        "name": "lookup",
        "description": "Look a word up",
        "input_schema": {
            "type": "object",
            "properties": {"word": {"$ref": "#/$defs/word"}},
            "$defs": {"word": {"type": "string"}},
        },
        "strict": True,
        "cache_control": {"type": "ephemeral"},
    }


WEB_SEARCH = {"type": "web_search_20250305", "name": "web_search"}


def _without_server_tools(body: dict[str, Any]) -> dict[str, Any]:
    """The body minus server tools: the 2024 spec predates them (its Tool requires input_schema)."""
    tools = [t for t in body.get("tools", []) if "type" not in t]
    return {**{k: v for k, v in body.items() if k != "tools"}, **({"tools": tools} if tools else {})}


def test_the_web_search_option_adds_claudes_server_tool(build: Build, anthropic: Any) -> None:
    # reference 3.2: web search (models 3-5 and later, setting on) prepends the tool to `tools`
    body = build(HI, options={"web_search": True})
    assert body == {
        "model": "claude-sonnet-4-5",
        "max_tokens": 8192,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
        "stream": False,
        "tools": [WEB_SEARCH],
    }
    anthropic.check("CreateMessageParams", _without_server_tools(body))
    with_tool = build(HI, options={"web_search": True}, tools=[TOOL], tool_choice="auto")
    assert with_tool == {
        "model": "claude-sonnet-4-5",
        "max_tokens": 8192,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
        "stream": False,
        "tools": [
            WEB_SEARCH,
            {
                "name": "lookup",
                "description": "Look a word up",
                "input_schema": {
                    "type": "object",
                    "properties": {"word": {"$ref": "#/$defs/word"}},
                    "$defs": {"word": {"type": "string"}},
                },
            },
        ],
        "tool_choice": {"type": "auto"},
    }
    anthropic.check("CreateMessageParams", _without_server_tools(with_tool))
    assert "tools" not in build(HI) and "tools" not in build(HI, options={"web_search": False})


@pytest.mark.parametrize(
    "model", ["claude-3-5-haiku-latest", "claude-3-7-sonnet-20250219", "claude-opus-4-7", "claude-sonnet-5"]
)
def test_web_search_on_claude_3_5_and_later_and_unknown_ids(build: Build, model: str) -> None:
    assert build(HI, model=model, options={"web_search": True})["tools"] == [WEB_SEARCH]


@pytest.mark.parametrize("model", ["claude-3-opus-20240229", "claude-3-haiku-20240307", "claude-2.1"])
def test_web_search_on_a_model_before_3_5_is_a_clear_error(build: Build, model: str) -> None:
    with pytest.raises(InvalidRequestError, match=r"needs Claude 3\.5 or later") as caught:
        build(HI, model=model, options={"web_search": True})
    assert caught.value.where == "options.web_search"
    assert "web_search: false" in str(caught.value)


def test_a_tool_without_parameters_gets_an_empty_object_schema(build: Build) -> None:
    (tool,) = build(HI, tools=[{"type": "function", "function": {"name": "now"}}])["tools"]
    assert tool == {"name": "now", "input_schema": {"type": "object", "properties": {}}}


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        (None, None, None),
        ("auto", None, {"type": "auto"}),
        ("none", None, {"type": "none"}),
        ("required", None, {"type": "any"}),
        ({"type": "function", "function": {"name": "lookup"}}, None, {"type": "tool", "name": "lookup"}),
        ({"type": "tool", "name": "lookup"}, None, {"type": "tool", "name": "lookup"}),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
        ("required", False, {"type": "any", "disable_parallel_tool_use": True}),
        ("none", False, {"type": "none"}),
        ("auto", True, {"type": "auto"}),
    ],
)
def test_every_tool_choice_form(build: Build, choice: Any, parallel: Any, expected: Any) -> None:
    kwargs: dict[str, Any] = {"tool_choice": choice} if choice is not None else {}
    if parallel is not None:
        kwargs["parallel_tool_calls"] = parallel
    body = build(HI, tools=[TOOL], **kwargs)
    assert body.get("tool_choice") == expected
    assert "parallel_tool_calls" not in body


@pytest.mark.parametrize("choice", ["sometimes", {"type": "function"}, {"type": "tool"}])
def test_an_unknown_tool_choice_is_an_error(build: Build, choice: Any) -> None:
    with pytest.raises(InvalidRequestError, match="tool_choice"):
        build(HI, tools=[TOOL], tool_choice=choice)


# --- thinking (section 5 item 13) -----------------------------------------------------------


def test_no_thinking_unless_asked(build: Build) -> None:
    # reference: a *missing* reasoning effort turns thinking on and strips sampling; chatpipe
    # enables thinking only when asked (decision 5).
    for body in (build(HI, temperature=0.5), build(HI, temperature=0.5, reasoning_effort="auto")):
        assert "thinking" not in body and body["temperature"] == 0.5
    assert "thinking" not in build(HI, reasoning_effort="none")


def test_reasoning_effort_gives_a_budget_strips_sampling_and_grows_small_max_tokens(build: Build) -> None:
    body = build(HI, reasoning_effort="high", max_tokens=10000, temperature=0.5, top_p=0.9, top_k=5)
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 5000}
    assert not {"temperature", "top_p", "top_k", "reasoning_effort"} & set(body)
    small = build(HI, reasoning_effort="low", max_tokens=500)
    assert small["thinking"] == {"type": "enabled", "budget_tokens": MIN_BUDGET}
    assert small["max_tokens"] == 500 + 1024


@pytest.mark.parametrize("effort", ["minimal", "low", "medium", "high", "xhigh", "max"])
@pytest.mark.parametrize("max_tokens", [1, 1024, 1025, 4096, 64000])
@pytest.mark.parametrize("stream", [False, True])
def test_the_budget_always_fits_claude_rules(effort: str, max_tokens: int, stream: bool) -> None:
    result = thinking_for({"reasoning_effort": effort}, max_tokens=max_tokens, stream=stream, adaptive=False)
    assert result.thinking is not None
    budget = result.thinking["budget_tokens"]
    assert MIN_BUDGET <= budget < result.max_tokens
    if not stream:
        assert budget <= NON_STREAM_MAX_BUDGET


def test_adaptive_thinking_option(build: Build) -> None:
    body = build(HI, options={"adaptive_thinking": True}, reasoning_effort="medium", top_k=3)
    assert body["thinking"] == {"type": "adaptive"}
    assert body["output_config"] == {"effort": "medium"}
    assert "top_k" not in body
    assert "thinking" not in build(HI, options={"adaptive_thinking": True})


def test_an_explicit_thinking_param_is_sent_as_is(build: Build) -> None:
    thinking = {"type": "enabled", "budget_tokens": 2048, "display": "summarized"}
    assert build(HI, thinking=thinking, max_tokens=4096)["thinking"] == thinking
    assert build(HI, thinking={"type": "disabled"}, temperature=0.3)["temperature"] == 0.3
    with pytest.raises(InvalidRequestError, match="thinking"):
        build(HI, thinking="on")


def test_an_unknown_reasoning_effort_is_an_error(build: Build) -> None:
    with pytest.raises(InvalidRequestError, match="reasoning_effort"):
        build(HI, reasoning_effort="extreme")


# --- spec validation ------------------------------------------------------------------------


def test_request_shapes_follow_the_2024_spec(build: Build, anthropic: Any) -> None:
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
    history = [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Look"},
                {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j="}},
            ],
        },
        {
            "role": "assistant",
            "content": "Sure.",
            "tool_calls": [{"id": "toolu_1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "toolu_1", "content": "found", "is_error": False},
    ]
    shapes = [
        build(HI),
        build(HI, stream=True, stop=["x"], temperature=0.7, top_p=0.5, top_k=3, user="u"),
        build(history, tools=[tool]),
        *(
            build(HI, tools=[tool], tool_choice=c)
            for c in ("auto", "required", {"type": "function", "function": {"name": "lookup"}})
        ),
        build(HI, tools=[tool], parallel_tool_calls=False),
    ]
    for body in shapes:
        anthropic.check("CreateMessageParams", body)


def test_cache_control_shapes_follow_the_prompt_caching_spec(build: Build, anthropic: Any) -> None:
    body = build(
        [
            {"role": "system", "content": "Long rules.", "cache_control": {"type": "ephemeral"}},
            {"role": "user", "content": [{"type": "text", "text": "Hi", "cache_control": {"type": "ephemeral"}}]},
        ],
        tools=[{**TOOL, "cache_control": {"type": "ephemeral"}}],
    )
    anthropic.check("PromptCachingBetaCreateMessageParams", body)
