"""Decoding vendor JSON, and the one signal every parser raises for a payload of the wrong shape.

Parsers are pure and deep; they raise :class:`MalformedPayload` with a message naming the
problem, and the adapter catches it once and raises a :class:`~chatpipe.errors.ProtocolError`
carrying its provider name and the scrubbed body (:func:`~chatpipe.vendor.protocol_error`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["ErrorInBody", "MalformedPayload", "decode_json", "json_or_none", "loads_json"]


def loads_json(text: str | bytes) -> Any:
    """``json.loads`` for text from outside (a vendor, a client): every failure is a ``ValueError``.

    JSON nested too deeply for the parser (``[[[[...`` a hundred thousand times) raises
    ``RecursionError`` in ``json.loads``; here it is a ``ValueError`` saying so, like any other
    invalid JSON, so each caller's mapping to its typed error covers it.
    """
    try:
        return json.loads(text)
    except RecursionError:
        problem = "JSON nested too deeply to decode"
    raise ValueError(problem)


class MalformedPayload(Exception):
    """A vendor body or stream event breaks the vendor's contract (the adapter makes it a ProtocolError)."""


class ErrorInBody(Exception):
    """A 2xx body that is an error envelope; the adapter turns ``data`` into the typed API error."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        super().__init__("error envelope")
        self.data = data


_DECODER = json.JSONDecoder()


def decode_json(content: bytes | str) -> Any:
    """Decode a JSON body, skipping leading whitespace and blank keep-alive lines.

    Invalid UTF-8 is replaced, not fatal. Raises :class:`MalformedPayload` for an empty body
    and for anything that is not JSON.
    """
    text = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content
    try:
        value, end = _DECODER.raw_decode(text)  # the common case: nothing around the JSON
        if end == len(text):
            return value
    except (ValueError, RecursionError):
        pass
    text = text.strip()
    if not text:
        raise MalformedPayload("the body was empty")
    try:
        return loads_json(text)
    except ValueError as exc:
        problem = f"the body is not valid JSON ({exc.args[0] if exc.args else exc})"
    raise MalformedPayload(problem)  # outside the except: the decoder's error (holding the body) is no __context__


def json_or_none(text: str | bytes) -> Any:
    """``text`` decoded as JSON, or ``None`` when it is not JSON (for bodies that may be anything).

    For reading what an error body or event *might* say; a body that must be JSON goes through
    :func:`decode_json`, which says what is wrong with it.
    """
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None
