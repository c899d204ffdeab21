"""Cohere error replies -> typed chatpipe errors (pure).

Cohere answers every error status with ``{"message": ..., "id": ...}``. The status decides
the class (through :func:`chatpipe.vendor.make_error`): 400 and 422 bad request
(context-length refined from the message), 401 and **498** (invalid token) authentication,
403 permission, 404 not found, 429 rate limit (``retry_after`` from ``Retry-After``), 499
(request cancelled) the base :class:`~chatpipe.errors.APIStatusError`, 503 overloaded, 500, 501
and 504 server errors. The body's ``id`` is the request id when no header gives one. An
``error`` in a stream's ``message-end`` (or a bare ``{message}`` event) becomes a
:class:`~chatpipe.errors.ServerError` (the generation failed on Cohere's side).
Every body is scrubbed of the API key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from chatpipe.plugin import (
    APIStatusError,
    AuthenticationError,
    HttpResponse,
    NotFoundError,
    ProtocolError,
    Secret,
    ServerError,
    auth_hint,
    error_details,
    json_or_none,
    make_error,
    protocol_error,
    scrub,
    truncate,
)

__all__ = ["ErrorMaker"]


class ErrorMaker:
    """Builds the adapter's errors with its provider name, key hints and secrets."""

    def __init__(
        self,
        provider: str,
        *,
        secrets: Iterable[Secret | None],
        has_key: bool,
        env_vars: Sequence[str],
        key_source: str | None = None,
    ) -> None:
        self.provider = provider
        self.secrets = tuple(secrets)
        self.hints: Mapping[type[APIStatusError], str] = {
            AuthenticationError: auth_hint(provider, env_vars, key_sent=has_key, key_source=key_source),
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
        return protocol_error(
            problem,
            body,
            provider=self.provider,
            expected="speak Cohere's v2 chat API",
            secrets=self.secrets,
            status=status,
        )


def _body_id(text: str) -> str | None:
    data = json_or_none(text)
    value = data.get("id") if isinstance(data, Mapping) else None
    return value if isinstance(value, str) and value else None
