"""MkDocs hook (mkdocs.yml ``hooks:``): links from docs/ to repository files outside docs/.

The site holds only ``docs/``, so a link such as ``../benchmarks/README.md`` has no page and
would fail ``mkdocs build --strict``. This hook checks that the target exists in the
repository — a missing one fails the build, naming the page and the link — and renders the
link as the repository path in code style. Links inside ``docs/`` and URLs are untouched
(MkDocs itself validates the former).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"(?<!!)\[(?P<text>[^\]]+)\]\((?P<target>[^)\s]+)\)")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """Rewrite the page's links to repository files outside docs/ (see the module docstring)."""
    docs = Path(config["docs_dir"]).resolve()
    source = (docs / page.file.src_path).parent

    def rewrite(match: re.Match[str]) -> str:
        target = match["target"]
        if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:|#|/", target):
            return match[0]
        path = (source / target.split("#", 1)[0]).resolve()
        if path == docs or docs in path.parents:
            return match[0]
        if not path.exists():
            raise PluginError(f"{page.file.src_path}: the link {target!r} points to {path}, which does not exist")
        relative = path.relative_to(ROOT).as_posix()
        text = match["text"]
        return f"`{relative}`" if text.strip("`") == relative else f"{text} (`{relative}`)"

    return LINK.sub(rewrite, markdown)
