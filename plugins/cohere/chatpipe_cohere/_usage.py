"""Cohere's finish reasons and usage object, shared by replies and streams (pure).

* Finish reasons are upper-case: ``COMPLETE`` and ``STOP_SEQUENCE`` -> ``stop``, ``MAX_TOKENS``
  -> ``length``, ``TOOL_CALL`` -> ``tool_calls``, ``ERROR`` and ``TIMEOUT`` -> ``error`` (plus the
  v1 values ``ERROR_TOXIC`` -> ``content_filter`` and ``ERROR_LIMIT`` -> ``length``). The raw
  value is always kept; an unknown one normalises to ``None``.
* Usage: ``tokens.input_tokens`` / ``tokens.output_tokens`` are the prompt and completion tokens,
  ``cached_tokens`` the cached ones; every other key (``billed_units`` with its input/output
  tokens, search units and classifications) is kept in ``Usage.extra``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chatpipe.plugin import FinishReason, MalformedPayload, Usage

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
    return int(value)


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
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total,
        cached_tokens=_count(data, "cached_tokens", where),
        extra={k: v for k, v in data.items() if k not in ("tokens", "cached_tokens")},
    )
