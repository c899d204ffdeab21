"""The openrouter plugin: declaration, attribution headers, passthrough fields, reasoning mapping, explain."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from chatpipe import Pipeline, wire
from chatpipe.errors import ConfigError, InvalidRequestError
from chatpipe.models import ChatRequest
from chatpipe.provider import ProviderSettings
from chatpipe.registry import Registry
from chatpipe.secrets import Secret
from chatpipe.testing import FakeResponse
from chatpipe_openrouter import OpenRouterProvider

CHATPIPE = str(Path(sys.executable).parent / "chatpipe")
KEY = "sk-or-v1-PLANTED-openrouter-0123456789abcdef"
HI = [{"role": "user", "content": "Hi"}]


def make(**kwargs: Any) -> OpenRouterProvider:
    base = kwargs.pop("base_url", OpenRouterProvider.info.default_base_url)
    return OpenRouterProvider(ProviderSettings(base_url=base, api_key=Secret(KEY), **kwargs))


def request(messages: list[dict[str, Any]] = HI, **kwargs: Any) -> ChatRequest:
    return ChatRequest(model="openai/gpt-4o-mini", messages=wire.messages_from_dicts(messages), **kwargs)


def sent(adapter: OpenRouterProvider, req: ChatRequest) -> dict[str, Any]:
    body: dict[str, Any] = adapter.build_chat(adapter.prepare(req)).json
    return body


def test_declaration() -> None:
    info = OpenRouterProvider.info
    assert (info.name, info.package, info.display_name) == ("openrouter", "chatpipe-openrouter", "OpenRouter")
    assert info.default_base_url == "https://openrouter.ai/api/v1"
    assert info.api_key_env == ("OPENROUTER_API_KEY",)
    assert info.default_model == "openrouter/auto"
    assert info.required_converters == ()
    assert info.capabilities.reasoning and info.capabilities.vision and info.capabilities.tools


def test_entry_point_registers_the_class() -> None:
    (ep,) = [e for e in entry_points(group="chatpipe.providers") if e.name == "openrouter"]
    registry = Registry(entry_points=[])
    registry.register(ep.load())
    assert registry.provider("openrouter") is OpenRouterProvider


def test_urls() -> None:
    adapter = make()
    assert adapter.build_chat(request()).url == "https://openrouter.ai/api/v1/chat/completions"
    assert adapter.build_models().url == "https://openrouter.ai/api/v1/models"


# --- attribution options ------------------------------------------------------------------


def test_attribution_options_become_headers() -> None:
    options = {"site_url": "https://example.com/app", "app_name": "My App"}
    OpenRouterProvider.validate_options(options)
    headers = make(options=options).build_chat(request()).headers
    assert headers["HTTP-Referer"] == "https://example.com/app"
    assert headers["X-OpenRouter-Title"] == headers["X-Title"] == "My App"


def test_no_attribution_headers_without_the_options() -> None:
    headers = {name.lower() for name in make().build_chat(request()).headers}
    assert headers.isdisjoint({"http-referer", "x-title", "x-openrouter-title"})
    assert "authorization" in headers


def test_profile_headers_still_win_over_the_options() -> None:
    adapter = make(options={"app_name": "Option"}, headers={"X-Title": "Header"})
    headers = adapter.build_chat(request()).headers
    assert headers["X-Title"] == "Header" and headers["X-OpenRouter-Title"] == "Option"


@pytest.mark.parametrize(
    ("options", "path", "words"),
    [
        ({"site_url": "example.com"}, "options.site_url", "http(s) URL"),
        ({"site_url": "ftp://example.com"}, "options.site_url", "http(s) URL"),
        ({"site_url": "https://example.com\r\nX-Evil: 1"}, "options.site_url", "http(s) URL"),
        ({"site_url": 42}, "options.site_url", "must be a str"),
        ({"app_name": ""}, "options.app_name", "one line"),
        ({"app_name": "two\nlines"}, "options.app_name", "one line"),
        ({"title": "x"}, "options", "site_url"),
    ],
)
def test_bad_options_are_config_errors_naming_the_option(options: dict[str, Any], path: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")) as info:
        OpenRouterProvider.validate_options(options)
    assert info.value.path == path


def test_a_bad_option_in_a_pipeline_fails_before_any_call() -> None:
    with pytest.raises(ConfigError, match="site_url"):
        Pipeline("openrouter", api_key=KEY, options={"site_url": "not a url"})


# --- body ---------------------------------------------------------------------------------

ROUTING = {
    "provider": {
        "order": ["anthropic", "amazon-bedrock"],
        "allow_fallbacks": False,
        "only": ["anthropic", "amazon-bedrock"],
        "ignore": ["together"],
        "sort": "throughput",
        "data_collection": "deny",
        "require_parameters": True,
    },
    "models": ["anthropic/claude-sonnet-4.5", "openai/gpt-4o"],
    "route": "fallback",
    "transforms": ["middle-out"],
    "usage": {"include": True},
    "top_k": 40,
    "min_p": 0.05,
    "repetition_penalty": 1.1,
}


def test_openrouters_own_fields_pass_through_unchanged(openai_spec: Any) -> None:
    body = sent(make(), request(params={**ROUTING, "temperature": 0.3}))
    assert body == {
        "model": "openai/gpt-4o-mini",
        "messages": HI,
        "stream": False,
        "temperature": 0.3,
        **ROUTING,
    }
    openai_spec.check("CreateChatCompletionRequest", body)


def test_openrouters_fields_are_declared_for_config_check() -> None:
    info = OpenRouterProvider.info
    assert not info.extra_params
    assert info.param_problems({**ROUTING, "reasoning": {"effort": "low"}, "plugins": [], "top_a": 0.1}) == []
    ((name, problem),) = info.param_problems({"provder": {}})
    assert name == "provder" and "did you mean 'provider'" in problem
    ((name, problem),) = info.param_problems({"models": "openai/gpt-4o"})
    assert name == "models" and "array" in problem


@pytest.mark.parametrize(
    ("effort", "reasoning"),
    [
        ("none", {"effort": "none"}),
        ("minimal", {"effort": "minimal"}),
        ("min", {"effort": "minimal"}),
        ("low", {"effort": "low"}),
        ("medium", {"effort": "medium"}),
        ("HIGH", {"effort": "high"}),
        ("xhigh", {"effort": "xhigh"}),
        ("max", {"effort": "xhigh"}),
        ("auto", None),
    ],
)
def test_reasoning_effort_becomes_reasoning_effort_field(
    openai_spec: Any, effort: str, reasoning: dict[str, Any] | None
) -> None:
    body = sent(make(), request(params={"reasoning_effort": effort}))
    assert "reasoning_effort" not in body
    assert body.get("reasoning") == reasoning
    openai_spec.check("CreateChatCompletionRequest", body)


def test_a_reasoning_object_of_ones_own_wins_over_reasoning_effort() -> None:
    given = {"max_tokens": 2000, "exclude": True}
    body = sent(make(), request(params={"reasoning": given, "reasoning_effort": "high"}))
    assert body["reasoning"] == given and "reasoning_effort" not in body


def test_no_reasoning_field_when_nothing_asks_for_it() -> None:
    assert "reasoning" not in sent(make(), request())


def test_an_unknown_reasoning_effort_is_a_clear_error() -> None:
    with pytest.raises(InvalidRequestError, match="reasoning_effort 'huge' is not one of") as info:
        sent(make(), request(params={"reasoning_effort": "huge"}))
    assert info.value.where == "reasoning_effort"


def test_include_body_can_send_reasoning_effort_as_is() -> None:
    body = sent(make(include_body={"reasoning_effort": "high"}), request())
    assert body["reasoning_effort"] == "high" and "reasoning" not in body


def test_a_streamed_request_asks_for_usage(openai_spec: Any) -> None:
    body = sent(make(), request(stream=True))
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    openai_spec.check("CreateChatCompletionRequest", body)


# --- explain ------------------------------------------------------------------------------


def test_explain_shows_the_real_url_headers_and_body_with_the_key_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    pipe = Pipeline(
        "openrouter",
        model="anthropic/claude-sonnet-4.5",
        options={"site_url": "https://example.com", "app_name": "My App"},
    )
    routing = {"provider": {"order": ["anthropic"]}, "models": ["openai/gpt-4o"]}
    explained = pipe.explain(HI, reasoning_effort="low", **routing).request
    assert explained["url"] == "https://openrouter.ai/api/v1/chat/completions"
    assert explained["headers"]["Authorization"] == "***"
    assert explained["headers"]["HTTP-Referer"] == "https://example.com"
    assert explained["json"] == {
        "model": "anthropic/claude-sonnet-4.5",
        "messages": HI,
        "stream": False,
        "provider": {"order": ["anthropic"]},
        "models": ["openai/gpt-4o"],
        "reasoning": {"effort": "low"},
    }
    assert KEY not in json.dumps(explained) + repr(pipe) + repr(pipe.adapter)


def test_the_key_and_headers_go_over_the_wire(fake_server: Any) -> None:
    reply = {
        "id": "gen-1",
        "object": "chat.completion",
        "created": 1,
        "model": "openai/gpt-4o-mini",
        "provider": "OpenAI",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello"}, "finish_reason": "stop"}],
    }
    fake_server.enqueue("POST /api/v1/chat/completions", FakeResponse.json(reply))
    pipe = Pipeline(
        "openrouter",
        model="openai/gpt-4o-mini",
        base_url=f"{fake_server.url}/api/v1",
        api_key=KEY,
        options={"site_url": "https://example.com", "app_name": "My App"},
    )
    answer = pipe.complete(HI, transforms=["middle-out"])
    assert answer.text == "Hello" and answer.extra["provider"] == "OpenAI"
    (seen,) = fake_server.requests
    assert seen.headers["authorization"] == f"Bearer {KEY}"
    assert (seen.headers["http-referer"], seen.headers["x-title"]) == ("https://example.com", "My App")
    assert seen.json["transforms"] == ["middle-out"]


CONFIG = """\
profiles:
  router:
    provider: openrouter
    model: anthropic/claude-sonnet-4.5
    options: {site_url: https://example.com, app_name: My App}
    params:
      provider: {order: [anthropic, amazon-bedrock], allow_fallbacks: false}
      models: [openai/gpt-4o]
      reasoning_effort: max
"""


def test_explain_cli_shows_the_profile_body(tmp_path: Path) -> None:
    config = tmp_path / "chatpipe.yaml"
    config.write_text(CONFIG)
    result = subprocess.run(
        [CHATPIPE, "--config", str(config), "explain", "-p", "router", "--json", "Hi"],
        cwd=tmp_path,
        env={**os.environ, "OPENROUTER_API_KEY": KEY},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert KEY not in result.stdout + result.stderr
    explained = json.loads(result.stdout)["request"]
    assert explained["url"] == "https://openrouter.ai/api/v1/chat/completions"
    assert explained["headers"]["Authorization"] == "***"
    assert explained["headers"]["X-OpenRouter-Title"] == "My App"
    body = explained["json"]
    assert body["provider"] == {"order": ["anthropic", "amazon-bedrock"], "allow_fallbacks": False}
    assert body["models"] == ["openai/gpt-4o"]
    assert body["reasoning"] == {"effort": "xhigh"} and "reasoning_effort" not in body
