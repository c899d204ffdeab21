"""Cohere's token log-probabilities in OpenAI's shape (pure).

Cohere answers ``logprobs: true`` with ``LogprobItem`` objects — ``{text, token_ids,
logprobs}``, one per text chunk, each chunk made of one or more tokens — as a list on a reply
and one per ``content-delta`` event on a stream. OpenAI clients (and the gateway) read
``choices[].logprobs`` as ``{"content": [{token, logprob, bytes, top_logprobs}], "refusal"}``:
each Cohere chunk becomes one entry whose ``token`` is the chunk's text and whose ``logprob``
is the sum of its tokens' (the log-probability of the whole chunk); ``top_logprobs`` is empty,
as Cohere gives no alternatives, and the chunk's ``token_ids`` are kept on the entry.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from chatpipe.plugin import MalformedPayload

__all__ = ["openai_logprobs"]


def _entry(item: Any, where: str) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise MalformedPayload(f"{where} should be an object, got {type(item).__name__}")
    text = item.get("text", "")
    values = item.get("logprobs") or []
    if not isinstance(text, str) or not isinstance(values, list):
        raise MalformedPayload(f"{where} should hold a text and a list of logprobs")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
        raise MalformedPayload(f"{where}.logprobs should be finite numbers")
    entry: dict[str, Any] = {
        "token": text,
        "logprob": float(sum(values)),
        "bytes": list(text.encode("utf-8")),
        "top_logprobs": [],
    }
    if isinstance(item.get("token_ids"), list):
        entry["token_ids"] = item["token_ids"]
    return entry


def openai_logprobs(items: Any, where: str = "logprobs") -> dict[str, Any] | None:
    """``items`` (a list of ``LogprobItem``, or one) as an OpenAI ``logprobs`` object; ``None`` for none."""
    if items is None:
        return None
    listed = items if isinstance(items, list) else [items]
    return {"content": [_entry(item, f"{where}[{i}]") for i, item in enumerate(listed)], "refusal": None}
