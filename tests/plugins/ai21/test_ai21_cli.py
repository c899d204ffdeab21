"""The ai21 provider through the chatpipe command line (subprocess): explain shows the body
exactly as the adapter builds it; models prints the static list; check points to 'chatpipe test'."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from chatpipe import wire
from chatpipe.models import ChatRequest
from chatpipe.provider import ProviderSettings
from chatpipe.secrets import Secret
from chatpipe_ai21 import JAMBA_MODELS, AI21Provider

KEY = "ai21-cli-PLANTED-abcdef0123456789"
CHATPIPE = str(Path(sys.executable).parent / "chatpipe")
PARAMS = {"max_tokens": 300, "temperature": 0.2, "documents": [{"content": "Jamba is a hybrid model.", "id": "d1"}]}
MESSAGES = [
    {"role": "system", "content": "You are terse. "},
    {"role": "system", "name": "example_user", "content": "Example question"},
    {"role": "user", "name": "Alex", "content": "What is Jamba?"},
    {"role": "user", "content": "Answer from the documents."},
]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "chatpipe.yaml"
    path.write_text(
        "profiles:\n"
        "  jamba:\n"
        "    provider: ai21\n"
        "    model: jamba-large\n"
        f"    params: {json.dumps(PARAMS)}\n"
        "    include_body: {trace_id: run-7}\n"
    )
    return path


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHATPIPE, "--config", str(config), *args],
        input="",
        capture_output=True,
        text=True,
        env={**os.environ, "AI21_API_KEY": KEY},
        timeout=60,
    )


def test_explain_shows_the_body_exactly_as_the_adapter_builds_it(config: Path, tmp_path: Path) -> None:
    messages_file = tmp_path / "messages.json"
    messages_file.write_text(json.dumps(MESSAGES))
    result = run(config, "explain", "-p", "jamba", "--messages", str(messages_file), "--json")
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)["request"]

    adapter = AI21Provider(
        ProviderSettings(
            base_url=AI21Provider.info.default_base_url or "", api_key=Secret(KEY), include_body={"trace_id": "run-7"}
        )
    )
    request = ChatRequest(model="jamba-large", messages=wire.messages_from_dicts(MESSAGES), params=PARAMS)
    expected = adapter.build_chat(adapter.prepare(request))
    assert shown["json"] == expected.json
    assert (shown["method"], shown["url"]) == ("POST", "https://api.ai21.com/studio/v1/chat/completions")
    assert shown["json"]["messages"] == [
        {"role": "system", "content": "You are terse. \n\nExample question"},
        {"role": "user", "content": "Alex: What is Jamba?\n\nAnswer from the documents."},
    ]
    assert shown["headers"]["Authorization"] == "***"
    assert KEY not in result.stdout + result.stderr


def test_models_prints_the_static_list_and_check_points_to_test(config: Path) -> None:
    models = run(config, "models", "-p", "jamba")
    assert models.returncode == 0, models.stderr
    assert models.stdout.split() == list(JAMBA_MODELS)
    check = run(config, "check", "-p", "jamba")
    assert check.returncode == 0, check.stderr
    assert "no status check" in check.stdout and "chatpipe test" in check.stdout
