"""Generated doc blocks (config reference from the config classes' docstrings) are current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_generated_docs_are_current() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_docs.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_config_reference_documents_every_profile_key() -> None:
    import attrs
    from chatpipe.config import Profile

    text = (ROOT / "docs" / "configuration.md").read_text()
    for field in attrs.fields(Profile):
        assert f"`{field.name}`" in text, f"Profile.{field.name} is not documented"
