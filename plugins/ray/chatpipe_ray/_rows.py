"""Ray batches in, chatpipe batch items out; results back to a Ray batch of rows.

A batch may come as a ``pyarrow.Table``, a ``pandas.DataFrame`` or a mapping of column
name to values (Ray's ``"numpy"`` format); it is read as rows of plain Python values.

A row is one conversation in the input format of ``chatpipe batch`` (docs/batch.md), read
with :func:`chatpipe.batch.parse_line`, so the same formats, checks and stable ids apply:

* a row with a ``text`` column (``ray.data.read_text("in.jsonl")``) is that JSONL line;
* any other row is a line of its columns: ``id``, ``messages`` and request parameters, or
  OpenAI's ``custom_id`` / ``body``. ``messages`` (or ``body``) may also be JSON text.
  Arrow gives every struct the union of the fields it saw, null where a row had none (and
  pandas a NaN for a missing number), so a null (or NaN) value in a message, a body or a
  column is taken as absent.

Output rows have three string columns: ``id``, ``response`` (the JSON text of the OpenAI
``chat.completion``, as a ``chatpipe batch`` row holds it) and ``error`` (the JSON text of
``{"type", "message", "status"}``); exactly one of the last two is null.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]  # (pyarrow ships no type information)
from chatpipe.batch import BatchItem, InvalidLine, error_row, parse_line, response_row, stable_id
from chatpipe.errors import ChatpipeError, InvalidRequestError
from chatpipe.models import ChatResponse
from chatpipe.wire import finite_json

__all__ = ["OUTPUT_SCHEMA", "error_json", "items_of", "result_table"]

OUTPUT_SCHEMA = pa.schema([("id", pa.string()), ("response", pa.string()), ("error", pa.string())])


def _plain(value: Any) -> Any:
    """``value`` with numpy arrays and scalars (Ray's numpy format) as lists and Python scalars."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    tolist = getattr(value, "tolist", None)  # numpy arrays and scalars
    if callable(tolist) and not isinstance(value, (str, bytes)):
        return _plain(tolist())
    return value


def _rows(batch: Any) -> list[dict[str, Any]]:
    if isinstance(batch, pa.Table):
        return [dict(row) for row in batch.to_pylist()]
    to_dict = getattr(batch, "to_dict", None)
    if callable(to_dict) and hasattr(batch, "columns"):  # a pandas DataFrame
        return [_plain(row) for row in to_dict("records")]
    if isinstance(batch, Mapping):
        columns = {str(name): _plain(values) for name, values in batch.items()}
        length = len(next(iter(columns.values()), []))
        return [{name: values[i] for name, values in columns.items()} for i in range(length)]
    raise TypeError(f"a batch must be a pyarrow Table, a pandas DataFrame or a dict of columns, got {type(batch)}")


def _null(value: Any) -> bool:
    """``None``, or the NaN pandas puts for a missing number (never a valid request value)."""
    return value is None or (isinstance(value, float) and value != value)


def _present(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if not _null(v)}


def _drop_nulls(messages: Any) -> Any:
    if isinstance(messages, list):
        return [_present(m) if isinstance(m, dict) else m for m in messages]
    return messages


def _decoded(value: Any) -> Any:
    """JSON text of a list or object, decoded; anything else as it is."""
    if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _line_of(row: dict[str, Any]) -> str | bytes:
    if "text" in row and ("messages" not in row and "body" not in row):
        text = row["text"]
        return text if isinstance(text, (str, bytes)) else json.dumps(text)
    obj = _present(row)
    if "messages" in obj:
        obj["messages"] = _drop_nulls(_decoded(obj["messages"]))
    if "body" in obj:
        body = _decoded(obj["body"])
        if isinstance(body, dict):
            body = _present(body)
            if "messages" in body:
                body["messages"] = _drop_nulls(body["messages"])
        obj["body"] = body
    return json.dumps(obj, ensure_ascii=False, default=str)


def _located(entry: InvalidLine) -> InvalidLine:
    """``entry`` without the line number ``parse_line`` gave it (a Ray row has none)."""
    error = entry.error
    message = str(error)
    if error.where and message.startswith(f"{error.where}: "):
        message = message[len(error.where) + 2 :]
    return InvalidLine(entry.id, 0, type(error)(message))


def items_of(batch: Any) -> list[BatchItem | InvalidLine]:
    """The items of a batch, one per row (a blank ``text`` row is an invalid item too)."""
    items: list[BatchItem | InvalidLine] = []
    for row in _rows(batch):
        entry = parse_line(_line_of(row), 0)
        if entry is None:  # a blank line
            entry = InvalidLine(stable_id(""), 0, InvalidRequestError("a blank row: each row needs a conversation"))
        items.append(_located(entry) if isinstance(entry, InvalidLine) else entry)
    return items


def _json(obj: Any) -> str:
    try:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:  # a non-finite float a vendor sent
        return json.dumps(finite_json(obj), ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def error_json(error: BaseException) -> str:
    """The ``error`` column of a failed item: chatpipe's error row, or the type and text of another exception."""
    if isinstance(error, ChatpipeError):
        return _json(error_row("", error)["error"])
    return _json({"type": type(error).__name__, "message": str(error), "status": None})


def result_table(results: list[tuple[str, ChatResponse | BaseException]], *, model: str = "") -> pa.Table:
    """The output rows of ``(id, result)`` pairs (``model`` names the model when the vendor named none)."""
    ids: list[str] = []
    responses: list[str | None] = []
    errors: list[str | None] = []
    for item_id, result in results:
        ids.append(item_id)
        if isinstance(result, ChatResponse):
            responses.append(_json(response_row(item_id, result, model=model)["response"]))
            errors.append(None)
        else:
            responses.append(None)
            errors.append(error_json(result))
    return pa.table({"id": ids, "response": responses, "error": errors}, schema=OUTPUT_SCHEMA)
