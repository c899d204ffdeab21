"""How the CLI words an error: in its own terms, one style for chatpipe's errors and click's.

chatpipe's errors are written for the library (``pass api_key=...``, a setting's key path,
``docs/errors.md``); the CLI says the same with its flags and the documentation site:

* a setting the user gave as a flag is named by that flag (``--base-url: ...``, not ``base_url: ...``);
* the library's ``pass api_key=...`` is ``pass --key KEY``;
* a ``docs/NAME.md`` path is the page's address on the documentation site (:data:`DOCS_URL`).

Every error is one ``error: ...`` line on stderr; a usage error adds where help is.
"""

from __future__ import annotations

import re

import click

__all__ = ["DOCS_URL", "SOURCE_URL", "error_line", "usage_error_lines"]

DOCS_URL = "https://chatpipe.readthedocs.io/en/latest"
"""The documentation site (placeholder until published: CONTRIBUTING.md, "Release checklist")."""

SOURCE_URL = "https://github.com/chatpipe/chatpipe"
"""The source repository (the packages' ``[project.urls]`` name the same; placeholder too)."""

FLAGS = {"base_url": "--base-url", "api_key": "--key", "model": "--model", "converters": "--converter"}
"""Pipeline settings the CLI takes as flags: a config error about one given as a flag names the flag."""

_PHRASES = (("pass api_key=...", "pass --key KEY"),)
_DOCS = re.compile(r"\bdocs/([a-z0-9-]+)\.md(#[a-z0-9-]+)?")


def _site(match: re.Match[str]) -> str:
    return f"{DOCS_URL}/{match.group(1)}/{match.group(2) or ''}"


def error_line(exc: Exception) -> str:
    """``exc`` as the CLI's one error line (without the ``error:`` in front)."""
    from ..errors import ConfigError

    if isinstance(exc, ConfigError) and exc.file is None and exc.path in FLAGS:
        text = f"{FLAGS[exc.path]}: {exc.message}"
    else:
        text = str(exc)
    for library, cli in _PHRASES:
        text = text.replace(library, cli)
    return _DOCS.sub(_site, text)


def usage_error_lines(exc: click.UsageError) -> list[str]:
    """A click usage error in the CLI's style: ``error: ...``, then where help is."""
    lines = [f"error: {error_line(click.ClickException(exc.format_message()))}"]
    if exc.ctx is not None:
        lines.append(f"(see: {exc.ctx.command_path} --help)")
    return lines
