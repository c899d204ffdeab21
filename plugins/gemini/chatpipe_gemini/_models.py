"""The model list: ``GET /v1beta/models``, paged, chat models only (pure).

* Pages of up to :data:`PAGE_SIZE` models (``pageSize``); the next page is asked for with
  ``pageToken`` = the page's ``nextPageToken`` while there is one (:func:`next_page_token`;
  the pipeline loops through ``Provider.next_models``).
* Only models whose ``supportedGenerationMethods`` include ``generateContent`` are listed
  (embedding, image and answer-only models cannot chat).
* The id is the ``name`` without its ``models/`` prefix (what ``model:`` takes);
  ``inputTokenLimit`` is the context length; ``owned_by`` is ``google``; the rest of the entry
  (``displayName``, ``outputTokenLimit``, ``thinking``...) is in ``extra``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chatpipe.plugin import MalformedPayload, ModelInfo

__all__ = ["CHAT_METHOD", "PAGE_SIZE", "next_page_token", "parse_model_page"]

PAGE_SIZE = 1000
CHAT_METHOD = "generateContent"


def _entry(data: Any, position: int) -> ModelInfo | None:
    if not isinstance(data, Mapping) or not isinstance(data.get("name"), str) or not data["name"]:
        raise MalformedPayload(f"model list entry {position} has no string 'name'")
    methods = data.get("supportedGenerationMethods")
    if not isinstance(methods, list) or CHAT_METHOD not in methods:
        return None
    limit = data.get("inputTokenLimit")
    return ModelInfo(
        data["name"].removeprefix("models/"),
        owned_by="google",
        context_length=limit if isinstance(limit, int) and not isinstance(limit, bool) else None,
        extra={k: v for k, v in data.items() if k != "name"},
    )


def parse_model_page(data: Any) -> list[ModelInfo]:
    """The chat models of one decoded ``ListModelsResponse`` page."""
    if not isinstance(data, Mapping):
        raise MalformedPayload("a Gemini model list is an object with a 'models' list")
    models = data.get("models", [])
    if not isinstance(models, list):
        raise MalformedPayload("a Gemini model list is an object with a 'models' list")
    found = (_entry(entry, i) for i, entry in enumerate(models))
    return [m for m in found if m is not None]


def next_page_token(data: Any) -> str | None:
    """The ``pageToken`` of the next page, or ``None`` when this decoded page is the last."""
    token = data.get("nextPageToken") if isinstance(data, Mapping) else None
    return token if isinstance(token, str) and token else None
