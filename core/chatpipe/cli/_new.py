"""``chatpipe new provider NAME`` / ``chatpipe new converter NAME``: scaffold a plugin package.

The package (``chatpipe-NAME/`` under ``--dir``) has a pyproject with the entry point, the
module, a README and tests that run chatpipe's conformance suite; it installs and passes
its tests as generated.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from string import Template

import click

from ._options import CONTEXT

__all__ = ["NAME_RE", "new", "render_plugin", "write_plugin"]

NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
"""A plugin name: lower-case letters and digits, words joined by single hyphens."""
URL_RE = re.compile(r"^https?://[A-Za-z0-9._~:/?#\[\]@!$&()*+,;=%-]+$")
MODEL_RE = re.compile(r"^[A-Za-z0-9._:/-]+$")


def _values(kind: str, name: str, base_url: str | None, model: str | None) -> dict[str, str]:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise click.BadParameter(
            f"{name!r} is not a plugin name; use lower-case letters and digits joined by hyphens, e.g. 'acme'",
            param_hint="NAME",
        )
    if base_url is not None and not URL_RE.match(base_url):
        raise click.BadParameter(
            f"{base_url!r} is not an http(s) URL such as https://api.acme.com/v1", param_hint="--base-url"
        )
    if model is not None and not MODEL_RE.match(model):
        raise click.BadParameter(f"{model!r} is not a model id (letters, digits and ._:/- only)", param_hint="--model")
    module = "chatpipe_" + name.replace("-", "_")
    words = name.split("-")
    host = "".join(words)
    return {
        "name": name,
        "kind": kind,
        "group": "providers" if kind == "provider" else "converters",
        "module": module,
        "cls": "".join(w.capitalize() for w in words),
        "display": " ".join(w.capitalize() for w in words),
        "env": name.replace("-", "_").upper() + "_API_KEY",
        "base_url": (base_url or f"https://api.{host}.example/v1").rstrip("/"),
        "model": model or f"{name}-chat",
    }


def render_plugin(kind: str, name: str, *, base_url: str | None = None, model: str | None = None) -> dict[str, str]:
    """The files of a new ``kind`` (``"provider"`` or ``"converter"``) plugin: relative path -> text."""
    from . import _templates

    if kind not in ("provider", "converter"):
        raise click.BadParameter(f"unknown plugin kind {kind!r}; use 'provider' or 'converter'")
    values = _values(kind, name, base_url, model)
    files = {**_templates.COMMON, **(_templates.PROVIDER if kind == "provider" else _templates.CONVERTER)}
    return {Template(path).substitute(values): Template(text).substitute(values) for path, text in files.items()}


def write_plugin(
    kind: str, name: str, directory: Path, *, base_url: str | None = None, model: str | None = None
) -> Path:
    """Write the new plugin to ``directory/chatpipe-NAME`` and return that path.

    Refuses (click.UsageError) when the target exists and is not empty.
    """
    files = render_plugin(kind, name, base_url=base_url, model=model)
    target = directory / f"chatpipe-{name}"
    if target.exists() and any(target.iterdir()):
        raise click.UsageError(f"{target} already exists and is not empty; pick another --dir or remove it")
    for relative, text in files.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return target


@click.group(context_settings=CONTEXT)
def new() -> None:
    """Create a new plugin package (provider or converter), ready to install and test."""


_DIR = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where to create chatpipe-NAME/.",
)


def _done(target: Path) -> None:
    """Say what was made and how to install it: into this chatpipe's own environment, whose
    chatpipe satisfies the package's dependency (chatpipe is not on the package index yet)."""
    from .. import __version__

    click.echo(f"created {target}")
    click.echo(f"next, in the environment of this chatpipe {__version__} ({sys.executable}):")
    click.echo(f"  pip install -e '{target}[test]' && (cd {target} && pytest)")
    click.echo(
        "chatpipe is not on the package index yet; for another environment, install it from a clone first:\n"
        "  python3 scripts/dev.py dist && pip install --find-links dist chatpipe"
    )


@new.command("provider", context_settings=CONTEXT)
@click.argument("name")
@_DIR
@click.option("--base-url", help="The vendor's API base URL (default: https://api.NAME.example/v1).")
@click.option("--model", help="The default model id (default: NAME-chat).")
def new_provider(name: str, directory: Path, base_url: str | None, model: str | None) -> None:
    """Scaffold chatpipe-NAME: an OpenAI-compatible provider with conformance tests."""
    _done(write_plugin("provider", name, directory, base_url=base_url, model=model))


@new.command("converter", context_settings=CONTEXT)
@click.argument("name")
@_DIR
def new_converter(name: str, directory: Path) -> None:
    """Scaffold chatpipe-NAME: a prompt converter with conformance tests."""
    _done(write_plugin("converter", name, directory))
