"""Bad input gets a clear chatpipe error naming the place and the fix — before any request.

Every case runs against a live fake server that would answer, and asserts it saw nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from chatpipe import Pipeline
from chatpipe.errors import ChatpipeError, ConfigError, InvalidRequestError, PluginNotFoundError
from chatpipe.testing import FakeServer
from rel_harness import KEY, Family, call, make_pipeline

CALL = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}

# (case id, messages, the error's `where`, words the message must contain)
BAD_MESSAGES: list[tuple[str, Any, str, tuple[str, ...]]] = [
    ("empty-list", [], "messages", ("empty",)),
    ("not-a-list", "Hello", "messages", ("list",)),
    ("not-a-dict", ["Hello"], "messages[0]", ("message dict",)),
    ("missing-role", [{"content": "Hi"}], "messages[0].role", ("role",)),
    ("role-not-a-string", [{"role": 3, "content": "Hi"}], "messages[0].role", ("role",)),
    ("empty-role", [{"role": "", "content": "Hi"}], "messages[0].role", ("role",)),
    (
        "unknown-role-typo",
        [{"role": "user", "content": "Hi"}, {"role": "usr", "content": "Hi"}],
        "messages[1].role",
        ("unknown role 'usr'", "did you mean 'user'?"),
    ),
    ("unknown-role", [{"role": "bogus", "content": "Hi"}], "messages[0].role", ("unknown role 'bogus'", "assistant")),
    ("content-a-number", [{"role": "user", "content": 42}], "messages[0].content", ()),
    ("content-a-dict", [{"role": "user", "content": {"text": "Hi"}}], "messages[0].content", ()),
    ("part-without-type", [{"role": "user", "content": [{"text": "Hi"}]}], "messages[0].content[0].type", ()),
    ("name-not-a-string", [{"role": "user", "content": "Hi", "name": 5}], "messages[0].name", ()),
    (
        "tool-result-without-call",
        [{"role": "user", "content": "Hi"}, {"role": "tool", "tool_call_id": "call_9", "content": "18 C"}],
        "messages[1].tool_call_id",
        ("call_9", "no earlier assistant tool call"),
    ),
    (
        "tool-result-before-call",
        [{"role": "tool", "tool_call_id": "call_1", "content": "x"}, {"role": "assistant", "tool_calls": [CALL]}],
        "messages[0].tool_call_id",
        ("call_1",),
    ),
    (
        "tool-result-without-id",
        [{"role": "assistant", "tool_calls": [CALL]}, {"role": "tool", "content": "x"}],
        "messages[1].tool_call_id",
        ("tool_call_id",),
    ),
    (
        "tool-call-without-id",
        [{"role": "assistant", "tool_calls": [{**CALL, "id": ""}]}],
        "messages[0].tool_calls[0].id",
        ("non-empty 'id'",),
    ),
    (
        "tool-call-id-missing",
        [{"role": "assistant", "tool_calls": [{k: v for k, v in CALL.items() if k != "id"}]}],
        "messages[0].tool_calls[0]",
        ("id",),
    ),
    (
        "duplicate-tool-call-ids",
        [{"role": "assistant", "tool_calls": [CALL]}, {"role": "assistant", "tool_calls": [CALL]}],
        "messages[1].tool_calls[0].id",
        ("twice",),
    ),
    (
        "arguments-not-a-string",
        [{"role": "assistant", "tool_calls": [{**CALL, "function": {"name": "f", "arguments": 1}}]}],
        "messages[0].tool_calls[0].function.arguments",
        ("JSON string",),
    ),
]


@pytest.mark.parametrize(("messages", "where", "words"), [pytest.param(*c[1:], id=c[0]) for c in BAD_MESSAGES])
def test_bad_messages_fail_before_any_request(
    family: Family, server: FakeServer, mode: str, messages: Any, where: str, words: tuple[str, ...]
) -> None:
    pipe = make_pipeline(family, server.url)
    with pytest.raises(InvalidRequestError) as info:
        call(pipe, mode, messages)
    assert info.value.where == where, str(info.value)
    for word in words:
        assert word in str(info.value)
    assert str(info.value).startswith(where)
    assert server.requests == []
    with pytest.raises(InvalidRequestError):
        pipe.explain(messages)


def test_the_developer_role_and_well_formed_tool_turns_are_accepted(family: Family, server: FakeServer) -> None:
    server.enqueue(family.route, family.ok())
    pipe = make_pipeline(family, server.url)
    messages = [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": None, "tool_calls": [CALL]},
        {"role": "tool", "tool_call_id": "call_1", "content": "18 C"},
    ]
    assert pipe.complete(messages).text
    if family.provider in ("custom", "openai"):  # OpenAI-compatible: the developer role passes through as given
        assert server.requests[0].json["messages"][0]["role"] == "developer"


# --- pipeline construction and config ---------------------------------------------------------

Maker = Callable[[FakeServer, Path], Any]


def from_yaml(text: str, profile: str | None = None) -> Maker:
    def make(server: FakeServer, tmp: Path) -> Any:
        path = tmp / "chatpipe.yaml"
        path.write_text(text.replace("{url}", server.url))
        return Pipeline.from_config(profile, path)

    return make


def direct(provider: str, **kwargs: Any) -> Maker:
    def make(server: FakeServer, tmp: Path) -> Any:
        return Pipeline(provider, **{"base_url": f"{server.url}/v1", "model": "m", "api_key": KEY, **kwargs})

    return make


GOOD = "profiles:\n  a: {provider: custom, base_url: '{url}/v1', model: m}\n"

# (case id, how the pipeline is made, error class, words the message must contain)
BAD_SETUPS: list[tuple[str, Maker, type[ChatpipeError], tuple[str, ...]]] = [
    ("unknown-provider", direct("opneai"), PluginNotFoundError, ("opneai", "openai")),
    ("unknown-converter", direct("custom", converters=["strcit"]), PluginNotFoundError, ("strcit", "strict")),
    ("unknown-profile", from_yaml(GOOD, "b"), ConfigError, ("b",)),
    ("config-unknown-key", from_yaml(GOOD.replace("model: m", "modle: m")), ConfigError, ("modle", "model")),
    ("config-unknown-top-key", from_yaml("profils: {}\n" + GOOD), ConfigError, ("profils", "profiles")),
    ("config-wrong-type", from_yaml(GOOD + "max_retries: lots\n"), ConfigError, ("max_retries",)),
    ("config-negative-timeout", from_yaml(GOOD + "timeout: {connect: -1}\n"), ConfigError, ("timeout",)),
    ("config-missing-provider", from_yaml("profiles:\n  a: {model: m}\n"), ConfigError, ("provider",)),
    ("config-bad-url", from_yaml(GOOD.replace("'{url}/v1'", "'localhost:1234'")), ConfigError, ("base_url",)),
    ("config-not-yaml", from_yaml("profiles: [unclosed\n"), ConfigError, ()),
    ("config-unknown-provider", from_yaml(GOOD.replace("custom", "cutsom")), PluginNotFoundError, ("custom",)),
    (
        "config-unset-env",
        from_yaml(GOOD.replace("model: m", "model: m, api_key: '${NOPE_UNSET}'")),
        ConfigError,
        ("NOPE_UNSET",),
    ),
    ("custom-without-base-url", lambda s, t: Pipeline("custom", model="m"), ConfigError, ("base_url",)),
    ("unknown-option", direct("custom", options={"frobnicate": 1}), ConfigError, ("frobnicate",)),
    ("bad-timeout", direct("custom", timeout=-3), ConfigError, ("positive",)),
    ("bad-retries", direct("custom", max_retries=-1), ConfigError, ("max_retries",)),
]


@pytest.mark.parametrize(
    ("make", "error", "words"), [pytest.param(*c[1:], id=c[0]) for c in BAD_SETUPS]
)  # fmt: skip
def test_bad_setup_fails_before_any_request(
    server: FakeServer, tmp_path: Path, make: Maker, error: type[ChatpipeError], words: tuple[str, ...]
) -> None:
    with pytest.raises(error) as info:
        pipe = make(server, tmp_path)
        pipe.complete([{"role": "user", "content": "Hi"}])
    text = str(info.value)
    for word in words:
        assert word in text, text
    assert server.requests == []


def test_unserialisable_params_fail_before_any_request(family: Family, server: FakeServer) -> None:
    pipe = make_pipeline(family, server.url)
    with pytest.raises(InvalidRequestError) as info:
        pipe.complete([{"role": "user", "content": "Hi"}], temperature=object())
    assert "JSON" in str(info.value)
    assert server.requests == []
