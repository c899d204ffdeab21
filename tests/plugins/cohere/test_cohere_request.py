"""Request building: URL, headers, parameters, tools, tool_choice, messages — checked against
Cohere's spec for every shape."""

from __future__ import annotations

import json
import warnings
from importlib.metadata import entry_points
from typing import Any

import pytest
from chatpipe import wire
from chatpipe.errors import ChatpipeWarning, ConfigError, InvalidRequestError
from chatpipe.models import ChatRequest
from chatpipe.provider import ProviderSettings
from chatpipe.registry import Registry
from chatpipe.secrets import Secret
from chatpipe_cohere import DEFAULT_MODEL, CohereProvider

KEY = "co-PLANTED-cohere-0123456789abcdef"
REQUEST_BODY = "#/paths/~1v2~1chat/post/requestBody/content/application~1json/schema"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
HELLO = [{"role": "user", "content": "Hello"}]


def make(**kwargs: Any) -> CohereProvider:
    base = kwargs.pop("base_url", CohereProvider.info.default_base_url)
    key = kwargs.pop("key", KEY)
    return CohereProvider(ProviderSettings(base_url=base, api_key=Secret(key) if key else None, **kwargs))


def request(messages: list[dict[str, Any]] = HELLO, **kwargs: Any) -> ChatRequest:
    tools = wire.tools_from_dicts(kwargs.pop("tools")) if "tools" in kwargs else None
    return ChatRequest(model=DEFAULT_MODEL, messages=wire.messages_from_dicts(messages), tools=tools, **kwargs)


def body(adapter: CohereProvider | None = None, **kwargs: Any) -> dict[str, Any]:
    adapter = adapter or make()
    result: dict[str, Any] = adapter.build_chat(adapter.prepare(request(**kwargs))).json
    return result


@pytest.fixture
def spec(cohere_spec: Any) -> Any:
    return cohere_spec


def test_declaration() -> None:
    info = CohereProvider.info
    assert (info.name, info.package, info.default_base_url) == ("cohere", "chatpipe-cohere", "https://api.cohere.com")
    assert info.api_key_env == ("CO_API_KEY",)
    assert info.default_model == DEFAULT_MODEL == "command-a-03-2025"
    assert info.retryable_statuses == {408, 409, 429, 500, 502, 503, 504}
    caps = info.capabilities
    assert (caps.tools, caps.vision, caps.reasoning, caps.streaming) == (True, True, True, True)


def test_entry_point_registers_the_class() -> None:
    (ep,) = [e for e in entry_points(group="chatpipe.providers") if e.name == "cohere"]
    registry = Registry(entry_points=[])
    registry.register(ep.load())
    assert registry.provider("cohere") is CohereProvider


def test_chat_request_url_headers_and_plain_body(spec: Any) -> None:
    http = make().build_chat(request())
    assert (http.method, http.url) == ("POST", "https://api.cohere.com/v2/chat")
    assert http.headers["Authorization"] == f"Bearer {KEY}"
    assert http.headers["X-Client-Name"] == "chatpipe"
    assert http.headers["Accept"] == "application/json"
    assert KEY not in repr(http) and KEY not in json.dumps(http.redacted())
    assert http.json == {"model": DEFAULT_MODEL, "messages": HELLO, "stream": False}
    spec.check(REQUEST_BODY, http.json)


def test_streaming_body_and_accept_header(spec: Any) -> None:
    http = make().build_chat(request(stream=True))
    assert http.json["stream"] is True and http.headers["Accept"] == "text/event-stream"
    spec.check(REQUEST_BODY, http.json)


def test_no_key_sends_no_authorization_header() -> None:
    assert "Authorization" not in make(key=None).build_chat(request()).headers


def test_profile_headers_override_and_a_header_holding_the_key_is_secret() -> None:
    http = make(headers={"x-client-name": "mine", "X-Proxy-Auth": f"k {KEY}"}).build_chat(request())
    assert http.headers["x-client-name"] == "mine" and "X-Client-Name" not in http.headers
    assert "X-Proxy-Auth" in http.secret_headers and KEY not in repr(http)


@pytest.mark.parametrize("base", ["https://api.cohere.com/", "https://api.cohere.com/v2", "https://api.cohere.com/v1/"])
def test_base_url_is_the_api_root(base: str) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        adapter = make(base_url=base)
    assert adapter.build_chat(request()).url == "https://api.cohere.com/v2/chat"
    versioned = base.rstrip("/").endswith(("/v1", "/v2"))
    assert any(issubclass(w.category, ChatpipeWarning) for w in caught) == versioned


def test_sampling_parameters_are_renamed(spec: Any) -> None:
    sent = body(
        params={
            "temperature": 0.4,
            "max_tokens": 64,
            "top_p": 0.5,
            "top_k": 40,
            "seed": 7,
            "frequency_penalty": 0.2,
            "presence_penalty": 0.1,
            "stop": ["END", "STOP"],
        }
    )
    assert {k: v for k, v in sent.items() if k not in ("model", "messages", "stream")} == {
        "temperature": 0.4,
        "max_tokens": 64,
        "p": 0.5,
        "k": 40,
        "seed": 7,
        "frequency_penalty": 0.2,
        "presence_penalty": 0.1,
        "stop_sequences": ["END", "STOP"],
    }
    spec.check(REQUEST_BODY, sent)


def test_a_single_stop_string_becomes_a_list_and_none_values_are_not_sent() -> None:
    sent = body(params={"stop": "END", "temperature": None})
    assert sent["stop_sequences"] == ["END"] and "temperature" not in sent


def test_max_completion_tokens_is_max_tokens_unless_both_are_given() -> None:
    assert body(params={"max_completion_tokens": 10})["max_tokens"] == 10
    assert body(params={"max_completion_tokens": 10, "max_tokens": 20})["max_tokens"] == 20


def test_more_than_five_stop_sequences_is_a_clear_error() -> None:
    assert len(body(params={"stop": list("abcde")})["stop_sequences"]) == 5
    with pytest.raises(InvalidRequestError, match="at most 5 stop sequences, got 6"):
        body(params={"stop": list("abcdef")})
    with pytest.raises(InvalidRequestError, match="string or a list of strings"):
        body(params={"stop": [1]})


def test_unknown_parameters_are_rejected_by_name() -> None:
    with pytest.raises(InvalidRequestError, match="no parameter 'logit_bias', 'n'") as info:
        body(params={"n": 2, "logit_bias": {}})
    assert "include_body" in str(info.value)


def test_reserved_parameters_are_rejected() -> None:
    with pytest.raises(InvalidRequestError, match="model"):
        body(params={"model": "x"})


def test_documents_are_passed_as_given(spec: Any) -> None:
    documents = ["Paris is sunny.", {"id": "d2", "data": {"title": "Rome", "text": "Rome is warm."}}]
    sent = body(params={"documents": documents, "citation_options": {"mode": "ACCURATE"}})
    assert sent["documents"] == documents and sent["citation_options"] == {"mode": "ACCURATE"}
    spec.check(REQUEST_BODY, sent)
    with pytest.raises(InvalidRequestError, match="documents must be a list"):
        body(params={"documents": "Paris"})


def test_safety_mode_parameter_is_upper_cased_and_checked(spec: Any) -> None:
    sent = body(params={"safety_mode": "off"})
    assert sent["safety_mode"] == "OFF"
    spec.check(REQUEST_BODY, sent)
    with pytest.raises(InvalidRequestError, match="CONTEXTUAL, STRICT, OFF"):
        body(params={"safety_mode": "lenient"})


def test_safety_mode_option_is_the_default_without_tools_or_documents(spec: Any) -> None:
    adapter = make(options={"safety_mode": "strict"})
    assert body(adapter)["safety_mode"] == "STRICT"
    assert body(adapter, params={"safety_mode": "CONTEXTUAL"})["safety_mode"] == "CONTEXTUAL"
    assert "safety_mode" not in body(adapter, tools=[WEATHER])
    assert "safety_mode" not in body(adapter, params={"documents": ["d"]})
    spec.check(REQUEST_BODY, body(adapter))


@pytest.mark.parametrize("model", ["command-r-08-2024", "command-r-plus-08-2024"])
def test_the_08_2024_models_get_safety_mode_off_by_default(spec: Any, model: str) -> None:
    adapter = make()
    sent = adapter.build_chat(adapter.prepare(ChatRequest(model=model, messages=wire.messages_from_dicts(HELLO)))).json
    assert sent == {
        "model": model,
        "messages": [{"role": "user", "content": "Hello"}],
        "stream": False,
        "safety_mode": "OFF",
    }
    spec.check(REQUEST_BODY, sent)


def test_safety_mode_off_by_default_yields_to_the_option_the_parameter_tools_and_documents() -> None:
    def sent(adapter: CohereProvider, **kwargs: Any) -> dict[str, Any]:
        tools = wire.tools_from_dicts(kwargs.pop("tools")) if "tools" in kwargs else None
        req = ChatRequest(model="command-r-08-2024", messages=wire.messages_from_dicts(HELLO), tools=tools, **kwargs)
        result: dict[str, Any] = adapter.build_chat(adapter.prepare(req)).json
        return result

    assert sent(make(options={"safety_mode": "strict"}))["safety_mode"] == "STRICT"
    assert sent(make(), params={"safety_mode": "contextual"})["safety_mode"] == "CONTEXTUAL"
    assert "safety_mode" not in sent(make(), tools=[WEATHER])
    assert "safety_mode" not in sent(make(), params={"documents": ["d"]})
    assert "safety_mode" not in body(make())  # command-a-03-2025: Cohere's own default


def test_safety_mode_option_accepts_yaml_off_and_rejects_the_rest() -> None:
    assert body(make(options={"safety_mode": False}))["safety_mode"] == "OFF"
    CohereProvider.validate_options({"safety_mode": "contextual"})
    with pytest.raises(ConfigError, match="quote OFF in YAML"):
        CohereProvider.validate_options({"safety_mode": True})
    with pytest.raises(ConfigError, match="accepts: safety_mode"):
        CohereProvider.validate_options({"prefix": True})


def test_json_schema_response_format_becomes_json_object(spec: Any) -> None:
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    openai_form = {"type": "json_schema", "json_schema": {"name": "a", "schema": schema, "strict": True}}
    sent = body(params={"response_format": openai_form})
    assert sent["response_format"] == {"type": "json_object", "json_schema": schema}
    spec.check(REQUEST_BODY, sent)
    for kept in ({"type": "json_object"}, {"type": "text"}, {"type": "json_object", "json_schema": schema}):
        sent = body(params={"response_format": kept})
        assert sent["response_format"] == kept
        spec.check(REQUEST_BODY, sent)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"type": "json_schema", "json_schema": {"name": "a"}}, "json_schema.schema"),
        ({"type": "regex", "regex": "a+"}, "got 'regex'"),
        ("json", "got None"),
    ],
)
def test_response_formats_cohere_lacks_are_errors(value: Any, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        body(params={"response_format": value})


def test_tools_keep_openai_shape_with_parameters_required(spec: Any) -> None:
    bare = {"type": "function", "function": {"name": "now"}}
    with_schema_key = {
        "type": "function",
        "function": {
            "name": "f",
            "parameters": {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object"},
        },
    }
    sent = body(tools=[WEATHER, bare, with_schema_key])
    assert sent["tools"] == [
        WEATHER,
        {"type": "function", "function": {"name": "now", "parameters": {"type": "object", "properties": {}}}},
        {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}},
    ]
    assert "tool_choice" not in sent and "strict_tools" not in sent
    spec.check(REQUEST_BODY, sent)


def test_a_strict_tool_turns_on_strict_tools(spec: Any) -> None:
    strict = {"type": "function", "function": {**WEATHER["function"], "strict": True}}
    sent = body(tools=[strict])
    assert sent["strict_tools"] is True and "strict" not in sent["tools"][0]["function"]
    spec.check(REQUEST_BODY, sent)


@pytest.mark.parametrize(
    ("choice", "sent"), [("required", "REQUIRED"), ("none", "NONE"), ("auto", None), ("REQUIRED", "REQUIRED")]
)
def test_tool_choice_mapping(spec: Any, choice: str, sent: str | None) -> None:
    built = body(tools=[WEATHER], tool_choice=choice)
    assert built.get("tool_choice") == sent
    spec.check(REQUEST_BODY, built)


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        ({"type": "function", "function": {"name": "get_weather"}}, "cannot force one particular tool"),
        ({"type": "tool", "name": "get_weather"}, "cannot force one particular tool"),
        ("any", "Cohere lacks tool_choice 'any'"),
        ({"type": "allowed_tools"}, "Cohere lacks tool_choice"),
    ],
)
def test_tool_choice_forms_cohere_lacks_are_errors(choice: Any, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        body(tools=[WEATHER], tool_choice=choice)


def test_tool_choice_without_tools() -> None:
    assert "tool_choice" not in body(tool_choice="none")
    with pytest.raises(InvalidRequestError, match="needs tools"):
        body(tool_choice="required")


def test_user_images_are_image_url_parts(spec: Any) -> None:
    content = [
        {"type": "text", "text": "What is in these?"},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "high"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
    ]
    sent = body(messages=[{"role": "user", "content": content}])
    assert sent["messages"][0]["content"] == content
    spec.check(REQUEST_BODY, sent)


def test_tool_results_with_text_and_document_parts(spec: Any) -> None:
    conversation = [
        {"role": "user", "content": "Q"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "search", "arguments": "{}"}}],
        },
        {
            "role": "tool",
            "tool_call_id": "c1",
            "content": [
                {"type": "text", "text": "two hits"},
                {"type": "document", "document": {"id": "r1", "data": {"title": "Hit", "text": "..."}}},
            ],
        },
    ]
    sent = body(messages=conversation, tools=[WEATHER])
    assert sent["messages"][2] == {"role": "tool", "tool_call_id": "c1", "content": conversation[2]["content"]}
    spec.check(REQUEST_BODY, sent)


def test_developer_messages_are_system_and_cohere_fields_survive_on_assistants(spec: Any) -> None:
    citation = {"start": 0, "end": 1, "text": "A", "type": "TEXT_CONTENT", "sources": []}
    sent = body(
        messages=[
            {"role": "developer", "content": "Be terse."},
            {"role": "user", "content": "Q"},
            {"role": "assistant", "content": "A", "citations": [citation], "refusal": None, "x_other": 1},
        ]
    )
    assert sent["messages"][0] == {"role": "system", "content": "Be terse."}
    assert sent["messages"][2] == {"role": "assistant", "content": "A", "citations": [citation]}
    spec.check(REQUEST_BODY, sent)


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        (
            {"role": "system", "content": [{"type": "image_url", "image_url": {"url": "https://e/x.png"}}]},
            "'image_url' parts in a system",
        ),
        (
            {"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "AA==", "format": "wav"}}]},
            "'input_audio'",
        ),
        (
            {"role": "assistant", "content": [{"type": "image_url", "image_url": {"url": "https://e/x.png"}}]},
            "an assistant",
        ),
        (
            {"role": "tool", "tool_call_id": "c", "content": [{"type": "file", "file": {}}]},
            "'file' parts in a tool result",
        ),
        ({"role": "critic", "content": "hm"}, "not 'critic'"),
        ({"role": "tool", "content": "no id"}, "tool_call_id"),
    ],
)
def test_content_cohere_cannot_take_is_an_error_not_a_silent_drop(message: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidRequestError, match=problem) as info:
        body(messages=[{"role": "user", "content": "Q"}, message])
    assert info.value.where and info.value.where.startswith("messages[1]")


def test_vendor_parameters_pass_through(spec: Any) -> None:
    params = {
        "thinking": {"type": "enabled", "token_budget": 512},
        "priority": 5,
        "logprobs": True,
        "strict_tools": True,
    }
    sent = body(params=params, tools=[WEATHER])
    assert {k: sent[k] for k in params} == params
    spec.check(REQUEST_BODY, sent)


def test_include_body_merges_but_request_fields_win_and_exclude_body_runs_last() -> None:
    adapter = make(
        include_body={"priority": 3, "stop_sequences": ["X"], "temperature": 0.9},
        exclude_body=("temperature",),
    )
    sent = body(adapter, params={"stop": ["END"], "temperature": 0.1})
    assert sent["priority"] == 3 and sent["stop_sequences"] == ["END"] and "temperature" not in sent
    assert body(adapter)["stop_sequences"] == ["X"]


@pytest.mark.parametrize(
    "field",
    [
        {"tool_choice": "required"},
        {"response_format": {"type": "json_schema", "json_schema": {}}},
        {"messages": [{"role": "developer", "content": "x"}]},
        {"stop_sequences": "END"},
        {"safety_mode": False},
    ],
)
def test_the_spec_check_rejects_what_cohere_rejects(spec: Any, field: dict[str, Any]) -> None:
    """The spec fixture is a real check: OpenAI-only shapes fail it."""
    assert spec.errors(REQUEST_BODY, {"model": DEFAULT_MODEL, "messages": HELLO, **field})
