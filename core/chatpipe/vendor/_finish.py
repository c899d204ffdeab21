"""Finish-reason normalisation (docs/providers.md).

Vendor values are mapped onto chatpipe's :data:`~chatpipe.models.FinishReason`; the vendor's own
string is always kept beside it as ``raw_finish_reason``. A value we do not know normalises to
``None`` (it is not guessed), so a consumer can still read the raw value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..models import FinishReason

__all__ = ["FINISH_REASONS", "normalise_finish_reason"]

FINISH_REASONS: Mapping[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
    "function_call": "tool_calls",
    "model_length": "length",
    "eos": "stop",
    "end_turn": "stop",
    "stop_sequence": "stop",
    "insufficient_system_resource": "error",
    "error": "error",
}
"""The default table shared by the OpenAI-compatible family (keys are lower-case)."""


def normalise_finish_reason(
    raw: Any, table: Mapping[str, FinishReason] = FINISH_REASONS
) -> tuple[FinishReason | None, str | None]:
    """``(normalised, raw)`` for a vendor ``finish_reason``.

    ``None`` (still streaming) gives ``(None, None)``; an unknown string gives ``(None, raw)``;
    a non-string value is kept as its ``str()`` in ``raw`` and normalises to ``None``.
    """
    if raw is None:
        return None, None
    text = raw if isinstance(raw, str) else str(raw)
    return table.get(text.lower()), text
