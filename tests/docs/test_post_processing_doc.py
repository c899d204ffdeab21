"""Every before/after example in docs/post-processing.md is what the converter really does."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import chatpipe
import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "post-processing.md"
EXAMPLE = re.compile(
    r"<!-- example converter=\"(?P<converter>[^\"]+)\"(?: names='(?P<names>[^']+)')? -->\s*"
    r"Before:\s*```json\n(?P<before>.*?)```\s*After `[^`]+`:\s*```json\n(?P<after>.*?)```",
    re.DOTALL,
)


def examples() -> list[tuple[str, dict[str, Any] | None, list[Any], list[Any]]]:
    found = []
    for match in EXAMPLE.finditer(DOC.read_text()):
        names = json.loads(match["names"]) if match["names"] else None
        found.append((match["converter"], names, json.loads(match["before"]), json.loads(match["after"])))
    return found


def test_the_doc_has_examples_for_every_mode() -> None:
    modes = {converter for converter, *_ in examples()}
    assert {"merge", "merge-tools", "semi-strict", "strict", "single-user"} <= modes


@pytest.mark.parametrize(("converter", "names", "before", "after"), examples())
def test_example_matches_the_converter(
    converter: str, names: dict[str, Any] | None, before: list[Any], after: list[Any]
) -> None:
    assert chatpipe.convert(before, converter, names=names) == after
