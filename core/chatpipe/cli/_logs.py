"""``chatpipe logs``: the conversations ``chatpipe chat`` kept (see :mod:`._history`)."""

from __future__ import annotations

import json
import time

import click

from ._options import CONTEXT

__all__ = ["logs"]


@click.group("logs", context_settings=CONTEXT)
def logs() -> None:
    """The conversations chatpipe chat kept (continue one with chat -c or --conversation ID)."""


@logs.command("list", context_settings=CONTEXT)
@click.option("-n", "--count", type=click.IntRange(min=1), default=20, show_default=True, help="How many.")
@click.option("-q", "--search", help="Only conversations with a message containing this text (any case).")
def list_logs(count: int, search: str | None) -> None:
    """The latest conversations, newest first: id, when, who answered, the first prompt."""
    from ._history import History

    found = History().conversations(search=search, limit=count)
    if not found:
        click.echo("no conversations" + (f" with {search!r}" if search else " logged yet"))
    for conversation in found:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(conversation.updated))
        who = "/".join(part for part in (conversation.profile, conversation.model) if part) or "-"
        first = " ".join(conversation.first.split())
        click.echo(f"{conversation.id}  {when}  {who}  {first[:60]}{'…' if len(first) > 60 else ''}")


@logs.command("show", context_settings=CONTEXT)
@click.argument("conversation")
@click.option("--json", "as_json", is_flag=True, help="Print the messages as a JSON list (chat --messages takes it).")
def show_log(conversation: str, as_json: bool) -> None:
    """Print one conversation's messages."""
    from ._history import History

    try:
        messages = History().messages(conversation)
    except LookupError as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        click.echo(json.dumps(messages, indent=2, ensure_ascii=False))
        return
    for message in messages:
        click.secho(f"{message.get('role', '?')}:", bold=True)
        content = message.get("content")
        click.echo(content if isinstance(content, str) else json.dumps(content, ensure_ascii=False))
        click.echo("")


@logs.command("path", context_settings=CONTEXT)
def log_path() -> None:
    """Print where the log is kept ($CHATPIPE_DATA_DIR, else the user data directory)."""
    from ._history import History

    click.echo(History().path)
