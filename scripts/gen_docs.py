#!/usr/bin/env python3
"""Regenerate the generated parts of docs/ from the code's docstrings and the plugin READMEs.

    python3 scripts/gen_docs.py          rewrite the generated blocks and pages in place
    python3 scripts/gen_docs.py --check  exit 1 if a generated block or page is out of date

A generated block sits between ``<!-- generated:NAME -->`` and ``<!-- /generated -->``:
``config`` (the configuration reference, from the config classes), ``hooks`` (the hook
reference, from the hookspec docstrings) and ``providers`` (the providers table of
docs/providers.md, from each provider's ``ProviderInfo``). Generated files are whole files: one
``docs/vendors/<name>.md`` per provider package (``plugins/*`` and ``examples/*``), from its
README and titled with its display name (scripts/mkdocs_hooks.py puts every vendor page in the
site's nav), ``docs/cli-reference.md`` (every built-in command's usage, help and options, from
the click commands), and ``core/chatpipe/_catalog.py``, the entry-point names of ``plugins/*`` and their
packages (for "pip install" hints about plugins that are not installed). So a vendor is its
folder: this script derives everything else from it. tests/docs checks that everything is
current, so a docstring, README or declaration change must come with its doc;
``scripts/dev.py test`` then builds the site with ``mkdocs build --strict``.
"""

from __future__ import annotations

import inspect
import re
import sys
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"(<!-- generated:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /generated -->)", re.DOTALL)


def _rst_to_md(text: str) -> str:
    text = re.sub(r":(?:class|func|meth|attr|mod):`~?([^`]+)`", lambda m: f"`{m.group(1).split('.')[-1]}`", text)
    return text.replace("``", "`")


def config_reference() -> str:
    """One section per config class, from its docstring."""
    from chatpipe.config import (
        BudgetConfig,
        Config,
        CooldownConfig,
        LimitsConfig,
        Profile,
        RouteConfig,
        ServeConfig,
        StateConfig,
        TimeoutConfig,
    )

    parts = []
    sections = (
        (Config, "Top level"),
        (Profile, "Profiles"),
        (RouteConfig, "Router profiles"),
        (CooldownConfig, "Router cooldowns"),
        (TimeoutConfig, "Timeouts"),
        (LimitsConfig, "Size and rate limits"),
        (StateConfig, "Shared state"),
        (ServeConfig, "Gateway"),
        (BudgetConfig, "Budgets"),
    )
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


VENDOR_DIR = ROOT / "docs" / "vendors"
CATALOG = ROOT / "core" / "chatpipe" / "_catalog.py"
README_LINKS = {"../../core/README.md": "../index.md", "../../core": "../index.md"}
"""Relative links of the plugin READMEs and where they point on the site."""
PROVIDER_GROUP = "chatpipe.providers"


def entry_points(package: Path) -> dict[str, dict[str, str]]:
    """The entry points a package directory's pyproject declares: group -> name -> target."""
    project = tomllib.loads((package / "pyproject.toml").read_text()).get("project", {})
    return {group: dict(entries) for group, entries in project.get("entry-points", {}).items()}


def _provider_packages() -> list[Path]:
    """Every plugin or example directory whose pyproject declares a ``chatpipe.providers`` entry point."""
    pyprojects = [*sorted(ROOT.glob("plugins/*/pyproject.toml")), *sorted(ROOT.glob("examples/*/pyproject.toml"))]
    return [p.parent for p in pyprojects if PROVIDER_GROUP in entry_points(p.parent)]


def provider_infos(package: Path) -> list[Any]:
    """The ``ProviderInfo`` of each provider a package declares (read through the registry, so the
    package must be installed; a data provider's info is read without importing any adapter)."""
    from chatpipe.registry import default_registry

    return [default_registry().provider_info(name) for name in entry_points(package).get(PROVIDER_GROUP, {})]


def _capabilities(info: Any) -> str:
    import attrs

    flags = attrs.asdict(info.capabilities)
    return ", ".join(name.replace("_", " ") for name, on in flags.items() if on) or "none"


def _key(info: Any) -> str:
    names = " or ".join(f"`{name}`" for name in info.api_key_env)
    if info.key_required:
        return names
    return f"{names} (optional)" if names else "optional"


def providers_table(packages: Iterable[Path] | None = None) -> str:
    """The providers table: one row per provider of ``packages`` (default: every provider package)."""
    rows = [
        "| provider | package | what it is | key variable | forced conversion | capabilities |",
        "|---|---|---|---|---|---|",
    ]
    for package in _provider_packages() if packages is None else packages:
        for info in provider_infos(package):
            example = " (example plugin)" if package.parent.name == "examples" else ""
            forced = ", ".join(f"`{name}`" for name in info.required_converters) or "none"
            rows.append(
                f"| `{info.name}` | [{info.package}](vendors/{package.name}.md){example} | {info.description} "
                f"| {_key(info)} | {forced} | {_capabilities(info)} |"
            )
    return "\n".join(rows) + "\n"


GENERATORS: dict[str, Callable[[], str]] = {
    "config": config_reference,
    "hooks": hook_reference,
    "providers": providers_table,
}


def catalog_module() -> str:
    """``core/chatpipe/_catalog.py``: every entry-point name of ``plugins/*`` and its package."""
    packages: dict[str, dict[str, str]] = {}
    for pyproject in sorted(ROOT.glob("plugins/*/pyproject.toml")):
        distribution = tomllib.loads(pyproject.read_text())["project"]["name"]
        for group, entries in entry_points(pyproject.parent).items():
            if group.startswith("chatpipe.") and group != "chatpipe.commands":
                packages.setdefault(group, {}).update(dict.fromkeys(entries, distribution))
    lines = [
        '"""First-party plugin names and the packages that provide them, for "pip install" hints.',
        "",
        "Generated by scripts/gen_docs.py from the entry points of plugins/*/pyproject.toml: do not edit",
        "(the script rewrites it; ``--check`` fails when it is stale). Installed plugins are found in",
        "their own metadata; this table only names the package of a first-party plugin that is not",
        "installed, and any other name is hinted as ``chatpipe-<name>``. Nothing here is loaded.",
        '"""',
        "",
        "PACKAGES: dict[str, dict[str, str]] = {",
    ]
    for group in sorted(packages):
        lines.append(f"    {group!r}: {{".replace("'", '"'))
        lines += [f'        "{name}": "{dist}",' for name, dist in sorted(packages[group].items())]
        lines.append("    },")
    return "\n".join([*lines, "}", ""])


def vendor_page(package: Path) -> str:
    """``docs/vendors/<name>.md``: the package README titled with the provider's display name, its
    relative links pointed at the site."""
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
    title = provider_infos(package)[0].display_name + (" (example plugin)" if package.parent.name == "examples" else "")
    note = f"<!-- generated from {source} by scripts/gen_docs.py: edit the README, not this page -->"
    return f"---\ntitle: {title}\n---\n\n{note}\n\n{text}"


CLI_REFERENCE = ROOT / "docs" / "cli-reference.md"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _command_section(command: Any, path: str) -> list[str]:
    import click
    from chatpipe.cli._options import CONTEXT

    ctx = click.Context(command, info_name=path.rsplit(" ", 1)[-1], help_option_names=CONTEXT["help_option_names"])
    usage = " ".join(command.collect_usage_pieces(ctx))
    text = inspect.cleandoc(command.help or "").replace("\b\n", "")
    lines = [f"## `{path}`", "", f"```text\n{path} {usage}\n```", "", text, ""]
    records = [p.get_help_record(ctx) for p in command.get_params(ctx) if isinstance(p, click.Option)]
    rows = [record for record in records if record]
    if rows:
        lines += ["| Option | |", "|---|---|"]
        lines += [f"| `{opts}` | {_cell(help_text)} |" for opts, help_text in rows]
        lines.append("")
    if isinstance(command, click.Group):
        for name, sub in sorted(_subcommands(command).items()):
            lines += _command_section(sub, f"{path} {name}")
    return lines


def _subcommands(group: Any) -> dict[str, Any]:
    """A group's commands; for the root, the built-in ones only (plugins add theirs to it when loaded)."""
    from chatpipe.cli import cli
    from chatpipe.cli._app import COMMANDS

    if group is cli:
        return {command.name: command for command in COMMANDS}
    return dict(group.commands)


def cli_reference() -> str:
    """``docs/cli-reference.md``: every built-in command, its usage, help and options, from the commands themselves."""
    from chatpipe.cli import cli

    head = [
        "# Command reference",
        "",
        "<!-- generated from the commands by scripts/gen_docs.py: edit their help, not this page -->",
        "",
        "Every built-in command of `chatpipe`, as its `--help` describes it. Plugins may add",
        "commands (`chatpipe local` comes with chatpipe-local); see their pages. A guide to the",
        "commands is [the command line page](cli.md).",
        "",
    ]
    return "\n".join([*head, *_command_section(cli, "chatpipe")]).rstrip() + "\n"


def pages() -> dict[Path, str]:
    """Every generated whole file: path -> content."""
    generated = {VENDOR_DIR / f"{p.name}.md": vendor_page(p) for p in _provider_packages()}
    generated[CATALOG] = catalog_module()
    generated[CLI_REFERENCE] = cli_reference()
    return generated


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
