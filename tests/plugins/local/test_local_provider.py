"""The ``local`` provider: declaration, options, registration, key handling and tools."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

import pytest
from chatpipe import Pipeline
from chatpipe.errors import AuthenticationError, ConfigError, InvalidRequestError
from chatpipe.provider import ProviderSettings
from chatpipe.registry import Registry
from chatpipe.secrets import Secret
from chatpipe_local import LocalProvider, ServerSettings
from chatpipe_local._provider import PLACEHOLDER_BASE_URL
from chatpipe_local._settings import DEFAULT_ALIAS, resolve_chat_template

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
FORCED_CALL = [
    {"role": "user", "content": "What is the weather in Paris?"},
    {"role": "assistant", "content": "<tool_call>\n"},
]


def test_declaration() -> None:
    info = LocalProvider.info
    assert (info.name, info.package, info.display_name) == ("local", "chatpipe-local", "Local model (llama.cpp)")
    assert info.key_required is False and info.api_key_env == ()
    assert info.default_model == DEFAULT_ALIAS == "smollm2-135m-instruct"
    assert info.default_base_url == PLACEHOLDER_BASE_URL


def test_entry_points_name_the_provider_and_the_command() -> None:
    providers = {e.name: e.value for e in entry_points(group="chatpipe.providers")}
    commands = {e.name: e.value for e in entry_points(group="chatpipe.commands")}
    assert providers["local"] == "chatpipe_local"
    assert commands["local"] == "chatpipe_local._commands"


def test_registry_loads_it_by_name() -> None:
    assert Registry().provider("local") is LocalProvider


def test_constructing_a_pipeline_starts_nothing() -> None:
    pipe = Pipeline("local", options={"ctx_size": 999})
    adapter = pipe.adapter
    assert isinstance(adapter, LocalProvider)
    assert adapter.server.pid is None and not adapter.server.running
    assert pipe.model == DEFAULT_ALIAS


@pytest.mark.parametrize(
    ("options", "fragment", "path"),
    [
        ({"modle_path": "x.gguf"}, "unknown option(s) ['modle_path']", "options"),
        ({"threads": "2"}, "must be a int", "options.threads"),
        ({"threads": 0}, "positive number of threads", "options.threads"),
        ({"port": 70000}, "up to 65535", "options.port"),
        ({"parallel": True}, "must be a int", "options.parallel"),
        ({"startup_timeout": 0}, "positive number of seconds", "options.startup_timeout"),
    ],
)
def test_bad_options_are_config_errors(options: dict[str, Any], fragment: str, path: str) -> None:
    with pytest.raises(ConfigError) as info:
        Pipeline("local", options=options)
    assert fragment in str(info.value) and info.value.path == path


def test_unknown_option_lists_the_accepted_ones() -> None:
    with pytest.raises(ConfigError) as info:
        LocalProvider.validate_options({"gpu": 1})
    for name in ("model_path", "ctx_size", "threads", "parallel", "chat_template", "api_key", "port"):
        assert name in str(info.value)


def test_a_base_url_is_refused_with_the_alternative() -> None:
    with pytest.raises(ConfigError) as info:
        Pipeline("local", base_url="http://127.0.0.1:8080/v1")
    assert "provider 'custom'" in str(info.value)


def test_options_become_server_settings() -> None:
    adapter = LocalProvider(
        ProviderSettings(
            base_url=PLACEHOLDER_BASE_URL,
            options={"ctx_size": 2048, "threads": 2, "parallel": 3, "chat_template": "tools", "port": 0},
        )
    )
    assert adapter.server_settings == ServerSettings(ctx_size=2048, threads=2, parallel=3, chat_template="tools")


def test_api_key_option_moves_into_a_secret_and_out_of_every_repr() -> None:
    pipe = Pipeline("local", options={"api_key": "sk-local-abcdef"})
    adapter = pipe.adapter
    assert isinstance(adapter, LocalProvider)
    assert adapter.settings.api_key == Secret("sk-local-abcdef")
    assert adapter.server_settings.api_key == Secret("sk-local-abcdef")
    assert "api_key" not in adapter.settings.options
    for text in (
        repr(pipe),
        repr(adapter),
        repr(adapter.settings),
        repr(adapter.server_settings),
        repr(adapter.server),
    ):
        assert "sk-local-abcdef" not in text


def test_pipeline_api_key_is_the_server_key_when_no_option_gives_one() -> None:
    adapter = Pipeline("local", api_key="sk-from-argument").adapter
    assert isinstance(adapter, LocalProvider)
    assert adapter.server_settings.api_key == Secret("sk-from-argument")


def test_builtin_tools_template_ships_with_the_package() -> None:
    path = resolve_chat_template("tools")
    assert path is not None
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    assert "<tools>" in text and "<tool_call>" in text and "<tool_response>" in text and "<|im_start|>" in text


@pytest.mark.local_server
def test_tools_need_a_tools_template() -> None:
    with pytest.raises(InvalidRequestError) as info:
        Pipeline("local", max_tokens=2).complete(FORCED_CALL, tools=[WEATHER_TOOL])
    assert "chat_template: tools" in str(info.value)


@pytest.mark.local_server
def test_tools_template_without_tools_renders_like_the_model_template(fresh_settings: Callable[..., Any]) -> None:
    conversations = [
        [{"role": "user", "content": "Hello"}],
        [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Name a fruit."}],
    ]
    plain = Pipeline("local", options={"ctx_size": fresh_settings().ctx_size}, temperature=0, max_tokens=6)
    tools_ctx = fresh_settings(chat_template="tools").ctx_size
    shipped = Pipeline("local", options={"ctx_size": tools_ctx, "chat_template": "tools"}, temperature=0, max_tokens=6)
    for messages in conversations:
        expected, actual = plain.complete(messages), shipped.complete(messages)
        assert expected.usage is not None and actual.usage is not None
        assert actual.usage.prompt_tokens == expected.usage.prompt_tokens
        assert actual.text == expected.text


@pytest.mark.local_server
def test_forced_tool_call_with_the_tools_template(fresh_settings: Callable[..., Any]) -> None:
    ctx = fresh_settings(chat_template="tools").ctx_size
    pipe = Pipeline("local", options={"ctx_size": ctx, "chat_template": "tools"}, temperature=0, max_tokens=24)

    reply = pipe.complete(FORCED_CALL, tools=[WEATHER_TOOL], tool_choice="required")

    first = reply.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert first.function.name == "get_weather"
    assert isinstance(json.loads(first.function.arguments)["city"], str)


@pytest.mark.local_server
def test_api_key_protects_the_local_server(fresh_settings: Callable[..., Any]) -> None:
    ctx = fresh_settings(api_key=Secret("sk-local-right")).ctx_size
    pipe = Pipeline("local", options={"ctx_size": ctx, "api_key": "sk-local-right"}, temperature=0, max_tokens=3)
    assert pipe.complete([{"role": "user", "content": "Hi"}]).text

    adapter = pipe.adapter
    assert isinstance(adapter, LocalProvider)
    stranger = Pipeline(
        "custom", model=DEFAULT_ALIAS, base_url=adapter.server.base_url, api_key="sk-local-wrong", max_tokens=3
    )
    with pytest.raises(AuthenticationError) as info:
        stranger.complete([{"role": "user", "content": "Hi"}])
    assert "sk-local-wrong" not in str(info.value) and "sk-local-right" not in str(info.value)


@pytest.mark.local_server
def test_tool_results_render_with_the_tools_template(fresh_settings: Callable[..., Any]) -> None:
    ctx = fresh_settings(chat_template="tools").ctx_size
    pipe = Pipeline("local", options={"ctx_size": ctx, "chat_template": "tools"}, temperature=0, max_tokens=8)
    history: list[dict[str, Any]] = [
        {"role": "user", "content": "What is the weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"temperature_c": 21, "sky": "sunny"}'},
    ]
    without_result = pipe.complete(history[:1], tools=[WEATHER_TOOL])
    reply = pipe.complete(history, tools=[WEATHER_TOOL])

    assert reply.choices[0].finish_reason in ("stop", "length", "tool_calls")
    assert reply.usage is not None and without_result.usage is not None
    # the call and its result were rendered into the prompt, not dropped
    assert reply.usage.prompt_tokens is not None and without_result.usage.prompt_tokens is not None
    assert reply.usage.prompt_tokens > without_result.usage.prompt_tokens + 20
