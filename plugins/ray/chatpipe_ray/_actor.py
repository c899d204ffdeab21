"""The Ray Data stage: a callable class for ``Dataset.map_batches``, one pipeline per actor.

::

    spec = PipelineSpec.from_file("chatpipe.yaml", "fast")
    out = ds.map_batches(
        ChatCompletions,
        fn_constructor_kwargs={"spec": spec, "concurrency": 16},
        compute=ActorPoolStrategy(size=4),  # actors
        batch_size=256,
        batch_format="pyarrow",
    )

Each actor builds its pipeline once, in ``__init__``, from the spec (so keys come from the
actor's own environment or key store), and keeps one event loop for its life, so the
pipeline's connection pool is reused by every batch. ``__call__`` runs a batch's rows with
``acomplete``, at most ``concurrency`` at once, and returns one output row per input row
(see :mod:`._rows`): every failure — a vendor error after the configured retries, an invalid
row, a rate limit's ``LimitExceededError``, even a bug — is an error row, never an exception
that fails the Ray task. The profile's ``limits`` apply in every actor; with ``state:
{backend: redis}`` they are shared by all actors of all nodes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pyarrow as pa  # type: ignore[import-untyped]  # (pyarrow ships no type information)
from chatpipe.batch import BatchItem, InvalidLine
from chatpipe.errors import InvalidRequestError
from chatpipe.models import ChatResponse

from ._rows import items_of, result_table
from ._spec import PipelineSpec

if TYPE_CHECKING:
    from ray.data import Dataset

__all__ = ["DEFAULT_ACTORS", "DEFAULT_CONCURRENCY", "ChatCompletions", "chat_completions"]

DEFAULT_CONCURRENCY = 16
DEFAULT_ACTORS = 2


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRequestError(f"{name} must be a whole number of 1 or more, got {value!r}")
    return value


class ChatCompletions:
    """A Ray Data callable class: rows of conversations in, rows of ``id``, ``response``, ``error`` out.

    ``spec`` describes the pipeline (built here, on the actor); ``concurrency`` bounds the calls
    in flight in this actor; ``params`` override every row's request parameters (e.g.
    ``{"model": "gpt-4o"}``). A config error (a bad profile, an unset ``${VAR}``) is raised
    here, failing the actor at start rather than every row.
    """

    def __init__(
        self,
        spec: PipelineSpec,
        concurrency: int = DEFAULT_CONCURRENCY,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        if not isinstance(spec, PipelineSpec):
            raise InvalidRequestError(f"spec must be a chatpipe_ray.PipelineSpec, got {type(spec).__name__}")
        self.concurrency = _check_count("concurrency", concurrency)
        self.params = dict(params or {})
        self.pipeline = spec.build()
        self._model = str(getattr(self.pipeline, "model", "") or "")
        self._loop = asyncio.new_event_loop()

    def __call__(self, batch: Any) -> pa.Table:
        """The output rows of ``batch`` (one per input row, in input order)."""
        items = items_of(batch)
        results = self._loop.run_until_complete(self._run(items))
        return result_table(results, model=self._model)

    async def _run(self, items: list[BatchItem | InvalidLine]) -> list[tuple[str, ChatResponse | BaseException]]:
        gate = asyncio.Semaphore(self.concurrency)

        async def one(item: BatchItem | InvalidLine) -> tuple[str, ChatResponse | BaseException]:
            if isinstance(item, InvalidLine):
                return item.id, item.error
            async with gate:
                try:
                    return item.id, await self.pipeline.acomplete(item.messages, **{**item.params, **self.params})
                except Exception as error:  # every failure is a row (see the module docs)
                    return item.id, error

        return list(await asyncio.gather(*(one(item) for item in items)))

    def close(self) -> None:
        """Close the pipeline's connections and the event loop (Ray ends an actor's process
        instead; this is for a stage called directly). The stage cannot be called again."""
        if not self._loop.is_closed():
            self._loop.run_until_complete(self.pipeline.aclose())
            self._loop.close()


def chat_completions(
    ds: Dataset,
    spec: PipelineSpec,
    *,
    actors: int = DEFAULT_ACTORS,
    concurrency: int = DEFAULT_CONCURRENCY,
    batch_size: int | None = None,
    params: Mapping[str, Any] | None = None,
    **map_batches_args: Any,
) -> Dataset:
    """``ds`` mapped to rows of ``id``, ``response``, ``error`` by ``actors`` :class:`ChatCompletions` actors.

    Each actor runs up to ``concurrency`` calls at once; ``batch_size`` (rows per batch,
    default ``4 * concurrency``) should be several times ``concurrency`` so an actor is not
    idle while a batch's last calls finish. Other keyword arguments go to ``map_batches``
    (``num_cpus``, ``runtime_env``...). Lazy, like every Ray Data transform.
    """
    if not isinstance(spec, PipelineSpec):
        raise InvalidRequestError(f"spec must be a chatpipe_ray.PipelineSpec, got {type(spec).__name__}")
    _check_count("actors", actors)
    _check_count("concurrency", concurrency)
    size = _check_count("batch_size", batch_size) if batch_size is not None else 4 * concurrency
    from ray.data import ActorPoolStrategy

    return ds.map_batches(
        ChatCompletions,
        fn_constructor_kwargs={"spec": spec, "concurrency": concurrency, "params": dict(params or {})},
        compute=ActorPoolStrategy(size=actors),
        batch_size=size,
        batch_format="pyarrow",
        **map_batches_args,
    )
