"""The documentation site: nav covers the pages, vendor pages exist, links out of docs/ are checked."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def nav_pages(entries: Any) -> list[str]:
    if isinstance(entries, str):
        return [entries]
    if isinstance(entries, dict):
        return [page for value in entries.values() for page in nav_pages(value)]
    return [page for entry in entries for page in nav_pages(entry)]


def test_every_nav_entry_exists_and_every_vendor_page_is_in_the_nav() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert config["strict"] is True and config["theme"]["name"] == "material"
    pages = nav_pages(load_hooks().on_config(config)["nav"])  # the hook adds the vendor pages
    assert all((DOCS / page).is_file() for page in pages), [p for p in pages if not (DOCS / p).is_file()]
    vendors = {f"vendors/{p.name}" for p in (DOCS / "vendors").glob("*.md")}
    assert vendors and vendors <= set(pages)
    for required in ("quickstart.md", "post-processing.md", "configuration.md", "cli.md", "gateway.md",
                     "plugins.md", "testing.md", "vendors/custom.md"):  # fmt: skip
        assert required in pages


def load_hooks() -> Any:
    pytest.importorskip("mkdocs", reason="the site is built with mkdocs (a dev dependency)")
    spec = importlib.util.spec_from_file_location("chatpipe_mkdocs_hooks", ROOT / "scripts" / "mkdocs_hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def render(markdown: str) -> str:
    hooks = load_hooks()
    page = SimpleNamespace(file=SimpleNamespace(src_path="guide.md"))
    result: str = hooks.on_page_markdown(markdown, page=page, config={"docs_dir": str(DOCS)}, files=None)
    return result


def test_links_to_repository_files_become_their_path() -> None:
    assert render("see [the core](../core/README.md).") == "see the core (`core/README.md`)."
    assert render("[`core/README.md`](../core/README.md)") == "`core/README.md`"


def test_links_inside_docs_and_urls_are_untouched() -> None:
    text = "[cli](cli.md#exit-codes) [site](https://example.com) [top](#top) ![img](../x.png)"
    assert render(text) == text


def test_a_link_to_a_missing_file_fails_the_build() -> None:
    from mkdocs.exceptions import PluginError

    with pytest.raises(PluginError, match="does not exist"):
        render("[gone](../no/such/file.md)")


def test_a_link_text_that_is_a_file_name_shows_the_page_title() -> None:
    assert render("see [cost.md](cost.md).") == "see [Cost](cost.md)."
    assert render("[`configuration.md`](configuration.md#api-keys)") == "[Configuration](configuration.md#api-keys)"
    vendor = render("[vendors/custom.md](vendors/custom.md)")  # a generated page: its front matter's title
    assert vendor.startswith("[") and "custom.md]" not in vendor


def test_the_site_names_the_project_addresses_and_wraps_code() -> None:
    from chatpipe.cli._words import DOCS_URL, SOURCE_URL

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert config["repo_url"] == SOURCE_URL and config["site_url"].rstrip("/") == DOCS_URL
    (stylesheet,) = config["extra_css"]
    assert "white-space: pre-wrap" in (DOCS / stylesheet).read_text()


def test_the_command_reference_has_every_built_in_command() -> None:
    from chatpipe.cli._app import COMMANDS

    text = (DOCS / "cli-reference.md").read_text()
    for command in COMMANDS:  # (the built-in ones: plugins add theirs to the group when loaded)
        name = command.name
        assert f"## `chatpipe {name}`" in text
        for sub in getattr(command, "commands", {}):
            assert f"## `chatpipe {name} {sub}`" in text
    assert "| `-o, --option KEY VALUE` |" in text  # options come from the commands themselves
