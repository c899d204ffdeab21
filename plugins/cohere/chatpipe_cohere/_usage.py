"""Cohere's finish reasons and usage object, shared by replies and streams (pure).

* Finish reasons are upper-case: ``COMPLETE`` and ``STOP_SEQUENCE`` -> ``stop``, ``MAX_TOKENS``
  -> ``length``, ``TOOL_CALL`` -> ``tool_calls``, ``ERROR`` and ``TIMEOUT`` -> ``error`` (plus the
  v1 values ``ERROR_TOXIC`` -> ``content_filter`` and ``ERROR_LIMIT`` -> ``length``). The raw
  value is always kept; an unknown one normalises to ``None``.
* Usage: ``tokens.input_tokens`` / ``tokens.output_tokens`` are the prompt and completion tokens,
  ``cached_tokens`` the cached ones; every other key (``billed_units`` with its input/output
  tokens, search units and classifications) is kept in ``Usage.extra``. A count that is a number
  but no token count (``1e999`` decodes to ``inf``; ``nan``; out of range, see
  ``wire.token_count``) is unknown (``None``), and its raw object (``tokens`` or
  ``cached_tokens``) is kept in ``extra`` too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from chatpipe.plugin import FinishReason, MalformedPayload, Usage, wire

__all__ = ["FINISH_REASONS", "parse_usage"]

FINISH_REASONS: Mapping[str, FinishReason] = {
    "complete": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_call": "tool_calls",
    "error": "error",
    "timeout": "error",
    "error_toxic": "content_filter",
    "error_limit": "length",
}
"""Cohere's finish reasons (lower-cased keys, as :func:`normalise_finish_reason` looks them up)."""


def _count(data: Mapping[str, Any], key: str, where: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MalformedPayload(f"{where}.{key} should be a number, got {type(value).__name__}")
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        value = int(value)
    return wire.token_count(value)


def _unknown(data: Mapping[str, Any], key: str, count: int | None) -> bool:
    """Whether ``data[key]`` was sent but is no token count."""
    return count is None and data.get(key) is not None


def parse_usage(data: Any, where: str = "usage") -> Usage | None:
    """The :class:`Usage` of a Cohere ``usage`` object (``None`` when absent)."""
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise MalformedPayload(f"{where} should be an object, got {type(data).__name__}")
    tokens = data.get("tokens")
    tokens = {} if tokens is None else tokens
    if not isinstance(tokens, Mapping):
        raise MalformedPayload(f"{where}.tokens should be an object, got {type(tokens).__name__}")
    prompt = _count(tokens, "input_tokens", f"{where}.tokens")
    completion = _count(tokens, "output_tokens", f"{where}.tokens")
    total = prompt + completion if prompt is not None and completion is not None else None
    cached = _count(data, "cached_tokens", where)
    extra = {k: v for k, v in data.items() if k not in ("tokens", "cached_tokens")}
    if _unknown(tokens, "input_tokens", prompt) or _unknown(tokens, "output_tokens", completion):
        extra["tokens"] = tokens
    if _unknown(data, "cached_tokens", cached):
        extra["cached_tokens"] = data["cached_tokens"]
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total,
        cached_tokens=cached,
        extra=extra,
    )
