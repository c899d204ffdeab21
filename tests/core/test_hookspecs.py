"""Every hook is typed, documented in its docstring, and listed in docs/plugins.md."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from chatpipe import hookspecs

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
HOOKS = sorted(name for name in dir(hookspecs) if name.startswith("chatpipe_"))


def test_there_are_hooks() -> None:
    assert "chatpipe_register_providers" in HOOKS and "chatpipe_register_converters" in HOOKS


@pytest.mark.parametrize("name", HOOKS)
def test_hook_has_docstring_and_annotations(name: str) -> None:
    fn = getattr(hookspecs, name)
    doc = inspect.getdoc(fn) or ""
    assert len(doc.splitlines()[0]) > 10, f"{name} needs a one-line summary"
    for param in inspect.signature(fn).parameters:
        assert f":param {param}:" in doc, f"{name} does not document parameter {param!r}"
    assert all(p.annotation is not inspect.Parameter.empty for p in inspect.signature(fn).parameters.values())


@pytest.mark.parametrize("name", HOOKS)
def test_hook_is_in_the_reference(name: str) -> None:
    assert re.search(rf"^### {name}$", DOC.read_text(), re.MULTILINE), f"document {name} in docs/plugins.md"


def test_reference_lists_no_missing_hook() -> None:
    documented = set(re.findall(r"^### (chatpipe_\w+)$", DOC.read_text(), re.MULTILINE))
    assert documented == set(HOOKS)
