"""The openai plugin: declaration, registration, options and its body differences."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

import pytest
from chatpipe.errors import ConfigError
from chatpipe.models import ChatRequest, Message
from chatpipe.provider import ProviderSettings
from chatpipe.registry import Registry
from chatpipe.secrets import Secret
from chatpipe_openai import OpenAIProvider, uses_max_completion_tokens

KEY = "sk-proj-PLANTED-openai-0123456789"


def make(**kwargs: Any) -> OpenAIProvider:
    return OpenAIProvider(
        ProviderSettings(base_url=OpenAIProvider.info.default_base_url or "", api_key=Secret(KEY), **kwargs)
    )


def body(adapter: OpenAIProvider, model: str = "gpt-4o-mini", **kwargs: Any) -> dict[str, Any]:
    request = ChatRequest(model=model, messages=(Message("user", "Hi"),), **kwargs)
    result: dict[str, Any] = adapter.build_chat(request).json
    return result


def test_declaration() -> None:
    info = OpenAIProvider.info
    assert (info.name, info.package, info.default_base_url) == (
        "openai",
        "chatpipe-openai",
        "https://api.openai.com/v1",
    )
    assert info.api_key_env == ("OPENAI_API_KEY",) and info.key_required
    assert info.default_model == "gpt-4o-mini"
    assert info.capabilities.vision and info.capabilities.reasoning
    assert info.required_converters == ()


def test_entry_point_name_is_the_registered_name() -> None:
    (ep,) = [e for e in entry_points(group="chatpipe.providers") if e.name == "openai"]
    assert ep.value == "chatpipe_openai"
    registry = Registry(entry_points=[])
    registry.register(ep.load())
    assert registry.provider("openai") is OpenAIProvider


def test_chat_request_goes_to_openai_with_bearer() -> None:
    http = make().build_chat(ChatRequest(model="gpt-4o-mini", messages=(Message("user", "Hi"),)))
    assert http.url == "https://api.openai.com/v1/chat/completions"
    assert http.headers["Authorization"] == f"Bearer {KEY}"


def test_organization_and_project_options_become_headers() -> None:
    OpenAIProvider.validate_options({"organization": "org-1", "project": "proj_2"})
    http = make(options={"organization": "org-1", "project": "proj_2"}).build_chat(
        ChatRequest(model="gpt-4o-mini", messages=(Message("user", "Hi"),))
    )
    assert http.headers["OpenAI-Organization"] == "org-1" and http.headers["OpenAI-Project"] == "proj_2"
    assert make().build_models().headers.get("OpenAI-Organization") is None


@pytest.mark.parametrize("options", [{"org": "x"}, {"organization": 5}, {"prefix": True}])
def test_unknown_or_mistyped_options_are_config_errors(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="organization"):
        OpenAIProvider.validate_options(options)


@pytest.mark.parametrize(
    ("model", "renamed"),
    [
        ("o1", True),
        ("o1-mini", True),
        ("o3-mini", True),
        ("o4-mini", True),
        ("gpt-5", True),
        ("gpt-5-mini", True),
        ("openai/o3", True),
        ("gpt-4o-mini", False),
        ("gpt-4.1", False),
        ("o10-fake", False),
    ],
)
def test_max_tokens_becomes_max_completion_tokens_for_reasoning_models(model: str, renamed: bool) -> None:
    assert uses_max_completion_tokens(model) is renamed
    sent = body(make(), model, params={"max_tokens": 300})
    if renamed:
        assert sent["max_completion_tokens"] == 300 and "max_tokens" not in sent
    else:
        assert sent["max_tokens"] == 300 and "max_completion_tokens" not in sent


def test_an_explicit_max_completion_tokens_wins() -> None:
    sent = body(make(), "o3", params={"max_tokens": 300, "max_completion_tokens": 900})
    assert sent["max_completion_tokens"] == 900 and "max_tokens" not in sent


def test_audio_data_urls_are_sent_as_input_audio() -> None:
    from chatpipe import wire

    messages = wire.messages_from_dicts(
        [{"role": "user", "content": [{"type": "audio_url", "audio_url": {"url": "data:audio/wav;base64,UklGRg=="}}]}]
    )
    sent = make().build_chat(ChatRequest(model="gpt-4o-audio-preview", messages=messages)).json
    assert sent["messages"][0]["content"] == [
        {"type": "input_audio", "input_audio": {"format": "wav", "data": "UklGRg=="}}
    ]


def test_401_hint_names_openai_api_key() -> None:
    from chatpipe.http import HttpResponse

    error = make().parse_error(
        HttpResponse(
            401, {}, b'{"error": {"message": "Incorrect API key provided: sk-proj-PLANTED-openai-0123456789"}}'
        )
    )
    assert "OPENAI_API_KEY" in str(error) and "chatpipe keys set openai" in str(error)
    assert KEY not in str(error)


@pytest.mark.parametrize(
    ("model", "effort", "sent_effort"),
    [
        ("o3-mini", "low", {"reasoning_effort": "low"}),
        ("gpt-5", "minimal", {"reasoning_effort": "minimal"}),
        ("gpt-5", "auto", {}),
        ("gpt-4o-mini", "high", {}),
        ("gpt-4.1", "low", {}),
    ],
)
def test_reasoning_effort_goes_to_reasoning_models_only(
    openai_spec: Any, model: str, effort: str, sent_effort: dict[str, str]
) -> None:
    sent = body(make(), model, params={"reasoning_effort": effort, "temperature": 1})
    assert sent == {
        "model": model,
        "messages": [{"role": "user", "content": "Hi"}],
        "stream": False,
        "temperature": 1,
        **sent_effort,
    }
    openai_spec.check("CreateChatCompletionRequest", sent)  # type: ignore[attr-defined]


def test_include_body_can_force_reasoning_effort() -> None:
    sent = body(make(include_body={"reasoning_effort": "low"}), "gpt-4o-mini")
    assert sent["reasoning_effort"] == "low"
