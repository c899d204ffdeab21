"""The cohere provider end to end: through Pipeline against a local fake server, and
``chatpipe explain`` as a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from chatpipe import wire
from chatpipe.errors import APIStatusError, BadRequestError
from chatpipe.models import ChatRequest
from chatpipe.pipeline import Pipeline
from chatpipe.provider import ProviderSettings
from chatpipe.secrets import Secret
from chatpipe.testing import MockTransport
from chatpipe.testing.fake_server import FakeResponse, FakeServer
from chatpipe_cohere import CohereProvider

KEY = "co-PLANTED-pipeline-0123456789"
CHAT = "POST /v2/chat"
CHATPIPE = str(Path(sys.executable).parent / "chatpipe")
QUESTION = [{"role": "user", "content": "Hi"}]


def answer(text: str) -> FakeResponse:
    return FakeResponse.json(
        {
            "id": "r1",
            "finish_reason": "COMPLETE",
            "message": {"role": "assistant", "content": [{"type": "text", "text": text}]},
            "usage": {"tokens": {"input_tokens": 3, "output_tokens": 2}, "billed_units": {"output_tokens": 2}},
        }
    )


def error(status: int) -> FakeResponse:
    return FakeResponse.json({"message": f"status {status}", "id": "e1"}, status=status, headers={"Retry-After": "0"})


def pipeline(server: FakeServer, **kwargs: Any) -> Pipeline:
    return Pipeline("cohere", base_url=server.url, **{"api_key": KEY, **kwargs})


def test_the_key_comes_from_co_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CO_API_KEY", KEY)
    transport = MockTransport()  # Cohere's own URL (its env var is read only for it), without a network
    transport.enqueue(answer("Hello!"))
    reply = Pipeline("cohere", transport=transport).complete(QUESTION)
    assert reply.text == "Hello!"
    (sent,) = transport.requests
    assert sent.headers["Authorization"] == f"Bearer {KEY}"
    assert sent.json["model"] == "command-a-03-2025"


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried(fake_server: FakeServer, status: int) -> None:
    fake_server.enqueue(CHAT, error(status), answer("Recovered."))
    assert pipeline(fake_server, max_retries=2).complete(QUESTION).text == "Recovered."
    assert len(fake_server.requests) == 2


@pytest.mark.parametrize(("status", "expected"), [(400, BadRequestError), (499, APIStatusError)])
def test_other_statuses_are_not_retried(fake_server: FakeServer, status: int, expected: type[Exception]) -> None:
    fake_server.enqueue(CHAT, error(status), answer("never"))
    with pytest.raises(expected):
        pipeline(fake_server, max_retries=2).complete(QUESTION)
    assert len(fake_server.requests) == 1


def test_models_are_listed_from_one_big_page(fake_server: FakeServer) -> None:
    body = {"models": [{"name": "command-a-03-2025", "endpoints": ["chat"]}, {"name": "command-r7b-12-2024"}]}
    fake_server.enqueue("GET /v1/models", FakeResponse.json(body))
    models = pipeline(fake_server).models()
    assert [m.id for m in models] == ["command-a-03-2025", "command-r7b-12-2024"]
    assert fake_server.requests[0].path == "/v1/models?endpoint=chat&page_size=1000"


def test_async_streaming(fake_server: FakeServer) -> None:
    events = [
        ("message-start", {"type": "message-start", "id": "r2", "delta": {"message": {"role": "assistant"}}}),
        ("content-delta", {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "As"}}}}),
        ("content-delta", {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "ync"}}}}),
        ("message-end", {"type": "message-end", "delta": {"finish_reason": "MAX_TOKENS"}}),
    ]
    fake_server.enqueue(CHAT, FakeResponse.sse(events))

    async def collect() -> Any:
        stream = pipeline(fake_server).astream(QUESTION, max_tokens=2)
        return await stream.collect()

    reply = asyncio.run(collect())
    assert (reply.text, reply.finish_reason) == ("Async", "length")
    assert fake_server.requests[0].json["stream"] is True


def test_explain_shows_the_body_exactly_as_the_adapter_builds_it(tmp_path: Path) -> None:
    config = tmp_path / "chatpipe.yaml"
    config.write_text(
        "profiles:\n"
        "  co:\n"
        "    provider: cohere\n"
        "    base_url: 'https://api.cohere.com'\n"
        "    model: command-r-plus-08-2024\n"
        "    options: {safety_mode: OFF}\n"
        "    params: {top_p: 0.5, stop: [END], max_tokens: 100}\n"
    )
    conversation = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "name": "Alex", "content": "Weather?"},
        {"role": "assistant", "content": "Let me check."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "18 C"},
        {"role": "user", "name": "Alex", "content": "Thanks"},
    ]
    messages = tmp_path / "conversation.json"
    messages.write_text(json.dumps(conversation))
    result = subprocess.run(
        [CHATPIPE, "--config", str(config), "explain", "-p", "co", "--messages", str(messages), "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "CO_API_KEY": KEY},
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert KEY not in result.stdout + result.stderr
    shown = json.loads(result.stdout)["request"]
    adapter = CohereProvider(
        ProviderSettings(base_url="https://api.cohere.com", api_key=Secret(KEY), options={"safety_mode": "OFF"})
    )
    request = ChatRequest(
        model="command-r-plus-08-2024",
        messages=wire.messages_from_dicts(conversation),
        params={"top_p": 0.5, "stop": ["END"], "max_tokens": 100},
    )
    built = adapter.build_chat(adapter.prepare(request))
    assert shown["json"] == built.json
    assert (shown["method"], shown["url"]) == ("POST", "https://api.cohere.com/v2/chat")
    assert shown["headers"]["Authorization"] == "***"
    assert built.json["safety_mode"] == "OFF" and built.json["p"] == 0.5
    assert [m["role"] for m in built.json["messages"]] == ["system", "user", "assistant", "tool", "user"]
