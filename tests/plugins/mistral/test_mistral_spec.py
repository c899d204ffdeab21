"""Request bodies the mistral adapter builds are valid against Mistral's ``ChatCompletionRequest``.

Mistral's schema forbids unknown keys at every level, so these checks also prove the adapter
strips what other vendors' histories carry (``name``, ``reasoning_content``, ``stream_options``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from chatpipe import wire
from chatpipe.models import ChatRequest
from chatpipe.provider import ProviderSettings
from chatpipe.secrets import Secret
from chatpipe_mistral import MistralProvider

SCHEMA = "ChatCompletionRequest"
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        "strict": True,
    },
}
CALL = {"id": "call_abc123", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}


@pytest.fixture
def spec(vendor_spec: Callable[[str], Any]) -> Any:
    return vendor_spec("mistral")


def body(messages: list[dict[str, Any]], *, options: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    adapter = MistralProvider(
        ProviderSettings(base_url="https://api.mistral.ai/v1", api_key=Secret("sk-test"), options=options or {})
    )
    tools = wire.tools_from_dicts(kwargs.pop("tools")) if "tools" in kwargs else None
    req = ChatRequest(model="mistral-small-latest", messages=wire.messages_from_dicts(messages), tools=tools, **kwargs)
    built: dict[str, Any] = adapter.build_chat(adapter.prepare(req)).json
    return built


def test_plain_body_with_every_sampling_parameter(spec: Any) -> None:
    params = {
        "temperature": 0.7,
        "top_p": 0.9,
        "max_completion_tokens": 256,
        "stop": ["\n\nUser:"],
        "seed": 7,
        "presence_penalty": 0.1,
        "frequency_penalty": 0.2,
        "n": 1,
        "user": "u-1",
        "logit_bias": {"1": 2},
        "top_k": 40,
    }
    built = body(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        options={"safe_prompt": True},
        params=params,
    )
    assert built["random_seed"] == 7 and built["max_tokens"] == 256 and built["safe_prompt"] is True
    spec.check(SCHEMA, built)


@pytest.mark.parametrize(
    "choice",
    ["auto", "none", "required", "any", {"type": "function", "function": {"name": "get_weather"}}, None],
)
def test_tools_with_every_tool_choice_form(spec: Any, choice: Any) -> None:
    built = body(
        [{"role": "user", "content": "Weather?"}],
        tools=[TOOL],
        tool_choice=choice,
        params={"parallel_tool_calls": False},
    )
    spec.check(SCHEMA, built)


def test_a_tool_without_parameters_or_description(spec: Any) -> None:
    spec.check(
        SCHEMA, body([{"role": "user", "content": "Time?"}], tools=[{"type": "function", "function": {"name": "now"}}])
    )


def test_images_and_audio(spec: Any) -> None:
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "high"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
        {"type": "audio_url", "audio_url": {"url": "data:audio/mpeg;base64,SUQz"}},
    ]
    spec.check(SCHEMA, body([{"role": "user", "content": content, "name": "Alex"}]))


def test_tool_history_from_another_vendor(spec: Any) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "Use tools.", "name": "narrator"},
        {"role": "user", "content": "Weather in Paris?", "name": "Alex"},
        {
            "role": "assistant",
            "content": "",
            "reasoning_content": "Call it.",
            "tool_calls": [CALL],
            "cache_control": {},
        },
        {"role": "tool", "tool_call_id": "call_abc123", "content": "18 C", "name": "get_weather"},
        {"role": "user", "content": "Thanks!"},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": [{"type": "text", "text": "Done."}]}]},
        {"role": "system", "content": None},
    ]
    built = body(messages, tools=[TOOL], tool_choice="auto")
    assert [m["role"] for m in built["messages"]] == ["system", "user", "assistant", "tool", "assistant", "user"]
    spec.check(SCHEMA, built)


def test_streaming_body_has_no_stream_options(spec: Any) -> None:
    built = body([{"role": "user", "content": "Hi"}], stream=True)
    assert built["stream"] is True and "stream_options" not in built
    spec.check(SCHEMA, built)


def test_prefix_and_vendor_parameters(spec: Any) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    params = {
        "response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": schema, "strict": True}},
        "prompt_mode": "reasoning",
        "reasoning_effort": "high",
        "prediction": {"type": "content", "content": "{"},
        "random_seed": 3,
        "safe_prompt": False,
    }
    built = body(
        [{"role": "user", "content": "Answer in JSON"}, {"role": "assistant", "content": "{"}],
        options={"prefix": True},
        params=params,
    )
    assert built["messages"][-1]["prefix"] is True
    spec.check(SCHEMA, built)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda b: b.update(stream_options={"include_usage": True}), "stream_options is not in the schema"),
        (lambda b: b["messages"][0].update(name="Alex"), "user messages have no name"),
        (lambda b: b["messages"][0].update(reasoning_content="x"), "no vendor extras on messages"),
        (lambda b: b.update(tool_choice="sometimes"), "unknown tool_choice"),
        (lambda b: b.update(seed=1), "seed is called random_seed"),
    ],
)
def test_the_schema_rejects_what_the_adapter_strips(
    spec: Any, change: Callable[[dict[str, Any]], None], why: str
) -> None:
    built = body([{"role": "user", "content": "Hi"}])
    spec.check(SCHEMA, built)
    change(built)
    assert spec.errors(SCHEMA, built), why
