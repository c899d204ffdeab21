"""Request building: URL, headers, body fields and the include/exclude precedence (reference 3.9)."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from chatpipe import wire
from chatpipe.errors import ChatpipeWarning, ConfigError, InvalidRequestError
from chatpipe.models import ChatRequest, Message
from chatpipe.openai_compat import audio_url_to_input_audio

MESSAGES = wire.messages_from_dicts([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])
TOOLS = wire.tools_from_dicts(
    [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            },
        }
    ]
)


def request(**kwargs: Any) -> ChatRequest:
    return ChatRequest(model=kwargs.pop("model", "gpt-4o-mini"), messages=kwargs.pop("messages", MESSAGES), **kwargs)


def test_plain_request_is_a_post_to_chat_completions_with_core_fields(provider: Any) -> None:
    http = provider.build_chat(request())
    assert (http.method, http.url) == ("POST", "https://api.example.test/v1/chat/completions")
    assert http.json == {
        "model": "gpt-4o-mini",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        "stream": False,
    }


def test_headers_carry_bearer_key_json_types_and_mark_the_secret(provider: Any, planted_key: str) -> None:
    http = provider.build_chat(request())
    assert http.headers["Authorization"] == f"Bearer {planted_key}"
    assert http.headers["Content-Type"] == "application/json"
    assert http.headers["Accept"] == "application/json"
    assert "Authorization" in http.secret_headers
    assert planted_key not in repr(http)
    assert planted_key not in str(http.redacted())


def test_each_request_gets_its_own_headers_dict(provider: Any) -> None:
    # Headers are pre-built once per adapter; a caller (or a before-send hook) changing one
    # request's headers must not leak into the next request, nor into the model-list request.
    first = provider.build_chat(request())
    first.headers["X-Mutated"] = "yes"
    del first.headers["Accept"]
    second = provider.build_chat(request())
    assert "X-Mutated" not in second.headers and second.headers["Accept"] == "application/json"
    models = provider.build_models()
    assert "Content-Type" not in models.headers
    assert provider.build_chat(request()).headers["Content-Type"] == "application/json"
    assert provider.build_chat(request(stream=True)).headers["Accept"] == "text/event-stream"


def test_streaming_asks_for_event_stream_and_usage(provider: Any) -> None:
    http = provider.build_chat(request(stream=True))
    assert http.headers["Accept"] == "text/event-stream"
    assert http.json["stream"] is True
    assert http.json["stream_options"] == {"include_usage": True}


def test_stream_options_can_be_switched_off_by_a_vendor(make_provider: Any) -> None:
    adapter = make_provider()
    type(adapter).stream_usage = False
    try:
        assert "stream_options" not in adapter.build_chat(request(stream=True)).json
    finally:
        del type(adapter).stream_usage


def test_no_key_means_no_authorization_header_at_all(make_provider: Any) -> None:
    http = make_provider(key=None).build_chat(request())
    assert not any(h.lower() == "authorization" for h in http.headers)
    assert http.secret_headers == frozenset()


def test_settings_headers_are_added_and_may_override_case_insensitively(make_provider: Any, planted_key: str) -> None:
    adapter = make_provider(headers={"X-Team": "a", "accept": "application/x-ndjson", "authorization": "Token other"})
    http = adapter.build_chat(request())
    assert http.headers["X-Team"] == "a"
    assert http.headers["accept"] == "application/x-ndjson"
    assert "Accept" not in http.headers
    assert http.headers["authorization"] == "Token other"
    assert "Authorization" not in http.headers
    assert "authorization" in http.secret_headers


def test_a_settings_header_that_contains_the_key_is_secret(make_provider: Any, planted_key: str) -> None:
    http = make_provider(headers={"api-key": planted_key, "X-Plain": "1"}).build_chat(request())
    assert http.headers["api-key"] == planted_key
    assert "api-key" in http.secret_headers
    assert "X-Plain" not in http.secret_headers
    assert planted_key not in repr(http)


def test_tools_and_tool_choice_are_sent_only_with_tools(provider: Any) -> None:
    with_tools = provider.build_chat(request(tools=TOOLS, tool_choice="auto")).json
    assert with_tools["tools"] == [wire.tool_to_dict(TOOLS[0])]
    assert with_tools["tool_choice"] == "auto"
    without = provider.build_chat(request(tool_choice="auto")).json
    assert "tools" not in without and "tool_choice" not in without


def test_params_are_spread_in_and_none_means_omit(provider: Any) -> None:
    body = provider.build_chat(
        request(params={"temperature": 0.3, "max_tokens": 50, "seed": None, "stream_options": None}, stream=True)
    ).json
    assert body["temperature"] == 0.3 and body["max_tokens"] == 50
    assert "seed" not in body
    assert "stream_options" not in body


@pytest.mark.parametrize("key", ["model", "messages", "tools", "tool_choice", "stream"])
def test_reserved_keys_in_params_are_rejected(provider: Any, key: str) -> None:
    with pytest.raises(InvalidRequestError, match=key):
        provider.build_chat(request(params={key: "x"}))


def test_include_body_overrides_core_fields(make_provider: Any) -> None:
    adapter = make_provider(include_body={"model": "other", "temperature": 1.5, "min_p": 0.1})
    body = adapter.build_chat(request(params={"temperature": 0.2})).json
    assert body["model"] == "other"
    assert body["temperature"] == 1.5
    assert body["min_p"] == 0.1


def test_request_stop_tools_tool_choice_response_format_win_over_include_body(make_provider: Any) -> None:
    include = {
        "stop": ["INCLUDED"],
        "tools": [],
        "tool_choice": "none",
        "response_format": {"type": "text"},
    }
    adapter = make_provider(include_body=include)
    fmt = {"type": "json_object"}
    body = adapter.build_chat(
        request(tools=TOOLS, tool_choice="required", params={"stop": ["END"], "response_format": fmt})
    ).json
    assert body["stop"] == ["END"]
    assert body["tools"] == [wire.tool_to_dict(TOOLS[0])]
    assert body["tool_choice"] == "required"
    assert body["response_format"] == fmt


def test_include_body_fills_stop_and_response_format_when_the_request_has_none(make_provider: Any) -> None:
    adapter = make_provider(include_body={"stop": ["INCLUDED"], "response_format": {"type": "json_object"}})
    body = adapter.build_chat(request()).json
    assert body["stop"] == ["INCLUDED"]
    assert body["response_format"] == {"type": "json_object"}


def test_exclude_body_runs_last_and_can_remove_core_and_included_keys(make_provider: Any) -> None:
    adapter = make_provider(include_body={"min_p": 0.1}, exclude_body=("min_p", "stream", "frequency_penalty"))
    body = adapter.build_chat(request(params={"frequency_penalty": 0.5})).json
    assert "min_p" not in body and "stream" not in body and "frequency_penalty" not in body
    assert body["model"] == "gpt-4o-mini"


def test_adjust_body_hook_runs_before_include_and_exclude(make_provider: Any) -> None:
    adapter = make_provider(include_body={"top_k": 5})

    def drop_top_k(body: dict[str, Any], req: ChatRequest) -> dict[str, Any]:
        body.pop("top_k", None)
        body["vendor_flag"] = True
        return body

    adapter.adjust_body = drop_top_k
    body = adapter.build_chat(request(params={"top_k": 40})).json
    assert body["top_k"] == 5, "include_body is the user's explicit choice and wins over the vendor hook"
    assert body["vendor_flag"] is True


def test_building_never_mutates_the_request(provider: Any) -> None:
    req = request(
        tools=TOOLS, tool_choice={"type": "function", "function": {"name": "get_weather"}}, params={"temperature": 0.1}
    )
    before = wire.messages_to_dicts(req.messages), dict(req.params)
    body = provider.build_chat(req).json
    body["messages"].append({"role": "user", "content": "mutated"})
    body["tool_choice"]["function"]["name"] = "changed"
    assert (wire.messages_to_dicts(req.messages), dict(req.params)) == before


def test_message_extras_such_as_prefix_and_reasoning_content_are_kept(provider: Any) -> None:
    messages = wire.messages_from_dicts(
        [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Sure", "prefix": True}]
    )
    body = provider.build_chat(request(messages=messages)).json
    assert body["messages"][1] == {"role": "assistant", "content": "Sure", "prefix": True}


# --- audio data URLs -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("data:audio/wav;base64,UklGRg==", {"format": "wav", "data": "UklGRg=="}),
        ("data:audio/mpeg;base64,SUQz", {"format": "mp3", "data": "SUQz"}),
        ("data:audio/ogg;base64,T2dn", {"format": "mp3", "data": "T2dn"}),
    ],
)
def test_audio_data_urls_become_input_audio(url: str, expected: dict[str, str]) -> None:
    part = {"type": "audio_url", "audio_url": {"url": url}}
    assert audio_url_to_input_audio(part) == {"type": "input_audio", "input_audio": expected}


def test_audio_http_urls_and_other_parts_are_left_alone() -> None:
    assert audio_url_to_input_audio({"type": "audio_url", "audio_url": {"url": "https://x.test/a.mp3"}}) is None
    assert audio_url_to_input_audio({"type": "video_url", "video_url": {"url": "data:video/mp4;base64,AA"}}) is None


def test_audio_rewrite_applies_only_when_the_vendor_declares_it(make_provider: Any) -> None:
    content = [
        {"type": "text", "text": "Listen"},
        {"type": "audio_url", "audio_url": {"url": "data:audio/wav;base64,UklGRg=="}},
    ]
    req = request(
        messages=(Message("user", wire.messages_from_dicts([{"role": "user", "content": content}])[0].content),)
    )
    adapter = make_provider()
    assert adapter.build_chat(req).json["messages"][0]["content"][1]["type"] == "audio_url"
    type(adapter).rewrite_audio = True
    try:
        part = adapter.build_chat(req).json["messages"][0]["content"][1]
    finally:
        del type(adapter).rewrite_audio
    assert part == {"type": "input_audio", "input_audio": {"format": "wav", "data": "UklGRg=="}}


# --- URLs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "chat", "models"),
    [
        ("http://127.0.0.1:1234/v1", "http://127.0.0.1:1234/v1/chat/completions", "http://127.0.0.1:1234/v1/models"),
        ("http://127.0.0.1:1234/v1/", "http://127.0.0.1:1234/v1/chat/completions", "http://127.0.0.1:1234/v1/models"),
        ("http://127.0.0.1:1234/v1//", "http://127.0.0.1:1234/v1/chat/completions", "http://127.0.0.1:1234/v1/models"),
        ("http://127.0.0.1:1234", "http://127.0.0.1:1234/chat/completions", "http://127.0.0.1:1234/models"),
        ("http://127.0.0.1:1234/", "http://127.0.0.1:1234/chat/completions", "http://127.0.0.1:1234/models"),
    ],
)
def test_urls_never_double_slashes(make_provider: Any, base: str, chat: str, models: str) -> None:
    adapter = make_provider(base_url=base)
    assert adapter.build_chat(request()).url == chat
    assert adapter.build_models().url == models


@pytest.mark.parametrize(
    "base", ["http://127.0.0.1:1234/v1/chat/completions", "http://127.0.0.1:1234/v1/chat/completions/"]
)
def test_a_chat_completions_suffix_is_corrected_with_a_warning(make_provider: Any, base: str) -> None:
    with pytest.warns(ChatpipeWarning, match="http://127.0.0.1:1234/v1'"):
        adapter = make_provider(base_url=base)
    assert adapter.build_chat(request()).url == "http://127.0.0.1:1234/v1/chat/completions"


def test_a_clean_base_url_gives_no_warning(make_provider: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_provider(base_url="http://127.0.0.1:1234/v1")


@pytest.mark.parametrize("base", ["", "127.0.0.1:1234/v1", "ftp://host/v1", "http://"])
def test_an_invalid_base_url_is_a_config_error_that_shows_the_form(make_provider: Any, base: str) -> None:
    with pytest.raises(ConfigError, match="http"):
        make_provider(base_url=base)


def test_model_list_request_reuses_auth_and_headers_without_a_body(make_provider: Any, planted_key: str) -> None:
    http = make_provider(headers={"X-Team": "a"}).build_models()
    assert http.method == "GET" and http.json is None
    assert http.headers["Authorization"] == f"Bearer {planted_key}"
    assert http.headers["X-Team"] == "a"
    assert "Content-Type" not in http.headers
    assert "Authorization" in http.secret_headers


def test_status_check_is_the_model_list_request(provider: Any) -> None:
    assert provider.build_check().url == provider.build_models().url


def test_model_list_request_survives_a_user_content_type_override(make_provider: Any) -> None:
    http = make_provider(headers={"content-type": "application/json; charset=utf-8"}).build_models()
    assert http.headers["content-type"] == "application/json; charset=utf-8"
