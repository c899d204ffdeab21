"""What the CLI says on a terminal while a call waits: the transport's retries.

A retried 429 can hold a ``chatpipe chat`` for seconds; on a terminal (stderr a TTY) the
user is told why. Without a terminal nothing is added (scripts read stderr too), and with
``-v`` the debug log already says it.
"""

from __future__ import annotations

import sys

import click

from .._markers import hookimpl
from .._observe import CallInfo

__all__ = ["RetryNotice", "notice_retries"]

PLUGIN_NAME = "chatpipe-cli-retry-notice"


def _why(reason: str, status: int | None) -> str:
    if status == 429:
        return "rate limited"
    if status is not None:
        return f"the server answered {status}"
    return f"the connection failed ({reason})"


class RetryNotice:
    """An observer printing each retry on stderr: ``rate limited, retrying in 2.0 s (attempt 2)…``."""

    @hookimpl
    def chatpipe_call_retry(self, call: CallInfo, attempt: int, reason: str, status: int | None, wait: float) -> None:
        # (from the start of the line: a spinner may be turning on it)
        click.secho(
            f"\r\033[K{_why(reason, status)}, retrying in {wait:.1f} s (attempt {attempt})…", err=True, dim=True
        )


def notice_retries(*, verbose: bool) -> None:
    """Register :class:`RetryNotice` in the default registry when stderr is a terminal and not ``verbose``."""
    if verbose or not sys.stderr.isatty():
        return
    from ..registry import default_registry

    default_registry().register(RetryNotice(), PLUGIN_NAME)
