"""Mistral's error bodies made readable (pure); the core mapper does the rest.

Besides the shapes :func:`chatpipe.openai_compat._errors.error_details` already reads (the
spec's 422 ``{"detail": [{"loc", "msg", "type"}]}``, ``{"message": "..."}``, and
``{"object": "error", "message": "...", "type", "code"}``), Mistral sends validation errors
as ``{"object": "error", "message": {"detail": [...]}, "type", "param", "code"}`` and as
``{"object": "Error", "detail": [...], "message": [...], "type", "code": 3001}``. For those,
:func:`mistral_error_details` renders each entry as ``loc: msg`` — without the ``body``
element every location starts with, so ``messages.0.user.name: Extra inputs are not
permitted`` — and keeps the vendor's ``type`` and ``code``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chatpipe.plugin import ErrorDetails, details_from_json

__all__ = ["as_envelope", "mistral_error_details"]


def _without_body(detail: Any) -> Any:
    if not isinstance(detail, list):
        return detail
    out = []
    for item in detail:
        loc = item.get("loc") if isinstance(item, Mapping) else None
        if isinstance(loc, list) and len(loc) > 1 and loc[0] == "body":
            item = {**item, "loc": loc[1:]}
        out.append(item)
    return out


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def mistral_error_details(data: Any) -> ErrorDetails | None:
    """The details of a decoded Mistral validation-error body, or ``None`` for other shapes."""
    if not isinstance(data, Mapping) or "error" in data:
        return None
    message = data.get("message")
    if isinstance(message, Mapping) and "detail" in message:
        detail = message["detail"]
    elif "detail" in data:
        detail = data["detail"]
    elif isinstance(message, list):
        detail = message
    else:
        return None
    rendered = details_from_json({"detail": _without_body(detail)})
    if rendered is None or not rendered.message:
        return None
    return ErrorDetails(message=rendered.message, type=_text(data.get("type")), code=_text(data.get("code")))


def as_envelope(details: ErrorDetails) -> dict[str, Any]:
    """``details`` as an OpenAI error envelope, for code that reads only that shape."""
    return {"error": {"message": details.message, "type": details.type, "code": details.code}}
