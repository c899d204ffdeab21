"""The Starlette application: routes, authentication, error handlers, lifespan.

Routes (``/v1`` prefix optional on each, for clients configured without it):

* ``POST /v1/chat/completions`` — routed by ``model`` (see :mod:`._routing`);
* ``POST /v1/messages``, ``POST /v1/messages/count_tokens`` — Anthropic's Messages API in
  front of the same profiles (see :mod:`._anthropic_app`);
* ``GET /v1/models`` — the profiles; ``?upstream=true`` adds each profile's upstream
  models as ``<profile>/<model-id>``;
* ``GET /v1/models/{model}`` — one entry;
* ``GET /health`` — liveness, no authentication, no vendor call;
* ``GET /metrics`` — Prometheus metrics when ``serve.metrics`` is on (see :mod:`._metrics`),
  readable with a gateway key or a ``serve.metrics_keys`` key.

Every other request passes :meth:`_Gateway.check_client` first (an open gateway answers
only clients on its own machine, see :mod:`._settings`), then the key check.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import attrs
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .._log import get_logger
from .._shown import shown
from ..errors import ChatpipeError
from ._accounting import log_reply
from ._budgets import Budgets
from ._connection import ClientDisconnected, DisconnectGuard, read_body
from ._errors import GatewayError, error_body, from_chatpipe_error, internal_error, request_timeout_error
from ._render import StreamRenderer, completion_json, encode_json
from ._request import ChatCall, parse_chat_body
from ._routing import Router
from ._settings import GatewaySettings
from ._stream import FrameRenderer, SSEResponse

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

    from ..config import Config, Profile
    from ..models import ChatChunk, ChatResponse
    from ..pipeline import Pipeline
    from ._metrics import GatewayMetrics

__all__ = ["create_app"]

_log = get_logger("gateway")

TARGET_HEADER = "x-chatpipe-target"
"""The response header naming the profile that answered a call to a router profile.

JSON replies take it from ``response.route``; streamed replies from the routed stream's
``route``, which is set by the time :func:`_start_stream` has its first chunk (the headers
are sent only after that chunk, so the name is known and final: a routed stream never
moves on to another target after its first content). See :func:`target_headers`."""

_HEADER_SAFE = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) != "%")


def target_headers(route: object) -> dict[str, str] | None:
    """The :data:`TARGET_HEADER` for ``route`` (``None`` when there is no route to name).

    A profile name may be any string; in the header, ``%``, control characters and
    non-ASCII characters are percent-encoded (UTF-8), so the value is always a valid
    header and never splits one. Plain names (``gpt``, ``fw-a``) are sent as they are.
    """
    if not isinstance(route, str) or not route:
        return None
    from urllib.parse import quote

    return {TARGET_HEADER: quote(route, safe=_HEADER_SAFE)}


class _JSON(JSONResponse):
    """A JSON answer in standard JSON only (:func:`~._render.encode_json`: no ``Infinity``/``NaN``)."""

    def render(self, content: Any) -> bytes:
        return encode_json(content)


class _Gateway:
    """Per-application state: the router, the settings, the metrics and the budgets (``None``: off)."""

    def __init__(
        self,
        config: Config,
        settings: GatewaySettings,
        router: Router,
        metrics: GatewayMetrics | None = None,
        budgets: Budgets | None = None,
    ) -> None:
        self.config = config
        self.settings = settings
        self.router = router
        self.metrics = metrics
        self.budgets = budgets
        self.started = int(time.time())

    def check_client(self, request: Request) -> None:
        """:meth:`GatewaySettings.check_client` for ``request``: 403 when an open gateway must refuse it."""
        self.settings.check_client(request.client.host if request.client else None, request.headers)

    def authorize(self, request: Request) -> str | None:
        """The label of the request's gateway key (``None``: the gateway has no keys).

        Raises the :class:`GatewayError` a request gets before any work: 403 (open gateway), 401 (key).
        """
        self.check_client(request)
        keys = self.settings.keys
        if not keys.enabled:
            return None
        label = keys.label(request.headers.get("authorization"))
        if label is None:
            raise GatewayError(
                401,
                "missing or invalid gateway key: send 'Authorization: Bearer <key>' with a key from serve.keys",
                type="authentication_error",
                code="invalid_api_key",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return label

    def authorize_scrape(self, request: Request) -> None:
        """:meth:`authorize` for ``GET /metrics``: a gateway key or a metrics key."""
        self.check_client(request)
        checker = self.settings.scrape_keys or self.settings.keys
        if not checker.allows(request.headers.get("authorization")):
            raise GatewayError(
                401,
                "missing or invalid key for /metrics: send 'Authorization: Bearer <key>' with a key from "
                "serve.keys or serve.metrics_keys",
                type="authentication_error",
                code="invalid_api_key",
                headers={"WWW-Authenticate": "Bearer"},
            )

    def deadline(self) -> float:
        return asyncio.get_running_loop().time() + self.settings.request_timeout


def _gateway(request: Request) -> _Gateway:
    gateway: _Gateway = request.app.state.gateway
    return gateway


# --- endpoints ----------------------------------------------------------------------------


async def health(request: Request) -> Response:
    """Liveness: 200 while the process serves; calls no vendor."""
    return _JSON({"status": "ok"})


def _owner(profile: Profile) -> str:
    """A profile's ``owned_by``: ``chatpipe:<provider>``, or ``chatpipe:router`` for a router profile."""
    return "chatpipe:router" if profile.route is not None else f"chatpipe:{profile.provider}"


def _model_entry(model_id: str, owner: str, created: int) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": created, "owned_by": owner}


async def list_models(request: Request) -> Response:
    """The profiles as OpenAI models; ``?upstream=true`` adds every profile's upstream models."""
    gateway = _gateway(request)
    gateway.authorize(request)
    config = gateway.config
    served = gateway.router.profiles
    data = [_model_entry(name, _owner(config.profiles[name]), gateway.started) for name in served]
    if request.query_params.get("upstream", "").lower() in ("1", "true", "yes"):
        try:
            async with DisconnectGuard(request.receive), asyncio.timeout_at(gateway.deadline()):
                listed = await asyncio.gather(*(_upstream_models(gateway, name) for name in served))
        except TimeoutError:
            raise request_timeout_error() from None
        data.extend(entry for entries in listed for entry in entries)
    return _JSON({"object": "list", "data": data})


async def _upstream_models(gateway: _Gateway, profile: str) -> list[dict[str, Any]]:
    import anyio.to_thread

    try:
        pipeline = gateway.router.pipeline(profile)
        models = await anyio.to_thread.run_sync(pipeline.models)
    except (ChatpipeError, GatewayError) as exc:
        message = exc.message if isinstance(exc, GatewayError) else str(exc)
        _log.warning("listing the upstream models of profile %r failed: %s", profile, message)
        return []
    owner = f"chatpipe:{pipeline.provider_class.info.name}"
    return [_model_entry(f"{profile}/{m.id}", m.owned_by or owner, m.created or gateway.started) for m in models]


async def get_model(request: Request) -> Response:
    """One model entry: a profile or ``<profile>/<model-id>``."""
    gateway = _gateway(request)
    gateway.authorize(request)
    model = request.path_params["model"]
    route = gateway.router.resolve(model)
    return _JSON(_model_entry(model, _owner(gateway.config.profiles[route.profile]), gateway.started))


async def metrics(request: Request) -> Response:
    """The Prometheus exposition (404 when ``serve.metrics`` is off, like any unknown route)."""
    gateway = _gateway(request)
    if gateway.metrics is None:
        raise HTTPException(404)
    gateway.authorize_scrape(request)
    body, content_type = gateway.metrics.exposition()
    return Response(body, media_type=content_type)


class _Measured:
    """One chat request being measured: :meth:`end` records it once (profile ``""`` until routed)."""

    __slots__ = ("_metrics", "_started", "client", "ended", "profile", "stream")

    def __init__(self, metrics: GatewayMetrics) -> None:
        self._metrics = metrics
        self._started = time.monotonic()
        self.profile = ""
        self.client = ""
        self.stream = False
        self.ended = False

    def end(self, status: int, code: str | None) -> None:
        if not self.ended:
            self.ended = True
            elapsed = time.monotonic() - self._started
            self._metrics.request(self.profile, self.client, status, code, elapsed, stream=self.stream)


@attrs.frozen
class Dialect:
    """One chat API the gateway speaks (OpenAI's, Anthropic's): how a request is read and answered.

    ``authorize`` returns the label of the request's gateway key (or raises the 401/403);
    ``parse`` turns the body into a :class:`ChatCall` (or raises the 400); ``reply`` renders a
    whole reply for the client's ``model``; ``frames`` makes a stream's renderer; ``status`` and
    ``error`` are an error's HTTP status and answer in this API's shape. Everything else — routing,
    budgets, the log line, metrics, the deadline, cancellation when the client leaves, the
    router's target header — is :func:`serve_call`'s, the same for every API.
    """

    authorize: Callable[[_Gateway, Request], str | None]
    parse: Callable[[bytes], ChatCall]
    reply: Callable[[ChatResponse, str], Any]
    frames: Callable[[ChatCall], FrameRenderer]
    status: Callable[[GatewayError], int]
    error: Callable[[GatewayError], Response]


async def serve_call(request: Request, dialect: Dialect) -> Response | SSEResponse:
    """Answer one chat call in ``dialect``: a reply, a stream, or the error in the dialect's shape.

    Never raises an :class:`Exception`: a failure that is not a :class:`GatewayError` is logged
    and answered as a 500; a client that left gets a bare 499 (nobody reads it).
    """
    gateway = _gateway(request)
    measured = None if gateway.metrics is None else _Measured(gateway.metrics)
    try:
        response = await _serve_call(request, gateway, measured, dialect)
    except GatewayError as exc:
        if measured is not None:
            measured.end(dialect.status(exc), exc.code or exc.type)
        if exc.status >= 500:
            _log.error("%s", exc)
        return dialect.error(exc)
    except ClientDisconnected as exc:
        if measured is not None:
            measured.end(499, "client_disconnected")
        return await _on_disconnect(request, exc)
    except Exception:
        if measured is not None:
            measured.end(500, "server_error")
        _log.exception("unexpected gateway failure")
        return dialect.error(internal_error())
    except BaseException:
        if measured is not None:
            measured.end(500, "server_error")
        raise
    if measured is not None and not isinstance(response, SSEResponse):
        measured.end(response.status_code, None)
    return response


async def _serve_call(
    request: Request, gateway: _Gateway, measured: _Measured | None, dialect: Dialect
) -> Response | SSEResponse:
    label = dialect.authorize(gateway, request)
    if measured is not None:
        measured.client = label or ""
    call = dialect.parse(await read_body(request, gateway.settings.max_body_size))
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
        except ChatpipeError as exc:  # the shared state is down and on_state_error is closed
            raise map_error(exc) from None

    async def on_reply(response: ChatResponse) -> None:
        """A reply that arrived whole: its log line (with the client's label), then its spending."""
        log_reply(route.profile, response, client=label)
        if gateway.metrics is not None:
            gateway.metrics.spent(label or "", response)
        if budgets is not None and applying:
            await budgets.spend(applying, response)

    deadline = gateway.deadline()
    try:
        if call.stream:
            on_end = None if measured is None else measured.end
            renderer = dialect.frames(call)
            return await _start_stream(request, call, pipeline, params, deadline, map_error, renderer, on_end, on_reply)
        async with DisconnectGuard(request.receive), asyncio.timeout_at(deadline):
            response = await pipeline.acomplete(call.messages, tools=call.tools, tool_choice=call.tool_choice, **params)
    except ChatpipeError as exc:
        raise map_error(exc) from None
    except TimeoutError:
        raise request_timeout_error() from None
    await on_reply(response)  # the vendor was paid even if the reply cannot be rendered (a 502 from reply)
    return _JSON(dialect.reply(response, call.model), headers=target_headers(response.route))


async def _start_stream(
    request: Request,
    call: ChatCall,
    pipeline: Pipeline,
    params: dict[str, Any],
    deadline: float,
    map_error: Callable[[ChatpipeError], GatewayError],
    renderer: FrameRenderer,
    on_end: Callable[[int, str | None], None] | None = None,
    on_reply: Callable[[ChatResponse], Awaitable[None]] | None = None,
) -> SSEResponse:
    """Open the upstream stream and wait for its first chunk, so early failures keep their status.

    For a router profile, that first chunk also fixes which target answers: its name goes
    in the :data:`TARGET_HEADER` response header.
    """
    stream = pipeline.astream(call.messages, tools=call.tools, tool_choice=call.tool_choice, **params)
    iterator = stream.__aiter__()
    first: ChatChunk | None = None
    try:
        async with DisconnectGuard(request.receive), asyncio.timeout_at(deadline):
            first = await anext(iterator, None)
    except BaseException:
        await stream.aclose()
        raise
    headers = target_headers(getattr(stream, "route", None))  # only a router's stream has a route
    return SSEResponse(
        stream,
        iterator,
        first,
        renderer,
        deadline=deadline,
        map_error=map_error,
        headers=headers,
        on_end=on_end,
        on_reply=on_reply,
    )


OPENAI = Dialect(
    authorize=_Gateway.authorize,
    parse=parse_chat_body,
    reply=lambda response, model: completion_json(response, model=model),
    frames=lambda call: StreamRenderer(model=call.model, include_usage=call.include_usage),
    status=lambda error: error.status,
    error=lambda error: _JSON(error.body(), status_code=error.status, headers=error.headers),
)
"""OpenAI's Chat Completions API (``POST /v1/chat/completions``)."""


async def chat_completions(request: Request) -> Response | SSEResponse:
    """``POST /v1/chat/completions``: parse, route, call the profile's pipeline, answer in OpenAI format."""
    return await serve_call(request, OPENAI)


# --- error handlers ----------------------------------------------------------------------


def _json_error(error: GatewayError) -> Response:
    if error.status >= 500:
        _log.error("%s", error)
    return OPENAI.error(error)


async def _on_gateway_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    return _json_error(exc)


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    try:
        _gateway(request).check_client(request)  # not even the route list for a client an open gateway refuses
    except GatewayError as refused:
        return _json_error(refused)
    kind = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
    message = (
        f"no route {request.method} {shown(request.url.path)}; "
        "this gateway serves /v1/chat/completions, /v1/messages, /v1/models, /health"
        if exc.status_code in (404, 405)
        else str(exc.detail)
    )
    return _JSON(error_body(message, type=kind), status_code=exc.status_code, headers=dict(exc.headers or {}))


async def _on_disconnect(request: Request, exc: Exception) -> Response:
    _log.info("client disconnected before the reply; upstream call cancelled")
    return Response(status_code=499)


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    _log.exception("unexpected gateway failure", exc_info=exc)
    return OPENAI.error(internal_error())


# --- the application -----------------------------------------------------------------------


class _GatewayApp(Starlette):
    """Starlette, with the chat calls (``POST /v1/chat/completions``, ``/v1/messages``) answered
    without its middleware and router.

    Chat calls are nearly all of a gateway's traffic; Starlette's two middleware layers and route
    matching wrap every request and every streamed chunk's ``send`` in a few more coroutines
    (tens of µs a request). These endpoints answer every failure themselves (:func:`serve_call`),
    so nothing is lost by skipping the layers; every other request goes through Starlette.
    """

    def __init__(self, *, calls: dict[str, Callable[[Request], Awaitable[Response | SSEResponse]]], **kwargs: Any):
        super().__init__(**kwargs)
        self._calls = calls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self._calls.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if endpoint is None:
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self
        response = await endpoint(Request(scope, receive))
        await response(scope, receive, send)


def _calls() -> dict[str, Callable[[Request], Awaitable[Response | SSEResponse]]]:
    """The chat-call endpoints by path (each with and without ``/v1``)."""
    from ._anthropic_app import messages  # it imports this module's helpers

    endpoints = {"/chat/completions": chat_completions, "/messages": messages}
    return {prefix + path: endpoint for path, endpoint in endpoints.items() for prefix in ("/v1", "")}


def _routes() -> list[Route]:
    from ._anthropic_app import count_tokens

    routes = [Route(path, endpoint, methods=["POST"]) for path, endpoint in _calls().items()]
    for prefix in ("/v1", ""):
        routes += [
            Route(f"{prefix}/messages/count_tokens", count_tokens, methods=["POST"]),
            Route(f"{prefix}/models", list_models, methods=["GET"]),
            Route(f"{prefix}/models/{{model:path}}", get_model, methods=["GET"]),
        ]
    routes.append(Route("/health", health, methods=["GET"]))
    routes.append(Route("/metrics", metrics, methods=["GET"]))
    return routes


SKIP_BROKEN_ENV = "CHATPIPE_SERVE_SKIP_BROKEN"
"""Set to ``1`` by ``chatpipe serve --skip-broken-profiles`` for its workers (which read the config file themselves)."""


def skips_broken_profiles(config: Config) -> bool:
    """Whether a broken profile is left out (``serve.broken_profiles: skip``, the CLI flag), not a stopped start."""
    return config.serve.broken_profiles == "skip" or os.environ.get(SKIP_BROKEN_ENV) == "1"


def create_app(config: Config | None = None, *, router: Router | None = None) -> Starlette:
    """The gateway ASGI application for ``config`` (default: :func:`~chatpipe.config.load_config`).

    Called without arguments it is the app factory uvicorn's workers use
    (``uvicorn --factory chatpipe.gateway:create_app``); the config file is then found as
    usual (``CHATPIPE_CONFIG`` first). ``router`` replaces the default profile router (tests).
    Every profile is built here (:meth:`~._routing.Router.load`): a broken one raises
    :class:`~chatpipe.errors.ConfigError` listing them all, or is left out when
    :func:`skips_broken_profiles`.

    With metrics on (:func:`~._metrics.metrics_enabled`) the default router builds the
    pipelines in a plugin registry of the app's own, where the metrics observe every call;
    a given ``router`` is used as it is (its calls feed only the request metrics).
    """
    if config is None:
        from ..config import load_config

        config = load_config()
    from ._metrics import metrics_enabled

    measured: GatewayMetrics | None = None
    if metrics_enabled(config):
        from ._metrics import GatewayMetrics, observed_router

        measured = GatewayMetrics()
        router = router or observed_router(config, measured)
    settings = GatewaySettings.from_config(config.serve)
    gateway = _Gateway(config, settings, router or Router(config), measured, Budgets.from_config(config))
    gateway.router.load(skip_broken=skips_broken_profiles(config))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await gateway.router.aclose()

    app = _GatewayApp(
        calls=_calls(),
        routes=_routes(),
        lifespan=lifespan,
        exception_handlers={
            GatewayError: _on_gateway_error,
            HTTPException: _on_http_exception,
            ClientDisconnected: _on_disconnect,
            Exception: _on_unexpected,
        },
    )
    app.state.gateway = gateway
    return app
