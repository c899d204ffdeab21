"""The custom plugin: required base URL, optional key, URL rules and the /v1 hint."""

from __future__ import annotations

import warnings
from importlib.metadata import entry_points
from typing import Any

import pytest
from chatpipe.errors import ChatpipeWarning, ConfigError, NotFoundError
from chatpipe.http import HttpResponse
from chatpipe.models import ChatRequest, Message
from chatpipe.provider import ProviderSettings
from chatpipe.registry import Registry
from chatpipe.secrets import Secret
from chatpipe_custom import CustomProvider

REQUEST = ChatRequest(model="local-model", messages=(Message("user", "Hi"),))


def make(base_url: str, key: str | None = None, **kwargs: Any) -> CustomProvider:
    return CustomProvider(ProviderSettings(base_url=base_url, api_key=Secret(key) if key else None, **kwargs))


def test_declaration() -> None:
    info = CustomProvider.info
    assert (info.name, info.package) == ("custom", "chatpipe-custom")
    assert info.default_base_url is None and info.key_required is False and info.api_key_env == ()
    assert info.required_converters == ()


def test_entry_point_registers_the_class() -> None:
    (ep,) = [e for e in entry_points(group="chatpipe.providers") if e.name == "custom"]
    registry = Registry(entry_points=[])
    registry.register(ep.load())
    assert registry.provider("custom") is CustomProvider


def test_no_key_no_authorization_header() -> None:
    http = make("http://127.0.0.1:1234/v1").build_chat(REQUEST)
    assert all(h.lower() != "authorization" for h in http.headers)


def test_a_key_is_sent_as_bearer_when_given() -> None:
    http = make("http://127.0.0.1:1234/v1", key="lm-studio-key-1234").build_chat(REQUEST)
    assert http.headers["Authorization"] == "Bearer lm-studio-key-1234"


@pytest.mark.parametrize(
    ("base", "url"),
    [
        ("http://127.0.0.1:1234/v1", "http://127.0.0.1:1234/v1/chat/completions"),
        ("http://127.0.0.1:1234/v1/", "http://127.0.0.1:1234/v1/chat/completions"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/chat/completions"),
        ("https://proxy.test/openai/v1/", "https://proxy.test/openai/v1/chat/completions"),
    ],
)
def test_trailing_slashes_never_double_the_path(base: str, url: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert make(base).build_chat(REQUEST).url == url


def test_chat_completions_suffix_is_corrected_with_a_warning() -> None:
    with pytest.warns(ChatpipeWarning, match="ends in /chat/completions"):
        adapter = make("http://127.0.0.1:1234/v1/chat/completions")
    assert adapter.build_chat(REQUEST).url == "http://127.0.0.1:1234/v1/chat/completions"
    assert adapter.build_models().url == "http://127.0.0.1:1234/v1/models"


def test_options_other_than_text_completion_are_rejected() -> None:
    with pytest.raises(ConfigError, match="it accepts: text_completion"):
        CustomProvider.validate_options({"prefix": True})


def test_check_hint_suggests_v1_for_a_404_without_a_version() -> None:
    adapter = make("http://127.0.0.1:8080/")
    hint = adapter.check_hint(HttpResponse(404, {}, b"Not Found"))
    assert hint == (
        "the server answered 404 for http://127.0.0.1:8080/models; many OpenAI-compatible servers live under /v1 "
        "— try base_url http://127.0.0.1:8080/v1"
    )


@pytest.mark.parametrize(("base", "status"), [("http://127.0.0.1:8080/v1", 404), ("http://127.0.0.1:8080", 500)])
def test_no_check_hint_when_v1_is_there_or_the_status_is_not_404(base: str, status: int) -> None:
    assert make(base).check_hint(HttpResponse(status, {}, b"")) is None


def test_404_errors_also_suggest_v1() -> None:
    error = make("http://127.0.0.1:8080").parse_error(HttpResponse(404, {}, b'{"detail": "Not Found"}'))
    assert isinstance(error, NotFoundError)
    assert "try base_url http://127.0.0.1:8080/v1" in str(error)


def test_include_headers_and_body_apply() -> None:
    adapter = make(
        "http://127.0.0.1:1234/v1",
        headers={"X-Team": "a"},
        include_body={"min_p": 0.1},
        exclude_body=("frequency_penalty",),
    )
    http = adapter.build_chat(
        ChatRequest(model="m", messages=(Message("user", "Hi"),), params={"frequency_penalty": 0.3})
    )
    assert http.headers["X-Team"] == "a"
    assert http.json["min_p"] == 0.1 and "frequency_penalty" not in http.json


def test_reasoning_field_from_local_servers_is_read() -> None:
    body = (
        b'\n{"choices": [{"index": 0, "message": {"role": "assistant", "content": "4", "reasoning": "2+2"},'
        b' "finish_reason": "eos"}]}'
    )
    reply = make("http://127.0.0.1:1234/v1").parse_chat(HttpResponse(200, {}, body))
    assert (reply.text, reply.reasoning, reply.finish_reason, reply.choices[0].raw_finish_reason) == (
        "4",
        "2+2",
        "stop",
        "eos",
    )


def test_the_text_completion_option_sends_the_profile_to_completions() -> None:
    CustomProvider.validate_options({"text_completion": True})
    with pytest.raises(ConfigError, match="must be a bool"):
        CustomProvider.validate_options({"text_completion": "yes"})
    request = ChatRequest(model="local", messages=(Message("system", "Rules."), Message("user", "Hi")))
    settings = ProviderSettings(base_url="http://127.0.0.1:1234/v1", options={"text_completion": True})
    http = CustomProvider(settings).build_chat(request)
    assert http.url == "http://127.0.0.1:1234/v1/completions"
    assert http.json == {"model": "local", "prompt": "System: Rules.\nuser: Hi\nassistant:", "stream": False}
    assert make("http://127.0.0.1:1234/v1").build_chat(request).url == "http://127.0.0.1:1234/v1/chat/completions"
