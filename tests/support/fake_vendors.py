"""Loopback fake OpenAI vendors and the pipelines that call them, for the routing and limit tests.

``pipe(server, name)`` is an ``openai`` pipeline with profile ``name`` (its model
``model-NAME``, no retries) calling ``server`` — or, for ``None``, a port where nothing
listens; ``answer(server, text, delay=...)`` makes ``server`` answer every chat call with
``text``, after ``delay`` seconds.
"""

from __future__ import annotations

from typing import Any

from chatpipe import Pipeline
from chatpipe.testing import FakeResponse, FakeServer
from chatpipe.testing.conformance import OpenAISimulator

SIM = OpenAISimulator(provider="openai")
ROUTE = "POST /v1/chat/completions"
KEY = "sk-fake-vendor-key-1234"
HI = [{"role": "user", "content": "Hi"}]
DEAD_URL = "http://127.0.0.1:9/v1"  # the discard port: nothing listens, the connection is refused


def pipe(server: FakeServer | None, name: str, **kwargs: Any) -> Pipeline:
    base = f"{server.url}/v1" if server is not None else DEAD_URL
    kwargs.setdefault("max_retries", 0)
    return Pipeline("openai", model=f"model-{name}", base_url=base, api_key=KEY, profile=name, **kwargs)


def reply_json(text: str) -> dict[str, Any]:
    """An OpenAI ``chat.completion`` answering ``text``."""
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
    }


def answer(server: FakeServer, text: str, delay: float = 0.0) -> None:
    body = reply_json(text)
    server.route(ROUTE, lambda _: FakeResponse.json(body, delay=delay))
