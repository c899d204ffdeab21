#!/usr/bin/env python3
"""Regenerate the generated parts of docs/ from the code's docstrings.

    python3 scripts/gen_docs.py          rewrite the generated blocks in place
    python3 scripts/gen_docs.py --check  exit 1 if a generated block is out of date

A generated block sits between ``<!-- generated:NAME -->`` and ``<!-- /generated -->``.
tests/docs checks that every block is current, so a docstring change must come with its doc.
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"(<!-- generated:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /generated -->)", re.DOTALL)


def _rst_to_md(text: str) -> str:
    text = re.sub(r":(?:class|func|meth|attr|mod):`~?([^`]+)`", lambda m: f"`{m.group(1).split('.')[-1]}`", text)
    return text.replace("``", "`")


def config_reference() -> str:
    """One section per config class, from its docstring."""
    from chatpipe.config import Config, Profile, ServeConfig, TimeoutConfig

    parts = []
    sections = ((Config, "Top level"), (Profile, "Profiles"), (TimeoutConfig, "Timeouts"), (ServeConfig, "Gateway"))
    for cls, title in sections:
        parts.append(f"### {title} (`{cls.__name__}`)\n\n{_rst_to_md(inspect.getdoc(cls) or '')}\n")
    return "\n".join(parts)


GENERATORS: dict[str, Callable[[], str]] = {"config": config_reference}


def render(text: str) -> str:
    """``text`` with every generated block refreshed."""

    def refresh(match: re.Match[str]) -> str:
        generator = GENERATORS[match["name"]]
        return f"{match.group(1)}{generator().rstrip()}\n{match.group(4)}"

    return BLOCK.sub(refresh, text)


def main() -> int:
    check = "--check" in sys.argv[1:]
    stale = []
    for path in sorted((ROOT / "docs").glob("**/*.md")):
        text = path.read_text()
        fresh = render(text)
        if fresh != text:
            stale.append(path)
            if not check:
                path.write_text(fresh)
    if check and stale:
        print("out of date (run python3 scripts/gen_docs.py):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
