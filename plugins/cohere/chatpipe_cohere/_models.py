"""Cohere's model list (``GET /v1/models``) -> :class:`~chatpipe.models.ModelInfo` (pure).

The body is ``{models: [{name, endpoints, context_length, features, ...}], next_page_token?}``;
the id is ``name``, ``context_length`` is kept as an integer and every other key of an entry in
``ModelInfo.extra``. The adapter asks for pages of :data:`PAGE_SIZE` chat models and follows
``next_page_token`` (returned by :func:`parse_model_page`) until the last page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chatpipe.plugin import MalformedPayload, ModelInfo

__all__ = ["PAGE_SIZE", "parse_model_page"]

PAGE_SIZE = 1000
"""Models asked for in one page request."""


def _entry(entry: Any, index: int) -> ModelInfo:
    if not isinstance(entry, Mapping):
        raise MalformedPayload(f"models[{index}] should be an object, got {type(entry).__name__}")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise MalformedPayload(f"models[{index}] has no 'name'")
    length = entry.get("context_length")
    context = int(length) if isinstance(length, (int, float)) and not isinstance(length, bool) else None
    extra = {k: v for k, v in entry.items() if k not in ("name", "context_length")}
    return ModelInfo(name, context_length=context, extra=extra)


def parse_model_page(data: Any) -> tuple[list[ModelInfo], str | None]:
    """The models of one decoded page and its ``next_page_token`` (``None`` on the last page)."""
    models = data.get("models") if isinstance(data, Mapping) else None
    if not isinstance(models, list):
        raise MalformedPayload("a Cohere model list should be an object with a 'models' list")
    token = data.get("next_page_token")
    return [_entry(entry, i) for i, entry in enumerate(models)], token if isinstance(token, str) and token else None
