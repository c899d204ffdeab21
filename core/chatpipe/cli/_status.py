"""``chatpipe models``, ``check`` and ``test``: ask the vendor behind a profile whether it answers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from ._options import CONTEXT, PipelineChoice, endpoint_options, pipeline_options

if TYPE_CHECKING:
    from ..pipeline import CheckResult, Pipeline
    from ..routing import Router

__all__ = ["check", "echo_checks", "models", "status_checks", "test_command"]


@click.command(context_settings=CONTEXT)
@endpoint_options
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def models(pipeline: PipelineChoice, as_json: bool) -> None:
    """List the provider's models (GET {base}/models, or its static list)."""
    from ..wire import model_info_to_dict

    with pipeline.build() as pipe:
        listed = pipe.models()
    if as_json:
        click.echo(json.dumps([model_info_to_dict(m) for m in listed], indent=2))
        return
    for info in listed:
        click.echo(info.id)
    if not listed:
        click.echo("(no models listed; set 'model' in the profile by hand)", err=True)


@click.command(context_settings=CONTEXT)
@endpoint_options
@click.pass_context
def check(ctx: click.Context, pipeline: PipelineChoice) -> None:
    """Run the status check (the model list request); exit 5 when it fails.

    For a router profile, every target is checked (nested routers' targets and the
    context_fallbacks too), one line each; exit 5 when any target's check fails (a bypassed
    check does not fail).
    """
    with pipeline.build() as pipe:
        checked = status_checks(pipe)
    if not echo_checks(checked):
        ctx.exit(5)


def status_checks(pipe: Pipeline | Router) -> list[tuple[str | None, CheckResult]]:
    """The status check of ``pipe`` (name ``None``), or of each pipeline a router may call (by profile name)."""
    from ..routing import Router

    if isinstance(pipe, Router):
        return [(name, target.check()) for name, target in _leaves(pipe)]
    return [(None, pipe.check())]


def echo_checks(checked: Sequence[tuple[str | None, CheckResult]], *, indent: str = "") -> bool:
    """Print one line per result (a failure on stderr); whether none failed (a bypassed check does not)."""
    ok = True
    for name, result in checked:
        where = f"{indent}{name}: " if name is not None else indent
        if result.ok and not result.bypassed:
            click.secho(f"{where}ok: {result.detail}", fg="green")
        elif result.bypassed:
            click.secho(f"{where}bypassed: {result.detail}", fg="yellow")
        else:
            click.secho(f"{where}failed: {result.detail}", fg="red", err=True)
            ok = False
    return ok


def _leaves(router: Router) -> list[tuple[str, Pipeline]]:
    """The pipelines a router may call (targets, then context fallbacks), nested routers opened, each once."""
    from ..routing import Router

    found: dict[int, tuple[str, Pipeline]] = {}
    for target in (*router.targets, *router.context_targets):
        inner = _leaves(target.pipe) if isinstance(target.pipe, Router) else [(target.name, target.pipe)]
        for name, pipe in inner:
            found.setdefault(id(pipe), (name, pipe))
    return list(found.values())


@click.command("test", context_settings=CONTEXT)
@pipeline_options
def test_command(pipeline: PipelineChoice) -> None:
    """Send one real "Hi" (the Test Message) and report whether a reply came back."""
    with pipeline.build() as pipe:
        response = pipe.test_message()
    preview = response.text.strip().replace("\n", " ")
    if len(preview) > 80:
        preview = preview[:77] + "..."
    click.secho(f"API connection successful: {preview or '(empty reply)'}", fg="green")
