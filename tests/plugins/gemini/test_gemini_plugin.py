"""The gemini plugin as installed: registration, ProviderInfo, ``chatpipe plugins``,
``chatpipe explain`` (real URL, body as built, key redacted) and a profile's options checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from chatpipe import Pipeline, wire
from chatpipe.errors import ConfigError
from chatpipe.models import ChatRequest
from chatpipe.registry import default_registry
from chatpipe.testing.openapi import SpecValidator
from chatpipe_gemini import DEFAULT_MODEL, GeminiProvider

CHATPIPE = str(Path(sys.executable).parent / "chatpipe")
KEY = "AIza-PLANTED-gemini-cli-0123456789"


def test_the_entry_point_registers_the_provider() -> None:
    assert default_registry().provider("gemini") is GeminiProvider
    info = GeminiProvider.info
    assert (info.package, info.default_model, info.api_key_env) == (
        "chatpipe-gemini",
        DEFAULT_MODEL,
        ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    )
    assert info.capabilities.reasoning and info.capabilities.vision and info.capabilities.model_listing
    assert {"reasoning_effort", "top_k", "max_tokens", "response_format"} <= set(info.params)


def test_chatpipe_plugins_lists_it() -> None:
    result = subprocess.run([CHATPIPE, "plugins"], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert any(line.split()[:2] == ["gemini", "chatpipe-gemini"] for line in result.stdout.splitlines())


def test_explain_shows_the_real_url_and_body_with_the_key_redacted(tmp_path: Path, gemini_spec: SpecValidator) -> None:
    config = tmp_path / "chatpipe.yaml"
    config.write_text(
        "profiles:\n"
        "  g:\n"
        "    provider: gemini\n"
        "    model: gemini-2.5-pro\n"
        "    params: {temperature: 0.3, max_tokens: 512, reasoning_effort: low}\n"
        "    options:\n"
        "      safety_settings:\n"
        "        - {category: HARM_CATEGORY_HARASSMENT, threshold: OFF}\n",
        encoding="utf-8",
    )
    conversation = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello"},
        {"role": "user", "content": "Anyone?"},
    ]
    messages = tmp_path / "messages.json"
    messages.write_text(json.dumps(conversation), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("GOOGLE_API_KEY",)}
    env["GEMINI_API_KEY"] = KEY
    command = [CHATPIPE, "--config", str(config), "explain", "-p", "g", "--messages", str(messages), "--json"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert KEY not in result.stdout + result.stderr
    shown = json.loads(result.stdout)["request"]
    assert (shown["method"], shown["url"]) == (
        "POST",
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:generateContent",
    )
    assert shown["headers"]["x-goog-api-key"] == "***"
    adapter = Pipeline.from_config("g", config, api_key=KEY).adapter
    built = adapter.build_chat(
        ChatRequest(
            model="gemini-2.5-pro",
            messages=wire.messages_from_dicts(conversation),
            params={"temperature": 0.3, "max_tokens": 512, "reasoning_effort": "low"},
        )
    )
    assert shown["json"] == built.json
    assert shown["json"] == {
        "contents": [{"role": "user", "parts": [{"text": "Hello"}, {"text": "Anyone?"}]}],
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "OFF"}],
        "generationConfig": {
            "temperature": 0.3,
            "maxOutputTokens": 512,
            "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": True},
        },
    }
    gemini_spec.check("GenerateContentRequest", shown["json"])


def test_the_conversion_applies_with_post_processing_none() -> None:
    pipe = Pipeline("gemini", api_key=KEY, converters=["none"])
    shown = pipe.explain([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]).request
    assert shown["json"]["contents"] == [{"role": "user", "parts": [{"text": "a"}, {"text": "b"}]}]


def test_a_bad_safety_setting_in_a_profile_names_the_key_path(tmp_path: Path) -> None:
    config = tmp_path / "chatpipe.yaml"
    config.write_text(
        "profiles:\n  g:\n    provider: gemini\n    options:\n"
        "      safety_settings: [{category: HARM_CATEGORY_HARASSMENT, threshold: SOMETIMES}]\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"safety_settings\[0\]\.threshold"):
        Pipeline.from_config("g", config, api_key=KEY)
