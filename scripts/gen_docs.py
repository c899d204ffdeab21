#!/usr/bin/env python3
"""Regenerate the generated parts of docs/ from the code's docstrings and the plugin READMEs.

    python3 scripts/gen_docs.py          rewrite the generated blocks and pages in place
    python3 scripts/gen_docs.py --check  exit 1 if a generated block or page is out of date

A generated block sits between ``<!-- generated:NAME -->`` and ``<!-- /generated -->``:
``config`` (the configuration reference, from the config classes) and ``hooks`` (the hook
reference, from the hookspec docstrings). Generated pages are whole files: one
``docs/vendors/<name>.md`` per provider package (``plugins/*`` and ``examples/*``), from its
README. tests/docs checks that everything is current, so a docstring or README change must
come with its doc; ``scripts/dev.py test`` then builds the site with ``mkdocs build --strict``.
"""

from __future__ import annotations

import inspect
import re
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


def _hook_doc(fn: Any) -> tuple[str, list[tuple[str, str]]]:
    """A hook docstring split into its Markdown body and its ``(param, description)`` pairs."""
    body: list[str] = []
    params: list[tuple[str, str]] = []
    for line in (inspect.getdoc(fn) or "").splitlines():
        match = re.match(r":param (\w+):\s*(.*)", line)
        if match:
            params.append((match[1], match[2]))
        elif params and line.startswith(" "):
            params[-1] = (params[-1][0], f"{params[-1][1]} {line.strip()}")
        else:
            body.append(line)
    return _rst_to_md("\n".join(body).strip()), [(name, _rst_to_md(text)) for name, text in params]


def hook_reference() -> str:
    """One ``### <hook>`` section per hookspec, in source order, from its docstring."""
    from chatpipe import hookspecs

    parts = []
    for name, fn in vars(hookspecs).items():
        if not name.startswith("chatpipe_") or not callable(fn):
            continue
        body, params = _hook_doc(fn)
        signature = f"`{name}({', '.join(inspect.signature(fn).parameters)})`"
        if getattr(fn, "chatpipe_spec", {}).get("historic"):
            signature += " — *historic*: a plugin registered later still receives the call"
        lines = [f"### {name}", "", signature, "", body, ""]
        lines += [f"* `{param}` — {text}" for param, text in params]
        parts.append("\n".join(lines).rstrip() + "\n")
    return "\n".join(parts)


GENERATORS: dict[str, Callable[[], str]] = {"config": config_reference, "hooks": hook_reference}

VENDOR_DIR = ROOT / "docs" / "vendors"
README_LINKS = {"../../core/README.md": "../index.md", "../../core": "../index.md"}
"""Relative links of the plugin READMEs and where they point on the site."""


def _provider_packages() -> list[Path]:
    """Every plugin or example directory whose pyproject declares a ``chatpipe.providers`` entry point."""
    found = []
    for pyproject in sorted([*ROOT.glob("plugins/*/pyproject.toml"), *ROOT.glob("examples/*/pyproject.toml")]):
        entry_points = tomllib.loads(pyproject.read_text()).get("project", {}).get("entry-points", {})
        if "chatpipe.providers" in entry_points:
            found.append(pyproject.parent)
    return found


def vendor_page(package: Path) -> str:
    """``docs/vendors/<name>.md``: the package README, its relative links pointed at the site."""
    source = package.relative_to(ROOT) / "README.md"
    text = (package / "README.md").read_text()

    def relink(match: re.Match[str]) -> str:
        target = match[2]
        if re.match(r"[a-z]+:|#", target):
            return match[0]
        if target not in README_LINKS:
            raise SystemExit(f"{source}: relative link {target!r} has no page on the site; add it to README_LINKS")
        return f"{match[1]}({README_LINKS[target]})"

    text = re.sub(r"(\[[^\]]*\])\(([^)\s]+)\)", relink, text)
    return f"<!-- generated from {source} by scripts/gen_docs.py: edit the README, not this page -->\n\n{text}"


def pages() -> dict[Path, str]:
    """Every generated whole page: path -> content."""
    return {VENDOR_DIR / f"{p.name}.md": vendor_page(p) for p in _provider_packages()}


def render(text: str) -> str:
    """``text`` with every generated block refreshed."""

    def refresh(match: re.Match[str]) -> str:
        generator = GENERATORS[match["name"]]
        return f"{match.group(1)}{generator().rstrip()}\n{match.group(4)}"

    return BLOCK.sub(refresh, text)


def main() -> int:
    check = "--check" in sys.argv[1:]
    stale = []
    generated = pages()
    for path in sorted(set(VENDOR_DIR.glob("*.md")) - set(generated)):  # a package that is gone
        stale.append(path)
        if not check:
            path.unlink()
    for path, fresh in generated.items():
        if not path.is_file() or path.read_text() != fresh:
            stale.append(path)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(fresh)
    for path in sorted((ROOT / "docs").glob("**/*.md")):
        if path in generated:
            continue
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
