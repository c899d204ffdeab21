"""Bounded fuzzing: only chatpipe errors ever come out.

* random and malformed vendor payloads through every OpenAI-family adapter's response,
  error, model-list and stream parsers (sans-IO, no network);
* random message dicts — well-formed and not — through the whole request path (wire,
  validation, every converter, the adapter's request builder) via ``Pipeline.explain``;
* random YAML through the config loader *and on into* ``Pipeline.from_config`` (the parser
  alone is fuzzed in tests/core/config/test_config_fuzz.py; converter properties over
  well-formed messages in tests/core/postprocess/test_postprocess_properties.py).

Bounded: no deadline, 40-100 examples per property; the directory stays under a few minutes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from chatpipe import Pipeline
from chatpipe.errors import APIStatusError, ChatpipeError
from chatpipe.http import HttpResponse, SSEEvent
from chatpipe.models import ChatResponse
from chatpipe.registry import default_registry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rel_harness import KEY, parse_events

OPENAI_FAMILY = ("custom", "openai", "deepseek", "fireworks", "perplexity", "mistral", "ai21", "groq", "ollama")
CONVERTERS = [
    "none", "merge", "merge-tools", "semi-strict", "semi-strict-tools", "strict", "strict-tools", "single-user",
]  # fmt: skip
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _openai_family() -> list[str]:
    from chatpipe.errors import PluginNotFoundError
    from chatpipe.openai_compat import OpenAICompatibleProvider

    names = []
    for name in OPENAI_FAMILY:
        try:
            cls = default_registry().provider(name)
        except PluginNotFoundError:
            continue
        if issubclass(cls, OpenAICompatibleProvider):
            names.append(name)
    return names


PROVIDERS = _openai_family()


def pipeline(provider: str, converters: list[str] | None = None) -> Pipeline:
    return Pipeline(provider, model="m", base_url="http://127.0.0.1:9/v1", api_key=KEY, converters=converters)


# --- payloads ---------------------------------------------------------------------------------

KEYS = [
    "id",
    "choices",
    "message",
    "delta",
    "content",
    "role",
    "tool_calls",
    "function",
    "arguments",
    "name",
    "index",
    "finish_reason",
    "usage",
    "prompt_tokens",
    "completion_tokens",
    "error",
    "type",
    "code",
    "message",
    "data",
    "object",
    "reasoning_content",
    "model",
    "x",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.sampled_from(["stop", "length", "tool_calls", "assistant", "function", "[DONE]", ""]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS), inner, max_size=6)),
    max_leaves=25,
)


@st.composite
def completion_like(draw: st.DrawFn) -> Any:
    """A chat.completion with random holes and wrong types in it."""
    message = draw(
        st.dictionaries(
            st.sampled_from(["role", "content", "tool_calls", "reasoning_content"]), json_values, max_size=4
        )
    )
    choice = {
        "index": draw(st.one_of(st.integers(0, 2), json_values)),
        "message": message,
        "finish_reason": draw(json_values),
    }
    body = {"id": "x", "choices": draw(st.one_of(st.just([choice]), json_values)), "usage": draw(json_values)}
    return draw(st.sampled_from([body, {**body, "error": draw(json_values)}, draw(json_values)]))


bodies = st.one_of(
    completion_like().map(lambda v: json.dumps(v).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
    st.text(max_size=64).map(str.encode),
)


@pytest.mark.parametrize("provider", PROVIDERS)
@FUZZ
@given(body=bodies, status=st.sampled_from([200, 201]))
def test_response_parser_raises_only_chatpipe_errors(provider: str, body: bytes, status: int) -> None:
    adapter = pipeline(provider).adapter
    try:
        result = adapter.parse_chat(HttpResponse(status, {"content-type": "application/json"}, body))
    except ChatpipeError as exc:
        assert str(exc) and KEY not in str(exc)
    else:
        assert isinstance(result, ChatResponse)


@pytest.mark.parametrize("provider", PROVIDERS)
@FEW
@given(
    body=bodies,
    status=st.integers(400, 599),
    headers=st.dictionaries(
        st.sampled_from(["retry-after", "retry-after-ms", "x-request-id", "content-type"]), st.text(max_size=10)
    ),
)
def test_error_parser_always_returns_a_typed_error(provider: str, body: bytes, status: int, headers: Any) -> None:
    adapter = pipeline(provider).adapter
    error = adapter.parse_error(HttpResponse(status, headers, body))
    assert isinstance(error, APIStatusError) and error.status == status and str(error)
    adapter.should_retry(HttpResponse(status, headers, body))  # must not raise either


@pytest.mark.parametrize("provider", PROVIDERS)
@FEW
@given(body=bodies)
def test_model_list_parser_raises_only_chatpipe_errors(provider: str, body: bytes) -> None:
    adapter = pipeline(provider).adapter
    try:
        adapter.parse_models(HttpResponse(200, {}, body))
    except ChatpipeError:
        pass
    except NotImplementedError:
        pytest.skip(f"{provider} has no model list")


@st.composite
def chunk_like(draw: st.DrawFn) -> Any:
    delta = draw(
        st.dictionaries(
            st.sampled_from(["role", "content", "tool_calls", "reasoning_content", "reasoning"]),
            json_values,
            max_size=3,
        )
    )
    if draw(st.booleans()):
        delta["tool_calls"] = [
            {
                "index": draw(st.integers(0, 2)),
                "id": draw(st.sampled_from([None, "c1", "c2"])),
                "function": {
                    "name": draw(st.sampled_from([None, "f"])),
                    "arguments": draw(st.sampled_from(["{", "}", '"a"', ""])),
                },
            }
        ]
    choice = {"index": draw(st.integers(0, 1)), "delta": delta, "finish_reason": draw(json_values)}
    return {"id": "x", "choices": draw(st.one_of(st.just([choice]), json_values)), "usage": draw(json_values)}


events = st.builds(
    SSEEvent,
    data=st.one_of(chunk_like().map(json.dumps), json_values.map(json.dumps), st.text(max_size=20), st.just("[DONE]")),
    event=st.sampled_from(["message", "message", "message", "error", "ping", ""]),
)


@pytest.mark.parametrize("provider", PROVIDERS)
@FUZZ
@given(stream=st.lists(events, max_size=10))
def test_stream_parser_raises_only_chatpipe_errors(provider: str, stream: list[SSEEvent]) -> None:
    try:
        response = parse_events(pipeline(provider).adapter, stream, provider)
    except ChatpipeError as exc:
        assert str(exc) and KEY not in str(exc)
    else:
        assert isinstance(response, ChatResponse)


# --- messages through the whole request path --------------------------------------------------

roles = st.sampled_from(["user", "assistant", "system", "tool", "developer", "", "USER", 3, None])
parts = st.one_of(
    st.fixed_dictionaries({"type": st.just("text"), "text": st.text(max_size=10)}),
    st.fixed_dictionaries(
        {
            "type": st.just("image_url"),
            "image_url": st.fixed_dictionaries(
                {"url": st.sampled_from(["https://x/y.png", "data:image/png;base64,AAAA", ""])}
            ),
        }
    ),
    st.fixed_dictionaries({"type": st.sampled_from(["input_audio", "video_url", "x"]), "payload": json_values}),
    json_values,
)
calls = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["call_1", "call_2", "", 5]),
        "type": st.just("function"),
        "function": st.fixed_dictionaries(
            {"name": st.sampled_from(["f", "", 3]), "arguments": st.sampled_from(["{}", "{", 1])}
        ),
    }
)
message_dicts = st.fixed_dictionaries(
    {"role": roles},
    optional={
        "content": st.one_of(st.none(), st.text(max_size=15), st.lists(parts, max_size=3), json_values),
        "name": st.one_of(st.sampled_from(["Alex", "example_user", ""]), json_values),
        "tool_calls": st.one_of(st.lists(calls, max_size=2), json_values),
        "tool_call_id": st.sampled_from(["call_1", "call_2", "", None, 7]),
        "cache_control": st.just({"type": "ephemeral"}),
    },
)
conversations = st.one_of(st.lists(message_dicts, max_size=6), json_values)


@pytest.mark.parametrize("converter", CONVERTERS)
@FUZZ
@given(messages=conversations, stream=st.booleans())
def test_random_messages_through_every_converter(converter: str, messages: Any, stream: bool) -> None:
    pipe = pipeline("custom", [converter])
    try:
        explanation = pipe.explain(messages, stream=stream)
    except ChatpipeError as exc:
        assert str(exc) and KEY not in str(exc)
    else:
        json.dumps(explanation.to_dict())  # what would be sent is JSON
        assert explanation.request["json"]["messages"]


@pytest.mark.parametrize("provider", PROVIDERS)
@FEW
@given(messages=conversations)
def test_random_messages_through_every_openai_family_adapter(provider: str, messages: Any) -> None:
    try:
        pipeline(provider).explain(messages)
    except ChatpipeError as exc:
        assert KEY not in str(exc)


# --- YAML into a working pipeline -------------------------------------------------------------

profile_values = {
    "provider": st.sampled_from(["custom", "openai", "opnai", "", 3, None, "perplexity"]),
    "model": st.one_of(st.sampled_from(["m", ""]), json_values),
    "base_url": st.sampled_from(
        ["http://127.0.0.1:9/v1", "127.0.0.1:9", "ftp://x", "", "http://h/v1/chat/completions/"]
    ),
    "converters": st.one_of(st.lists(st.sampled_from([*CONVERTERS, "strcit", 3]), max_size=3), json_values),
    "params": st.one_of(st.dictionaries(st.sampled_from(["temperature", "stop"]), json_values), json_values),
    "headers": st.one_of(st.dictionaries(st.sampled_from(["X-A", "Authorization"]), json_values), json_values),
    "options": st.one_of(st.dictionaries(st.sampled_from(["prefix", "x"]), json_values), json_values),
    "timeout": st.one_of(st.fixed_dictionaries({"connect": json_values, "read": json_values}), json_values),
    "max_retries": json_values,
    "api_key": st.sampled_from(["${NOPE}", KEY, "", "${NOPE:-x}"]),
}
configs = st.fixed_dictionaries(
    {
        "profiles": st.dictionaries(
            st.sampled_from(["a", "b"]), st.fixed_dictionaries({}, optional=profile_values), min_size=1, max_size=2
        )
    },
    optional={"default": st.sampled_from(["a", "b", "c"]), "max_retries": json_values, "timeout": json_values},
)


@FEW
@given(config=configs, profile=st.sampled_from([None, "a", "b", "zz"]))
def test_random_config_into_a_pipeline(tmp_path_factory: pytest.TempPathFactory, config: Any, profile: Any) -> None:
    path = tmp_path_factory.mktemp("cfg") / "chatpipe.yaml"
    path.write_text(yaml.safe_dump(config))
    try:
        pipe = Pipeline.from_config(profile, path)
        pipe.explain([{"role": "user", "content": "Hi"}])
    except ChatpipeError as exc:
        assert str(exc) and KEY not in str(exc)
