"""Model facts and the model list (pure): default ``max_tokens``, prefill and sampling support, ``GET /v1/models``.

``max_tokens`` is required by Claude. When neither the call (``max_tokens`` or
``max_completion_tokens``) nor the profile option ``max_tokens`` gives it, the default comes
from :data:`DEFAULT_MAX_TOKENS` by model family: 8192 for the Claude 3.5 / 3.7 / 4 and later
families, 4096 for Claude 3 and older and for any id the table does not know
(:data:`FALLBACK_MAX_TOKENS`). These are deliberately *defaults for a chat reply*, below every
listed model's output ceiling, not the ceilings themselves: a long output is something to ask for.

Model families are matched as the reference matches them: a model id *starts with* one of the
listed prefixes (``claude-opus-4-1`` matches ``claude-opus-4-1-20250805``). The lists are data:
a new model is one more entry.

Sampling (:func:`sampling_for`, the reference's rules): on the :data:`LIMITED_SAMPLING_MODELS`
only one of ``temperature`` / ``top_p`` is accepted — when ``top_p`` is below 1 ``temperature``
is left out, otherwise ``top_p`` is (also when it comes alone: 1 is its default); the
:data:`NO_SAMPLING_MODELS` take none of ``temperature``, ``top_p``, ``top_k``.

Web search (:func:`has_web_search`): Claude's server-side web-search tool exists from Claude 3.5
on; the :data:`NO_WEB_SEARCH_MODELS` (Claude 3 Opus/Sonnet/Haiku, Claude 2, Instant) lack it.
Ids the lists do not know count as having it (ids stay opaque: a new model needs no entry here).

The model list is ``GET /v1/models?limit=1000`` (Claude's largest page), followed page by page
while the vendor says ``has_more``, with ``after_id`` set to the page's ``last_id``
(:func:`next_page_cursor`; the pipeline loops through ``Provider.next_models``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chatpipe.plugin import InvalidRequestError, MalformedPayload, ModelInfo

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "FALLBACK_MAX_TOKENS",
    "LIMITED_SAMPLING_MODELS",
    "MODELS_PAGE_LIMIT",
    "NO_PREFILL_MODELS",
    "NO_SAMPLING_MODELS",
    "NO_WEB_SEARCH_MODELS",
    "can_prefill",
    "default_max_tokens",
    "has_web_search",
    "next_page_cursor",
    "parse_model_page",
    "sampling_for",
]

FALLBACK_MAX_TOKENS = 4096
MODELS_PAGE_LIMIT = 1000

DEFAULT_MAX_TOKENS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"^claude-3-[57]"), 8192),
    (re.compile(r"^claude-(opus|sonnet|haiku)-\d"), 8192),
    (re.compile(r"^claude-[3-9]-\d-(opus|sonnet|haiku)"), 8192),
    (re.compile(r"^claude-3-"), 4096),
)
"""``(pattern, default)`` pairs tried in order on the model id; the first match wins."""

NO_PREFILL_MODELS = ("claude-opus-4-6", "claude-sonnet-4-6", "claude-opus-4-7")
"""Model-id prefixes that cannot continue a final assistant turn (docs/vendors/claude.md): it is sent as user."""


LIMITED_SAMPLING_MODELS = (
    "claude-opus-4-1",
    "claude-sonnet-4-5",
    "claude-haiku-4-5",
    "claude-opus-4-5",
    "claude-opus-4-6",
    "claude-sonnet-4-6",
)
"""Model-id prefixes that accept ``temperature`` or ``top_p``, not both (see :func:`sampling_for`)."""

NO_SAMPLING_MODELS = ("claude-opus-4-7",)
"""Model-id prefixes that accept none of ``temperature``, ``top_p``, ``top_k``."""

SAMPLING_PARAMS = ("temperature", "top_p", "top_k")

NO_WEB_SEARCH_MODELS = ("claude-3-opus", "claude-3-sonnet", "claude-3-haiku", "claude-2", "claude-instant")
"""Model-id prefixes of the models before Claude 3.5, which have no web-search tool."""


def default_max_tokens(model: str) -> int:
    """The ``max_tokens`` sent for ``model`` when nothing else sets it."""
    for pattern, value in DEFAULT_MAX_TOKENS:
        if pattern.search(model):
            return value
    return FALLBACK_MAX_TOKENS


def can_prefill(model: str) -> bool:
    """Whether ``model`` continues a final assistant turn (prefill)."""
    return not model.startswith(NO_PREFILL_MODELS)


def has_web_search(model: str) -> bool:
    """Whether ``model`` can use Claude's server-side web-search tool (Claude 3.5 and later)."""
    return not model.startswith(NO_WEB_SEARCH_MODELS)


def sampling_for(model: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The ``temperature`` / ``top_p`` / ``top_k`` of ``params`` that ``model`` accepts (module docstring).

    Raises :class:`~chatpipe.errors.InvalidRequestError` when a limited-sampling model gets a
    ``top_p`` that is not a number (the rule compares it with 1).
    """
    if model.startswith(NO_SAMPLING_MODELS):
        return {}
    sampling = {k: params[k] for k in SAMPLING_PARAMS if k in params}
    if model.startswith(LIMITED_SAMPLING_MODELS) and "top_p" in sampling:
        top_p = sampling["top_p"]
        if isinstance(top_p, bool) or not isinstance(top_p, (int, float)):
            raise InvalidRequestError(f"top_p must be a number between 0 and 1, got {top_p!r}", where="top_p")
        sampling.pop("temperature" if top_p < 1 else "top_p", None)
    return sampling


def _timestamp(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def _entry(data: Any, position: int) -> ModelInfo:
    if not isinstance(data, Mapping) or not isinstance(data.get("id"), str) or not data["id"]:
        raise MalformedPayload(f"model list entry {position} has no string 'id'")
    context = data.get("max_input_tokens")
    return ModelInfo(
        data["id"],
        owned_by="anthropic",
        created=_timestamp(data.get("created_at")),
        context_length=context if isinstance(context, int) and not isinstance(context, bool) else None,
        extra={k: v for k, v in data.items() if k != "id"},
    )


def parse_model_page(data: Any) -> list[ModelInfo]:
    """The models of one decoded ``GET /v1/models`` page."""
    if not isinstance(data, Mapping) or not isinstance(data.get("data"), list):
        raise MalformedPayload("a Claude model list is an object with a 'data' list")
    return [_entry(entry, i) for i, entry in enumerate(data["data"])]


def next_page_cursor(data: Any) -> str | None:
    """The ``after_id`` of the next page, or ``None`` when this decoded page is the last."""
    if isinstance(data, Mapping) and data.get("has_more") is True and isinstance(data.get("last_id"), str):
        return str(data["last_id"])
    return None
