"""``chatpipe local serve``: a bad flag is named as the flag, before any server starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CHATPIPE = str(Path(sys.executable).parent / "chatpipe")


@pytest.mark.parametrize(
    ("args", "flag", "why"),
    [
        (["--port", "70000"], "--port", "up to 65535"),
        (["--threads", "-1"], "--threads", "positive"),
    ],
)
def test_a_bad_flag_is_named_as_the_flag(args: list[str], flag: str, why: str) -> None:
    result = subprocess.run([CHATPIPE, "local", "serve", *args], input="", capture_output=True, text=True, timeout=30)
    assert result.returncode == 2, result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"error: Invalid value for {flag}: ") and why in first
    assert "options." not in result.stderr
