"""The click command tree. Heavy imports happen inside the commands, never at import time."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..pipeline import Pipeline

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

EMBEDDED_DEFAULT = "local"
"""The provider used when there is no config, no profile and no --provider (if installed)."""


@click.group(context_settings=CONTEXT)
@click.version_option(package_name="chatpipe", prog_name="chatpipe")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="CHATPIPE_CONFIG",
    help="Config file (default: $CHATPIPE_CONFIG, ./chatpipe.yaml, then the user config dir).",
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Log what chatpipe does (requests, retries, responses; keys redacted) to stderr at DEBUG level.",
)
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, verbose: bool) -> None:
    """Send chat conversations to any vendor through a configurable pipeline.

    \b
    Exit codes: 0 ok, 1 vendor call failed, 2 usage error, 3 config/plugin error,
    4 missing or rejected API key, 5 status check failed, 130 interrupted.
    """
    ctx.obj = {"config_path": config_path}
    if verbose:
        from .._log import enable_debug_logging

        enable_debug_logging()


# --- shared options ---------------------------------------------------------------------------


def pipeline_options(fn: Any) -> Any:
    """Options that select and adjust the pipeline: profile, provider, model, converters."""
    options = [
        click.option(
            "-p",
            "--profile",
            help="Profile from the config file (default: the config's 'default'); a provider name works "
            "too when no profile has that name.",
        ),
        click.option("--provider", help="Use this provider directly, without a profile (e.g. openai, custom)."),
        click.option("-m", "--model", help="Model id, overriding the profile's."),
        click.option(
            "--converter",
            "converters",
            multiple=True,
            help="Converter to apply (repeat for a chain); replaces the profile's chain.",
        ),
        click.option("--base-url", help="Base URL, overriding the profile's (e.g. http://127.0.0.1:1234/v1)."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def message_options(fn: Any) -> Any:
    """Options that give the conversation: a prompt, a system prompt or a messages file."""
    options = [
        click.argument("prompt", required=False),
        click.option("-s", "--system", help="A system message placed before the prompt."),
        click.option(
            "--messages",
            "messages_file",
            type=click.File("r"),
            help="A JSON file (or - for stdin) holding the message list; the prompt, if given, is appended.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def build_pipeline(
    ctx: click.Context,
    profile: str | None,
    provider: str | None,
    model: str | None,
    converters: tuple[str, ...],
    base_url: str | None,
) -> Pipeline:
    """The pipeline the options describe (a profile, or an ad-hoc provider)."""
    from ..config import load_config
    from ..errors import ConfigError
    from ..pipeline import Pipeline

    config = load_config(ctx.obj["config_path"])
    overrides: dict[str, Any] = {}
    if model:
        overrides["model"] = model
    if converters:
        overrides["converters"] = list(converters)
    if base_url:
        overrides["base_url"] = base_url
    if provider and profile:
        raise click.UsageError("give either --profile or --provider, not both")
    if profile and profile not in config.profiles and _is_provider(profile):
        provider = profile  # `-p claude` with no such profile: the provider of that name
    if not provider and not profile and not config.profiles and _is_provider(EMBEDDED_DEFAULT):
        provider = EMBEDDED_DEFAULT  # no config at all: the local model, offline, no key
    if provider:
        return Pipeline(
            provider,
            placeholder=config.prompt_placeholder,
            names=config.names,
            max_retries=config.max_retries,
            timeout=(config.timeout.connect, config.timeout.read),
            plugins=config.plugins,
            **overrides,
        )
    if not config.profiles:
        where = f" in {config.source}" if config.source else ""
        raise ConfigError(
            f"no profiles configured{where}: pass --provider NAME (e.g. --provider openai), "
            "create chatpipe.yaml with a 'profiles' section (see docs/configuration.md), "
            "or pip install chatpipe-local for an offline default model"
        )
    return Pipeline.from_config(profile, config=config, **overrides)


def _is_provider(name: str) -> bool:
    from ..errors import PluginNotFoundError
    from ..registry import default_registry

    try:
        default_registry().provider(name)
    except PluginNotFoundError:
        return False
    return True


def read_messages(prompt: str | None, system: str | None, messages_file: Any) -> list[dict[str, Any]]:
    """The conversation from the options; a prompt comes from the argument or piped stdin."""
    messages: list[dict[str, Any]] = []
    if system:
        messages.append({"role": "system", "content": system})
    if messages_file is not None:
        try:
            loaded = json.load(messages_file)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--messages") from None
        if isinstance(loaded, dict) and "messages" in loaded:
            loaded = loaded["messages"]
        if not isinstance(loaded, list):
            raise click.BadParameter("expected a JSON list of messages", param_hint="--messages")
        messages.extend(loaded)
    if prompt is None and messages_file is None and not sys.stdin.isatty():
        prompt = sys.stdin.read().strip() or None
    if prompt is not None:
        messages.append({"role": "user", "content": prompt})
    if not messages:
        raise click.UsageError("no conversation: give a PROMPT, pipe text on stdin, or use --messages FILE")
    return messages


# --- commands ---------------------------------------------------------------------------------


@cli.command(context_settings=CONTEXT)
@message_options
@pipeline_options
@click.option("--json", "as_json", is_flag=True, help="Print the whole reply as OpenAI-format JSON.")
@click.option("--no-stream", is_flag=True, help="Wait for the whole reply instead of streaming it.")
@click.option("--reasoning/--no-reasoning", default=True, help="Show the model's reasoning on stderr.")
@click.pass_context
def chat(
    ctx: click.Context,
    prompt: str | None,
    system: str | None,
    messages_file: Any,
    profile: str | None,
    provider: str | None,
    model: str | None,
    converters: tuple[str, ...],
    base_url: str | None,
    as_json: bool,
    no_stream: bool,
    reasoning: bool,
) -> None:
    """Send PROMPT (or stdin) and print the reply, streaming it as it arrives."""
    from ..errors import ProviderError
    from ..wire import response_to_dict

    messages = read_messages(prompt, system, messages_file)
    pipe = build_pipeline(ctx, profile, provider, model, converters, base_url)
    with pipe:
        if no_stream or as_json:
            response = pipe.complete(messages) if no_stream else pipe.stream(messages).collect()
            if as_json:
                click.echo(json.dumps(response_to_dict(response), indent=2, ensure_ascii=False))
                return
            if reasoning and response.reasoning:
                click.secho(response.reasoning, err=True, dim=True)
            click.echo(response.text)
            _print_tool_calls(response.tool_calls)
            return
        stream = pipe.stream(messages)
        in_reasoning = False
        try:
            for chunk in stream:
                if chunk.reasoning and reasoning:
                    click.secho(chunk.reasoning, err=True, dim=True, nl=False)
                    in_reasoning = True
                if chunk.text:
                    if in_reasoning:
                        click.echo("", err=True)
                        in_reasoning = False
                    click.echo(chunk.text, nl=False)
        except ProviderError:
            if stream.text:
                click.echo("")  # end the partial line before the error message
            raise
        click.echo("")
        _print_tool_calls(stream.response.tool_calls)


def _print_tool_calls(calls: Any) -> None:
    for call in calls:
        click.secho(f"[tool call {call.id}] {call.function.name}({call.function.arguments})", fg="cyan")


@cli.command(context_settings=CONTEXT)
@message_options
@pipeline_options
@click.option("--stream", "as_stream", is_flag=True, help="Explain the streaming request instead.")
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@click.pass_context
def explain(
    ctx: click.Context,
    prompt: str | None,
    system: str | None,
    messages_file: Any,
    profile: str | None,
    provider: str | None,
    model: str | None,
    converters: tuple[str, ...],
    base_url: str | None,
    as_stream: bool,
    as_json: bool,
) -> None:
    """Show every converter stage and the exact HTTP request, without sending it."""
    messages = read_messages(prompt, system, messages_file)
    pipe = build_pipeline(ctx, profile, provider, model, converters, base_url)
    explanation = pipe.explain(messages, stream=as_stream)
    if as_json:
        click.echo(json.dumps(explanation.to_dict(), indent=2, ensure_ascii=False))
        return
    click.secho(f"provider {explanation.provider}, model {explanation.model}", bold=True)
    for name, stage in explanation.stages:
        click.secho(f"\n== {name} ({len(stage)} message(s))", fg="green", bold=True)
        for message in stage:
            click.echo(json.dumps(message, ensure_ascii=False))
    request = explanation.request
    click.secho("\n== HTTP request", fg="green", bold=True)
    click.echo(f"{request['method']} {request['url']}")
    for key, value in request["headers"].items():
        click.echo(f"{key}: {value}")
    if "json" in request:
        click.echo("")
        click.echo(json.dumps(request["json"], indent=2, ensure_ascii=False))
    for note in explanation.notes:
        click.secho(f"note: {note}", fg="yellow", err=True)


@cli.command(context_settings=CONTEXT)
@pipeline_options
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@click.pass_context
def models(
    ctx: click.Context,
    profile: str | None,
    provider: str | None,
    model: str | None,
    converters: tuple[str, ...],
    base_url: str | None,
    as_json: bool,
) -> None:
    """List the provider's models (GET {base}/models, or its static list)."""
    from ..wire import model_info_to_dict

    pipe = build_pipeline(ctx, profile, provider, model, converters, base_url)
    with pipe:
        listed = pipe.models()
    if as_json:
        click.echo(json.dumps([model_info_to_dict(m) for m in listed], indent=2))
        return
    for info in listed:
        click.echo(info.id)
    if not listed:
        click.echo("(no models listed; set 'model' in the profile by hand)", err=True)


@cli.command(context_settings=CONTEXT)
@pipeline_options
@click.pass_context
def check(
    ctx: click.Context,
    profile: str | None,
    provider: str | None,
    model: str | None,
    converters: tuple[str, ...],
    base_url: str | None,
) -> None:
    """Run the status check (the model list request); exit 5 when it fails."""
    pipe = build_pipeline(ctx, profile, provider, model, converters, base_url)
    with pipe:
        result = pipe.check()
    if result.ok and not result.bypassed:
        click.secho(f"ok: {result.detail}", fg="green")
        return
    if result.bypassed:
        click.secho(f"bypassed: {result.detail}", fg="yellow")
        return
    click.secho(f"failed: {result.detail}", fg="red", err=True)
    ctx.exit(5)


@cli.command("test", context_settings=CONTEXT)
@pipeline_options
@click.pass_context
def test_command(
    ctx: click.Context,
    profile: str | None,
    provider: str | None,
    model: str | None,
    converters: tuple[str, ...],
    base_url: str | None,
) -> None:
    """Send one real "Hi" (the Test Message) and report whether a reply came back."""
    pipe = build_pipeline(ctx, profile, provider, model, converters, base_url)
    with pipe:
        response = pipe.test_message()
    preview = response.text.strip().replace("\n", " ")
    if len(preview) > 80:
        preview = preview[:77] + "..."
    click.secho(f"API connection successful: {preview or '(empty reply)'}", fg="green")


from . import _admin, _new, _serve  # noqa: E402,F401  (register plugins, keys, config, new and serve commands)
