"""The claude plugin's declaration and registration."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

import pytest
from chatpipe.registry import Registry, package_for
from chatpipe_claude import ClaudeProvider


def test_declaration() -> None:
    info = ClaudeProvider.info
    assert (info.name, info.package) == ("claude", "chatpipe-claude")
    assert info.default_base_url == "https://api.anthropic.com"
    assert info.api_key_env == ("ANTHROPIC_API_KEY",)
    assert info.default_model == "claude-sonnet-4-5"
    caps = info.capabilities
    assert (caps.streaming, caps.tools, caps.vision, caps.reasoning, caps.model_listing, caps.status_check) == (
        True,
        True,
        True,
        True,
        True,
        True,
    )
    assert info.required_converters == ()
    assert {429, 500, 503, 529} <= info.retryable_statuses
    assert package_for("provider", "claude") == info.package


def test_entry_point_registers_the_class() -> None:
    (ep,) = [e for e in entry_points(group="chatpipe.providers") if e.name == "claude"]
    assert ep.value == "chatpipe_claude"
    registry = Registry(entry_points=[])
    registry.register(ep.load())
    assert registry.provider("claude") is ClaudeProvider


def test_the_adapter_repr_shows_no_key(adapter_factory: Callable[..., ClaudeProvider], claude_key: str) -> None:
    adapter = adapter_factory()
    assert claude_key not in repr(adapter) and claude_key not in repr(adapter.settings)


def test_model_list_follows_every_page(fake_server: Any) -> None:
    from chatpipe import Pipeline
    from chatpipe.testing import FakeResponse

    first = {"data": [{"type": "model", "id": "a"}], "has_more": True, "first_id": "a", "last_id": "a"}
    second = {"data": [{"type": "model", "id": "b"}], "has_more": False, "first_id": "b", "last_id": "b"}
    fake_server.enqueue("GET /v1/models", FakeResponse.json(first), FakeResponse.json(second))
    pipe = Pipeline("claude", base_url=fake_server.url, api_key="sk-ant-test-0000")
    assert [m.id for m in pipe.models()] == ["a", "b"]
    assert [r.path for r in fake_server.requests] == ["/v1/models?limit=1000", "/v1/models?limit=1000&after_id=a"]


OVERLOADED = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
REPLY = {
    "id": "msg_01",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [{"type": "text", "text": "Hello!"}],
    "stop_reason": "end_turn",
    "usage": {"input_tokens": 1, "output_tokens": 1},
}


@pytest.mark.parametrize(("should_retry", "attempts"), [("false", 1), (None, 2)], ids=["vetoed", "retried"])
def test_x_should_retry_false_stops_claude_retries(fake_server: Any, should_retry: str | None, attempts: int) -> None:
    """The transport's ``x-should-retry`` check covers Claude: a 529 saying ``false`` is not retried."""
    from chatpipe import Pipeline
    from chatpipe.errors import OverloadedError
    from chatpipe.testing import FakeResponse

    headers = {"retry-after": "0", **({"x-should-retry": should_retry} if should_retry else {})}
    fake_server.enqueue(
        "POST /v1/messages", FakeResponse.json(OVERLOADED, status=529, headers=headers), FakeResponse.json(REPLY)
    )
    pipe = Pipeline("claude", model="claude-sonnet-4-5", base_url=fake_server.url, api_key="sk-ant-test-0000")
    messages = [{"role": "user", "content": "Hi"}]
    if attempts == 1:
        with pytest.raises(OverloadedError):
            pipe.complete(messages)
    else:
        assert pipe.complete(messages).text == "Hello!"
    assert len(fake_server.requests) == attempts


def test_the_pipelines_placeholder_reaches_the_claude_conversion() -> None:
    from chatpipe import Pipeline

    pipe = Pipeline("claude", api_key="sk-ant-test-0000", placeholder="[Your turn]")
    body = pipe.explain([{"role": "system", "content": "Rules."}]).request["json"]
    assert body["system"] == [{"type": "text", "text": "Rules."}]
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "[Your turn]"}]}]


def test_the_pipelines_speaker_names_reach_the_claude_conversion() -> None:
    from chatpipe import Pipeline

    pipe = Pipeline("claude", api_key="sk-ant-test-0000", names={"user": "Ann", "char": "Bo"})
    messages = [
        {"role": "system", "content": "Rules."},
        {"role": "system", "name": "example_user", "content": "Hey"},
        {"role": "user", "content": "Hi"},
    ]
    body = pipe.explain(messages).request["json"]
    assert body["system"] == [{"type": "text", "text": "Rules."}, {"type": "text", "text": "Ann: Hey"}]
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]


def test_a_refused_key_is_named_by_where_it_came_from(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from chatpipe import Pipeline
    from chatpipe.errors import AuthenticationError
    from chatpipe.keys import KeyStore
    from chatpipe.testing import FakeResponse, MockTransport

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-PLANTED-0123456789abcdef")
    transport = MockTransport()  # Anthropic's own URL (its env var is read only for it), without a network
    error = {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}
    transport.enqueue(FakeResponse.json(error, status=401))
    pipe = Pipeline("claude", key_store=KeyStore(tmp_path / "k.yaml"), transport=transport)
    with pytest.raises(AuthenticationError, match="from the environment variable ANTHROPIC_API_KEY was refused"):
        pipe.complete([{"role": "user", "content": "Hi"}])
