"""The embedded default refuses a --model it cannot be, before starting anything."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CHATPIPE = str(Path(sys.executable).parent / "chatpipe")


def test_a_model_the_local_model_cannot_be_is_a_config_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CHATPIPE_CONFIG"}
    env["CHATPIPE_CONFIG_DIR"] = str(tmp_path / "no-config")
    result = subprocess.run(
        [CHATPIPE, "chat", "-m", "gpt-4o", "Hi"],
        cwd=tmp_path,
        env=env,
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3, result.stderr
    assert "not --model gpt-4o" in result.stderr and "--provider openai -m gpt-4o" in result.stderr
    assert result.stdout == ""
