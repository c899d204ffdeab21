"""`chatpipe explain -p <mistral profile>` shows the body exactly as the adapter builds it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from chatpipe import wire
from chatpipe.converter import ConvertContext, Names
from chatpipe.models import ChatRequest
from chatpipe.provider import ProviderSettings
from chatpipe_mistral import MistralProvider, mistral_tool_id

CHATPIPE = str(Path(sys.executable).parent / "chatpipe")
KEY = "sk-PLANTED-mistral-cli-0123456789"

CONFIG = """\
profiles:
  lechat:
    provider: mistral
    model: magistral-small-latest
    params: {seed: 5, max_completion_tokens: 200, temperature: 0.4}
    options: {prefix: true, safe_prompt: true}
    names: {user: Alex, char: Skye}
"""

HISTORY: list[dict[str, Any]] = [
    {"role": "system", "content": "You are Skye, a weather bot."},
    {"role": "system", "name": "example_user", "content": "Is it cold?"},
    {"role": "system", "name": "example_assistant", "content": "Bring a scarf."},
    {"role": "user", "content": "Weather in Paris?", "name": "Alex"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "call_abc123", "type": "function", "function": {"name": "w", "arguments": "{}"}}],
    },
    {"role": "tool", "tool_call_id": "call_abc123", "content": "18 C"},
    {"role": "user", "content": "In Celsius please."},
    {"role": "assistant", "content": "It is"},
]


def test_explain_shows_the_adapter_body(tmp_path: Path) -> None:
    config = tmp_path / "chatpipe.yaml"
    config.write_text(CONFIG)
    history = tmp_path / "history.json"
    history.write_text(json.dumps(HISTORY))
    env = {**os.environ, "MISTRAL_API_KEY": KEY}
    result = subprocess.run(
        [CHATPIPE, "--config", str(config), "explain", "-p", "lechat", "--json", "--messages", str(history)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert KEY not in result.stdout and KEY not in result.stderr
    explained: dict[str, Any] = json.loads(result.stdout)
    assert explained["request"]["url"] == "https://api.mistral.ai/v1/chat/completions"

    adapter = MistralProvider(
        ProviderSettings(
            base_url="https://api.mistral.ai/v1",
            options={"prefix": True, "safe_prompt": True},
            context=ConvertContext(names=Names(user="Alex", char="Skye")),
        )
    )
    req = ChatRequest(
        model="magistral-small-latest",
        messages=wire.messages_from_dicts(HISTORY),
        params={"seed": 5, "max_completion_tokens": 200, "temperature": 0.4},
    )
    expected = adapter.build_chat(adapter.prepare(req)).json
    assert explained["request"]["json"] == expected
    sent = expected["messages"]
    assert [m["content"] for m in sent[1:3]] == ["Alex: Is it cold?", "Skye: Bring a scarf."]
    assert sent[3]["content"] == "Alex: Weather in Paris?\n\nIn Celsius please."
    assert sent[4]["tool_calls"][0]["id"] == sent[5]["tool_call_id"] == mistral_tool_id("call_abc123")
    assert sent[-1] == {"role": "assistant", "content": "It is", "prefix": True}
    assert (expected["random_seed"], expected["max_tokens"], expected["safe_prompt"]) == (5, 200, True)
