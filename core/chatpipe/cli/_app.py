"""The root ``chatpipe`` group and the one list of its commands.

Each command module defines its commands without knowing the group; :data:`COMMANDS` lists
them, and plugins of the ``chatpipe.commands`` entry-point group add theirs to :data:`cli`
(see :func:`chatpipe.cli.load_command_plugins`). Heavy imports happen inside the commands,
never at import time.
"""

from __future__ import annotations

from pathlib import Path

import click

from ._admin import config_group, keys, plugins
from ._batch import batch
from ._chat import chat, explain
from ._logs import logs
from ._new import new
from ._options import CONTEXT
from ._serve import serve
from ._status import check, models, test_command
from ._words import DOCS_URL, SOURCE_URL

__all__ = ["COMMANDS", "cli"]

COMMANDS: tuple[click.Command, ...] = (
    chat,
    explain,
    models,
    check,
    test_command,
    plugins,
    keys,
    config_group,
    logs,
    new,
    serve,
    batch,
)
"""Every built-in command; ``--help`` lists them sorted by name."""


@click.group(
    context_settings=CONTEXT,
    commands=COMMANDS,
    epilog=f"Docs: {DOCS_URL}  ·  Source: {SOURCE_URL}  ·  Issues: {SOURCE_URL}/issues",
)
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
    help="Log what chatpipe does (requests, retries, responses; keys redacted) to stderr at DEBUG level; "
    "'chat' also says on stderr which profile of a router answered.",
)
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, verbose: bool) -> None:
    """Send chat conversations to any vendor through a configurable pipeline.

    \b
    Exit codes: 0 ok, 1 vendor call failed, 2 usage error, 3 config/plugin error,
    4 missing or rejected API key, 5 status check failed, 6 batch rows failed, 130 interrupted.
    """
    if ctx.get_parameter_source("config_path") is click.core.ParameterSource.ENVIRONMENT:
        config_path = None  # found by the config's discovery, whose errors name $CHATPIPE_CONFIG
    ctx.obj = {"config_path": config_path, "verbose": verbose}
    if verbose:
        from .._log import enable_debug_logging

        enable_debug_logging()
