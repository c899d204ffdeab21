"""``GET {base}/models`` response -> list of :class:`~chatpipe.models.ModelInfo` (pure).

Accepts OpenAI's ``{"object": "list", "data": [...]}`` and a bare list (some servers, and
Mistral's documented example). Entries keep unknown keys (``supports_chat``,
``supports_tools``, ``capabilities``...) in ``ModelInfo.extra``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import wire
from ..errors import InvalidRequestError
from ..models import ModelInfo
from ..vendor import MalformedPayload

__all__ = ["parse_model_list"]


def parse_model_list(data: Any) -> list[ModelInfo]:
    """The model entries of a decoded model-list body; :class:`MalformedPayload` for other shapes."""
    entries = data.get("data") if isinstance(data, Mapping) else data
    if not isinstance(entries, list):
        raise MalformedPayload("a model list should be a JSON list or an object with a 'data' list")
    out = []
    for i, entry in enumerate(entries):
        if isinstance(entry, str):  # a bare list of ids
            out.append(ModelInfo(entry))
            continue
        try:
            out.append(wire.model_info_from_dict(entry))
        except InvalidRequestError as exc:
            raise MalformedPayload(f"model list entry {i}: {exc}") from None
    return out
