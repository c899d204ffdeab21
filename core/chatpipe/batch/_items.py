"""Reading a batch input file: one conversation per line, streamed, never loaded whole.

Two line formats are read (both may be mixed in one file):

* chatpipe's: ``{"id": "q1", "messages": [...], <request params>}`` — every key other than
  ``id`` and ``messages`` is a request parameter under its OpenAI name (``temperature``,
  ``max_tokens``, ``model``, ``tools``...);
* OpenAI's batch-file line: ``{"custom_id": "q1", "method": "POST", "url":
  "/v1/chat/completions", "body": {"model": ..., "messages": [...], ...}}`` — the body's keys
  other than ``messages`` are the request parameters.

``stream`` and ``stream_options`` are dropped (a batch call is never streamed). An id is a
string (an integer is taken as its decimal text). A line without one gets a stable id: the
first 16 hex digits of the SHA-256 of the line's canonical JSON (keys sorted, compact), so a
rerun names it the same — and two identical lines without ids have the same id (the second
is then a duplicate: give them ids to run a conversation twice).

A line that cannot be run — not JSON, not an object, no ``messages`` list, messages that are
not objects, another URL than chat completions — is an :class:`InvalidLine` carrying an
:class:`~chatpipe.errors.InvalidRequestError` that names the line number; its id is the
line's own when it has a readable one, else the hash of its raw text. Blank lines are skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

from ..errors import InvalidRequestError

__all__ = ["BatchItem", "InvalidLine", "count_lines", "parse_line", "read_items", "stable_id"]

_DROPPED = ("stream", "stream_options")
_CHAT_URLS = ("/v1/chat/completions", "/chat/completions")


@attrs.frozen(slots=True)
class BatchItem:
    """One conversation of a batch: its ``id``, ``messages`` (OpenAI message dicts, as read),
    ``params`` (the line's request parameters) and ``line`` (1-based line number; 0 when the
    item did not come from a file)."""

    id: str
    messages: list[Any]
    params: dict[str, Any] = attrs.field(factory=dict)
    line: int = 0


@attrs.frozen(slots=True)
class InvalidLine:
    """A line that cannot be run: ``id`` (its own, else the hash of its text), ``line`` and
    ``error`` (an InvalidRequestError naming the line and the problem), written as an error row."""

    id: str
    line: int
    error: InvalidRequestError


def stable_id(obj: Any) -> str:
    """The id of a line that has none: 16 hex digits of the SHA-256 of its canonical JSON."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _bad(ident: str, number: int, message: str) -> InvalidLine:
    return InvalidLine(ident, number, InvalidRequestError(message, where=f"line {number}"))


def _id_of(value: Any) -> str | None:
    if isinstance(value, str) and value:
        return value
    if type(value) is int:
        return str(value)
    return None


def parse_line(text: str | bytes, number: int) -> BatchItem | InvalidLine | None:
    """The item of one input line (``number`` is 1-based); ``None`` for a blank line."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    text = text.strip()
    if not text:
        return None
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError) as exc:
        detail = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
        return _bad(stable_id(text), number, f"not valid JSON ({detail}); each line must be one JSON object")
    if not isinstance(obj, dict):
        return _bad(stable_id(text), number, f"expected a JSON object, got {type(obj).__name__}")
    if "custom_id" in obj or "body" in obj:
        return _openai_line(obj, number)
    raw_id = obj.get("id")
    ident = _id_of(raw_id)
    if raw_id is not None and ident is None:
        return _bad(stable_id(obj), number, f"'id' must be a non-empty string or an integer, got {raw_id!r}")
    params = {k: v for k, v in obj.items() if k not in ("id", "messages") and k not in _DROPPED}
    return _item(ident or stable_id(obj), obj.get("messages"), params, number)


def _openai_line(obj: Mapping[str, Any], number: int) -> BatchItem | InvalidLine:
    raw_id = obj.get("custom_id")
    ident = _id_of(raw_id)
    if raw_id is not None and ident is None:
        return _bad(stable_id(obj), number, f"'custom_id' must be a non-empty string or an integer, got {raw_id!r}")
    ident = ident or stable_id(obj)
    url = obj.get("url", "/v1/chat/completions")
    if url not in _CHAT_URLS:
        return _bad(ident, number, f"url {url!r} is not supported; chatpipe batch runs /v1/chat/completions lines")
    method = obj.get("method", "POST")
    if method != "POST":
        return _bad(ident, number, f"method {method!r} is not supported; use POST")
    body = obj.get("body")
    if not isinstance(body, dict):
        return _bad(ident, number, "an OpenAI batch line needs a 'body' object holding 'messages'")
    params = {k: v for k, v in body.items() if k != "messages" and k not in _DROPPED}
    return _item(ident, body.get("messages"), params, number)


def _item(ident: str, messages: Any, params: dict[str, Any], number: int) -> BatchItem | InvalidLine:
    if messages is None:
        return _bad(ident, number, "no 'messages': each line needs a list of messages")
    if not isinstance(messages, list) or not messages:
        return _bad(ident, number, "'messages' must be a non-empty list of message objects")
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            return _bad(
                ident, number, f"messages[{index}] must be an object such as {{'role': 'user', 'content': 'Hi'}}"
            )
    return BatchItem(ident, messages, params, number)


def read_items(path: str | os.PathLike[str]) -> Iterator[BatchItem | InvalidLine]:
    """Stream the items of a JSONL file, line by line (the file is never read whole)."""
    with open(path, "rb") as lines:
        for number, raw in enumerate(lines, 1):
            item = parse_line(raw, number)
            if item is not None:
                yield item


def count_lines(path: str | os.PathLike[str]) -> int:
    """The number of lines in a file (a last line without a newline counts), read in 1 MiB blocks."""
    count, last = 0, b"\n"
    with open(path, "rb") as data:
        while block := data.read(1 << 20):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")
