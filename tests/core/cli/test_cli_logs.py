"""The CLI's conversation log: chat keeps each conversation, -c / --conversation continue one, logs shows them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from chatpipe.testing.fake_server import FakeResponse, FakeServer

CHATPIPE = str(Path(sys.executable).parent / "chatpipe")
KEY = "sk-logs-PLANTED-1234567890"
ROUTE = "POST /v1/chat/completions"


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHATPIPE, *args], input=stdin, capture_output=True, text=True, env=dict(os.environ), timeout=60
    )


def reply(text: str) -> FakeResponse:
    choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
    return FakeResponse.json({"id": "c", "object": "chat.completion", "model": "m-1", "choices": [choice]})


def chat(server: FakeServer, *args: str) -> subprocess.CompletedProcess[str]:
    target = ["--provider", "custom", "--base-url", f"{server.url}/v1", "-m", "m", "--key", KEY, "--no-stream"]
    return run("chat", *target, *args)


def sent(server: FakeServer, index: int) -> list[Any]:
    return [m["content"] for m in server.requests[index].json["messages"]]


def test_a_conversation_continues_with_its_history_and_is_shown(fake_server: FakeServer) -> None:
    fake_server.enqueue(ROUTE, reply("Paris."), reply("About 2 million."), reply("Unrelated."))
    assert chat(fake_server, "-s", "Be brief.", "Capital of France?").stdout == "Paris.\n"
    assert chat(fake_server, "-c", "And its population?").stdout == "About 2 million.\n"
    # the second call sent the whole conversation so far, then the new prompt
    assert sent(fake_server, 1) == ["Be brief.", "Capital of France?", "Paris.", "And its population?"]
    assert chat(fake_server, "Something else").returncode == 0  # a new conversation
    assert sent(fake_server, 2) == ["Something else"]

    listed = run("logs", "list").stdout.splitlines()
    assert len(listed) == 2 and "Something else" in listed[0] and "Capital of France?" in listed[1]
    assert "custom/m-1" in listed[1]  # who answered
    first = listed[1].split()[0]
    shown = json.loads(run("logs", "show", first, "--json").stdout)
    assert [m["content"] for m in shown] == [
        "Be brief.",
        "Capital of France?",
        "Paris.",
        "And its population?",
        "About 2 million.",
    ]
    assert [m["role"] for m in shown][-2:] == ["user", "assistant"]
    found = run("logs", "list", "--search", "POPULATION").stdout.splitlines()
    assert [line.split()[0] for line in found] == [first]

    fake_server.enqueue(ROUTE, reply("Lyon is second."))
    assert chat(fake_server, "--conversation", first, "And the second city?").returncode == 0
    assert sent(fake_server, 3)[-3:] == ["And its population?", "About 2 million.", "And the second city?"]
    everything = Path(run("logs", "path").stdout.strip()).read_bytes()
    assert KEY.encode() not in everything  # only messages are kept


def test_no_log_keeps_nothing_and_the_errors_name_the_fix(fake_server: FakeServer) -> None:
    fake_server.enqueue(ROUTE, reply("unlogged"))
    assert chat(fake_server, "--no-log", "Hi").returncode == 0
    assert run("logs", "list").stdout.strip() == "no conversations logged yet"
    empty = chat(fake_server, "-c", "Hi")
    assert empty.returncode == 2 and "the log is empty" in empty.stderr
    unknown = chat(fake_server, "--conversation", "nope", "Hi")
    assert unknown.returncode == 2 and "chatpipe logs list" in unknown.stderr
    both = chat(fake_server, "--no-log", "-c", "Hi")
    assert both.returncode == 2 and "--no-log" in both.stderr
    assert len(fake_server.requests) == 1


def test_log_false_in_the_config_keeps_nothing(fake_server: FakeServer, tmp_path: Path) -> None:
    config = tmp_path / "chatpipe.yaml"
    profile = f"{{provider: custom, base_url: '{fake_server.url}/v1', model: m, api_key: {KEY}}}"
    config.write_text(f"log: false\nprofiles:\n  p: {profile}\n")
    fake_server.enqueue(ROUTE, reply("unlogged"))
    assert run("--config", str(config), "chat", "-p", "p", "--no-stream", "Hi").returncode == 0
    assert run("logs", "list").stdout.strip() == "no conversations logged yet"
