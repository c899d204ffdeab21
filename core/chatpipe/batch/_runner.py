"""The local batch runner: many conversations through one pooled async pipeline.

:func:`amap` is the engine: ``concurrency`` worker tasks pull items from one iterator and
``await pipe.acomplete(...)``; results come out in completion order. The pipeline does the
rest by itself: its transport retries each call (``max_retries``), its limits (``rpm``,
``tpm``, ``concurrency``) and a router's fallbacks and cooldowns apply to every call. The
runner never retries an item: the error that ended it is its result.

:func:`arun_batch` / :func:`run_batch` stream an input file into an output file through
:func:`amap`, skipping ids already in the output (:mod:`._resume`), writing an error row for
each invalid line and each duplicate id, and stopping cleanly when asked (``stop``: no new
call starts, the calls in flight finish and are written).
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from ..errors import InvalidRequestError, ProviderError
from ..models import ChatResponse
from ._items import BatchItem, InvalidLine, count_lines, read_items
from ._progress import Progress
from ._resume import IdSet, done_ids
from ._rows import BatchWriter

if TYPE_CHECKING:
    from ..pipeline import Pipeline

__all__ = ["BatchSummary", "amap", "arun_batch", "run_batch"]

T = TypeVar("T")

Result = ChatResponse | ProviderError | InvalidRequestError
"""What one item ends with: the reply, or the error of its call (or of its messages)."""

DEFAULT_CONCURRENCY = 16


@attrs.frozen
class BatchSummary:
    """What a batch run did. Counts are of this run; ``skipped`` rows were in the output before.

    ``failed`` counts every error row written: failed calls, ``invalid`` lines and
    ``duplicates`` (a line whose id an earlier line of the input had). ``previous_errors``
    counts the error rows the output already held. ``interrupted`` is true when the run was
    stopped before the end of the input. ``cost`` is the summed cost in USD of this run's
    replies whose cost is known (``None`` when none is; see docs/cost.md), ``unpriced`` the
    number of replies without a known cost (so a partial sum says so).
    """

    input: str
    output: str
    total: int
    ok: int
    failed: int
    invalid: int
    duplicates: int
    skipped: int
    previous_errors: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    interrupted: bool
    cost: Decimal | None = None
    unpriced: int = 0

    @property
    def written(self) -> int:
        """Rows written by this run."""
        return self.ok + self.failed

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form (``written`` and ``rate`` per second included; ``cost`` a float)."""
        out = attrs.asdict(self)
        out["cost"] = None if self.cost is None else float(self.cost)
        out["written"] = self.written
        out["rate"] = round(self.written / self.seconds, 1) if self.seconds > 0 else None
        return out


def _check_concurrency(concurrency: int) -> None:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InvalidRequestError(f"concurrency must be a whole number of 1 or more, got {concurrency!r}")


async def _one(pipe: Pipeline, item: Any) -> Result:
    """One item's call: a :class:`BatchItem`, else a message list; a per-item error is returned.

    An :class:`InvalidLine` (from :func:`read_items`) is not sent: its error is its result.
    """
    if isinstance(item, InvalidLine):
        return item.error
    messages, params = (item.messages, item.params) if isinstance(item, BatchItem) else (item, {})
    try:
        return await pipe.acomplete(messages, **params)
    except (ProviderError, InvalidRequestError) as error:
        return error


async def amap(
    pipe: Pipeline, items: Iterable[T] | AsyncIterable[T], *, concurrency: int = DEFAULT_CONCURRENCY
) -> AsyncGenerator[tuple[T, Result], None]:
    """``(item, result)`` for each item, in completion order, at most ``concurrency`` calls at once.

    An item is a :class:`~chatpipe.batch.BatchItem` (its messages and params are sent) or a
    message list; an :class:`~chatpipe.batch.InvalidLine` is not sent (its error is its
    result). The result is the :class:`~chatpipe.models.ChatResponse` or the
    :class:`~chatpipe.errors.ProviderError` / :class:`~chatpipe.errors.InvalidRequestError`
    that ended the call; any other exception (a config error, a bug) stops the iteration and
    is raised. Items are pulled as room frees up, so a huge iterable is never held. Closing
    the iterator early cancels the calls in flight.

    At most ``concurrency`` items are between their pull and the consumer's return from their
    ``yield``, calls in flight and results not yet handled together: a process killed at any
    moment has handled every result but those of at most ``concurrency`` items.
    """
    _check_concurrency(concurrency)
    results: asyncio.Queue[tuple[T, Result] | BaseException | None] = asyncio.Queue()
    room = asyncio.Semaphore(concurrency)
    pull = _puller(items)

    async def worker() -> None:
        try:
            while True:
                await room.acquire()  # released once the consumer handled the result
                try:
                    item = await pull()
                except StopAsyncIteration:
                    break
                results.put_nowait((item, await _one(pipe, item)))
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # given to the consumer, who raises it
            results.put_nowait(exc)
            return
        results.put_nowait(None)

    workers = [asyncio.ensure_future(worker()) for _ in range(concurrency)]
    running = len(workers)
    try:
        while running:
            got = await results.get()
            if got is None:
                running -= 1
            elif isinstance(got, BaseException):
                raise got
            else:
                yield got
                room.release()
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)


def _puller(items: Iterable[T] | AsyncIterable[T]) -> Callable[[], Any]:
    """An awaitable ``next`` over ``items`` that workers may call concurrently."""
    if isinstance(items, AsyncIterable):
        iterator = aiter(items)
        lock = asyncio.Lock()

        async def pull_async() -> T:
            async with lock:  # an async generator cannot be advanced by two tasks at once
                return await anext(iterator)

        return pull_async
    sync_iterator = iter(items)

    async def pull_sync() -> T:
        try:
            return next(sync_iterator)
        except StopIteration:
            raise StopAsyncIteration from None

    return pull_sync


def map_sync(
    pipe: Pipeline, items: Iterable[T], *, concurrency: int = DEFAULT_CONCURRENCY
) -> Iterator[tuple[T, Result]]:
    """The synchronous twin of :func:`amap`, on a private event loop driven by the caller's thread."""
    _check_concurrency(concurrency)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise InvalidRequestError(
            "Pipeline.map() cannot run inside an event loop; use 'async for ... in pipe.amap(...)'"
        )
    loop = asyncio.new_event_loop()
    results = amap(pipe, items, concurrency=concurrency)
    try:
        while True:
            try:
                yield loop.run_until_complete(anext(results))
            except StopAsyncIteration:
                return
    finally:
        loop.run_until_complete(results.aclose())
        loop.run_until_complete(pipe.aclose())  # this loop's pool (the sync pool reopens when next used)
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


# --- the file runner ---------------------------------------------------------------------------


class _Run:
    """The state of one file run: what was skipped, invalid, duplicated; where to stop."""

    def __init__(self, done: IdSet, writer: BatchWriter, stop: asyncio.Event, params: Mapping[str, Any]) -> None:
        self.done = done
        self.seen = IdSet()
        self.writer = writer
        self.stop = stop
        self.params = dict(params)
        self.total = 0
        self.skipped = 0
        self.invalid = 0
        self.duplicates = 0
        self.exhausted = False

    def summary(
        self, input: str | os.PathLike[str], output: str | os.PathLike[str], started: float, *, interrupted: bool
    ) -> BatchSummary:
        """What the run did, from its counts and its writer's (``started``: its monotonic start)."""
        writer = self.writer
        return BatchSummary(
            input=os.fspath(input),
            output=os.fspath(output),
            total=self.total,
            ok=writer.ok,
            failed=writer.failed,
            invalid=self.invalid,
            duplicates=self.duplicates,
            skipped=self.skipped,
            previous_errors=self.done.errors,
            prompt_tokens=writer.prompt_tokens,
            completion_tokens=writer.completion_tokens,
            seconds=round(time.monotonic() - started, 3),
            interrupted=interrupted,
            cost=writer.cost,
            unpriced=writer.unpriced,
        )

    def items(self, lines: Iterable[BatchItem | InvalidLine]) -> Iterator[BatchItem]:
        """The items to call: skipped, invalid and duplicate lines are dealt with here."""
        for entry in lines:
            if self.stop.is_set():
                return
            self.total += 1
            if entry.id in self.done:
                self.skipped += 1
                continue
            if not self.seen.add(entry.id):
                self.duplicates += 1
                self.writer.write(
                    entry.id,
                    InvalidRequestError(
                        f"duplicate id {entry.id!r}: an earlier line has the same id; give each line its own id",
                        where=f"line {entry.line}",
                    ),
                )
                continue
            if isinstance(entry, InvalidLine):
                self.invalid += 1
                self.writer.write(entry.id, entry.error)
                continue
            yield attrs.evolve(entry, params={**entry.params, **self.params}) if self.params else entry
        self.exhausted = True


async def arun_batch(
    pipe: Pipeline,
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    params: Mapping[str, Any] | None = None,
    stop: asyncio.Event | None = None,
    progress: Progress | None = None,
) -> BatchSummary:
    """Run every line of ``input`` not yet in ``output`` and append one row per line to ``output``.

    ``params`` override every line's request parameters (e.g. ``{"model": "gpt-4o"}``).
    Setting ``stop`` ends the run early: no new call starts, those in flight are written.
    ``progress`` (a :class:`~chatpipe.batch.Progress`) is updated after every row. A missing
    API key of a single pipeline is raised before anything is written; a config error (e.g.
    no model) stops the run and is raised (rows already written stay).
    """
    _check_concurrency(concurrency)
    _preflight(pipe)
    started = time.monotonic()
    stop = stop or asyncio.Event()
    done = done_ids(output)
    if progress is not None:
        progress.skipped = len(done)
    with BatchWriter(output, model=str(getattr(pipe, "model", "") or "")) as writer:
        run = _Run(done, writer, stop, params or {})
        async for item, result in amap(pipe, run.items(read_items(input)), concurrency=concurrency):
            writer.write(item.id, result)
            if progress is not None:
                progress.update(writer.written, writer.failed, writer.prompt_tokens + writer.completion_tokens)
        if progress is not None:
            progress.update(writer.written, writer.failed, writer.prompt_tokens + writer.completion_tokens, force=True)
            progress.close()
        return run.summary(input, output, started, interrupted=not run.exhausted)


def _preflight(pipe: Pipeline) -> None:
    """Raise the missing-key error of a single pipeline now, not once per row."""
    from ..routing import Router

    if not isinstance(pipe, Router):
        pipe._require_key()


def run_batch(
    pipe: Pipeline,
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    params: Mapping[str, Any] | None = None,
    progress: Progress | bool | None = None,
    handle_sigint: bool = False,
    on_stopping: Callable[[], None] | None = None,
) -> BatchSummary:
    """:func:`arun_batch` on a fresh event loop (not callable from inside a running loop).

    ``progress=True`` draws the progress line on stderr when it is a terminal (the total is a
    quick line count of ``input``). With ``handle_sigint`` (main thread only) the first
    SIGINT (Ctrl-C) stops the run as ``stop`` does — ``on_stopping`` is called then — and the
    second cancels the calls in flight and raises :class:`KeyboardInterrupt`.
    """
    if progress is True:
        progress = Progress(count_lines(input))
    elif progress is False:
        progress = None

    async def main() -> BatchSummary:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        handled = handle_sigint and threading.current_thread() is threading.main_thread()

        def on_sigint() -> None:
            if stop.is_set():
                assert task is not None
                task.cancel()
                return
            stop.set()
            if on_stopping is not None:
                on_stopping()

        if handled:
            loop.add_signal_handler(signal.SIGINT, on_sigint)
        try:
            return await arun_batch(
                pipe, input, output, concurrency=concurrency, params=params, stop=stop, progress=progress
            )
        except asyncio.CancelledError:
            if handled and stop.is_set():
                raise KeyboardInterrupt from None
            raise
        finally:
            if handled:
                loop.remove_signal_handler(signal.SIGINT)
            await pipe.aclose()  # this loop's pool (the sync pool reopens when next used)

    return asyncio.run(main())
