"""A reverse proxy needs no key; the vendor's own host does (issue 14, point 7).

One rule for every provider with a default base URL (:meth:`ProviderInfo.key_needed`): with no
key, a call to the vendor's own host fails before sending, a call to any other host goes out
without an authentication header.
"""

from __future__ import annotations

from typing import Any

import pytest
from chatpipe import Pipeline
from chatpipe.errors import AuthenticationError
from chatpipe.testing import MockTransport
from chatpipe.testing.fake_server import FakeResponse, FakeServer

HI = [{"role": "user", "content": "Hi"}]
REPLY = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}],
}


@pytest.mark.parametrize(
    ("provider", "model", "path"),
    [
        ("openai", "gpt-4o-mini", "/v1/chat/completions"),
        ("deepseek", "deepseek-chat", "/v1/chat/completions"),
    ],
)
def test_a_proxy_without_a_key_gets_the_request_without_authorization(
    fake_server: FakeServer, openai_spec: Any, provider: str, model: str, path: str
) -> None:
    fake_server.enqueue(f"POST {path}", FakeResponse.json(REPLY))
    reply = Pipeline(provider, model=model, base_url=f"{fake_server.url}/v1").complete(HI)
    assert reply.text == "Hello!"
    (sent,) = fake_server.requests
    assert sent.path == path
    assert "authorization" not in sent.headers
    thinking = {"thinking": {"type": "disabled"}} if provider == "deepseek" else {}
    assert sent.json == {"model": model, "messages": HI, "stream": False, **thinking}
    openai_spec.check("CreateChatCompletionRequest", sent.json)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("provider", "base_url", "env"),
    [
        ("openai", None, "OPENAI_API_KEY"),
        ("openai", "https://API.openai.com/v1/", "OPENAI_API_KEY"),
        ("deepseek", None, "DEEPSEEK_API_KEY"),
        ("deepseek", "https://api.deepseek.com", "DEEPSEEK_API_KEY"),
        ("mistral", None, "MISTRAL_API_KEY"),
        ("claude", None, "ANTHROPIC_API_KEY"),
        ("cohere", None, "CO_API_KEY"),
        ("openrouter", None, "OPENROUTER_API_KEY"),
        ("xai", "https://api.x.ai/v1", "XAI_API_KEY"),
        ("groq", None, "GROQ_API_KEY"),
        ("gemini", None, "GEMINI_API_KEY"),
    ],
)
def test_the_vendors_own_host_still_needs_a_key(provider: str, base_url: str | None, env: str) -> None:
    transport = MockTransport()
    pipe = Pipeline(provider, base_url=base_url, transport=transport)
    with pytest.raises(AuthenticationError, match=env):
        pipe.complete(HI)
    assert transport.requests == []
    assert any("no API key" in note for note in pipe.explain(HI).notes)


@pytest.mark.parametrize(
    "provider",
    ["mistral", "claude", "cohere", "gemini", "ai21", "perplexity", "fireworks", "openrouter", "xai", "groq"],
)
def test_the_rule_is_the_same_for_every_vendor(provider: str) -> None:
    pipe = Pipeline(provider, base_url="https://proxy.example/api")
    info = pipe.provider_class.info
    assert info.key_needed("https://proxy.example/api") is False
    assert info.default_base_url is not None and info.key_needed(info.default_base_url) is True
    explanation = pipe.explain(HI)
    assert not any("no API key" in note for note in explanation.notes)
    headers = {name.lower() for name in explanation.request["headers"]}
    assert headers.isdisjoint({"authorization", "x-api-key", "x-goog-api-key"})


def test_the_vendors_own_key_is_never_sent_to_a_proxy(
    fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from chatpipe.keys import KeyStore

    store = KeyStore(tmp_path / "keys.yaml")
    store.set("openai", "sk-stored-for-openai-0123456789")
    store.set("corp", "sk-stored-for-the-corp-profile-0123")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env-vendor-key-0123456789")
    fake_server.enqueue("POST /v1/chat/completions", FakeResponse.json(REPLY), FakeResponse.json(REPLY))
    base = f"{fake_server.url}/v1"
    Pipeline("openai", model="m", base_url=base, key_store=store).complete(HI)
    Pipeline("openai", model="m", base_url=base, key_store=store, profile="corp").complete(HI)
    sent = [request.headers.get("authorization") for request in fake_server.requests]
    assert sent == [None, "Bearer sk-stored-for-the-corp-profile-0123"]
    own = Pipeline("openai", base_url="https://api.openai.com/v1", key_store=store)
    assert own.adapter.settings.api_key is not None and own.adapter.settings.api_key_source == (
        "the key stored for 'openai' (chatpipe keys set openai)"
    )
