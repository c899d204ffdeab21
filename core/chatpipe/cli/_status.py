"""``chatpipe models``, ``check`` and ``test``: ask the vendor behind a profile whether it answers."""

from __future__ import annotations

import json

import click

from ._options import CONTEXT, PipelineChoice, pipeline_options

__all__ = ["check", "models", "test_command"]


@click.command(context_settings=CONTEXT)
@pipeline_options
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
@pipeline_options
@click.pass_context
def check(ctx: click.Context, pipeline: PipelineChoice) -> None:
    """Run the status check (the model list request); exit 5 when it fails."""
    with pipeline.build() as pipe:
        result = pipe.check()
    if result.ok and not result.bypassed:
        click.secho(f"ok: {result.detail}", fg="green")
        return
    if result.bypassed:
        click.secho(f"bypassed: {result.detail}", fg="yellow")
        return
    click.secho(f"failed: {result.detail}", fg="red", err=True)
    ctx.exit(5)


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
