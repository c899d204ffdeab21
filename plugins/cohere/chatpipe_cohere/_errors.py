"""Cohere error replies -> typed chatpipe errors (pure).

Cohere answers every error status with ``{"message": ..., "id": ...}``. The status decides
the class (through :func:`chatpipe.openai_compat._errors.make_error`): 400 and 422 bad request
(context-length refined from the message), 401 and **498** (invalid token) authentication,
403 permission, 404 not found, 429 rate limit (``retry_after`` from ``Retry-After``), 499
(request cancelled) the base :class:`~chatpipe.errors.APIStatusError`, 503 overloaded, 500, 501
and 504 server errors. The body's ``id`` is the request id when no header gives one. An
``error`` in a stream's ``message-end`` (or a bare ``{message}`` event) becomes a
:class:`~chatpipe.errors.ServerError` (the generation failed on Cohere's side).
Every body is scrubbed of the API key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from chatpipe._secrets import Secret, scrub
from chatpipe.errors import APIStatusError, AuthenticationError, NotFoundError, ProtocolError, ServerError
from chatpipe.openai_compat import error_details, make_error, truncate
from chatpipe.sansio import HttpResponse

__all__ = ["ErrorMaker"]


class ErrorMaker:
    """Builds the adapter's errors with its provider name, key hints and secrets."""

    def __init__(self, provider: str, *, secrets: Iterable[Secret | None], has_key: bool, env: str) -> None:
        self.provider = provider
        self.secrets = tuple(secrets)
        source = f"set {env} or run 'chatpipe keys set {provider}'"
        self.hints: Mapping[type[APIStatusError], str] = {
            AuthenticationError: f"Check the API key: {source}" if has_key else f"No API key was sent; {source}",
            NotFoundError: f"Check the model name ('chatpipe models -p {provider}' lists them) and the base URL",
        }

    def status_error(self, response: HttpResponse) -> APIStatusError:
        """The typed error for a non-2xx response."""
        text = scrub(response.text, self.secrets)
        scrubbed = HttpResponse(response.status, response.headers, text.encode())
        return make_error(
            error_details(scrubbed),
            provider=self.provider,
            status=response.status,
            headers=response.headers,
            body=text,
            secrets=self.secrets,
            hints=self.hints,
            request_id=response.request_id or _body_id(text),
        )

    def stream_error(self, message: str, data: str) -> APIStatusError:
        """The :class:`ServerError` for an error reported inside a 200 stream."""
        return ServerError(
            scrub(f"error inside the stream: {message}", self.secrets),
            provider=self.provider,
            body=truncate(scrub(data, self.secrets)),
            request_id=_body_id(data),
        )

    def protocol_error(self, problem: str, body: str | bytes, status: int | None = None) -> ProtocolError:
        """A :class:`ProtocolError` for a malformed reply or event."""
        text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
        return ProtocolError(
            f"{problem}; the server may not speak Cohere's v2 chat API, or a proxy altered the reply",
            provider=self.provider,
            status=status,
            body=truncate(scrub(text, self.secrets)),
        )


def _body_id(text: str) -> str | None:
    try:
        data: Any = json.loads(text)
    except ValueError:
        return None
    value = data.get("id") if isinstance(data, Mapping) else None
    return value if isinstance(value, str) and value else None
