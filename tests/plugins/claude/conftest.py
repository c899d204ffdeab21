"""Fixtures for the claude plugin tests: an adapter factory and the request/body helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from chatpipe import wire
from chatpipe.converter import ConvertContext, Names
from chatpipe.models import ChatRequest
from chatpipe.provider import ProviderSettings
from chatpipe.secrets import Secret
from chatpipe_claude import ClaudeProvider

KEY = "sk-ant-PLANTED-claude-0123456789abcdef"


def make_adapter(**settings: Any) -> ClaudeProvider:
    """A ClaudeProvider with the planted key and the given settings."""
    base = settings.pop("base_url", ClaudeProvider.info.default_base_url)
    return ClaudeProvider(ProviderSettings(base_url=base, api_key=Secret(KEY), **settings))


def make_request(messages: list[dict[str, Any]], **kwargs: Any) -> ChatRequest:
    """A ChatRequest for ``messages``; ``tools`` as dicts, other keywords are ChatRequest fields or params."""
    tools = wire.tools_from_dicts(kwargs.pop("tools")) if "tools" in kwargs else None
    fields = {k: kwargs.pop(k) for k in ("tool_choice", "stream", "model") if k in kwargs}
    fields.setdefault("model", "claude-sonnet-4-5")
    return ChatRequest(messages=wire.messages_from_dicts(messages), tools=tools, params=kwargs, **fields)


@pytest.fixture
def claude_key() -> str:
    """The API key planted in every test adapter (it must never show up anywhere)."""
    return KEY


@pytest.fixture
def build() -> Callable[..., dict[str, Any]]:
    """``build(messages, options=..., names=..., **request_kwargs)``: the JSON body the adapter sends.

    ``names`` (``{"user", "char", "group"}``) are the profile's speaker names.
    """

    def run(
        messages: list[dict[str, Any]],
        *,
        options: dict[str, Any] | None = None,
        names: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        context = ConvertContext(names=Names(**(names or {})))
        adapter = make_adapter(options=options or {}, context=context)
        request = make_request(messages, **kwargs)
        body: dict[str, Any] = adapter.build_chat(adapter.prepare(request)).json
        return body

    return run


@pytest.fixture
def adapter_factory() -> Callable[..., ClaudeProvider]:
    """``adapter_factory(**settings)``: a ClaudeProvider holding the planted key."""
    return make_adapter


@pytest.fixture
def request_factory() -> Callable[..., ChatRequest]:
    """``request_factory(messages, **kwargs)``: a ChatRequest (see make_request)."""
    return make_request


@pytest.fixture
def anthropic(vendor_spec: Callable[[str], Any]) -> Any:
    """The SpecValidator of the (2024) Anthropic spec; skips when the shared specs are absent."""
    return vendor_spec("anthropic")
