"""``chatpipe chat -i`` driven through a pseudo-terminal against a fake vendor.

The session runs in a child whose controlling terminal is the pty, so a Ctrl-C typed there is
the SIGINT a person's would be. The test types lines and reads the screen until what it
expects appears (bounded waits).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from chatpipe.testing.fake_server import FakeResponse, FakeServer

pytest.importorskip("pty")
from terminal import Terminal  # tests/support, after the skip

CHATPIPE = str(Path(sys.executable).parent / "chatpipe")
ROUTE = "POST /v1/chat/completions"
KEY = "sk-repl-PLANTED-1234567890"


def chunks(*texts: str, stall: bool = False) -> FakeResponse:
    items: list[Any] = [{"choices": [{"index": 0, "delta": {"role": "assistant"}}]}]
    items += [{"choices": [{"index": 0, "delta": {"content": t}}]} for t in texts]
    if stall:
        return FakeResponse.sse(items, stall_after=len(items))
    return FakeResponse.sse([*items, {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}, "[DONE]"])


def contents(server: FakeServer, index: int) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in server.requests[index].json["messages"]]


def test_a_three_turn_session_with_history_a_stopped_reply_and_a_model_switch(fake_server: FakeServer) -> None:
    fake_server.enqueue(
        ROUTE,
        chunks("Par", "is."),
        chunks("About ", "two million."),
        chunks("A long answer that ", stall=True),  # stopped with Ctrl-C
        chunks("From the other model."),
    )
    base = [CHATPIPE, "chat", "-i", "--provider", "custom", "--base-url", f"{fake_server.url}/v1", "-m", "m"]
    term = Terminal([*base, "--key", KEY, "-s", "Be brief."])
    term.expect("/help for commands")
    term.expect("> ")
    term.type("Capital of France?\n")
    term.expect("Paris.")
    term.expect("> ")
    term.type("And its population?\n")
    term.expect("About two million.")
    term.expect("> ")
    term.type('"""\nTell me\neverything\n"""\n')
    term.expect("A long answer that ")
    term.type("\x03")  # Ctrl-C: stops the reply, not the session
    term.expect("[stopped]")
    term.expect("> ")
    term.type("/model other-model\n")
    term.expect("model other-model")
    term.type("Still there?\n")
    term.expect("From the other model.")
    term.expect("> ")
    term.type("\x04")  # Ctrl-D leaves
    assert term.wait() == 0

    assert contents(fake_server, 0) == [("system", "Be brief."), ("user", "Capital of France?")]
    assert contents(fake_server, 1)[1:] == [
        ("user", "Capital of France?"),
        ("assistant", "Paris."),
        ("user", "And its population?"),
    ]
    assert contents(fake_server, 2)[-1] == ("user", "Tell me\neverything")  # the multi-line message
    last = fake_server.requests[3].json
    assert last["model"] == "other-model"
    # the stopped reply's text stayed in the conversation, the system prompt too
    assert [m["content"] for m in last["messages"]][-3:] == [
        "Tell me\neverything",
        "A long answer that ",
        "Still there?",
    ]
    assert last["messages"][0] == {"role": "system", "content": "Be brief."}
    assert KEY not in term.screen


def test_the_session_is_logged_and_can_be_continued(fake_server: FakeServer) -> None:
    import json
    import subprocess

    fake_server.enqueue(ROUTE, chunks("One."), chunks("Two."))
    base = [CHATPIPE, "chat", "-i", "--provider", "custom", "--base-url", f"{fake_server.url}/v1", "-m", "m"]
    term = Terminal([*base, "--key", KEY, "First question"])  # a prompt given: answered at once
    term.expect("One.")
    term.expect("> ")
    term.type("/exit\n")
    assert term.wait() == 0
    term = Terminal([*base, "--key", KEY, "-c"])
    term.expect("> ")
    term.type("Second question\n")
    term.expect("Two.")
    term.type("\x04")
    assert term.wait() == 0
    assert contents(fake_server, 1) == [("user", "First question"), ("assistant", "One."), ("user", "Second question")]
    listed = subprocess.run([CHATPIPE, "logs", "list"], capture_output=True, text=True, timeout=30).stdout.splitlines()
    assert len(listed) == 1
    shown = subprocess.run(
        [CHATPIPE, "logs", "show", listed[0].split()[0], "--json"], capture_output=True, text=True, timeout=30
    )
    assert [m["content"] for m in json.loads(shown.stdout)] == ["First question", "One.", "Second question", "Two."]
