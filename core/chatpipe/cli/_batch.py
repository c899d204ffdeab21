"""``chatpipe batch``: run every conversation of a JSONL file, appending one row per line to another."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._options import CONTEXT, PipelineChoice, pipeline_options

if TYPE_CHECKING:
    from ..batch import BatchSummary
    from ..pipeline import Pipeline
    from ..provider import BatchStatus

__all__ = ["batch"]


@click.command(context_settings=CONTEXT)
@click.argument("input_path", metavar="INPUT", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The JSONL file rows are appended to; ids already in it are skipped (resume).",
)
@pipeline_options
@click.option(
    "-c",
    "--concurrency",
    type=click.IntRange(min=1),
    default=16,
    show_default=True,
    help="Calls in flight at once (the profile's limits still apply).",
)
@click.option(
    "--vendor-batch",
    is_flag=True,
    help="Use the vendor's batch API (openai, claude, mistral: about half the price, results within a day).",
)
@click.option(
    "--state-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="With --vendor-batch: where the submitted batches are kept [default: OUTPUT.vendor-batch.json].",
)
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="With --vendor-batch: seconds between polls at first (growing to 300).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.option("-q", "--quiet", is_flag=True, help="No progress line and no summary on stderr.")
def batch(
    input_path: Path,
    output: Path,
    pipeline: PipelineChoice,
    concurrency: int,
    vendor_batch: bool,
    state_file: Path | None,
    poll_interval: float,
    as_json: bool,
    quiet: bool,
) -> None:
    """Send every conversation of INPUT (JSONL) and append one row per line to OUTPUT.

    \b
    A line: {"id": ..., "messages": [...], <params>} or OpenAI's batch-file line
    {"custom_id": ..., "body": {"messages": [...], ...}}. A row: {"id", "response"} or
    {"id", "error": {"type", "message", "status"}}. Rerunning the same command skips the
    ids already in OUTPUT. Ctrl-C stops starting calls and waits for those in flight (a
    second Ctrl-C aborts). Exit codes: 0 every row ok, 6 some rows are errors, 130
    interrupted (rerun to finish). See docs/batch.md.

    \b
    --vendor-batch submits the conversations to the vendor's batch API instead, polls until
    the batch ends and writes the same rows; the batch ids are kept in --state-file, so a
    rerun after an interruption resumes polling and never submits twice (docs/vendor-batch.md).
    """
    from ..batch import Progress, count_lines, run_batch

    if input_path.resolve() == output.resolve():
        raise click.BadParameter("the output must be another file than the input", param_hint="-o/--output")
    pipe = pipeline.build()
    params = {"model": pipeline.model} if pipeline.model else None
    if vendor_batch:
        _vendor_batch(pipe, input_path, output, state_file, params, poll_interval, as_json, quiet)
        return
    progress = None
    if not quiet and sys.stderr.isatty():
        progress = Progress(count_lines(input_path))

    def on_stopping() -> None:
        text = "stopping: waiting for the calls in flight (Ctrl-C again to abort)"
        if progress is not None:
            progress.note(text)
        elif not quiet:
            click.echo(text, err=True)

    summary = run_batch(
        pipe,
        input_path,
        output,
        concurrency=concurrency,
        params=params,
        progress=progress,
        handle_sigint=True,
        on_stopping=on_stopping,
    )
    if as_json:
        click.echo(json.dumps(summary.to_dict(), ensure_ascii=False))
    if not quiet:
        click.echo(_describe(summary), err=True)
    _exit(summary)


def _exit(summary: BatchSummary) -> None:
    from . import EXIT_INTERRUPTED, EXIT_ROWS_FAILED

    if summary.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    if summary.failed or summary.previous_errors:
        sys.exit(EXIT_ROWS_FAILED)


def _vendor_batch(
    pipe: Pipeline,
    input_path: Path,
    output: Path,
    state_file: Path | None,
    params: dict[str, str] | None,
    poll_interval: float,
    as_json: bool,
    quiet: bool,
) -> None:
    """``--vendor-batch``: submit, poll (a line per poll on stderr), download, write the rows."""
    from ..batch import run_vendor_batch_file
    from . import EXIT_INTERRUPTED

    def on_progress(status: BatchStatus) -> None:
        if not quiet:
            counts = ", ".join(f"{k} {v}" for k, v in status.counts.items())
            click.echo(
                f"batch {status.id}: {status.vendor_status or status.state}{' (' + counts + ')' if counts else ''}",
                err=True,
            )

    try:
        summary = run_vendor_batch_file(
            pipe,
            input_path,
            output,
            state_file=state_file,
            params=params,
            poll_interval=poll_interval,
            max_poll_interval=max(300.0, poll_interval),
            on_progress=on_progress,
        )
    except KeyboardInterrupt:
        click.echo("interrupted: the submitted batches are kept; rerun the same command to resume polling", err=True)
        sys.exit(EXIT_INTERRUPTED)
    if as_json:
        click.echo(json.dumps(summary.to_dict(), ensure_ascii=False))
    if not quiet:
        click.echo(_describe(summary), err=True)
    _exit(summary)


def _cost_text(summary: BatchSummary) -> str:
    """``; cost $0.0123 USD (2 replies unpriced)``; empty when no reply's cost is known."""
    if summary.cost is None:
        return ""
    unpriced = f" ({summary.unpriced:,} replies unpriced)" if summary.unpriced else ""
    return f"; cost ${summary.cost:f} USD{unpriced}"


def _describe(summary: BatchSummary) -> str:
    """The summary line on stderr."""
    rate = f" ({summary.written / summary.seconds:,.0f}/s)" if summary.seconds > 0 and summary.written else ""
    text = (
        f"{summary.written:,} rows written in {summary.seconds:,.1f} s{rate}: {summary.ok:,} ok, "
        f"{summary.failed:,} failed ({summary.invalid:,} invalid lines, {summary.duplicates:,} duplicate ids); "
        f"{summary.skipped:,} already done; tokens {summary.prompt_tokens:,} prompt + "
        f"{summary.completion_tokens:,} completion{_cost_text(summary)} -> {summary.output}"
    )
    if summary.previous_errors:
        text += f"\n{summary.previous_errors:,} error rows were already in the output from an earlier run"
    if summary.interrupted:
        text += "\ninterrupted: rerun the same command to run the rest"
    return text
