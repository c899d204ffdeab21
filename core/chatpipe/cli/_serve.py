"""``chatpipe serve``: the OpenAI-compatible gateway (needs the ``chatpipe[serve]`` extra)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import click

from ._options import CONTEXT

__all__ = ["serve"]

INSTALL_HINT = "pip install 'chatpipe[serve]'"


class MissingExtra(click.ClickException):
    """The gateway's optional dependencies are not installed (exit code 3, like a missing plugin)."""

    exit_code = 3


def _require_extra() -> None:
    missing = [name for name in ("starlette", "uvicorn") if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingExtra(f"the gateway needs {' and '.join(missing)}, which are not installed: {INSTALL_HINT}")


@click.command(context_settings=CONTEXT)
@click.option(
    "--host",
    help="Address to listen on (default: serve.host, else 127.0.0.1). "
    "Non-loopback needs serve.keys or serve.allow_unauthenticated.",
)
@click.option("--port", type=click.IntRange(1, 65535), help="TCP port (default: serve.port, else 8000).")
@click.option(
    "--config",
    "serve_config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Config file (overrides the global --config and $CHATPIPE_CONFIG).",
)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Worker processes.")
@click.option(
    "--log-level",
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
    default="info",
    show_default=True,
)
@click.option("--access-log/--no-access-log", default=False, help="Log every request (off by default).")
@click.option(
    "--skip-broken-profiles",
    is_flag=True,
    help="Serve the profiles that load and leave out (with a warning) those that cannot be served, "
    "instead of refusing to start (serve.broken_profiles: skip).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    serve_config: Path | None,
    workers: int,
    log_level: str,
    access_log: bool,
    skip_broken_profiles: bool,
) -> None:
    """Serve every profile as an OpenAI-compatible API (POST /v1/chat/completions, GET /v1/models).

    \b
    Point any OpenAI client at http://HOST:PORT/v1 and use a profile name as the model,
    or <profile>/<model-id> to pick another model of that profile's vendor. Anthropic
    clients use http://HOST:PORT the same way (POST /v1/messages).
    """
    _require_extra()
    from ..config import load_config
    from ..gateway._run import run

    config = load_config(serve_config or ctx.obj["config_path"])
    run(
        config,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        access_log=access_log,
        skip_broken=skip_broken_profiles,
    )
