"""`chatpipe models` and `chatpipe check` for the ollama provider, as a user runs them."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from chatpipe.testing import FakeServer
from chatpipe.testing.fake_server import FakeResponse, RecordedRequest

CHATPIPE = str(Path(sys.executable).parent / "chatpipe")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHATPIPE, *args], capture_output=True, text=True, timeout=60, env={**os.environ, "NO_COLOR": "1"}
    )


def test_models_json_has_each_context_length(fake_server: FakeServer) -> None:
    tags = {"models": [{"name": name, "model": name} for name in ("llama3.2:latest", "gone:1b")]}
    fake_server.enqueue("GET /api/tags", FakeResponse.json(tags))

    def show(request: RecordedRequest) -> FakeResponse:
        if request.json["model"] == "gone:1b":
            return FakeResponse.json({"error": "model 'gone:1b' not found"}, status=404)
        info: dict[str, Any] = {"general.architecture": "llama", "llama.context_length": 131072}
        return FakeResponse.json({"model_info": info, "capabilities": ["completion", "tools"]})

    fake_server.route("POST /api/show", show)
    result = run("models", "--provider", "ollama", "--base-url", fake_server.url + "/v1", "--json")
    assert result.returncode == 0, result.stderr
    listed = {m["id"]: m for m in json.loads(result.stdout)}
    assert listed["llama3.2:latest"]["context_length"] == 131072
    assert listed["llama3.2:latest"]["capabilities"] == ["completion", "tools"]
    assert "context_length" not in listed["gone:1b"]  # its show failed: listed without details


def test_check_without_a_server_exits_5_and_says_to_start_ollama() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run("check", "--provider", "ollama", "--base-url", f"http://127.0.0.1:{port}")
    assert result.returncode == 5
    assert "ollama serve" in result.stdout + result.stderr
