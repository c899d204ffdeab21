"""Batch runs: many conversations through one pipeline, streamed from a JSONL file to another.

::

    from chatpipe import Pipeline
    from chatpipe.batch import run_batch

    pipe = Pipeline.from_config("fast")
    summary = run_batch(pipe, "questions.jsonl", "answers.jsonl", concurrency=64)

    for item, result in pipe.map(items, concurrency=16): ...        # sync, completion order
    async for item, result in pipe.amap(items, concurrency=16): ...  # async

The command is ``chatpipe batch INPUT.jsonl -o OUTPUT.jsonl -p PROFILE``; formats, resume,
exit codes and memory are described in docs/batch.md.

For other batch runners (the vendors' batch APIs): :func:`read_items` yields
:class:`BatchItem` (``.id``, ``.messages``, ``.params``, ``.line``) and :class:`InvalidLine`
(``.id``, ``.line``, ``.error``) objects; :meth:`BatchWriter.write(item_id, result)
<BatchWriter.write>` appends the row of a :class:`~chatpipe.models.ChatResponse` or a
:class:`~chatpipe.errors.ChatpipeError`; :func:`done_ids` gives the ids already in an output.
:func:`run_vendor_batch` sends items through a vendor's batch API instead (docs/vendor-batch.md).
"""

from __future__ import annotations

from ._items import BatchItem, InvalidLine, count_lines, parse_line, read_items, stable_id
from ._progress import Progress
from ._resume import IdSet, done_ids
from ._rows import BatchWriter, error_row, response_row
from ._runner import DEFAULT_CONCURRENCY, BatchSummary, Result, amap, arun_batch, map_sync, run_batch
from ._vendor import VendorBatchSummary, providers_with_batch_api, run_vendor_batch, run_vendor_batch_file

__all__ = [
    "DEFAULT_CONCURRENCY",
    "BatchItem",
    "BatchSummary",
    "BatchWriter",
    "IdSet",
    "InvalidLine",
    "Progress",
    "Result",
    "VendorBatchSummary",
    "amap",
    "arun_batch",
    "count_lines",
    "done_ids",
    "error_row",
    "map_sync",
    "parse_line",
    "providers_with_batch_api",
    "read_items",
    "response_row",
    "run_batch",
    "run_vendor_batch",
    "run_vendor_batch_file",
    "stable_id",
]
