"""The ``chatpipe`` command line.

Exit codes (also in docs/cli.md):

==== =====================================================================
0    success
1    the vendor call failed (API error, connection, timeout, bad reply)
2    usage error: bad arguments or invalid messages
3    configuration or plugin error (the message names the key or package)
4    authentication: missing or rejected API key
5    the status check failed (``chatpipe check``)
6    ``chatpipe batch`` finished, but some rows of its output are errors
130  interrupted (Ctrl-C)
==== =====================================================================

Importing this package imports no provider; ``--help`` never loads a plugin.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from ._app import cli
from ._words import error_line, usage_error_lines

__all__ = [
    "EXIT_API",
    "EXIT_AUTH",
    "EXIT_CHECK",
    "EXIT_CONFIG",
    "EXIT_INTERRUPTED",
    "EXIT_ROWS_FAILED",
    "EXIT_USAGE",
    "cli",
    "main",
]

EXIT_API = 1
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_AUTH = 4
EXIT_CHECK = 5
EXIT_ROWS_FAILED = 6
"""``chatpipe batch`` finished, but its output holds error rows (this run's or an earlier one's)."""
EXIT_INTERRUPTED = 130


def exit_code_for(error: BaseException) -> int:
    """The documented exit code for a chatpipe error."""
    from ..errors import (
        AuthenticationError,
        ConfigError,
        InvalidRequestError,
        PermissionDeniedError,
        PluginNotFoundError,
        ProviderError,
    )

    if isinstance(error, (AuthenticationError, PermissionDeniedError)):
        return EXIT_AUTH
    if isinstance(error, ProviderError):
        return EXIT_API
    if isinstance(error, InvalidRequestError):
        return EXIT_USAGE
    if isinstance(error, (ConfigError, PluginNotFoundError)):
        return EXIT_CONFIG
    return EXIT_CONFIG


def load_command_plugins() -> None:
    """Let plugins of the ``chatpipe.commands`` group add commands (none are loaded otherwise)."""
    from ..registry import default_registry

    default_registry().load_commands(cli)


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point: run the CLI and turn chatpipe errors into exit codes."""
    from ..errors import ChatpipeError

    try:
        load_command_plugins()
        return cli.main(args=argv, prog_name="chatpipe", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.UsageError as exc:
        for line in usage_error_lines(exc):
            click.echo(line, err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"error: {error_line(click.ClickException(exc.format_message()))}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except ChatpipeError as exc:
        click.echo(f"error: {error_line(exc)}", err=True)
        sys.exit(exit_code_for(exc))
