"""The Anthropic Messages API endpoints: ``POST /v1/messages`` and ``POST /v1/messages/count_tokens``.

Both serve every profile (OpenAI-family, local, router): ``model`` is resolved exactly as
``/v1/chat/completions`` resolves it (:meth:`~._routing.Router.resolve`). The key is read from
``x-api-key`` (what Anthropic's clients send) or ``Authorization: Bearer``. Every error —
including 401/403/404 before any work — is answered in Anthropic's error shape, with the status
:mod:`._errors` decided (:mod:`._anthropic_render`). A call goes through the same steps as a
chat completion: budgets checked before and charged after, its log line, the gateway metrics,
the request deadline, cancellation when the client leaves, and the ``x-chatpipe-target``
header for a router profile.

``count_tokens`` calls no vendor: it returns chatpipe's own estimate
(:func:`chatpipe._limiter.estimate_tokens`, the one the rate limiter reserves with: the
OpenAI-shaped messages and tools as JSON, a quarter of their length).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .. import wire
from .._limiter import estimate_tokens
from ._anthropic_render import anthropic_status, error_json, message_json
from ._anthropic_request import parse_count_tokens_body, parse_messages_body
from ._anthropic_stream import AnthropicStreamRenderer
from ._app import _JSON, Dialect, _Gateway, _gateway, serve_call
from ._connection import read_body
from ._errors import GatewayError
from ._stream import SSEResponse

__all__ = ["count_tokens", "messages"]


def authorize(gateway: _Gateway, request: Request) -> str | None:
    """The label of the request's gateway key, from ``x-api-key`` or ``Authorization: Bearer``.

    ``None`` when the gateway has no keys; :class:`GatewayError` 403 (open gateway, remote
    client) or 401 (no valid key) otherwise.
    """
    gateway.check_client(request)
    keys = gateway.settings.keys
    if not keys.enabled:
        return None
    api_key = request.headers.get("x-api-key")
    label = keys.label(f"Bearer {api_key}") if api_key else None
    if label is None:
        label = keys.label(request.headers.get("authorization"))
    if label is None:
        raise GatewayError(
            401,
            "missing or invalid gateway key: send 'x-api-key: <key>' (or 'Authorization: Bearer <key>') "
            "with a key from serve.keys",
            type="authentication_error",
            code="invalid_api_key",
        )
    return label


async def count_tokens(request: Request) -> Response:
    """``POST /v1/messages/count_tokens``: ``{"input_tokens": N}``, an estimate; no vendor is called."""
    gateway = _gateway(request)
    try:
        authorize(gateway, request)
        call = parse_count_tokens_body(await read_body(request, gateway.settings.max_body_size))
        gateway.router.resolve(call.model)
    except GatewayError as exc:
        return ANTHROPIC.error(exc)
    body: dict[str, Any] = {"messages": wire.messages_to_dicts(call.messages)}
    if call.tools:
        body["tools"] = [wire.tool_to_dict(t) for t in call.tools]
    return _JSON({"input_tokens": estimate_tokens(body)})


ANTHROPIC = Dialect(
    authorize=authorize,
    parse=parse_messages_body,
    reply=lambda response, model: message_json(response, model=model),
    frames=lambda call: AnthropicStreamRenderer(model=call.model),
    status=anthropic_status,
    error=lambda error: _JSON(error_json(error), status_code=anthropic_status(error), headers=error.headers),
)
"""Anthropic's Messages API (``POST /v1/messages``)."""


async def messages(request: Request) -> Response | SSEResponse:
    """``POST /v1/messages``: parse, route, call the profile's pipeline, answer in Anthropic's format."""
    return await serve_call(request, ANTHROPIC)
