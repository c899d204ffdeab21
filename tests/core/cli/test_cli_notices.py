"""chatpipe.cli._notices: a retried call is announced on a terminal's stderr, and only there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from chatpipe.testing.fake_server import FakeResponse, FakeServer

pty = pytest.importorskip("pty")

CHATPIPE = str(Path(sys.executable).parent / "chatpipe")
BUSY = FakeResponse.json({"error": {"message": "slow down"}}, status=429, headers={"retry-after": "0"})


def completion(text: str) -> dict[str, Any]:
    choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
    return {"id": "c", "object": "chat.completion", "choices": [choice]}


def chat(server: FakeServer, *, terminal: bool) -> tuple[int, str, str]:
    """Run ``chatpipe chat`` (stdin empty); stderr a pseudo-terminal when ``terminal``. (code, stdout, stderr)."""
    args = [CHATPIPE, "chat", "--provider", "custom", "--base-url", f"{server.url}/v1", "-m", "m", "--no-stream", "Hi"]
    env = {**os.environ, "NO_COLOR": "1"}
    if not terminal:
        done = subprocess.run(args, input="", capture_output=True, text=True, env=env, timeout=60)
        return done.returncode, done.stdout, done.stderr
    controller, device = pty.openpty()
    try:
        process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=device, env=env)
        os.close(device)
        out, _ = process.communicate(timeout=60)
        seen = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal's other end is closed: all was read
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(controller)
    return process.returncode, out.decode(), seen.decode(errors="replace")


def test_a_retry_is_announced_on_a_terminal(fake_server: FakeServer) -> None:
    fake_server.enqueue("POST /v1/chat/completions", BUSY, FakeResponse.json(completion("at last")))
    code, out, err = chat(fake_server, terminal=True)
    assert (code, out) == (0, "at last\n"), err
    assert "rate limited, retrying in 0.0 s (attempt 2)" in err


def test_nothing_is_added_without_a_terminal(fake_server: FakeServer) -> None:
    fake_server.enqueue("POST /v1/chat/completions", BUSY, FakeResponse.json(completion("at last")))
    code, out, err = chat(fake_server, terminal=False)
    assert (code, out) == (0, "at last\n"), err
    assert "retrying" not in err
