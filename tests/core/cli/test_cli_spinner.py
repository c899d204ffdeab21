"""chatpipe.cli._spinner: a status line while a call waits for its first token, on a terminal only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from chatpipe.testing.fake_server import FakeResponse, FakeServer

pytest.importorskip("pty")
from terminal import Terminal  # tests/support, after the skip

CHATPIPE = str(Path(sys.executable).parent / "chatpipe")
ROUTE = "POST /v1/chat/completions"


def slow_reply(text: str) -> FakeResponse:
    choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
    return FakeResponse.json({"id": "c", "object": "chat.completion", "choices": [choice]}, delay=1.0)


def args(server: FakeServer) -> list[str]:
    target = ["--provider", "custom", "--base-url", f"{server.url}/v1", "-m", "slow-model", "--key", "sk-spin-12345678"]
    return [CHATPIPE, "chat", *target, "--no-stream", "Hi"]


def test_a_slow_reply_shows_a_status_line_then_clears_it(fake_server: FakeServer) -> None:
    fake_server.enqueue(ROUTE, slow_reply("at last"))
    term = Terminal(args(fake_server))
    term.expect("waiting for slow-model…")
    term.expect("\x1b[K")  # the line is cleared before the reply
    term.expect("at last")
    assert term.wait() == 0


def test_nothing_is_shown_without_a_terminal(fake_server: FakeServer) -> None:
    fake_server.enqueue(ROUTE, slow_reply("at last"))
    done = subprocess.run(args(fake_server), input="", capture_output=True, text=True, env=dict(os.environ), timeout=60)
    assert (done.returncode, done.stdout) == (0, "at last\n")
    assert "waiting" not in done.stderr
