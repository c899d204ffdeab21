"""Docstrings and comments cite the documentation site (docs/), never documents outside this repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = re.compile(
    r"\breference (section )?\d|\b(chatpipe )?decision \d|vendor[- ]contracts|post-processing\.md \d|\bDESIGN\.md"
)


def test_sources_cite_only_pages_of_this_repository() -> None:
    sources = [
        p for top in ("core", "plugins", "examples") for p in (ROOT / top).rglob("*.py") if ".venv" not in p.parts
    ]
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sources
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if OUTSIDE.search(line)
    ]
    assert sources and not found, "cite a docs/ page instead:\n" + "\n".join(found)


def test_the_numbered_differences_cited_in_the_code_exist() -> None:
    page = (ROOT / "docs" / "post-processing.md").read_text(encoding="utf-8")
    section = page.split("## Where chatpipe differs from SillyTavern", 1)[1].split("\n## ", 1)[0]
    listed = {int(n) for n in re.findall(r"^(\d+)\. ", section, flags=re.MULTILINE)}
    cited = {
        int(n)
        for top in ("core", "plugins")
        for path in (ROOT / top).rglob("*.py")
        for n in re.findall(r"\bdifferences? (\d+)", path.read_text(encoding="utf-8"))
    }
    assert cited and cited <= listed, f"cited {sorted(cited)}, listed {sorted(listed)}"
