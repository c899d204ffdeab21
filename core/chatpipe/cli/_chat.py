"""``chatpipe chat`` and ``chatpipe explain``: send a conversation, or show what would be sent."""

from __future__ import annotations

import itertools
import json
from typing import TYPE_CHECKING, Any

import click

from ._options import CONTEXT, PipelineChoice, call_options, message_options, pipeline_options
from ._spinner import Spinner

if TYPE_CHECKING:
    from ..models import ChatResponse
    from ..pipeline import Explanation

__all__ = ["chat", "explain", "usage_line"]


@click.command(context_settings=CONTEXT)
@message_options
@pipeline_options
@call_options
@click.option("--json", "as_json", is_flag=True, help="Print the whole reply as OpenAI-format JSON.")
@click.option("--no-stream", is_flag=True, help="Wait for the whole reply instead of streaming it.")
@click.option("--reasoning/--no-reasoning", default=True, help="Show the model's reasoning on stderr.")
@click.option("--usage", "show_usage", is_flag=True, help="Print the reply's tokens and cost on stderr.")
@click.option("-c", "--continue", "continue_last", is_flag=True, help="Continue the last logged conversation.")
@click.option("--conversation", "conversation_id", metavar="ID", help="Continue the logged conversation ID.")
@click.option("--no-log", is_flag=True, help="Keep this conversation out of the log (config: log: false).")
@click.option(
    "-i", "--interactive", is_flag=True, help="Chat at the terminal, turn after turn (/help lists the commands)."
)
def chat(
    messages: list[dict[str, Any]],
    pipeline: PipelineChoice,
    as_json: bool,
    no_stream: bool,
    reasoning: bool,
    show_usage: bool,
    continue_last: bool,
    conversation_id: str | None,
    no_log: bool,
    interactive: bool,
) -> None:
    """Send PROMPT (or stdin) and print the reply, streaming it as it arrives.

    With chatpipe -v chat -p ROUTER, stderr says which of the router's profiles answered;
    with --usage, stderr gets the reply's token counts and cost (docs/cost.md). Each
    conversation is logged (chatpipe logs); -c continues the last one.
    """
    from ..config import load_config
    from ..wire import response_to_dict
    from ._notices import notice_retries

    verbose = bool((click.get_current_context().obj or {}).get("verbose"))
    notice_retries(verbose=verbose)
    config = load_config(pipeline.config_path)
    log = _Log.open(config.log and not no_log, continue_last, conversation_id)
    sent = log.earlier + messages
    if interactive:
        from ._repl import Session

        logged = log.conversation is not None
        Session(pipeline, sent, config, keep=log.keep, restart=log.restart, reasoning=reasoning, logged=logged).run()
        return
    with pipeline.build(config) as pipe:
        if no_stream or as_json:
            with Spinner(waiting_for(pipe)):
                response = pipe.complete(sent) if no_stream else pipe.stream(sent).collect()
            log.keep(pipe, messages, response)
            if verbose:
                _say_route(response.route)
            if show_usage:
                click.secho(usage_line(response), err=True, dim=True)
            if as_json:
                click.echo(json.dumps(response_to_dict(response), indent=2, ensure_ascii=False))
                return
            if reasoning and response.reasoning:
                click.secho(response.reasoning, err=True, dim=True)
            click.echo(response.text)
            _print_tool_calls(response.tool_calls)
            return
        response = print_stream(pipe.stream(sent), pipe, reasoning)
        log.keep(pipe, messages, response)
        if verbose:
            _say_route(response.route)
        _print_tool_calls(response.tool_calls)
        if show_usage:
            click.secho(usage_line(response), err=True, dim=True)


def waiting_for(pipe: Any) -> str:
    """What a :class:`~._spinner.Spinner` says while ``pipe``'s call waits."""
    model = getattr(pipe, "model", None)
    return f"waiting for {model}" if model else "waiting for the reply"


def print_stream(stream: Any, pipe: Any, reasoning: bool) -> ChatResponse:
    """Print ``pipe``'s reply ``stream`` as it arrives (reasoning on stderr, a spinner until the
    first event); the assembled reply. A failure ends the partial line and is raised."""
    from ..errors import ProviderError

    spinner = Spinner(waiting_for(pipe))
    in_reasoning = False
    try:
        with spinner:
            chunks = iter(stream)
            first = next(chunks, None)  # the wait: the vendor's first event (a local model: its start too)
        for chunk in () if first is None else itertools.chain((first,), chunks):
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
    response: ChatResponse = stream.response
    return response


class _Log:
    """Where this chat's conversation is logged: ``earlier`` (the messages of a continued
    conversation) are sent first; :meth:`keep` adds the new messages and the reply."""

    def __init__(self, history: Any, conversation: str | None, earlier: list[dict[str, Any]]) -> None:
        self.history, self.conversation, self.earlier = history, conversation, earlier

    @classmethod
    def open(cls, keeping: bool, continue_last: bool, conversation: str | None) -> _Log:
        """The log of this chat: none unless ``keeping``; the last conversation or ``conversation`` continued."""
        from ._history import History

        if continue_last and conversation:
            raise click.UsageError("give either -c/--continue or --conversation ID, not both")
        if not keeping:
            if continue_last or conversation:
                raise click.UsageError("-c and --conversation read the log, which --no-log / log: false turn off")
            return cls(None, None, [])
        history = History()
        if continue_last:
            conversation = history.last()
            if conversation is None:
                raise click.UsageError("no conversation to continue: the log is empty (chatpipe logs list)")
        try:
            earlier = history.messages(conversation) if conversation else []
        except LookupError as exc:
            raise click.UsageError(str(exc)) from None
        return cls(history, conversation, earlier)

    def restart(self) -> None:
        """The next exchange starts a new conversation."""
        self.conversation = None

    def keep(self, pipe: Any, messages: list[dict[str, Any]], response: ChatResponse) -> None:
        if self.history is None:
            return
        from ..wire import message_to_dict

        model = response.model or getattr(pipe, "model", None)
        if self.conversation is None:
            provider = getattr(pipe, "provider_class", None)  # named when there is no profile
            who = getattr(pipe, "profile", None) or (provider.info.name if provider is not None else None)
            self.conversation = self.history.start(who, model)
        self.history.add(self.conversation, [*messages, message_to_dict(response.message)], model=model)


def usage_line(response: ChatResponse) -> str:
    """``tokens: 12 prompt (4 cached), 30 completion · cost: $0.000123 USD`` (``unknown`` parts said so)."""
    usage = response.usage
    if usage is None or usage.prompt_tokens is None or usage.completion_tokens is None:
        tokens = "tokens: unknown (the vendor reported no usage)"
    else:
        cached = f" ({usage.cached_tokens} cached)" if usage.cached_tokens else ""
        tokens = f"tokens: {usage.prompt_tokens} prompt{cached}, {usage.completion_tokens} completion"
    cost = response.cost
    priced = "cost: unknown" if cost is None else f"cost: ${cost.total:f} {cost.currency}"
    return f"{tokens} · {priced}"


def _say_route(route: str | None) -> None:
    """On stderr (never stdout, which holds the reply): the profile of a router that answered."""
    if route:
        click.secho(f"answered by profile {route!r}", err=True, dim=True)


def _print_tool_calls(calls: Any) -> None:
    for call in calls:
        click.secho(f"[tool call {call.id}] {call.function.name}({call.function.arguments})", fg="cyan")


@click.command(context_settings=CONTEXT)
@message_options
@pipeline_options
@call_options
@click.option("--stream", "as_stream", is_flag=True, help="Explain the streaming request instead.")
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
def explain(messages: list[dict[str, Any]], pipeline: PipelineChoice, as_stream: bool, as_json: bool) -> None:
    """Show every converter stage and the exact HTTP request, without sending it.

    For a router profile, one section per target, in the order a call would try them now
    (weighted and latency routers draw that order as a call would); --json then prints
    {"router", "strategy", "targets": [{"target", "provider", "model", "stages", "request", "notes"}]}.
    """
    from ..routing import Router

    pipe = pipeline.build()
    if isinstance(pipe, Router):
        explained = pipe.explain_targets(messages, stream=as_stream)
        if as_json:
            document = {
                "router": pipe.profile,
                "strategy": pipe.strategy,
                "targets": [{"target": name, **e.to_dict()} for name, e in explained],
            }
            click.echo(json.dumps(document, indent=2, ensure_ascii=False))
            return
        order = ", ".join(name for name, _ in explained)
        click.secho(f"router {pipe.profile or '(unnamed)'} ({pipe.strategy}): targets in order {order}", bold=True)
        for position, (name, explanation) in enumerate(explained, 1):
            click.secho(f"\n##### target {position}: {name}", fg="cyan", bold=True)
            _print_explanation(explanation)
        return
    explanation = pipe.explain(messages, stream=as_stream)
    if as_json:
        click.echo(json.dumps(explanation.to_dict(), indent=2, ensure_ascii=False))
        return
    _print_explanation(explanation)


def _print_explanation(explanation: Explanation) -> None:
    """One pipeline's explanation: stages and the request on stdout, notes on stderr."""
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
