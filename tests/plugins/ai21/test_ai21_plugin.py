"""The ai21 plugin: declaration, static models, request building and its parameter rules,
replies, streams with usage in the last chunk, errors and retries; request bodies checked
against the OpenAI spec (the baseline for AI21)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

import pytest
from chatpipe import Pipeline, wire
from chatpipe.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ChatpipeWarning,
    ConfigError,
    InvalidRequestError,
    OverloadedError,
    RateLimitError,
    ServerError,
)
from chatpipe.http import HttpResponse, SSEEvent
from chatpipe.models import ChatRequest
from chatpipe.plugin import SCHEMA_MESSAGE_PREFIX, StreamAccumulator
from chatpipe.provider import ProviderSettings
from chatpipe.registry import Registry
from chatpipe.secrets import Secret
from chatpipe.testing.fake_server import FakeResponse, FakeServer
from chatpipe_ai21 import ACCEPTED_PARAMS, JAMBA_MODELS, AI21Provider

KEY = "ai21-PLANTED-0123456789abcdef0123456789"
BASE = "https://api.ai21.com/studio/v1"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]
SCHEMA = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
HI = [{"role": "user", "content": "Hi"}]


def make(**kwargs: Any) -> AI21Provider:
    return AI21Provider(ProviderSettings(base_url=kwargs.pop("base_url", BASE), api_key=Secret(KEY), **kwargs))


def request(messages: list[dict[str, Any]], **kwargs: Any) -> ChatRequest:
    tools = wire.tools_from_dicts(kwargs.pop("tools")) if "tools" in kwargs else None
    return ChatRequest(model="jamba-mini", messages=wire.messages_from_dicts(messages), tools=tools, **kwargs)


def sent(adapter: AI21Provider, req: ChatRequest) -> dict[str, Any]:
    body: dict[str, Any] = adapter.build_chat(adapter.prepare(req)).json
    return body


# --- declaration ------------------------------------------------------------------------------


def test_declaration() -> None:
    info = AI21Provider.info
    assert (info.name, info.package, info.default_base_url) == ("ai21", "chatpipe-ai21", BASE)
    assert info.api_key_env == ("AI21_API_KEY",) and info.key_required
    assert info.default_model == "jamba-mini"
    assert info.required_converters == ()
    assert info.capabilities.tools and info.capabilities.streaming
    assert not info.capabilities.model_listing and not info.capabilities.status_check
    assert info.retryable_statuses == frozenset({408, 429, 500, 503})


def test_entry_point_registers_the_class() -> None:
    (ep,) = [e for e in entry_points(group="chatpipe.providers") if e.name == "ai21"]
    registry = Registry(entry_points=[])
    registry.register(ep.load())
    assert registry.provider("ai21") is AI21Provider


def test_a_static_model_list_and_no_status_check() -> None:
    adapter = make()
    assert adapter.build_models() is None and adapter.build_check() is None
    ids = [m.id for m in adapter.static_models()]
    assert ids == list(JAMBA_MODELS)
    assert {"jamba-large", "jamba-mini"} <= set(ids)
    assert all(m.owned_by == "ai21" for m in adapter.static_models())
    pipe = Pipeline("ai21", api_key=KEY)
    assert [m.id for m in pipe.models()] == ids
    result = pipe.check()
    assert result.ok and result.bypassed and "chatpipe test" in result.detail


def test_the_key_comes_from_ai21_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AI21_API_KEY", KEY)
    pipe = Pipeline("ai21")
    http = pipe.explain(HI).request
    assert http["headers"]["Authorization"] == "***"
    assert KEY not in repr(pipe) + repr(pipe.adapter) + json.dumps(http)


@pytest.mark.parametrize("options", [{"max_tokens_limit": 0}, {"max_tokens_limit": "8k"}, {"limit": 1}])
def test_bad_options_are_config_errors(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="max_tokens_limit"):
        AI21Provider.validate_options(options)


# --- requests ---------------------------------------------------------------------------------


def test_chat_request_url_headers_and_body() -> None:
    http = make().build_chat(make().prepare(request(HI)))
    assert (http.method, http.url) == ("POST", f"{BASE}/chat/completions")
    assert http.headers == {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Authorization": f"Bearer {KEY}",
    }
    assert http.secret_headers == frozenset({"Authorization"})
    assert KEY not in repr(http)
    assert http.json == {"model": "jamba-mini", "messages": HI, "stream": False}


def test_streaming_sends_no_stream_options() -> None:
    http = make().build_chat(request(HI, stream=True, params={"stream_options": {"include_usage": True}}))
    assert http.json["stream"] is True and "stream_options" not in http.json
    assert http.headers["Accept"] == "text/event-stream"


def test_accepted_parameters_pass_through() -> None:
    params = {
        "max_tokens": 300,
        "temperature": 0.4,
        "top_p": 0.9,
        "stop": ["\n\nUser:"],
        "n": 2,
        "response_format": {"type": "json_object"},
        "documents": [{"content": "Paris is in France.", "id": "d1", "metadata": {"source": "atlas"}}],
    }
    assert set(params) == ACCEPTED_PARAMS
    body = sent(make(), request(HI, params=params))
    assert {k: body[k] for k in params} == params
    assert sent(make(), request(HI, params={"stop": "END"}))["stop"] == "END"


def test_unsupported_parameters_are_named_in_a_clear_error() -> None:
    with pytest.raises(InvalidRequestError, match=r"\['frequency_penalty', 'seed'\].*include_body"):
        sent(make(), request(HI, params={"seed": 7, "frequency_penalty": 0.5, "temperature": 0.1}))


def test_include_body_can_still_force_a_field() -> None:
    body = sent(make(include_body={"seed": 7}), request(HI))
    assert body["seed"] == 7


def test_max_completion_tokens_is_sent_as_max_tokens() -> None:
    body = sent(make(), request(HI, params={"max_completion_tokens": 256}))
    assert body["max_tokens"] == 256 and "max_completion_tokens" not in body
    with pytest.raises(InvalidRequestError, match="keep one"):
        sent(make(), request(HI, params={"max_completion_tokens": 256, "max_tokens": 100}))


def test_max_tokens_above_the_limit_is_lowered_with_a_warning() -> None:
    with pytest.warns(ChatpipeWarning, match="lowered to 4096"):
        body = sent(make(), request(HI, params={"max_tokens": 10000}))
    assert body["max_tokens"] == 4096
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sent(make(), request(HI, params={"max_tokens": 4096}))["max_tokens"] == 4096
        assert (
            sent(make(options={"max_tokens_limit": 8192}), request(HI, params={"max_tokens": 8000}))["max_tokens"]
            == 8000
        )


@pytest.mark.parametrize("value", [0, -5, 1.5, "100", True])
def test_max_tokens_must_be_a_positive_integer(value: Any) -> None:
    with pytest.raises(InvalidRequestError, match="max_tokens must be a positive integer"):
        sent(make(), request(HI, params={"max_tokens": value}))


def test_tools_are_sent_and_tool_choice_auto_is_left_out() -> None:
    body = sent(make(), request(HI, tools=TOOLS, tool_choice="auto"))
    assert body["tools"] == TOOLS and "tool_choice" not in body


@pytest.mark.parametrize("choice", ["none", "required", {"type": "function", "function": {"name": "get_weather"}}])
def test_other_tool_choices_are_a_clear_error(choice: Any) -> None:
    with pytest.raises(InvalidRequestError, match="AI21 does not support tool_choice"):
        sent(make(), request(HI, tools=TOOLS, tool_choice=choice))


def test_json_schema_becomes_json_object_and_a_schema_turn_merged_into_the_last_user_turn() -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "answer", "strict": True, "schema": SCHEMA}}
    body = sent(make(), request([{"role": "system", "content": "S"}, *HI], params={"response_format": fmt}))
    assert body["response_format"] == {"type": "json_object"}
    schema_text = SCHEMA_MESSAGE_PREFIX + json.dumps(SCHEMA, indent=4)
    assert body["messages"] == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "Hi\n\n" + schema_text},
    ]
    assert schema_text.startswith('JSON schema for the response:\n{\n    "type": "object",')


def test_json_schema_after_an_assistant_turn_is_its_own_user_turn() -> None:
    fmt = {"type": "json_schema", "json_schema": {"name": "a", "schema": SCHEMA}}
    body = sent(make(), request([*HI, {"role": "assistant", "content": "{"}], params={"response_format": fmt}))
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][-1]["content"].startswith(SCHEMA_MESSAGE_PREFIX)


@pytest.mark.parametrize(
    ("fmt", "match"),
    [
        ({"type": "json_schema", "json_schema": {"name": "a"}}, "json_schema.schema"),
        ({"type": "regex", "regex": "a+"}, "text.*json_object"),
        ("json", "text.*json_object"),
    ],
)
def test_bad_response_formats_are_clear_errors(fmt: Any, match: str) -> None:
    with pytest.raises(InvalidRequestError, match=match):
        sent(make(), request(HI, params={"response_format": fmt}))


@pytest.mark.parametrize(
    ("documents", "where"),
    [
        ("Paris is in France", "params.documents"),
        ([{"text": "no content key"}], r"params.documents\[0\]"),
        ([{"content": "x", "id": 3}], r"params.documents\[0\].id"),
        ([{"content": "x", "metadata": ["a"]}], r"params.documents\[0\].metadata"),
    ],
)
def test_malformed_documents_are_clear_errors(documents: Any, where: str) -> None:
    with pytest.raises(InvalidRequestError, match=where):
        sent(make(), request(HI, params={"documents": documents}))


def test_the_forced_conversion_runs_in_prepare_after_the_users_converters() -> None:
    pipe = Pipeline("ai21", api_key=KEY, converters=["merge"], placeholder="[Custom placeholder]")
    messages = [
        {"role": "system", "content": "A"},
        {"role": "system", "content": "B "},
        {"role": "user", "name": "Alex", "content": "hi"},
        {"role": "user", "content": "there"},
    ]
    explained = pipe.explain(messages)
    assert explained.request["json"]["messages"] == [
        {"role": "system", "content": "A\n\nB"},
        {"role": "user", "content": "Alex: hi\n\nthere"},
    ]
    # The forced conversion uses the pipeline's placeholder and names, like the user's converters.
    alone = Pipeline("ai21", api_key=KEY, placeholder="[Custom placeholder]").explain([messages[0]])
    assert alone.request["json"]["messages"][1] == {"role": "user", "content": "[Custom placeholder]"}
    named = Pipeline("ai21", api_key=KEY, names={"char": "Seraphina"}).explain(
        [{"role": "system", "name": "example_assistant", "content": "Welcome."}, {"role": "user", "content": "hi"}]
    )
    assert named.request["json"]["messages"][0] == {"role": "system", "content": "Seraphina: Welcome."}


# --- request bodies against the OpenAI spec ----------------------------------------------------

HISTORY: list[dict[str, Any]] = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Weather in Paris?"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "18 C"},
]

BODIES: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {
    "plain": (HI, {}),
    "system and names": ([{"role": "system", "content": "S"}, {"role": "user", "name": "Alex", "content": "x"}], {}),
    "tools": (HI, {"tools": TOOLS, "tool_choice": "auto"}),
    "tool history": (HISTORY, {"tools": TOOLS}),
    "streaming": (HI, {"stream": True}),
    "image parts": (
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "see"},
                    {"type": "image_url", "image_url": {"url": "https://e.com/a.png"}},
                ],
            }
        ],
        {},
    ),
    "vendor params": (
        HI,
        {
            "params": {
                "max_tokens": 200,
                "temperature": 0.3,
                "top_p": 0.5,
                "stop": ["END"],
                "n": 1,
                "documents": [{"content": "doc", "id": "d1", "metadata": {"k": "v"}}],
                "response_format": {"type": "json_object"},
            }
        },
    ),
    "json schema": (
        HI,
        {"params": {"response_format": {"type": "json_schema", "json_schema": {"name": "a", "schema": SCHEMA}}}},
    ),
}


@pytest.mark.parametrize("case", sorted(BODIES))
def test_request_bodies_follow_the_openai_request_schema(vendor_spec: Callable[[str], Any], case: str) -> None:
    spec = vendor_spec("openai")
    messages, kwargs = BODIES[case]
    spec.check("CreateChatCompletionRequest", sent(make(), request(messages, **kwargs)))


def test_the_openai_schema_lets_ai21_documents_through(vendor_spec: Callable[[str], Any]) -> None:
    spec = vendor_spec("openai")
    body = sent(make(), request(HI, params={"documents": [{"content": "doc"}]}))
    assert spec.errors("CreateChatCompletionRequest", body) == []
    schema = spec.schema("CreateChatCompletionRequest")
    parts = [schema, *schema.get("allOf", [])]
    assert all(part.get("additionalProperties", True) is not False for part in parts)


# --- replies, streams, errors ----------------------------------------------------------------


def reply_body(**choice: Any) -> dict[str, Any]:
    message = {"role": "assistant", "content": "Paris.", "tool_calls": None}
    return {
        "id": "chat-1",
        "model": "jamba-mini",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop", **choice}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
    }


@pytest.mark.parametrize(("raw", "normalised"), [("stop", "stop"), ("length", "length"), ("tool_calls", "tool_calls")])
def test_replies_map_finish_reasons_and_usage(raw: str, normalised: str) -> None:
    reply = make().parse_chat(HttpResponse(200, {}, json.dumps(reply_body(finish_reason=raw)).encode()))
    assert reply.text == "Paris." and reply.tool_calls == ()
    assert (reply.finish_reason, reply.choices[0].raw_finish_reason) == (normalised, raw)
    assert reply.usage is not None and (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (9, 2)


def test_an_unknown_finish_reason_is_kept_raw() -> None:
    reply = make().parse_chat(HttpResponse(200, {}, json.dumps(reply_body(finish_reason="guardrail")).encode()))
    assert reply.finish_reason is None and reply.choices[0].raw_finish_reason == "guardrail"


def test_stream_usage_comes_from_the_last_chunk() -> None:
    def event(delta: dict[str, Any], finish: str | None = None, usage: Any = None) -> SSEEvent:
        data = {"id": "s1", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], "usage": usage}
        return SSEEvent(json.dumps(data))

    usage = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
    events = [
        event({"role": "assistant"}),
        event({"content": "Bon"}),
        event({"content": "jour"}),
        event({"content": ""}, "length", usage),
        SSEEvent("[DONE]"),
    ]
    parser = make().stream_parser(request(HI, stream=True))
    acc = StreamAccumulator(provider="ai21")
    chunks = [c for e in events for c in parser.feed(e)]
    for c in chunks:
        acc.add(c)
    assert parser.done
    assert [c.usage is not None for c in chunks].count(True) == 1 and chunks[-1].usage is not None
    reply = acc.response()
    assert (reply.text, reply.finish_reason) == ("Bonjour", "length")
    assert reply.usage is not None and (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (5, 3)


@pytest.mark.parametrize(
    ("status", "body", "expected", "message"),
    [
        (401, '{"detail": "Missing or invalid API key KEY"}', AuthenticationError, "AI21_API_KEY"),
        (
            422,
            '{"detail": [{"loc": ["body", "n"], "msg": "must be <= 16 KEY", "type": "value_error"}]}',
            BadRequestError,
            "body.n: must be <= 16",
        ),
        (429, "Too many requests for KEY", RateLimitError, "Too many requests"),
        (500, "Internal server error KEY", ServerError, "Internal server error"),
        (503, "Service unavailable KEY", OverloadedError, "Service unavailable"),
        (408, "Request timeout KEY", APIStatusError, "timed out"),
    ],
)
def test_plain_text_and_detail_errors_map_by_status(
    status: int, body: str, expected: type[Exception], message: str
) -> None:
    error = make().parse_error(HttpResponse(status, {}, body.replace("KEY", KEY).encode()))
    assert type(error) is expected and error.status == status and error.provider == "ai21"
    assert message in str(error)
    assert KEY not in str(error) + (error.body or "")


def test_retryable_statuses_are_retried_and_others_are_not(fake_server: FakeServer) -> None:
    route = "POST /studio/v1/chat/completions"
    ok = FakeResponse.json(reply_body())
    for status in (408, 429, 500, 503):
        fake_server.enqueue(route, FakeResponse.text("busy", status=status, headers={"Retry-After": "0"}))
    fake_server.enqueue(route, ok)
    pipe = Pipeline("ai21", api_key=KEY, base_url=f"{fake_server.url}/studio/v1", max_retries=4)
    assert pipe.complete(HI).text == "Paris."
    assert len(fake_server.requests) == 5
    fake_server.enqueue(route, FakeResponse.text("bad gateway", status=502, headers={"Retry-After": "0"}), ok)
    with pytest.raises(ServerError):
        pipe.complete(HI)
    assert len(fake_server.requests) == 6


def test_the_squashed_system_prompt_goes_out_without_the_first_messages_cache_control(openai_spec: Any) -> None:
    messages = [
        {"role": "system", "content": "You are Bot.", "cache_control": {"type": "ephemeral"}},
        {"role": "system", "content": "Be brief."},
        *HI,
    ]
    body = sent(make(), request(messages))
    assert body == {
        "model": "jamba-mini",
        "messages": [{"role": "system", "content": "You are Bot.\n\nBe brief."}, {"role": "user", "content": "Hi"}],
        "stream": False,
    }
    openai_spec.check("CreateChatCompletionRequest", body)
