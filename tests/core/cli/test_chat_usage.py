"""``chatpipe chat --usage``: tokens and cost on stderr, the reply alone on stdout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from chatpipe.testing.fake_server import FakeResponse, FakeServer

CHATPIPE = str(Path(sys.executable).parent / "chatpipe")
USAGE = {
    "prompt_tokens": 3000,
    "completion_tokens": 1000,
    "total_tokens": 4000,
    "prompt_tokens_details": {"cached_tokens": 1000},
}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CHATPIPE, *args], input="", capture_output=True, text=True, env=dict(os.environ), timeout=60)


def completion(usage: dict[str, Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "c1",
        "object": "chat.completion",
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "the reply"}, "finish_reason": "stop"}],
    }
    return body if usage is None else {**body, "usage": usage}


def config(tmp_path: Path, server: FakeServer, prices: str) -> str:
    path = tmp_path / "chatpipe.yaml"
    path.write_text(f"profiles:\n  p: {{provider: custom, base_url: '{server.url}/v1', model: m{prices}}}\n")
    return str(path)


def test_usage_prints_tokens_and_the_configured_cost_on_stderr(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.enqueue("POST /v1/chat/completions", FakeResponse.json(completion(USAGE)))
    path = config(tmp_path, fake_server, ", prices: {input: 2, output: 10, cached_input: 1}")
    result = run("--config", path, "chat", "-p", "p", "--no-stream", "--usage", "Hi")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "the reply\n"
    # 2000 fresh x $2/M + 1000 cached x $1/M + 1000 out x $10/M = 0.004 + 0.001 + 0.01
    assert "tokens: 3000 prompt (1000 cached), 1000 completion · cost: $0.015 USD" in result.stderr


def test_usage_of_a_stream_and_of_an_unpriced_reply(fake_server: FakeServer, tmp_path: Path) -> None:
    chunks = [
        {"id": "s", "model": "m", "choices": [{"index": 0, "delta": {"content": "streamed"}, "finish_reason": "stop"}]},
        {"id": "s", "model": "m", "choices": [], "usage": USAGE},
    ]
    fake_server.enqueue("POST /v1/chat/completions", FakeResponse.sse(chunks))
    path = config(tmp_path, fake_server, "")
    streamed = run("--config", path, "chat", "-p", "p", "--usage", "Hi")
    assert streamed.returncode == 0, streamed.stderr
    assert streamed.stdout == "streamed\n"
    assert "tokens: 3000 prompt (1000 cached), 1000 completion · cost: unknown" in streamed.stderr
    fake_server.enqueue("POST /v1/chat/completions", FakeResponse.json(completion(None)))
    bare = run("--config", path, "chat", "-p", "p", "--no-stream", "--usage", "Hi")
    assert "tokens: unknown (the vendor reported no usage) · cost: unknown" in bare.stderr
    fake_server.enqueue("POST /v1/chat/completions", FakeResponse.json(completion(USAGE)))
    quiet = run("--config", path, "chat", "-p", "p", "--no-stream", "Hi")
    assert "tokens" not in quiet.stderr, "without --usage nothing is printed"
