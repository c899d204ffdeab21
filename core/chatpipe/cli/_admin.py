"""Administrative commands: plugins, keys, config check and config path."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

from ._options import CONTEXT

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["config_group", "keys", "plugins"]


@click.command(context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def plugins(as_json: bool) -> None:
    """List installed providers, converters and observers (from package metadata; nothing is imported)."""
    from ..registry import default_registry

    listing = default_registry().listing()
    if as_json:
        data = [
            {"kind": p.kind, "names": list(p.names), "package": p.distribution, "version": p.version} for p in listing
        ]
        click.echo(json.dumps(data, indent=2))
        return
    width = max((len(", ".join(p.names)) for p in listing), default=0) + 2
    examples = {"provider": "openai", "converter": "strict", "observer": "otel"}
    for kind, example in examples.items():
        rows = [p for p in listing if p.kind == kind]
        click.secho(f"{kind}s:", bold=True)
        if not rows:
            click.echo(f"  (none installed; e.g. pip install chatpipe-{example})")
        for p in rows:
            click.echo(f"  {', '.join(p.names):<{width}}{p.distribution} {p.version}")


@click.group(context_settings=CONTEXT)
def keys() -> None:
    """Store API keys apart from the config, in a file only you can read."""


@keys.command("set", context_settings=CONTEXT)
@click.argument("name")
def keys_set(name: str) -> None:
    """Store the key for NAME (a provider or profile). Reads a hidden prompt, or stdin when piped."""
    from ..keys import KeyStore

    if sys.stdin.isatty():
        value = click.prompt(f"API key for {name}", hide_input=True, confirmation_prompt=False)
    else:
        value = sys.stdin.readline().strip()
    if not value:
        raise click.UsageError("empty key: nothing stored")
    store = KeyStore()
    store.set(name, value)
    click.echo(f"stored the key for {name} in {store.path}")


@keys.command("list", context_settings=CONTEXT)
def keys_list() -> None:
    """Show stored key names with masked values."""
    from ..keys import KeyStore

    masked = KeyStore().masked()
    if not masked:
        click.echo("no keys stored; add one with: chatpipe keys set NAME")
    for name, value in sorted(masked.items()):
        click.echo(f"{name:<20} {value}")


@keys.command("remove", context_settings=CONTEXT)
@click.argument("name")
def keys_remove(name: str) -> None:
    """Delete the stored key for NAME."""
    from ..keys import KeyStore

    if KeyStore().remove(name):
        click.echo(f"removed the key for {name}")
    else:
        raise click.UsageError(f"no key stored for {name!r} (see: chatpipe keys list)")


@click.group("config", context_settings=CONTEXT)
def config_group() -> None:
    """Inspect the configuration."""


@config_group.command("check", context_settings=CONTEXT)
@click.pass_context
def config_check(ctx: click.Context) -> None:
    """Validate the config file and every profile's provider, converters and options."""
    from ..config import load_config
    from ..errors import ChatpipeError
    from ..registry import default_registry

    config = load_config(ctx.obj["config_path"])
    if config.source is None:
        click.echo("no config file found; looked at (chatpipe config path lists them):")
        _echo_places(ctx.obj["config_path"])
        return
    click.echo(f"config: {config.source}")
    registry = default_registry()
    failed = False
    for name, profile in config.profiles.items():
        if profile.route is not None:  # its targets are profiles, checked on their own lines (and by the loader)
            targets = ", ".join(target.profile for target in profile.route.targets)
            click.secho(f"  {name}: ok (router, {profile.route.strategy}: {targets})", fg="green")
            continue
        try:
            provider = registry.provider(profile.provider)
            for converter in profile.converters:
                registry.converter(converter)
            provider.validate_options(dict(profile.options))
        except ChatpipeError as exc:
            failed = True
            click.secho(f"  {name}: {exc}", fg="red")
            continue
        chain = ", ".join(profile.converters) or "none"
        click.secho(f"  {name}: ok ({profile.provider}, converters: {chain})", fg="green")
    if failed:
        ctx.exit(3)


@config_group.command("path", context_settings=CONTEXT)
@click.pass_context
def config_path(ctx: click.Context) -> None:
    """Print the config file in use (or none), and every place looked at, in order."""
    from ..config import find_config_file

    found = find_config_file(ctx.obj["config_path"])
    click.echo(f"config: {found if found is not None else 'none'}")
    click.echo("looked at, in order:")
    _echo_places(ctx.obj["config_path"], found)


def _echo_places(explicit: Path | None, found: Path | None = None) -> None:
    from ..config import config_candidates

    for where, path in config_candidates(explicit):
        state = "in use" if path == found else ("exists" if path.is_file() else "not found")
        click.echo(f"  {path}  ({where}; {state})")
