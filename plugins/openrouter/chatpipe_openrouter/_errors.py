"""OpenRouter's error objects, wherever they arrive (docs/vendors/openrouter.md, "Errors").

OpenRouter wraps every error as ``{"error": {"code": <HTTP status>, "message": ...,
"metadata": {...}}}``. It arrives as the body of a non-2xx response (a request error, out of
credits), but also with HTTP 200: as the whole body or a stream event when the model failed
before any output, next to ``choices`` when it failed mid-stream (that chunk's finish reason is
``error``), or as ``choices[i].error``. :func:`error_of` finds it in any of those places and
:func:`error_details` reads it, folding in what ``metadata`` says: the moderation ``reasons``
of a flagged input (403), the upstream ``provider_name`` and its ``raw`` error, and for a 402
the ``limit_source`` (credits or the key's own limit).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from chatpipe.plugin import ErrorDetails, details_from_json

__all__ = ["CREDITS_HINT", "error_details", "error_of", "is_moderation"]

CREDITS_HINT = "add credits at https://openrouter.ai/settings/credits (or raise the key's credit limit)"
"""The fix named with a 402."""

_RAW_LIMIT = 300


def error_of(payload: Any) -> Mapping[str, Any] | None:
    """The envelope ``{"error": {...}}`` of a decoded body or stream event, else ``None``.

    Looks at the top-level ``error`` (whether or not ``choices`` come with it), then at each
    choice's own ``error``.
    """
    if not isinstance(payload, Mapping):
        return None
    error = payload.get("error")
    if isinstance(error, Mapping | str) and error:
        return payload
    choices = payload.get("choices")
    if isinstance(choices, list):
        for choice in choices:
            if isinstance(choice, Mapping):
                error = choice.get("error")
                if isinstance(error, Mapping) and error:
                    return {"error": error}
    return None


def is_moderation(envelope: Mapping[str, Any]) -> bool:
    """Whether the error is a moderation refusal: its metadata lists the ``reasons`` the input was flagged for."""
    error = envelope.get("error")
    metadata = error.get("metadata") if isinstance(error, Mapping) else None
    return isinstance(metadata, Mapping) and isinstance(metadata.get("reasons"), list)


def error_details(envelope: Mapping[str, Any]) -> ErrorDetails:
    """The details of an OpenRouter envelope, with its ``metadata`` summed up in the message."""
    details = details_from_json(envelope) or ErrorDetails(message=json.dumps(envelope, ensure_ascii=False)[:500])
    error = envelope.get("error")
    metadata = error.get("metadata") if isinstance(error, Mapping) else None
    notes = _notes(metadata, details.status) if isinstance(metadata, Mapping) else []
    if details.status == 402:
        notes.append(CREDITS_HINT)
    if not notes:
        return details
    message = f"{details.message.rstrip('.')} ({'; '.join(notes)})"
    return ErrorDetails(message, type=details.type, code=details.code, param=details.param, status=details.status)


def _notes(metadata: Mapping[str, Any], status: int | None) -> list[str]:
    notes = []
    reasons = metadata.get("reasons")
    if isinstance(reasons, list) and reasons:
        notes.append("flagged by moderation for: " + ", ".join(str(r) for r in reasons))
    provider = metadata.get("provider_name")
    if isinstance(provider, str) and provider:
        notes.append(f"provider {provider}")
    raw = metadata.get("raw")
    if raw:
        text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False)
        cut = text if len(text) <= _RAW_LIMIT else text[:_RAW_LIMIT] + "…"
        notes.append(f"its error: {cut}")
    limit = metadata.get("limit_source")
    if status == 402 and limit == "openrouter_key_limit":
        notes.append("this API key's credit limit is used up")
    elif status == 402 and limit == "openrouter_credits":
        notes.append("the account's credit balance cannot cover the request")
    return notes
