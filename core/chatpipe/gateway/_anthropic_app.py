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

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from .. import wire
from .._limiter import estimate_tokens
from ..errors import ChatpipeError
from ._accounting import log_reply
from ._anthropic_render import anthropic_status, error_json, message_json
from ._anthropic_request import parse_count_tokens_body, parse_messages_body
from ._anthropic_stream import AnthropicStreamRenderer
from ._app import _JSON, _Gateway, _gateway, _Measured, target_headers
from ._connection import ClientDisconnected, DisconnectGuard, read_body
from ._errors import GatewayError, from_chatpipe_error, request_timeout_error
from ._request import ChatCall
from ._stream import SSEResponse

if TYPE_CHECKING:
    from ..models import ChatChunk, ChatResponse
    from ..pipeline import Pipeline

__all__ = ["count_tokens", "messages"]

_log = logging.getLogger("chatpipe.gateway")


def anthropic_error(error: GatewayError) -> Response:
    """``error`` as Anthropic's error JSON, with its status (529 for an overloaded vendor) and headers."""
    if error.status >= 500:
        _log.error("%s", error)
    return _JSON(error_json(error), status_code=anthropic_status(error), headers=error.headers)


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
        return anthropic_error(exc)
    body: dict[str, Any] = {"messages": wire.messages_to_dicts(call.messages)}
    if call.tools:
        body["tools"] = [wire.tool_to_dict(t) for t in call.tools]
    return _JSON({"input_tokens": estimate_tokens(body)})


async def messages(request: Request) -> Response | SSEResponse:
    """``POST /v1/messages``: parse, route, call the profile's pipeline, answer in Anthropic's format."""
    gateway = _gateway(request)
    measured = None if gateway.metrics is None else _Measured(gateway.metrics)
    try:
        response = await _messages(request, gateway, measured)
    except GatewayError as exc:
        if measured is not None:
            measured.end(anthropic_status(exc), exc.code or exc.type)
        return anthropic_error(exc)
    except ClientDisconnected:
        if measured is not None:
            measured.end(499, "client_disconnected")
        raise
    except Exception:
        _log.exception("unexpected gateway failure")
        if measured is not None:
            measured.end(500, "server_error")
        return anthropic_error(GatewayError(500, "internal gateway error; see the server log", type="server_error"))
    except BaseException:
        if measured is not None:
            measured.end(500, "server_error")
        raise
    if measured is not None and not isinstance(response, SSEResponse):
        measured.end(response.status_code, None)
    return response


async def _messages(request: Request, gateway: _Gateway, measured: _Measured | None) -> Response | SSEResponse:
    label = authorize(gateway, request)
    if measured is not None:
        measured.client = label or ""
    call = parse_messages_body(await read_body(request, gateway.settings.max_body_size))
    route = gateway.router.resolve(call.model)
    if measured is not None:
        measured.profile, measured.stream = route.profile, call.stream
    pipeline = gateway.router.pipeline(route.profile)
    params = dict(call.params)
    if route.model is not None:
        params["model"] = route.model

    def map_error(exc: ChatpipeError) -> GatewayError:
        return from_chatpipe_error(exc, profile=route.profile, secrets=gateway.router.profile_secrets(route.profile))

    budgets = gateway.budgets
    applying = budgets.applying(label, route.profile) if budgets is not None else ()
    if budgets is not None and applying:
        try:
            await budgets.check(applying)
        except ChatpipeError as exc:
            raise map_error(exc) from None

    async def on_reply(response: ChatResponse) -> None:
        log_reply(route.profile, response, client=label)
        if gateway.metrics is not None:
            gateway.metrics.spent(label or "", response)
        if budgets is not None and applying:
            await budgets.spend(applying, response)

    deadline = gateway.deadline()
    try:
        if call.stream:
            on_end = None if measured is None else measured.end
            return await _start_stream(request, call, pipeline, params, deadline, map_error, on_end, on_reply)
        async with DisconnectGuard(request.receive), asyncio.timeout_at(deadline):
            response = await pipeline.acomplete(call.messages, tools=call.tools, tool_choice=call.tool_choice, **params)
    except ChatpipeError as exc:
        raise map_error(exc) from None
    except TimeoutError:
        raise request_timeout_error() from None
    await on_reply(response)  # the vendor was paid even if the reply cannot be rendered (a 502 from message_json)
    return _JSON(message_json(response, model=call.model), headers=target_headers(response.route))


async def _start_stream(
    request: Request,
    call: ChatCall,
    pipeline: Pipeline,
    params: dict[str, Any],
    deadline: float,
    map_error: Callable[[ChatpipeError], GatewayError],
    on_end: Callable[[int, str | None], None] | None,
    on_reply: Callable[[ChatResponse], Awaitable[None]],
) -> SSEResponse:
    """Open the upstream stream and wait for its first chunk, so early failures keep their status."""
    stream = pipeline.astream(call.messages, tools=call.tools, tool_choice=call.tool_choice, **params)
    iterator = stream.__aiter__()
    first: ChatChunk | None = None
    try:
        async with DisconnectGuard(request.receive), asyncio.timeout_at(deadline):
            first = await anext(iterator, None)
    except BaseException:
        await stream.aclose()
        raise
    return SSEResponse(
        stream,
        iterator,
        first,
        AnthropicStreamRenderer(model=call.model),
        deadline=deadline,
        map_error=map_error,
        headers=target_headers(getattr(stream, "route", None)),
        on_end=on_end,
        on_reply=on_reply,
    )
