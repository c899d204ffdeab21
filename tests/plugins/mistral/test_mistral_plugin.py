"""The mistral plugin: declaration, request body, replies, streams, errors and the model list."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from typing import Any

import pytest
from chatpipe import Pipeline, wire
from chatpipe.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConfigError,
    OverloadedError,
    ProtocolError,
    RateLimitError,
)
from chatpipe.http import HttpResponse, SSEEvent
from chatpipe.models import ChatRequest, OtherPart, TextPart
from chatpipe.provider import ProviderSettings
from chatpipe.registry import Registry
from chatpipe.secrets import Secret
from chatpipe.testing.fake_server import FakeResponse, FakeServer
from chatpipe_mistral import DROPPED_PARAMS, MistralProvider, mistral_tool_id

KEY = "sk-PLANTED-mistral-0123456789abcdef"
TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def make(**kwargs: Any) -> MistralProvider:
    base = kwargs.pop("base_url", MistralProvider.info.default_base_url)
    return MistralProvider(ProviderSettings(base_url=base, api_key=Secret(KEY), **kwargs))


def request(messages: list[dict[str, Any]] | None = None, **kwargs: Any) -> ChatRequest:
    tools = wire.tools_from_dicts(kwargs.pop("tools")) if "tools" in kwargs else None
    messages = messages or [{"role": "user", "content": "Hi"}]
    return ChatRequest(model="mistral-small-latest", messages=wire.messages_from_dicts(messages), tools=tools, **kwargs)


def sent(adapter: MistralProvider, req: ChatRequest) -> dict[str, Any]:
    body: dict[str, Any] = adapter.build_chat(adapter.prepare(req)).json
    return body


def completion(message: dict[str, Any], finish: str = "stop", **extra: Any) -> HttpResponse:
    body = {
        "id": "cmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "magistral-medium-latest",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
        **extra,
    }
    return HttpResponse(200, {}, json.dumps(body).encode())


def feed(adapter: MistralProvider, deltas: list[dict[str, Any]], finish: str = "stop") -> list[Any]:
    parser = adapter.stream_parser(request(stream=True))
    chunks: list[Any] = []
    for i, delta in enumerate(deltas):
        last = i == len(deltas) - 1
        data: dict[str, Any] = {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "magistral-medium-latest",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish if last else None}],
        }
        if last:
            data["usage"] = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
        chunks.extend(parser.feed(SSEEvent(json.dumps(data))))
    chunks.extend(parser.feed(SSEEvent("[DONE]")))
    assert parser.done
    return chunks


# --- declaration ---------------------------------------------------------------------------


def test_declaration() -> None:
    info = MistralProvider.info
    assert (info.name, info.package, info.display_name) == ("mistral", "chatpipe-mistral", "Mistral AI")
    assert info.default_base_url == "https://api.mistral.ai/v1"
    assert info.api_key_env == ("MISTRAL_API_KEY",)
    assert info.default_model == "mistral-small-latest"
    assert info.retryable_statuses == frozenset({429, 500, 502, 503, 504})
    assert info.required_converters == ()
    assert info.capabilities.tools and info.capabilities.reasoning and info.capabilities.vision


def test_entry_point_registers_the_class() -> None:
    (ep,) = [e for e in entry_points(group="chatpipe.providers") if e.name == "mistral"]
    registry = Registry(entry_points=[])
    registry.register(ep.load())
    assert registry.provider("mistral") is MistralProvider


def test_urls_and_bearer_auth() -> None:
    adapter = make()
    http = adapter.build_chat(request())
    assert http.url == "https://api.mistral.ai/v1/chat/completions"
    assert http.headers["Authorization"] == f"Bearer {KEY}" and "Authorization" in http.secret_headers
    assert KEY not in repr(http) and KEY not in repr(adapter) and KEY not in repr(adapter.settings)
    models = adapter.build_models()
    assert models is not None and models.url == "https://api.mistral.ai/v1/models"


# --- options --------------------------------------------------------------------------------


def test_options_are_validated() -> None:
    MistralProvider.validate_options({"prefix": True, "safe_prompt": False})
    with pytest.raises(ConfigError, match="safe_prompt"):
        MistralProvider.validate_options({"random_seed": 1})
    with pytest.raises(ConfigError, match="prefix"):
        MistralProvider.validate_options({"prefix": "yes"})


def test_prefix_option_marks_the_final_assistant_turn() -> None:
    req = request([{"role": "user", "content": "Haiku?"}, {"role": "assistant", "content": "Autumn"}])
    assert sent(make(options={"prefix": True}), req)["messages"][-1] == {
        "role": "assistant",
        "content": "Autumn",
        "prefix": True,
    }
    assert "prefix" not in sent(make(), req)["messages"][-1]


def test_example_prefixing_uses_the_pipelines_names() -> None:
    pipe = Pipeline("mistral", api_key=KEY, names={"user": "Alex", "char": "Skye"})
    example = [
        {"role": "system", "name": "example_user", "content": "Hi"},
        {"role": "system", "name": "example_assistant", "content": "Hello"},
        {"role": "user", "content": "Go"},
    ]
    body = pipe.explain(example).request["json"]
    assert body["messages"][:2] == [
        {"role": "system", "content": "Alex: Hi"},
        {"role": "system", "content": "Skye: Hello"},
    ]
    assert [m["content"] for m in sent(make(), request(example))["messages"][:2]] == ["Hi", "Hello"]


def test_safe_prompt_from_the_option_or_the_request() -> None:
    assert "safe_prompt" not in sent(make(), request())
    assert sent(make(options={"safe_prompt": True}), request())["safe_prompt"] is True
    overridden = sent(make(options={"safe_prompt": True}), request(params={"safe_prompt": False}))
    assert overridden["safe_prompt"] is False


# --- request body ---------------------------------------------------------------------------


def test_seed_becomes_random_seed() -> None:
    assert sent(make(), request(params={"seed": 42}))["random_seed"] == 42
    assert "seed" not in sent(make(), request(params={"seed": 42}))
    assert not {"seed", "random_seed"} & set(sent(make(), request(params={"seed": -1})))
    assert sent(make(), request(params={"seed": 1, "random_seed": 2}))["random_seed"] == 2


def test_max_completion_tokens_becomes_max_tokens() -> None:
    body = sent(make(), request(params={"max_completion_tokens": 300}))
    assert body["max_tokens"] == 300 and "max_completion_tokens" not in body
    both = sent(make(), request(params={"max_completion_tokens": 300, "max_tokens": 100}))
    assert both["max_tokens"] == 100 and "max_completion_tokens" not in both


def test_openai_only_params_are_dropped_and_no_stream_options() -> None:
    params = {key: 1 for key in DROPPED_PARAMS if key != "stream_options"} | {"temperature": 0.3, "n": 2}
    body = sent(make(), request(params=params, stream=True))
    assert not set(DROPPED_PARAMS) & set(body)
    assert (body["temperature"], body["n"], body["stream"]) == (0.3, 2, True)


def test_include_body_can_force_a_dropped_field_back() -> None:
    body = sent(make(include_body={"top_k": 3}), request(params={"top_k": 9}))
    assert body["top_k"] == 3


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("required", "any"),
        ("auto", "auto"),
        ("none", "none"),
        ("any", "any"),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            {"type": "function", "function": {"name": "get_weather"}},
        ),
    ],
)
def test_tool_choice(choice: Any, expected: Any) -> None:
    body = sent(make(), request(tools=[TOOL], tool_choice=choice))
    assert body["tool_choice"] == expected
    assert body["tools"] == [TOOL]


def test_a_tool_without_parameters_gets_an_empty_schema() -> None:
    body = sent(make(), request(tools=[{"type": "function", "function": {"name": "now"}}]))
    assert body["tools"] == [
        {"type": "function", "function": {"name": "now", "parameters": {"type": "object", "properties": {}}}}
    ]


def test_messages_keep_only_the_keys_mistrals_schema_has() -> None:
    history: list[dict[str, Any]] = [
        {"role": "system", "content": None},
        {
            "role": "user",
            "content": [{"type": "text", "text": "Hi", "cache_control": {"type": "ephemeral"}}],
            "name": "Alex",
        },
        {
            "role": "assistant",
            "content": "Alex? Hello",
            "reasoning_content": "think",
            "name": "Bot",
            "cache_control": {},
        },
        {"role": "user", "content": "Alex: again", "name": "Alex"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}", "x": 1}, "x": 2}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "ok", "name": "f: ok-prefixed"},
    ]
    messages = sent(make(), request(history, tools=[TOOL]))["messages"]
    assert messages == [
        {"role": "system", "content": ""},
        # the prefix lands as its own part in front of a part that carried extra keys (kept by the core)
        {"role": "user", "content": [{"type": "text", "text": "Alex: "}, {"type": "text", "text": "Hi"}]},
        {"role": "assistant", "content": "Bot: Alex? Hello"},
        {"role": "user", "content": "Alex: again"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": mistral_tool_id("call_1"), "type": "function", "function": {"name": "f", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "content": "f: ok-prefixed: ok", "tool_call_id": mistral_tool_id("call_1")},
    ]


def test_an_already_prefixed_tool_result_keeps_its_name() -> None:
    messages = sent(make(), request([{"role": "tool", "tool_call_id": "c", "content": "f: 1", "name": "f"}]))[
        "messages"
    ]
    assert messages == [{"role": "tool", "content": "f: 1", "tool_call_id": mistral_tool_id("c"), "name": "f"}]


def test_media_parts_in_mistrals_shapes() -> None:
    content = [
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "low"}},
        {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
        {"type": "audio_url", "audio_url": {"url": "data:audio/mpeg;base64,SUQz"}},
        {"type": "document_url", "document_url": "https://example.com/a.pdf"},
    ]
    parts = sent(make(), request([{"role": "user", "content": content}]))["messages"][0]["content"]
    assert parts == [
        content[0],
        {"type": "input_audio", "input_audio": "UklGRg=="},
        {"type": "input_audio", "input_audio": "SUQz"},
        content[3],
    ]


def test_unknown_roles_pass_unchanged() -> None:
    message = {"role": "developer", "content": "x", "extra_key": 1}
    assert sent(make(), request([message]))["messages"] == [message]


# --- replies --------------------------------------------------------------------------------


def test_thinking_chunks_become_reasoning() -> None:
    reply = make().parse_chat(
        completion(
            {
                "content": [
                    {
                        "type": "thinking",
                        "thinking": [{"type": "text", "text": "Compare "}, {"type": "text", "text": "9.11 and 9.9."}],
                    },
                    {"type": "text", "text": "9.9 is "},
                    {"type": "text", "text": "larger."},
                ]
            }
        )
    )
    assert reply.reasoning == "Compare 9.11 and 9.9."
    assert reply.message.content == "9.9 is larger." and reply.text == "9.9 is larger."
    assert reply.usage is not None and reply.usage.total_tokens == 8


def test_other_chunk_types_stay_as_parts() -> None:
    reference = {"type": "reference", "reference_ids": [1, 2]}
    reply = make().parse_chat(
        completion({"content": [{"type": "thinking", "thinking": "hm"}, {"type": "text", "text": "See"}, reference]})
    )
    assert reply.reasoning == "hm"
    assert reply.message.content == (TextPart("See"), OtherPart(reference))


def test_string_content_and_tool_calls_with_mistral_ids() -> None:
    call = {
        "id": "D681PevKs",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
        "index": 0,
    }
    reply = make().parse_chat(completion({"content": "", "tool_calls": [call]}, finish="tool_calls"))
    assert reply.tool_calls[0].id == "D681PevKs", "replies keep Mistral's own ids"
    assert reply.finish_reason == "tool_calls" and reply.reasoning is None


def test_thinking_only_tool_call_reply_has_no_content() -> None:
    call = {"id": "D681PevKs", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    reply = make().parse_chat(completion({"content": [{"type": "thinking", "thinking": []}], "tool_calls": [call]}))
    assert reply.message.content is None and reply.reasoning is None


@pytest.mark.parametrize(("raw", "normalised"), [("model_length", "length"), ("length", "length"), ("error", "error")])
def test_finish_reasons(raw: str, normalised: str) -> None:
    reply = make().parse_chat(completion({"content": "cut"}, finish=raw))
    assert (reply.finish_reason, reply.choices[0].raw_finish_reason) == (normalised, raw)


def test_malformed_chunk_content_is_a_protocol_error_without_the_key() -> None:
    with pytest.raises(ProtocolError, match=r"content\[0\]") as info:
        make().parse_chat(completion({"content": [{"type": "thinking", "thinking": 3}]}))
    assert KEY not in str(info.value)


# --- streams --------------------------------------------------------------------------------


def test_streamed_thinking_and_text_as_lists_and_strings() -> None:
    chunks = feed(
        make(),
        [
            {"role": "assistant", "content": ""},
            {"content": [{"type": "thinking", "thinking": [{"type": "text", "text": "Let me "}]}]},
            {"content": [{"type": "thinking", "thinking": [{"type": "text", "text": "think."}]}]},
            {"content": [{"type": "text", "text": "Answer"}]},
            {"content": ": 42"},
            {"content": ""},
        ],
        finish="model_length",
    )
    assert "".join(c.reasoning for c in chunks) == "Let me think."
    assert "".join(c.text for c in chunks) == "Answer: 42"
    assert chunks[-1].finish_reason == "length" and chunks[-1].raw_finish_reason == "model_length"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 3


def test_streamed_tool_call_arrives_whole() -> None:
    call = {"id": "D681PevKs", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}, "index": 0}
    chunks = feed(make(), [{"role": "assistant", "content": ""}, {"tool_calls": [call]}, {"content": ""}], "tool_calls")
    (delta,) = [d for c in chunks for d in c.tool_calls]
    assert (delta.id, delta.name, delta.arguments) == ("D681PevKs", "f", '{"a": 1}')


@pytest.mark.parametrize(
    "event",
    [
        SSEEvent(
            json.dumps(
                {"object": "error", "message": "Service overloaded", "type": "service_unavailable", "code": "1000"}
            )
        ),
        SSEEvent(json.dumps({"message": "Service overloaded"}), event="error"),
    ],
    ids=["object-error", "event-error"],
)
def test_an_error_inside_the_stream_is_a_typed_error(event: SSEEvent) -> None:
    parser = make().stream_parser(request(stream=True))
    with pytest.raises(APIStatusError, match="error inside the stream: Service overloaded") as info:
        parser.feed(event)
    assert info.value.provider == "mistral"


def test_an_in_stream_validation_error_is_readable() -> None:
    payload = {"object": "error", "message": {"detail": [{"loc": ["body", "model"], "msg": "bad model", "type": "x"}]}}
    with pytest.raises(APIStatusError, match="model: bad model"):
        make().stream_parser(request(stream=True)).feed(SSEEvent(json.dumps(payload)))


def test_a_malformed_streamed_chunk_list_is_a_protocol_error() -> None:
    parser = make().stream_parser(request(stream=True))
    data = {"id": "c", "model": "m", "choices": [{"index": 0, "delta": {"content": [{"type": "text"}]}}]}
    with pytest.raises(ProtocolError, match=r"delta\.content\[0\]\.text"):
        parser.feed(SSEEvent(json.dumps(data)))


# --- errors ---------------------------------------------------------------------------------

VALIDATION_BODIES = [
    {
        "detail": [
            {
                "loc": ["body", "messages", 0, "user", "name"],
                "msg": "Extra inputs are not permitted",
                "type": "extra_forbidden",
            }
        ]
    },
    {
        "object": "error",
        "message": {
            "detail": [
                {
                    "type": "extra_forbidden",
                    "loc": ["body", "messages", 0, "user", "name"],
                    "msg": "Extra inputs are not permitted",
                }
            ]
        },
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    },
    {
        "object": "Error",
        "detail": [
            {
                "type": "extra_forbidden",
                "loc": ["body", "messages", 0, "user", "name"],
                "msg": "Extra inputs are not permitted",
            }
        ],
        "message": [
            {
                "type": "extra_forbidden",
                "loc": ["body", "messages", 0, "user", "name"],
                "msg": "Extra inputs are not permitted",
            }
        ],
        "type": "invalid_request_error",
        "code": 3001,
    },
]


@pytest.mark.parametrize("body", VALIDATION_BODIES, ids=["spec", "nested-message", "detail-and-message"])
def test_422_validation_errors_are_readable(body: dict[str, Any]) -> None:
    error = make().parse_error(HttpResponse(422, {}, json.dumps(body).encode()))
    assert isinstance(error, BadRequestError) and error.status == 422
    assert "messages.0.user.name: Extra inputs are not permitted" in str(error)
    assert "body.messages" not in str(error) and "{" not in str(error)


def test_several_validation_entries_are_all_listed() -> None:
    detail = [
        {"loc": ["body", "temperature"], "msg": "Input should be less than or equal to 1.5", "type": "less_than_equal"},
        {"loc": ["body", "model"], "msg": "Field required", "type": "missing"},
    ]
    error = make().parse_error(HttpResponse(422, {}, json.dumps({"detail": detail}).encode()))
    assert "temperature: Input should be less than or equal to 1.5; model: Field required" in str(error)


def test_a_plain_mistral_error_keeps_type_and_code() -> None:
    body = {
        "object": "error",
        "message": "Expected last role User or Tool (or Assistant with prefix True) for serving but got assistant",
        "type": "invalid_request_message_error",
        "param": None,
        "code": "3230",
    }
    error = make().parse_error(HttpResponse(400, {}, json.dumps(body).encode()))
    assert isinstance(error, BadRequestError) and "prefix True" in str(error)
    assert error.vendor_type == "3230"


def test_401_names_the_env_var_and_never_the_key() -> None:
    body = json.dumps({"message": f"Unauthorized key {KEY}", "request_id": "r1"}).encode()
    error = make().parse_error(HttpResponse(401, {}, body))
    assert isinstance(error, AuthenticationError) and "MISTRAL_API_KEY" in str(error)
    assert KEY not in str(error) and KEY not in (error.body or "")


def test_429_and_503() -> None:
    limited = make().parse_error(
        HttpResponse(429, {"Retry-After": "3"}, b'{"message": "Requests rate limit exceeded"}')
    )
    assert isinstance(limited, RateLimitError) and limited.retry_after == 3.0
    assert isinstance(make().parse_error(HttpResponse(503, {}, b"upstream busy")), OverloadedError)


def test_502_is_retried_and_400_is_not(fake_server: FakeServer) -> None:
    reply = {
        "id": "c",
        "object": "chat.completion",
        "created": 1,
        "model": "mistral-small-latest",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi!"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    route = "POST /v1/chat/completions"
    fake_server.enqueue(
        route, FakeResponse.text("bad gateway", status=502, headers={"Retry-After": "0"}), FakeResponse.json(reply)
    )
    pipe = Pipeline("mistral", base_url=f"{fake_server.url}/v1", api_key=KEY, max_retries=2)
    assert pipe.complete([{"role": "user", "content": "Hi"}]).text == "Hi!"
    assert len(fake_server.requests) == 2
    fake_server.enqueue(route, FakeResponse.json({"message": "bad"}, status=400), FakeResponse.json(reply))
    with pytest.raises(BadRequestError):
        pipe.complete([{"role": "user", "content": "Hi"}])
    assert len(fake_server.requests) == 3


# --- model list -----------------------------------------------------------------------------


def card(model_id: str, chat: bool, **extra: Any) -> dict[str, Any]:
    capabilities = {"completion_chat": chat, "function_calling": chat, "vision": False, "completion_fim": not chat}
    return {
        "id": model_id,
        "object": "model",
        "created": 1,
        "owned_by": "mistralai",
        "capabilities": capabilities,
        **extra,
    }


def test_model_list_keeps_chat_models_with_their_capabilities() -> None:
    data = {
        "object": "list",
        "data": [
            card("mistral-small-latest", True, max_context_length=131072, aliases=["mistral-small-2506"], type="base"),
            card("codestral-embed", False, max_context_length=8192, type="base"),
            card("ft:open-mistral-7b:abc", True, type="fine-tuned", job="j1", root="open-mistral-7b"),
        ],
    }
    models = make().parse_models(HttpResponse(200, {}, json.dumps(data).encode()))
    assert [m.id for m in models] == ["mistral-small-latest", "ft:open-mistral-7b:abc"]
    small = models[0]
    assert small.context_length == 131072 and small.owned_by == "mistralai"
    assert small.extra["capabilities"]["completion_chat"] is True
    assert small.extra["max_context_length"] == 131072 and small.extra["aliases"] == ["mistral-small-2506"]
    assert models[1].context_length is None


def test_a_bare_model_list_and_entries_without_capabilities_are_accepted() -> None:
    data = [card("mistral-large-latest", True), {"id": "proxy-model"}]
    models = make().parse_models(HttpResponse(200, {}, json.dumps(data).encode()))
    assert [m.id for m in models] == ["mistral-large-latest", "proxy-model"]


def test_a_malformed_model_list_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        make().parse_models(HttpResponse(200, {}, b'{"data": "nope"}'))
