"""Fixtures for the deepseek plugin tests: the OpenAI spec validator from the core adapter tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

HELPER = Path(__file__).resolve().parents[2] / "core" / "openai_compat" / "openai_spec.py"


@pytest.fixture(scope="session")
def openai_spec(shared_dir: Path) -> Any:
    """Validator for schemas of the shared OpenAI spec (skips when the spec is absent)."""
    name = "openai_spec"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, HELPER)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    path = module.spec_path(shared_dir)
    if not path.is_file():
        pytest.skip(f"OpenAI spec not found at {path} (set CHATPIPE_SHARED_DIR)")
    return module.SpecValidator(path)
