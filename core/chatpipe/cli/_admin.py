"""Administrative commands: plugins, keys, and config check, path, show and init."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._options import CONTEXT

if TYPE_CHECKING:
    from ..config import Config, ProfileCheck

__all__ = ["config_group", "keys", "plugins"]


@click.command(context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def plugins(as_json: bool) -> None:
    """List installed providers, converters and observers (from package metadata; nothing is imported)."""
    from ..registry import default_registry

    listing = default_registry().listing()
    if as_json:
        data = [
            {
                "kind": p.kind,
                "name": p.name,
                "aliases": list(p.aliases),
                "names": list(p.names),
                "package": p.distribution,
                "version": p.version,
            }
            for p in listing
        ]
        click.echo(json.dumps(data, indent=2))
        return
    width = max((len(p.name) for p in listing), default=0) + 2
    examples = {"provider": "openai", "converter": "strict", "observer": "otel"}
    for kind, example in examples.items():
        rows = [p for p in listing if p.kind == kind]
        click.secho(f"{kind}s:", bold=True)
        if not rows:
            click.echo(f"  (none installed; e.g. pip install chatpipe-{example})")
        for p in rows:
            also = f"  (also: {', '.join(p.aliases)})" if p.aliases else ""
            click.echo(f"  {p.name:<{width}}{p.distribution} {p.version}{also}")


@click.group(context_settings=CONTEXT)
def keys() -> None:
    """Store API keys apart from the config, in a file only you can read."""


@keys.command("set", context_settings=CONTEXT)
@click.argument("name")
@click.option(
    "--force",
    is_flag=True,
    help="Store it even when NAME is neither an installed provider nor a profile of the config "
    "(a profile still to be written, a provider still to be installed).",
)
@click.pass_context
def keys_set(ctx: click.Context, name: str, force: bool) -> None:
    """Store the key for NAME (a provider or profile). Reads a hidden prompt, or stdin when piped.

    A NAME that is neither an installed provider nor a profile of the config is refused, with
    a did-you-mean (a key stored under it would never be used), unless --force is given.
    """
    from ..keys import KeyStore

    if not force:
        _known_key_name(name, ctx.obj["config_path"])
    if sys.stdin.isatty():
        value = click.prompt(f"API key for {name}", hide_input=True, confirmation_prompt=False)
    else:
        value = sys.stdin.readline().strip()
    if not value:
        raise click.UsageError("empty key: nothing stored")
    store = KeyStore()
    store.set(name, value)
    click.echo(f"stored the key for {name} in {store.path}")


def _known_key_name(name: str, config_path: Path | None) -> None:
    """Refuse ``name`` (a usage error with a did-you-mean) unless a provider or a profile has it."""
    import difflib

    from ..config import load_config
    from ..errors import ConfigError
    from ..registry import default_registry

    providers = sorted({n for p in default_registry().listing() if p.kind == "provider" for n in p.names})
    try:
        profiles = sorted(load_config(config_path).profiles)
    except ConfigError:
        profiles = []  # a broken config must not keep a key from being stored; its profiles are unknown then
    if name in providers or name in profiles:
        return
    close = difflib.get_close_matches(name, [*providers, *profiles], n=2)
    hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
    raise click.UsageError(
        f"no provider or profile is called {name!r}: {hint}(providers: {', '.join(providers) or 'none'}; "
        f"profiles: {', '.join(profiles) or 'none'}). A key is used under a provider's or a profile's name; "
        "add --force to store it under this name anyway"
    )


@keys.command("list", context_settings=CONTEXT)
def keys_list() -> None:
    """Show stored key names with masked values."""
    from ..keys import KeyStore

    masked = KeyStore().masked()
    if not masked:
        click.echo("no keys stored; add one with: chatpipe keys set NAME")
    for name, value in sorted(masked.items()):
        click.echo(f"{name:<20} {value}")


@keys.command("path", context_settings=CONTEXT)
def keys_path() -> None:
    """Print where stored keys are kept ($CHATPIPE_CONFIG_DIR, else the user config directory)."""
    from ..keys import KeyStore

    click.echo(KeyStore().path)


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
@click.option(
    "--online",
    is_flag=True,
    help="Also run each sound provider profile's status check (the model list request, as 'chatpipe check').",
)
@click.pass_context
def config_check(ctx: click.Context, online: bool) -> None:
    """Check every profile as a call would, offline, and report every problem found.

    \b
    Per profile: the provider, converters and options exist; params are ones the provider
    knows (did-you-mean) and of the right type; the pipeline builds (a base URL, limits,
    observers); a key is found where one is needed. A router is checked through its targets.
    One line per problem, then a summary. Exit 3 when any problem was found, else 5 when an
    --online status check failed, else 0.
    """
    from ..config import check_profiles, load_config
    from ..errors import ConfigError

    try:
        config = load_config(ctx.obj["config_path"])
    except ConfigError as exc:
        if not exc.problems:
            raise
        click.echo(f"config: {exc.file}" if exc.file else "config:")
        for path, message in exc.problems:
            click.secho(f"  {path or 'top level'}: {message}", fg="red")
        click.secho(f"{_count(len(exc.problems), 'problem')} in the file; profiles not checked", fg="red")
        ctx.exit(3)
    if config.source is None:
        click.echo("no config file found; looked at (chatpipe config path lists them):")
        _echo_places(ctx.obj["config_path"])
        return
    click.echo(f"config: {config.source}")
    checks = check_profiles(config)
    shown: set[tuple[str, str]] = set()  # a top-level setting's problem meets every profile: shown once
    for found in checks:
        if found.ok:
            click.secho(f"  {found.name}: ok ({found.summary})", fg="green")
        for problem in found.problems:
            if problem not in shown:
                shown.add(problem)
                click.secho(f"  {problem[0]}: {problem[1]}", fg="red")
    problems = len(shown)
    broken = sum(not found.ok for found in checks)
    if problems:
        click.secho(
            f"{_count(problems, 'problem')} in {broken} of {_count(len(checks), 'profile')}", fg="red", bold=True
        )
    else:
        click.secho(f"all {_count(len(checks), 'profile')} ok", fg="green", bold=True)
    status_ok = (
        _online(config, [found for found in checks if found.ok and found.kind == "provider"]) if online else True
    )
    if problems:
        ctx.exit(3)
    if not status_ok:
        ctx.exit(5)


def _online(config: Config, sound: list[ProfileCheck]) -> bool:
    """Run the status check of each of ``sound`` (``chatpipe check``'s); whether none failed."""
    from ..pipeline import Pipeline
    from ._status import echo_checks, status_checks

    if not sound:
        return True
    click.echo("status checks (online):")
    ok = True
    for found in sound:
        with Pipeline.from_config(found.name, config=config) as pipe:
            checked = [(name or found.name, result) for name, result in status_checks(pipe)]
        ok = echo_checks(checked, indent="  ") and ok
    return ok


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


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


@config_group.command("show", context_settings=CONTEXT)
@click.pass_context
def config_show(ctx: click.Context) -> None:
    """Print the config file in use, with every secret written in it replaced by ***."""
    import yaml

    from ..config import find_config_file
    from ._config_file import redacted

    found = find_config_file(ctx.obj["config_path"])
    if found is None:
        raise click.UsageError("no config file found (chatpipe config path lists where chatpipe looks)")
    data = yaml.safe_load(found.read_text(encoding="utf-8"))
    click.echo(f"# {found}")
    click.echo(yaml.safe_dump(redacted(data), sort_keys=False, allow_unicode=True).rstrip())


@config_group.command("init", context_settings=CONTEXT)
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def config_init(path: Path | None, force: bool) -> None:
    """Write a starter config to PATH (default ./chatpipe.yaml), then edit it."""
    from ._config_file import STARTER

    target = path or Path("chatpipe.yaml")
    if target.exists() and not force:
        raise click.UsageError(f"{target} exists; pass --force to overwrite it")
    target.write_text(STARTER, encoding="utf-8")
    click.echo(f"wrote {target}; check it with: chatpipe config check")
