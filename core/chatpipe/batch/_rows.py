"""The output rows of a batch and the append-only writer every batch runner shares.

A row is one line of standard JSON, its ``id`` always the first key::

    {"id": "q1", "response": <OpenAI chat.completion object>}
    {"id": "q2", "error": {"type": "BadRequestError", "message": "...", "status": 400}}

``response`` is :func:`chatpipe.wire.completion_to_dict` of the reply (what the gateway
sends); ``error.type`` is the chatpipe exception's class name (see docs/errors.md),
``error.status`` the HTTP status or ``null`` (no HTTP answer, or an invalid line).
Non-finite floats a vendor sent become ``null``.

:class:`BatchWriter` appends one whole line per :meth:`~BatchWriter.write` and flushes it to
the operating system at once, so a killed process (SIGKILL included) leaves every written
row whole, at worst a torn last line, which :mod:`._resume` removes before a rerun appends.
It does not fsync: a power loss may lose the rows the OS had not yet written to disk.
"""

from __future__ import annotations

import json
import os
from decimal import Decimal
from typing import IO, Any

from .._cost import cost_of
from ..errors import ChatpipeError
from ..models import ChatResponse
from ..wire import completion_to_dict, finite_json

__all__ = ["BatchWriter", "error_row", "response_row", "row_line"]


def response_row(item_id: str, response: ChatResponse, *, model: str = "") -> dict[str, Any]:
    """The row of a reply (``model`` names the model when the vendor named none)."""
    return {"id": item_id, "response": completion_to_dict(response, model=model)}


def error_row(item_id: str, error: ChatpipeError) -> dict[str, Any]:
    """The row of a failed item: the error's class name, message and HTTP status (or ``None``)."""
    status = getattr(error, "status", None)
    return {
        "id": item_id,
        "error": {
            "type": type(error).__name__,
            "message": str(error),
            "status": status if type(status) is int else None,
        },
    }


def row_line(row: dict[str, Any]) -> bytes:
    """``row`` as one line of compact standard JSON (UTF-8, newline-terminated)."""
    try:
        text = json.dumps(row, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:  # a non-finite float: rare, so the copy is paid only then
        text = json.dumps(finite_json(row), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8") + b"\n"


class BatchWriter:
    """Append rows to ``path`` (created if missing), one flushed line per :meth:`write`.

    ``model`` is put in a response row whose vendor named no model (e.g. the pipeline's).
    Counts what it wrote: ``ok``, ``failed``, the reported ``prompt_tokens`` and
    ``completion_tokens``, the summed ``cost`` (USD) of the replies with a known cost (``None``
    until one has; ``batch``: at the vendor's batch rates) and the ``unpriced`` replies
    without. Not thread-safe: write from one thread (or one event loop).
    """

    def __init__(self, path: str | os.PathLike[str], *, model: str = "", batch: bool = False) -> None:
        self.path = os.fspath(path)
        self.model = model
        self.batch = batch
        self.ok = 0
        self.failed = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.cost: Decimal | None = None
        self.unpriced = 0
        self._file: IO[bytes] = open(self.path, "ab")  # noqa: SIM115 (closed by close())

    def write(self, item_id: str, result: ChatResponse | ChatpipeError) -> None:
        """Append the row of ``result`` (a reply or the error that ended the item) for ``item_id``."""
        if isinstance(result, ChatResponse):
            row = response_row(item_id, result, model=self.model)
            self.ok += 1
            usage = result.usage
            if usage is not None:
                self.prompt_tokens += usage.prompt_tokens or 0
                self.completion_tokens += usage.completion_tokens or 0
            cost = cost_of(result, batch=True) if self.batch else result.cost
            if cost is None:
                self.unpriced += 1
            else:
                self.cost = cost.total + (self.cost or 0)
        else:
            row = error_row(item_id, result)
            self.failed += 1
        self._file.write(row_line(row))
        self._file.flush()

    @property
    def written(self) -> int:
        """Rows written by this writer."""
        return self.ok + self.failed

    def close(self) -> None:
        """Close the file (every row is already flushed)."""
        self._file.close()

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
