"""Google's error envelope, in HTTP answers and inside streams -> typed errors (pure).

Google answers errors as ``{"error": {"code": 429, "message", "status": "RESOURCE_EXHAUSTED",
"details": [...]}}`` (a one-element list of it, too). The class comes from the HTTP status
(:func:`chatpipe.vendor.make_error`: 400 bad request, 401 authentication, 403 permission
denied, 404 not found, 429 rate limit, 503 overloaded, other 5xx server error...). An error
inside a 200 stream has no HTTP status: its ``code``, else its ``status`` through
:data:`STATUS_CODES`, stands for one. The error's ``vendor_type`` is Google's ``status``.

Refinements:

* a 400 whose details give the reason ``API_KEY_INVALID`` (Google's answer to a wrong key) is
  an :class:`~chatpipe.errors.AuthenticationError` (status 400 kept);
* a ``RetryInfo`` detail's ``retryDelay`` (``"37s"``) is the ``retry_after`` of a rate-limit
  error when no ``Retry-After`` header says otherwise;
* Gemini's "input token count ... exceeds the maximum number of tokens" is a
  :class:`~chatpipe.errors.ContextLengthError` (a sign in the core's one table).

Bodies are scrubbed of the key before they are kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from chatpipe.plugin import (
    APIStatusError,
    AuthenticationError,
    ErrorDetails,
    HttpResponse,
    Secret,
    json_or_none,
    make_error,
    scrub,
)

__all__ = ["STATUS_CODES", "error_from_event", "error_from_response"]

STATUS_CODES: Mapping[str, int] = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "OUT_OF_RANGE": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "ABORTED": 409,
    "RESOURCE_EXHAUSTED": 429,
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INTERNAL": 500,
    "DATA_LOSS": 500,
    "UNIMPLEMENTED": 501,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}
"""Google's canonical error ``status`` → the HTTP status it is sent with."""

Hints = Mapping[type[APIStatusError], str]

_DELAY = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


def _error_object(data: Any) -> Mapping[str, Any]:
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    error = data.get("error") if isinstance(data, Mapping) else None
    return error if isinstance(error, Mapping) else {}


def _details(error: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = error.get("details")
    return [d for d in found if isinstance(d, Mapping)] if isinstance(found, list) else []


def _status_of(error: Mapping[str, Any]) -> int | None:
    code = error.get("code")
    if isinstance(code, int) and not isinstance(code, bool) and 400 <= code <= 599:
        return code
    status = error.get("status")
    return STATUS_CODES.get(status) if isinstance(status, str) else None


def _retry_headers(headers: Mapping[str, str], error: Mapping[str, Any]) -> Mapping[str, str]:
    if any(k.lower() == "retry-after" for k in headers):
        return headers
    for detail in _details(error):
        delay = detail.get("retryDelay")
        match = _DELAY.match(delay) if isinstance(delay, str) else None
        if match:
            return {**headers, "retry-after": match.group(1)}
    return headers


def _build(
    error: Mapping[str, Any],
    fallback: str,
    *,
    status: int | None,
    headers: Mapping[str, str],
    body: str,
    provider: str,
    secrets: tuple[Secret | str | None, ...],
    hints: Hints,
    request_id: str | None,
    prefix: str = "",
) -> APIStatusError:
    message = error.get("message") if isinstance(error.get("message"), str) else fallback
    kind = error.get("status") if isinstance(error.get("status"), str) else None
    details = ErrorDetails(prefix + (message or "the error body was empty"), type=kind, status=_status_of(error))
    made = make_error(
        details,
        provider=provider,
        status=status,
        headers=_retry_headers(headers, error),
        body=body,
        secrets=secrets,
        hints=hints,
        request_id=request_id,
    )
    if any(d.get("reason") == "API_KEY_INVALID" for d in _details(error)) and not isinstance(made, AuthenticationError):
        hint = hints.get(AuthenticationError)
        text = scrub(f"{details.message.rstrip('.')}. {hint}" if hint else details.message, secrets)
        return AuthenticationError(
            text,
            provider=provider,
            status=made.status,
            request_id=request_id,
            body=made.body,
            vendor_type=made.vendor_type,
        )
    return made


def error_from_response(
    response: HttpResponse, *, provider: str, secrets: Iterable[Secret | str | None], hints: Hints
) -> APIStatusError:
    """The typed error for a non-2xx Gemini response."""
    secrets = tuple(secrets)
    text = scrub(response.text, secrets)
    error = _error_object(json_or_none(text))
    fallback = " ".join(text.split())[:500] or f"HTTP {response.status} with an empty body"
    return _build(
        error,
        fallback,
        status=response.status,
        headers=response.headers,
        body=text,
        provider=provider,
        secrets=secrets,
        hints=hints,
        request_id=response.request_id,
    )


def error_from_event(
    payload: Mapping[str, Any], *, provider: str, secrets: Iterable[Secret | str | None], hints: Hints
) -> APIStatusError:
    """The typed error for an ``{"error": {...}}`` event inside a 200 stream (or a 200 body)."""
    error = _error_object(payload)
    body = json.dumps(payload, ensure_ascii=False)
    return _build(
        error,
        body[:500],
        status=None,
        headers={},
        body=body,
        provider=provider,
        secrets=tuple(secrets),
        hints=hints,
        request_id=None,
        prefix="error inside the response: ",
    )
