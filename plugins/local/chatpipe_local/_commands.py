"""``chatpipe local serve``: run the local llama.cpp server in the foreground.

Registered through the ``chatpipe.commands`` entry point ``local``. This module imports only
click at import time, so adding the command costs the CLI's start-up nothing noticeable.
"""

from __future__ import annotations

import time

import click
from chatpipe.plugin import hookimpl

__all__ = ["chatpipe_register_commands", "local"]


@click.group()
def local() -> None:
    """Run the local model server (llama.cpp with SmolLM2-135M-Instruct by default)."""


@local.command()
@click.option("--port", type=int, default=8080, show_default=True, help="Port on 127.0.0.1; 0 picks a free one.")
@click.option("--model", "model_path", type=click.Path(dir_okay=False), help="GGUF model file (default: SmolLM2).")
@click.option("--alias", help="Model id the server reports (default: smollm2-135m-instruct).")
@click.option("--threads", type=int, help="CPU threads (default 1: more stall on a busy small machine).")
@click.option("--ctx-size", type=int, help="Total context in tokens, split across slots (default 4096).")
@click.option("--parallel", type=int, help="Request slots decoded together (default 2).")
@click.option("--chat-template", help="Jinja template file, or 'tools' for the shipped tools-capable ChatML.")
@click.option(
    "--api-key", envvar="CHATPIPE_LOCAL_SERVE_KEY", help="Key clients must send (or $CHATPIPE_LOCAL_SERVE_KEY)."
)
@click.option("--startup-timeout", type=float, help="Seconds to wait for the model to load (default 60).")
def serve(
    port: int,
    model_path: str | None,
    alias: str | None,
    threads: int | None,
    ctx_size: int | None,
    parallel: int | None,
    chat_template: str | None,
    api_key: str | None,
    startup_timeout: float | None,
) -> None:
    """Serve the local model until Ctrl-C, printing its OpenAI-compatible base URL.

    Point any OpenAI-compatible client at that URL (e.g. SillyTavern's "Custom
    (OpenAI-compatible)" source, or chatpipe's 'custom' provider with base_url set to it).
    """
    import attrs
    from chatpipe.plugin import ConfigError, Secret

    from ._server import LocalServer, LocalServerError
    from ._settings import ServerSettings, settings_from_options

    options = {
        name: value
        for name, value in {
            "port": port,
            "model_path": model_path,
            "threads": threads,
            "ctx_size": ctx_size,
            "parallel": parallel,
            "chat_template": chat_template,
            "startup_timeout": startup_timeout,
        }.items()
        if value is not None
    }
    try:
        settings: ServerSettings = settings_from_options(options, Secret(api_key) if api_key else None)
    except ConfigError as exc:  # the option came from a flag of this command: name the flag
        name = (exc.path or "").removeprefix("options.")
        raise click.BadParameter(exc.message, param_hint=f"--{name.replace('_', '-')}") from None
    if alias:
        settings = attrs.evolve(settings, alias=alias)
    server = LocalServer(settings)
    _interrupt_on_sigterm()
    try:
        url = server.ensure()
        click.echo(url)
        click.echo(
            f"Serving {settings.alias} (pid {server.pid}). Use {url} as the base URL of an OpenAI-compatible "
            f"('custom') endpoint{', with your API key' if api_key else ''}. Press Ctrl-C to stop.",
            err=True,
        )
        while server.running:
            time.sleep(0.5)
        raise LocalServerError("the local server stopped unexpectedly", stderr_tail=server.log_tail())
    except KeyboardInterrupt:
        click.echo("Stopping the local server.", err=True)
    finally:
        server.stop()


def _interrupt_on_sigterm() -> None:
    """Make SIGTERM (and SIGHUP) stop ``serve`` like Ctrl-C, so the server is stopped cleanly."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None:
            signal.signal(signum, interrupt)


@hookimpl
def chatpipe_register_commands(cli: object) -> None:
    """Add the ``local`` command group (``chatpipe local serve``) to the chatpipe CLI."""
    add_command = getattr(cli, "add_command", None)
    if callable(add_command):
        add_command(local)
