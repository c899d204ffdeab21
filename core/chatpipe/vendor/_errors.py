"""Error bodies and statuses -> typed :class:`~chatpipe.errors.APIStatusError` (pure).

Accepted bodies (docs/errors.md): the OpenAI envelope
``{"error": {"message", "type", "param", "code"}}``, ``{"error": "text"}``, FastAPI's
``{"detail": ...}`` (422 lists rendered as ``loc: msg``), ``{"message": ...}``, plain text,
and HTML pages from proxies (summarised, never dumped).

Status mapping: 400/413/422 bad request (context-length refined by code, type or message
through the one table :data:`_CONTEXT_SIGNS`, content-filter by code or type); 401/498
authentication; 402 (payment required, DeepSeek's "insufficient balance") permission denied;
403 permission denied; 404 not found; 408, 409 and other 4xx the base
:class:`~chatpipe.errors.APIStatusError`; 429 rate limit with ``retry_after``; 503/529
overloaded; other 5xx server error. Bodies are key-scrubbed and cut to :data:`MAX_BODY` chars.

The fixes the messages suggest are shared too: :func:`auth_hint` (where the key comes from) for
a 401, and :func:`protocol_error` for a reply that breaks the vendor's contract.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs

from ..errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ContentFilterError,
    ContextLengthError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    ServerError,
)
from ..http import HttpResponse
from ..secrets import Secret, scrub
from ._json import json_or_none
from ._retry_after import retry_after

__all__ = [
    "MAX_BODY",
    "ErrorDetails",
    "auth_hint",
    "details_from_json",
    "error_details",
    "make_error",
    "protocol_error",
    "truncate",
]

MAX_BODY = 2000
"""Longest body text kept on an error (characters)."""

_MAX_MESSAGE = 500

_CONTEXT_SIGNS: tuple[tuple[str, str], ...] = (
    # (regex, who says it). Matched case-insensitively against the code, the type and the message.
    (r"context[_ ]length[_ ]exceeded", "OpenAI's code context_length_exceeded, and the servers copying it"),
    (r"max(imum)? context length", "OpenAI, vLLM: maximum context length; Ollama: exceeded max context length"),
    (r"context[_ ]?window", "Anthropic-style wording; LiteLLM's ContextWindowExceededError"),
    (r"prompt (is )?too long", "Claude: prompt is too long; Ollama: prompt too long"),
    (r"exceed_context_size", "llama.cpp server's type exceed_context_size_error"),
    (
        r"exceeds? (the )?(available |maximum )?context (size|length)",
        "llama.cpp: exceeds the available context size; Ollama: input length exceeds the context length",
    ),
    (r"context length of only", "LM Studio: the model is loaded with context length of only N tokens"),
    (r"greater than the context length", "LM Studio, llama.cpp: tokens to keep ... greater than the context length"),
    (r"context (the )?overflows", "LM Studio: when context the overflows"),
    (r"input token count .{0,40}exceeds the maximum", "Gemini: the input token count (N) exceeds the maximum ..."),
)
"""Every wording that means "the conversation does not fit the model's context", with its source.

A 400/413/422 whose code, type or message matches one is a
:class:`~chatpipe.errors.ContextLengthError` (and so the gateway's ``context_length_exceeded``).
Each sign names the context itself, so ordinary 400s ("max_tokens must be at least 1") stay
:class:`~chatpipe.errors.BadRequestError`. Add a server's wording here, nowhere else.
"""

# Pattern texts, not compiled patterns: they are compiled (and kept by ``re``'s own cache) with
# the first error body read, not with every adapter's import (~0.6 ms, the context one most).
_CONTEXT_PATTERN = "|".join(sign for sign, _ in _CONTEXT_SIGNS)
_FILTER_PATTERN = r"content[_ ]?(filter|policy|management)|safety system"
_HTML_PATTERN = r"^\s*(<!doctype html|<html|<head|<body)"
_TITLE_PATTERN = r"<title[^>]*>(.*?)</title>"
_NO_CASE = re.IGNORECASE


@attrs.frozen
class ErrorDetails:
    """What an error body says: a readable ``message`` and the vendor's ``type``/``code``/``param``."""

    message: str
    type: str | None = None
    code: str | None = None
    """The vendor's own code (``context_length_exceeded``, ``3230``); never an HTTP status."""
    param: str | None = None
    status: int | None = None
    """A status the body itself names (proxies and some vendors put one in ``code``/``status``)."""


def truncate(text: str, limit: int = MAX_BODY) -> str:
    """``text`` cut to ``limit`` characters, marking the cut."""
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more characters]"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _detail_message(detail: Any) -> str:
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        lines = []
        for item in detail:
            if isinstance(item, Mapping) and "msg" in item:
                loc = item.get("loc")
                where = ".".join(str(p) for p in loc) if isinstance(loc, list) else _text(loc)
                lines.append(f"{where}: {item['msg']}" if where else str(item["msg"]))
            else:
                lines.append(_text(item) or "")
        return "; ".join(lines)
    return _text(detail) or ""


def _status_in(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 400 <= value <= 599:
        return value
    if isinstance(value, str) and value.isdigit() and 400 <= int(value) <= 599:
        return int(value)
    return None


def _code_and_status(fields: Mapping[str, Any]) -> tuple[str | None, int | None]:
    """``(code, status)`` of an error object: a ``code`` that is an HTTP status (``400``, ``"400"``:
    llama.cpp, vLLM, LiteLLM) is the status, not a vendor code; ``status`` is read too."""
    code = fields.get("code")
    status = _status_in(code)
    if status is not None:
        return None, status
    return _text(code), _status_in(fields.get("status"))


def details_from_json(data: Any) -> ErrorDetails | None:
    """The details of a decoded JSON error body, or ``None`` if it has no recognisable shape.

    Shapes: ``{"error": {...}}`` (OpenAI's envelope, llama.cpp's, LiteLLM's), ``{"error":
    "text"}`` (Ollama, LM Studio), ``{"detail": ...}`` (FastAPI) and a top-level ``message``
    (vLLM, Mistral). ``code`` may be any JSON value (see :attr:`ErrorDetails.code`).
    """
    if not isinstance(data, Mapping):
        return None
    error = data.get("error")
    if isinstance(error, Mapping):
        message = _text(error.get("message")) or _detail_message(error.get("detail")) or _text(error.get("type"))
        code, status = _code_and_status(error)
        return ErrorDetails(
            message=message or json.dumps(error, ensure_ascii=False),
            type=_text(error.get("type")),
            code=code,
            param=_text(error.get("param")),
            status=status,
        )
    if isinstance(error, str) and error:
        code, status = _code_and_status(data)
        return ErrorDetails(message=error, type=_text(data.get("type")), code=code, status=status)
    if "detail" in data:
        return ErrorDetails(message=_detail_message(data["detail"]))
    if isinstance(data.get("message"), str):
        code, status = _code_and_status(data)
        return ErrorDetails(
            message=data["message"],
            type=_text(data.get("type")),
            code=code,
            param=_text(data.get("param")),
            status=status,
        )
    return None


def error_details(response: HttpResponse) -> ErrorDetails:
    """Read ``response``'s body as an error: JSON envelopes, HTML pages or plain text."""
    text = response.text.strip()
    if not text:
        return ErrorDetails(message="the response body was empty")
    data = json_or_none(text)
    found = details_from_json(data)
    if found is not None:
        return found
    if data is not None:
        return ErrorDetails(message=truncate(text, _MAX_MESSAGE))
    content_type = response.headers.get("content-type", "")
    if "html" in content_type.lower() or re.match(_HTML_PATTERN, text, _NO_CASE):
        title = re.search(_TITLE_PATTERN, text, _NO_CASE | re.DOTALL)
        summary = f"HTTP {response.status} from a proxy (HTML page)"
        if title and title.group(1).strip():
            summary += f": {' '.join(title.group(1).split())[:200]}"
        return ErrorDetails(message=summary)
    return ErrorDetails(message=truncate(" ".join(text.split()), _MAX_MESSAGE))


def _classify(status: int | None, details: ErrorDetails) -> type[APIStatusError]:
    marker = " ".join(filter(None, (details.code, details.type)))
    if status in (400, 413, 422) or (status is None and details.type == "invalid_request_error"):
        if re.search(_CONTEXT_PATTERN, marker, _NO_CASE) or re.search(_CONTEXT_PATTERN, details.message, _NO_CASE):
            return ContextLengthError
        if re.search(_FILTER_PATTERN, marker, _NO_CASE):
            return ContentFilterError
        return BadRequestError
    if status in (401, 498):
        return AuthenticationError
    if status in (402, 403):
        return PermissionDeniedError
    if status == 404:
        return NotFoundError
    if status == 429:
        return RateLimitError
    if status in (503, 529):
        return OverloadedError
    if status is not None and status >= 500:
        return ServerError
    if status is None:
        if re.search(_CONTEXT_PATTERN, marker, _NO_CASE):
            return ContextLengthError
        if re.search(_FILTER_PATTERN, marker, _NO_CASE):
            return ContentFilterError
        if "rate_limit" in marker or "insufficient_quota" in marker:
            return RateLimitError
    return APIStatusError


def make_error(
    details: ErrorDetails,
    *,
    provider: str,
    status: int | None,
    headers: Mapping[str, str],
    body: str,
    secrets: Iterable[Secret | str | None],
    hints: Mapping[type[APIStatusError], str] | None = None,
    request_id: str | None = None,
) -> APIStatusError:
    """The typed error for ``details`` at ``status``, scrubbed of every secret.

    ``hints`` adds a sentence per error class (the fix: which env var, which URL to try).
    """
    secrets = tuple(secrets)
    effective = status if status is not None and status >= 400 else details.status
    cls = _classify(effective, details)
    message = details.message.rstrip(".")
    if details.code == "insufficient_quota" or details.type == "insufficient_quota":
        message += " (your quota or credit is exhausted; check the account's billing, retrying will not help)"
    elif effective == 402:
        message += " (payment required: the account has insufficient balance; add credit to it)"
    elif effective == 408:
        message += " (the server timed out waiting for the request)"
    hint = None
    for klass, text in (hints or {}).items():
        if issubclass(cls, klass):
            hint = text
            break
    if hint:
        message += f". {hint}"
    message = scrub(message, secrets)
    kwargs: dict[str, Any] = {
        "provider": provider,
        "status": status if status is not None and status >= 400 else details.status,
        "request_id": request_id,
        "body": truncate(scrub(body, secrets)),
        "vendor_type": details.code or details.type,
    }
    if cls is RateLimitError:
        return RateLimitError(message, retry_after=retry_after(headers), **kwargs)
    return cls(message, **kwargs)


def protocol_error(
    problem: str,
    body: str | bytes,
    *,
    provider: str,
    expected: str,
    secrets: Iterable[Secret | str | None],
    status: int | None = None,
    request_id: str | None = None,
) -> ProtocolError:
    """The :class:`~chatpipe.errors.ProtocolError` for a reply that breaks the vendor's contract.

    Its message is ``"{problem}; the server may not {expected}, or a proxy altered the reply"``
    (``expected`` is e.g. ``"speak Claude's Messages API"``); ``body`` is kept scrubbed of every
    secret and cut to :data:`MAX_BODY` characters.
    """
    text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
    return ProtocolError(
        f"{problem}; the server may not {expected}, or a proxy altered the reply",
        provider=provider,
        status=status,
        request_id=request_id,
        body=truncate(scrub(text, secrets)),
    )


def auth_hint(provider: str, env_vars: Sequence[str], *, key_sent: bool, key_source: str | None = None) -> str:
    """The fix suggested with a 401: where the key comes from (``env_vars``, ``chatpipe keys set``).

    ``key_sent`` tells a wrong key from a missing one ("No API key was sent; ..."). A wrong key
    whose ``key_source`` is known (:attr:`~chatpipe.provider.ProviderSettings.api_key_source`)
    is named by it: "The API key from the environment variable OPENAI_API_KEY was refused;
    check it"; otherwise the hint lists where a key can be set ("Check the API key: ...").
    """
    if key_sent and key_source:
        return f"The API key from {key_source} was refused; check it"
    envs = " or ".join(env_vars)
    source = f"set {envs} or run 'chatpipe keys set {provider}'" if envs else f"run 'chatpipe keys set {provider}'"
    return f"Check the API key: {source}" if key_sent else f"No API key was sent; {source}"
