"""Claude error bodies, in-stream error events and the retry veto -> typed errors (pure).

Claude's envelope is ``{"type": "error", "error": {"type", "message", "details"?},
"request_id"}``. An HTTP error is classified by its status (529 overloaded, 413 request too
large → bad request, 402 billing → permission denied... see
:func:`chatpipe.vendor.make_error`); an ``event: error`` inside a 200 stream has no status,
so its ``error.type`` stands for one (:data:`TYPE_STATUS`: ``overloaded_error`` → 529 →
:class:`~chatpipe.errors.OverloadedError`) and the error's ``status`` is that status.
The request id comes from the ``request-id`` header, else from the body. Bodies are scrubbed
of the key before they are kept.

A 429 whose ``error.details.error_code`` (or message) says ``enforced_spend_limit_reached`` is
not worth retrying: waiting does not raise a spend limit (:func:`spend_limit_reached`; a
response whose ``x-should-retry`` header says ``false`` is not retried either, but that is the
transport's check, for every provider).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from chatpipe.plugin import (
    APIStatusError,
    ErrorDetails,
    HttpResponse,
    Secret,
    error_details,
    json_or_none,
    make_error,
    scrub,
)

__all__ = [
    "SPEND_LIMIT",
    "TYPE_STATUS",
    "error_from_event",
    "error_from_response",
    "spend_limit_reached",
]

TYPE_STATUS: Mapping[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
"""The HTTP status each Claude error type stands for (used for errors inside a stream)."""

SPEND_LIMIT = "enforced_spend_limit_reached"

Hints = Mapping[type[APIStatusError], str]


def _error_object(data: Any) -> Mapping[str, Any]:
    error = data.get("error") if isinstance(data, Mapping) else None
    return error if isinstance(error, Mapping) else {}


def _body_request_id(data: Any) -> str | None:
    value = data.get("request_id") if isinstance(data, Mapping) else None
    return value if isinstance(value, str) else None


def _with_status(details: ErrorDetails, status: int | None) -> ErrorDetails:
    return ErrorDetails(details.message, details.type, details.code, details.param, status)


def error_from_response(
    response: HttpResponse, *, provider: str, secrets: Iterable[Secret | str | None], hints: Hints
) -> APIStatusError:
    """The typed error for a non-2xx Claude response."""
    secrets = tuple(secrets)
    text = scrub(response.text, secrets)
    scrubbed = HttpResponse(response.status, response.headers, text.encode())
    data = json_or_none(text)
    details = error_details(scrubbed)
    if spend_limit_reached(scrubbed):
        details = ErrorDetails(
            f"{details.message.rstrip('.')} (the spend limit is reached: raise it in the Anthropic console; "
            "retrying will not help)",
            details.type,
            details.code,
            details.param,
            details.status,
        )
    return make_error(
        details,
        provider=provider,
        status=response.status,
        headers=response.headers,
        body=text,
        secrets=secrets,
        hints=hints,
        request_id=response.request_id or _body_request_id(data),
    )


def error_from_event(
    payload: Mapping[str, Any] | str, *, provider: str, secrets: Iterable[Secret | str | None], hints: Hints
) -> APIStatusError:
    """The typed error for an ``event: error`` inside a 200 stream (status from ``error.type``)."""
    if isinstance(payload, Mapping):
        error = _error_object(payload)
        kind = error.get("type") if isinstance(error.get("type"), str) else None
        message = error.get("message") if isinstance(error.get("message"), str) else json.dumps(payload)[:500]
        body = json.dumps(payload, ensure_ascii=False)
    else:
        kind, message, body = None, payload[:500] or "error event", payload
    details = ErrorDetails(f"error inside the stream: {message}", type=kind)
    return make_error(
        _with_status(details, TYPE_STATUS.get(kind or "")),
        provider=provider,
        status=None,
        headers={},
        body=body,
        secrets=secrets,
        hints=hints,
        request_id=_body_request_id(payload),
    )


def spend_limit_reached(response: HttpResponse) -> bool:
    """Whether ``response`` is a 429 saying the spend limit is reached (``enforced_spend_limit_reached``)."""
    if response.status != 429:
        return False
    error = _error_object(json_or_none(response.text))
    details = error.get("details")
    code = details.get("error_code") if isinstance(details, Mapping) else None
    message = error.get("message")
    return code == SPEND_LIMIT or (isinstance(message, str) and SPEND_LIMIT in message)
