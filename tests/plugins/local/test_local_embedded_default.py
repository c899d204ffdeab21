"""The embedded default: with no config and no key, `chatpipe chat "Hello"` gets a real answer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.local_server

CHATPIPE = str(Path(sys.executable).parent / "chatpipe")


def test_chat_without_config_uses_the_local_model(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CHATPIPE_CONFIG"}
    result = subprocess.run(
        [CHATPIPE, "chat", "Hello"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip(), "the local model gave no text"
    # said once, on stderr (stdout holds only the reply)
    assert result.stderr.count("answering with the embedded local model (smollm2-135m-instruct") == 1
    assert "--provider NAME" in result.stderr and "embedded" not in result.stdout


def test_explain_without_config_shows_the_local_server_request(tmp_path: Path) -> None:
    result = subprocess.run(
        [CHATPIPE, "explain", "--json", "Hello"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert '"provider": "local"' in result.stdout
    assert "http://127.0.0.1:" in result.stdout and "127.0.0.1:0/" not in result.stdout
