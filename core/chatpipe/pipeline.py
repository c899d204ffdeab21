"""The Pipeline: converters, then a provider adapter, then the transport.

::

    messages ─► user converter chain ─► provider's required converters ─► adapter.prepare
             ─► adapter.build_chat ─► transport (retries, timeouts, SSE) ─► adapter.parse_*

A Pipeline is safe to share between threads and asyncio tasks: it holds no per-call state,
and its transport pools connections.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)  # not from typing: isinstance() on those is ~10x slower
from typing import TYPE_CHECKING, Any, TypeVar, cast

import attrs
from attrs import AttrsInstance

from ._capabilities import check_capabilities
from ._chain import Stage, make_context, normalise_names, resolve_chain, run_chain
from ._lazy import lazy_attributes
from ._limiter import RATE_KEYS, Limiter, estimate_tokens, used_tokens
from ._log import DEBUG, get_logger
from ._observe import CURRENT, Observed, new_call_id, server_of
from ._validate import require_messages, validate_messages
from .converter import Converter, Names
from .errors import (
    APIConnectionError,
    AuthenticationError,
    ChatpipeWarning,
    ConfigError,
    InvalidRequestError,
    ProviderError,
    _detached,
)
from .http import HttpRequest, HttpResponse
from .models import ChatRequest, ChatResponse, Message, ModelInfo, Tool
from .provider import Provider, ProviderSettings
from .registry import Registry, default_registry
from .secrets import Secret, scrub
from .wire import _plain_message, message_from_dict, messages_to_dicts, tools_from_dicts

if TYPE_CHECKING:
    from ._outcomes import CheckResult, Explanation
    from ._streams import AsyncChatStream, ChatStream, StreamCall
    from ._transport import Transport
    from .batch import Result as BatchResult
    from .config import Config, Profile
    from .http import TransportProtocol
    from .keys import FoundKey, KeyStore
    from .models import Prices
    from .state import Store

__all__ = ["CheckResult", "Explanation", "Pipeline"]

_log = get_logger("pipeline")

TEST_MESSAGES: tuple[dict[str, str], ...] = ({"role": "user", "content": "Hi"},)

MAX_MODEL_PAGES = 50
"""A paged model list stops after this many pages (with a ChatpipeWarning)."""


def _as_messages(messages: Sequence[Mapping[str, Any] | Message]) -> tuple[Message, ...]:
    """The caller's messages as models: Message instances kept, dicts structured (errors located)."""
    if type(messages) is not list and (isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence)):
        raise InvalidRequestError("expected a list of messages", where="messages")
    return tuple([_plain_message(m) or _structure(m, i) for i, m in enumerate(messages)])


def _structure(message: object, index: int) -> Message:
    if isinstance(message, Message):
        return message
    if isinstance(message, Mapping):
        return message_from_dict(message, where=f"messages[{index}]")
    raise InvalidRequestError(
        f"expected a message dict such as {{'role': 'user', 'content': 'Hi'}}, got {type(message).__name__}",
        where=f"messages[{index}]",
    )


_Settings = TypeVar("_Settings", bound=AttrsInstance)
_Item = TypeVar("_Item")


def _timeout_mapping(timeout: float | tuple[float, float] | Mapping[str, float | None] | None) -> Mapping[str, Any]:
    """``Pipeline(timeout=...)`` as :class:`~chatpipe._transport.Timeouts` keywords."""
    if timeout is None:
        return {}
    if isinstance(timeout, Mapping):
        return timeout
    if isinstance(timeout, tuple):
        return {"connect": timeout[0], "read": timeout[1]}
    return {"connect": timeout, "read": timeout}


def _settings(cls: type[_Settings], name: str, values: Mapping[str, Any]) -> _Settings:
    """``cls(**values)``; an unknown key is a ConfigError naming ``name.<key>`` and the valid keys."""
    known = [field.name for field in attrs.fields(cls)]
    for key in values:
        if key not in known:
            raise ConfigError(f"unknown key {key!r}; valid keys: {', '.join(known)}", path=f"{name}.{key}")
    return cls(**values)


def _with_deadline(http: HttpRequest, deadline: float) -> HttpRequest:
    """``http`` carrying a call's ``deadline=`` (a positive number of seconds, else InvalidRequestError)."""
    if isinstance(deadline, bool) or not isinstance(deadline, (int, float)) or not 0 < deadline < float("inf"):
        raise InvalidRequestError(f"deadline= must be a positive number of seconds, got {deadline!r}")
    return attrs.evolve(http, deadline=float(deadline))


class Pipeline:
    """Send conversations to one provider through a converter chain.

    ``Pipeline(provider="openai", model="gpt-4o-mini", converters=["strict"], api_key=...)``.
    Keyword arguments not listed below are request parameters under their OpenAI names
    (``temperature``, ``max_tokens``, ``stop``...), sent with every call; per-call keyword
    arguments override them.

    API key resolution: ``api_key`` > stored key (``chatpipe keys set``) > the vendor's env
    var > ``${ENV}`` in the config. A missing required key is reported when a call is made,
    so :meth:`explain` works without one. The adapter is told where the key came from
    (``config_file`` names the file ``config_api_key`` was read from), so a refused key's
    error names that source — "the environment variable OPENAI_API_KEY", "the profile's
    api_key (chatpipe.yaml)"... — never the key.

    ``timeout`` is a number (connect and read), a ``(connect, read)`` pair or a mapping with
    the keys of :class:`~chatpipe.config.TimeoutConfig` (``connect``, ``read``, ``deadline``,
    ``stream_progress``, ``stream_deadline``); ``limits`` a mapping with the keys of
    :class:`~chatpipe.config.LimitsConfig`: reply sizes, and rate limits (``rpm``, ``tpm``,
    ``concurrency``, ``window``, ``max_wait``) counted in ``state`` (a
    :class:`~chatpipe.state.Store`; default the process's in-process store) under the
    ``profile`` name (without one, for this pipeline object alone). Every call also takes
    ``deadline=`` (seconds): the most that call may take in all (for a stream, its total), in
    place of the configured one.

    ``transport`` replaces the built-in pooled HTTP transport with any object following
    :class:`~chatpipe.http.TransportProtocol` — e.g.
    :class:`chatpipe.testing.MockTransport`, which runs the pipeline without sockets. Such a
    transport is used as given: ``timeout``, ``max_retries`` and the ``chatpipe_before_send``
    hook apply to the built-in transport only (so do ``limits`` and ``deadline=``).

    ``plugins`` names ``chatpipe.plugins`` entry points (observers) to load into the
    registry first, as the config's ``observers`` lists do (:meth:`from_config`).

    ``prices`` (a :class:`~chatpipe.models.Prices`, the profile's ``prices:``) are the rates
    of this pipeline's replies: each reply carries the ones for its model
    (:attr:`ChatResponse.prices <chatpipe.models.ChatResponse.prices>`), which then decide its
    ``cost`` in place of the bundled price data.
    """

    def __init__(
        self,
        provider: str,
        model: str | None = None,
        converters: str | Sequence[str] | None = None,
        *,
        api_key: str | Secret | None = None,
        base_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        include_body: Mapping[str, Any] | None = None,
        exclude_body: Sequence[str] | None = None,
        options: Mapping[str, Any] | None = None,
        placeholder: str | None = None,
        names: Names | Mapping[str, Any] | None = None,
        timeout: float | tuple[float, float] | Mapping[str, float | None] | None = None,
        limits: Mapping[str, float | None] | None = None,
        state: Store | None = None,
        max_retries: int = 2,
        bypass_status_check: bool = False,
        registry: Registry | None = None,
        key_store: KeyStore | None = None,
        profile: str | None = None,
        config_api_key: str | None = None,
        config_file: str | None = None,
        transport: TransportProtocol | None = None,
        plugins: Sequence[str] = (),
        prices: Prices | None = None,
        **params: Any,
    ) -> None:
        self.registry = registry or default_registry()
        self.registry.load_plugins(plugins)
        self.provider_class = self.registry.provider(provider)
        info = self.provider_class.info
        self.profile = profile
        self.converters: tuple[Converter, ...] = tuple(resolve_chain(normalise_names(converters), self.registry))
        self.required: tuple[Converter, ...] = tuple(resolve_chain(info.required_converters, self.registry))
        self._chain = (*self.converters, *self.required)
        self.context = make_context(placeholder, names)
        self.model = model or info.default_model
        base = base_url or info.default_base_url
        if not base:
            raise ConfigError(
                f"provider {info.name!r} has no default base URL: give one (e.g. http://127.0.0.1:1234/v1)",
                path="base_url",
            )
        self.provider_class.validate_options(dict(options or {}))
        key = self._resolve_key(api_key, config_api_key, config_file, key_store, info.is_vendor_url(base))
        self.adapter: Provider = self.provider_class(
            ProviderSettings(
                base_url=base,
                api_key=None if key is None else key.key,
                api_key_source=None if key is None else key.source,
                headers={str(k): str(v) for k, v in (headers or {}).items()},
                include_body=dict(include_body or {}),
                exclude_body=tuple(exclude_body or ()),
                options=dict(options or {}),
                context=self.context,
            )
        )
        self.params: dict[str, Any] = dict(params)
        self.bypass_status_check = bypass_status_check
        self._timeout = timeout
        self._server = server_of(base)
        limits = dict(limits or {})
        self._limits = {k: v for k, v in limits.items() if k not in RATE_KEYS}
        self._limiter = self._rate_limiter(limits, state, self._prepare_transport if transport is None else None)
        self._max_retries = max_retries
        self._transport: TransportProtocol | None = transport
        self._prices = prices

    # --- construction -------------------------------------------------------------------

    @classmethod
    def from_config(
        cls,
        profile: str | None = None,
        path: str | os.PathLike[str] | None = None,
        *,
        config: Config | None = None,
        **overrides: Any,
    ) -> Pipeline:
        """A pipeline for ``profile`` of the config found at ``path`` (see chatpipe.config).

        ``overrides`` replace profile values (``model=``, ``converters=``, ``api_key=``...).
        For a router profile (one with ``route``) the result is a
        :class:`~chatpipe.routing.Router`, which takes only the overrides of
        :meth:`Router.from_config <chatpipe.routing.Router.from_config>`.
        """
        from .config import load_config

        cfg = config if config is not None else load_config(path)
        name, prof = cfg.profile(profile)
        if prof.route is not None:
            from .routing import Router

            return Router._from_route(cfg, name, prof.route, {}, **overrides)
        return cls._from_profile(cfg, name, prof, **overrides)

    @classmethod
    def _from_profile(cls, cfg: Config, name: str, prof: Profile, **overrides: Any) -> Pipeline:
        from .state import store_for

        timeout = prof.timeout or cfg.timeout
        limits = prof.limits or cfg.limits
        kwargs: dict[str, Any] = {
            "model": prof.model,
            "converters": list(prof.converters),
            "base_url": prof.base_url,
            "headers": dict(prof.headers),
            "include_body": dict(prof.include_body),
            "exclude_body": list(prof.exclude_body),
            "options": dict(prof.options),
            "placeholder": prof.prompt_placeholder or cfg.prompt_placeholder,
            "names": prof.names or cfg.names,
            "timeout": attrs.asdict(timeout),
            "limits": attrs.asdict(limits),
            "state": store_for(cfg.state),
            "max_retries": cfg.max_retries if prof.max_retries is None else prof.max_retries,
            "bypass_status_check": prof.bypass_status_check,
            "profile": name,
            "config_api_key": prof.api_key,
            "config_file": cfg.source,
            "plugins": [*cfg.observers, *cfg.plugins, *prof.observers],
            "prices": prof.prices,
        }
        params = dict(prof.params)
        direct = {"api_key", "transport", "registry", "key_store"}
        params.update({k: v for k, v in overrides.items() if k not in kwargs and k not in direct})
        kwargs.update({k: v for k, v in overrides.items() if k in kwargs or k in direct})
        # a body field named like the constructor's first argument (OpenRouter's routing
        # preferences, ``provider``) cannot travel as a keyword: it joins the params after
        routing = {"provider": params.pop("provider")} if "provider" in params else {}
        pipe = cls(prof.provider, **kwargs, **params)
        pipe.params.update(routing)
        return pipe

    def _rate_limiter(
        self, limits: Mapping[str, Any], state: Store | None, prepare: Callable[[bool], None] | None
    ) -> Limiter | None:
        """The limiter of ``limits``' rate keys; ``None`` when none of rpm, tpm, concurrency is set.

        ``prepare`` (given when the transport is the built-in one) readies it before each lease.
        """
        per_minute = {k: limits.get(k) for k in ("rpm", "tpm", "concurrency")}
        if not any(v is not None for v in per_minute.values()):
            return None
        for key, value in per_minute.items():
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ConfigError(f"limits.{key} must be a whole number of 1 or more, got {value!r}")
        from ._transport import Timeouts
        from .state import Quota, anonymous, local_store

        window = float(limits.get("window") or 60.0)
        rpm, tpm = per_minute["rpm"], per_minute["tpm"]
        quota = Quota(
            calls=None if rpm is None else max(1, int(rpm * window / 60)),
            tokens=None if tpm is None else max(1, int(tpm * window / 60)),
            concurrency=per_minute["concurrency"],
            window=window,
        )
        timeouts = _settings(Timeouts, "timeout", _timeout_mapping(self._timeout))
        max_wait = limits.get("max_wait")
        return Limiter(
            state or local_store(),
            f"limit:{self.profile or anonymous('pipeline')}",
            quota,
            max_wait=30.0 if max_wait is None else float(max_wait),
            lease_ttl=max(timeouts.total, timeouts.stream_deadline or 0.0),
            profile=self.profile or self.provider_class.info.name,
            settings=f"profiles.{self.profile}.limits" if self.profile else "limits",
            per_minute=per_minute,
            prepare=prepare,
        )

    def _resolve_key(
        self,
        explicit: str | Secret | None,
        config_key: str | None,
        config_file: str | None,
        store: KeyStore | None,
        vendor_url: bool,
    ) -> FoundKey | None:
        from .keys import KeyStore, find_api_key

        info = self.provider_class.info
        if explicit is None and store is None:
            store = KeyStore()  # the key file is only read when no key was passed
        return find_api_key(
            info.name,
            explicit=explicit,
            profile_name=self.profile,
            profile_key=config_key,
            env_vars=info.api_key_env,
            store=store,
            config_file=config_file,
            vendor_keys=vendor_url,
        )

    def __repr__(self) -> str:
        chain = ",".join(c.name for c in self.converters) or "none"
        return f"<Pipeline {self.provider_class.info.name} model={self.model!r} converters={chain}>"

    # --- request building -----------------------------------------------------------------

    def _stages(self, messages: tuple[Message, ...]) -> list[Stage]:
        return run_chain(messages, self._chain, self.context)

    def _build(
        self,
        messages: Sequence[Mapping[str, Any] | Message],
        *,
        stream: bool,
        tools: Sequence[Mapping[str, Any] | Tool] | None,
        tool_choice: str | Mapping[str, Any] | None,
        params: Mapping[str, Any],
    ) -> tuple[ChatRequest, HttpRequest, tuple[Message, ...], list[Stage]]:
        structured = _as_messages(messages)
        validate_messages(structured)
        tool_objs = self._tools(tools)
        if tool_objs:
            folding = [c.name for c in self._chain if not c.keeps_tools]
            if folding:
                raise InvalidRequestError(
                    f"converter(s) {folding} fold tool calls into text, so 'tools' cannot be sent; "
                    "use the '-tools' variant (e.g. strict-tools) or remove the tools",
                    where="tools",
                )
        stages = self._stages(structured)
        final = stages[-1][1] if stages else structured
        require_messages(final)
        check_capabilities(self.provider_class.info, stream=stream, tools=bool(tool_objs), messages=final)
        merged = {**self.params, **params}
        model = merged.pop("model", None) or self.model
        if not model:
            raise ConfigError(
                f"provider {self.provider_class.info.name!r} needs a model: pass model=..., -m MODEL, "
                "or set 'model' in the profile ('chatpipe models' lists them)"
            )
        request = self.adapter.prepare(
            ChatRequest(
                model=model,
                messages=final,
                tools=tool_objs,
                tool_choice=tool_choice,
                params=merged,
                stream=stream,
            )
        )
        http = self.adapter.build_chat(request)
        if _log.isEnabledFor(DEBUG):
            chain = ",".join(c.name for c in self._chain) or "none"
            _log.debug(
                "%s",
                scrub(
                    f"built {'stream ' if stream else ''}request provider={self.provider_class.info.name} "
                    f"model={model} converters={chain} messages={len(structured)}->{len(final)}",
                    self.adapter.secrets(),
                ),
            )
        return request, http, structured, stages

    @staticmethod
    def _tools(tools: Sequence[Mapping[str, Any] | Tool] | None) -> tuple[Tool, ...] | None:
        if not tools:
            return None
        if all(isinstance(t, Tool) for t in tools):
            return tuple(tools)  # type: ignore[arg-type]
        return tools_from_dicts([t for t in tools])  # type: ignore[misc]

    def missing_key(self) -> str | None:
        """Why a call would fail for want of an API key, with the fix; ``None`` when it would not
        (a key was found, or none is needed: see :meth:`ProviderInfo.key_needed
        <chatpipe.provider.ProviderInfo.key_needed>`). Makes no call."""
        info = self.provider_class.info
        if self.adapter.settings.api_key or not info.key_needed(self.adapter.settings.base_url):
            return None
        envs = " or ".join(info.api_key_env) or "an env var"
        # (the provider is named by what carries this: the error's head, the profile's key path)
        return f"no API key: run 'chatpipe keys set {self.profile or info.name}', set {envs}, or pass api_key=..."

    def _require_key(self) -> None:
        missing = self.missing_key()
        if missing is not None:
            raise AuthenticationError(missing, provider=self.provider_class.info.name)

    # --- transport ------------------------------------------------------------------------

    @property
    def transport(self) -> TransportProtocol:
        """The transport: the one given to the constructor, else the pooled HTTP transport (created on first use)."""
        if self._transport is None:
            from ._transport import Limits, RetryPolicy, Timeouts, Transport

            self._transport = Transport(
                timeouts=_settings(Timeouts, "timeout", _timeout_mapping(self._timeout)),
                retry=RetryPolicy(max_retries=self._max_retries),
                limits=_settings(Limits, "limits", self._limits),
                provider=self.provider_class.info.name,
                secrets=self.adapter.secrets(),
                on_send=self._on_send if self.registry.observes("chatpipe_before_send") else None,
                should_retry=self.adapter.should_retry,
                on_retry=self._on_retry if self.registry.observes("chatpipe_call_retry") else None,
            )
        return self._transport

    def _prepare_transport(self, is_async: bool) -> None:
        """The built-in transport's pool, built now (see ``Transport.prepare``)."""
        cast("Transport", self.transport).prepare(is_async=is_async)

    def _on_send(self, request: HttpRequest) -> None:
        self.registry.before_send(self.provider_class.info.name, request)

    @staticmethod
    def _on_retry(attempt: int, reason: str, status: int | None, wait: float) -> None:
        observed = CURRENT.get()
        if observed is not None:
            observed.retry(attempt, reason, status, wait)

    def _observe(self, response: ChatResponse) -> ChatResponse:
        if self._prices is not None:
            rates = self._prices.for_model(response.model, self.model)
            if rates is not None:
                response = attrs.evolve(response, prices=rates)
        if self.registry.observes("chatpipe_after_response"):
            self.registry.after_response(self.provider_class.info.name, response)
        return response

    def _raise_for_status(self, response: HttpResponse) -> None:
        if response.status >= 400:
            error = self.adapter.parse_error(response)
            if _log.isEnabledFor(DEBUG):
                _log.debug("%s", scrub(f"{type(error).__name__}: {error}", self.adapter.secrets()))
            raise error

    def _retryable(self) -> frozenset[int]:
        return self.provider_class.info.retryable_statuses

    def close(self) -> None:
        """Close pooled connections."""
        if self._transport is not None:
            self._transport.close()

    async def aclose(self) -> None:
        """Close pooled connections (async clients included)."""
        if self._transport is not None:
            await self._transport.aclose()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Pipeline:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- calls ----------------------------------------------------------------------------

    def complete(
        self,
        messages: Sequence[Mapping[str, Any] | Message],
        *,
        tools: Sequence[Mapping[str, Any] | Tool] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        deadline: float | None = None,
        **params: Any,
    ) -> ChatResponse:
        """One non-streaming completion (``deadline``: its most seconds in all, retries included)."""
        return self._send(self._call_request(messages, tools, tool_choice, params, deadline), None)

    async def acomplete(
        self,
        messages: Sequence[Mapping[str, Any] | Message],
        *,
        tools: Sequence[Mapping[str, Any] | Tool] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        deadline: float | None = None,
        **params: Any,
    ) -> ChatResponse:
        """Async twin of :meth:`complete`."""
        return await self._asend(self._call_request(messages, tools, tool_choice, params, deadline), None)

    def _send(self, http: HttpRequest, wait: float | None, routed: Mapping[str, Any] | None = None) -> ChatResponse:
        """Send a non-streaming call: observed when someone observes calls, within the rate
        limits when there are any (waiting ``wait`` for room), else straight to the transport.
        ``routed`` is a router's call (its ``call_id``, ``route`` and ``router``), for the observers."""
        if self.registry.observes_calls():
            return self._observed_send(http, wait, self._observed(http, False, routed))
        if self._limiter is not None:
            return self._limited(http, wait)
        return self._reply(self.transport.send(http, retryable=self._retryable()))

    async def _asend(
        self, http: HttpRequest, wait: float | None, routed: Mapping[str, Any] | None = None
    ) -> ChatResponse:
        """Async twin of :meth:`_send`."""
        if self.registry.observes_calls():
            return await self._aobserved_send(http, wait, self._observed(http, False, routed))
        if self._limiter is not None:
            return await self._alimited(http, wait)
        return self._reply(await self.transport.asend(http, retryable=self._retryable()))

    def map(self, items: Iterable[_Item], *, concurrency: int = 16) -> Iterator[tuple[_Item, BatchResult]]:
        """Run many calls at once; ``(item, result)`` pairs in completion order.

        Each item is a :class:`~chatpipe.batch.BatchItem` (its ``messages`` and ``params`` are
        sent) or a message list; at most ``concurrency`` calls are in flight (one pooled async
        client on a private event loop, driven by the caller's thread: not callable inside a
        running loop, use :meth:`amap` there). ``result`` is the
        :class:`~chatpipe.models.ChatResponse` or the :class:`~chatpipe.errors.ProviderError`
        / :class:`~chatpipe.errors.InvalidRequestError` that ended that call (after the
        transport's retries); any other error is raised. Limits and a router's routing apply
        to each call. Items are pulled as room frees up, so ``items`` may be a huge generator.
        """
        from .batch import map_sync

        return map_sync(self, items, concurrency=concurrency)

    def amap(
        self, items: Iterable[_Item] | AsyncIterable[_Item], *, concurrency: int = 16
    ) -> AsyncIterator[tuple[_Item, BatchResult]]:
        """Async twin of :meth:`map`: ``async for item, result in pipe.amap(items)``; ``items`` may be async."""
        from .batch import amap

        return amap(self, items, concurrency=concurrency)

    def _limited(self, http: HttpRequest, wait: float | None) -> ChatResponse:
        """A non-streaming call within the rate limits (waiting up to ``wait``, default ``max_wait``)."""
        limiter = self._limiter
        assert limiter is not None
        tokens = estimate_tokens(http.json) if limiter.counts_tokens else 0
        lease = limiter.acquire(tokens, wait)
        used: int | None = None
        try:
            reply = self._reply(self.transport.send(http, retryable=self._retryable()))
            used = used_tokens(reply.usage)
            return reply
        except ProviderError as error:
            used = 0 if error.status is not None else None  # an error status: no tokens generated
            raise
        finally:
            limiter.release(lease, used)

    async def _alimited(self, http: HttpRequest, wait: float | None) -> ChatResponse:
        """Async twin of :meth:`_limited`."""
        limiter = self._limiter
        assert limiter is not None
        tokens = estimate_tokens(http.json) if limiter.counts_tokens else 0
        lease = await limiter.aacquire(tokens, wait)
        used: int | None = None
        try:
            reply = self._reply(await self.transport.asend(http, retryable=self._retryable()))
            used = used_tokens(reply.usage)
            return reply
        except ProviderError as error:
            used = 0 if error.status is not None else None
            raise
        finally:
            await limiter.arelease(lease, used)

    # --- what a router calls: the same calls, with the wait for room in the limits given ----

    def _complete_within(
        self,
        messages: Sequence[Mapping[str, Any] | Message],
        call: Mapping[str, Any],
        wait: float | None,
    ) -> ChatResponse:
        """:meth:`complete` with ``call`` (tools, tool_choice, deadline, params), waiting ``wait`` for room.

        A router observing the call adds its ``call_id``, ``route`` (the target's name) and
        ``router`` (its profile) to ``call``.
        """
        http = self._call_request(messages, call["tools"], call["tool_choice"], call["params"], call["deadline"])
        return self._send(http, wait, call)

    async def _acomplete_within(
        self,
        messages: Sequence[Mapping[str, Any] | Message],
        call: Mapping[str, Any],
        wait: float | None,
    ) -> ChatResponse:
        """Async twin of :meth:`_complete_within`."""
        http = self._call_request(messages, call["tools"], call["tool_choice"], call["params"], call["deadline"])
        return await self._asend(http, wait, call)

    def _stream_within(
        self, messages: Sequence[Mapping[str, Any] | Message], call: Mapping[str, Any], wait: float | None
    ) -> ChatStream:
        """:meth:`stream` with ``call``, waiting ``wait`` for room in the limits."""
        from ._streams import ChatStream  # streaming code loads with the first stream (see _stream_call)

        return ChatStream(
            self._stream_call(
                messages, call["tools"], call["tool_choice"], call["params"], call["deadline"], wait, call
            )
        )

    def _astream_within(
        self, messages: Sequence[Mapping[str, Any] | Message], call: Mapping[str, Any], wait: float | None
    ) -> AsyncChatStream:
        """Async twin of :meth:`_stream_within`."""
        from ._streams import AsyncChatStream

        return AsyncChatStream(
            self._stream_call(
                messages, call["tools"], call["tool_choice"], call["params"], call["deadline"], wait, call
            )
        )

    def _call_request(
        self,
        messages: Sequence[Mapping[str, Any] | Message],
        tools: Sequence[Mapping[str, Any] | Tool] | None,
        tool_choice: str | Mapping[str, Any] | None,
        params: Mapping[str, Any],
        deadline: float | None,
    ) -> HttpRequest:
        """The HTTP request of a non-streaming call, once a key is known to be there.

        Only the HTTP request is returned: keeping the converter stages across the call would
        keep every in-flight call's intermediates alive, which makes garbage collection in a
        burst of concurrent calls measurably slower (docs/performance.md).
        """
        http = self._build(messages, stream=False, tools=tools, tool_choice=tool_choice, params=params)[1]
        self._require_key()
        return http if deadline is None else _with_deadline(http, deadline)

    def _reply(self, response: HttpResponse) -> ChatResponse:
        """The observed reply of a non-streaming call's response (a typed error for an error status)."""
        try:
            self._raise_for_status(response)
            reply = self.adapter.parse_chat(response)
        except ProviderError as error:
            raise _detached(error) from error.__cause__
        return self._observe(reply)

    def _observed(self, http: HttpRequest, stream: bool, routed: Mapping[str, Any] | None) -> Observed:
        """The tracker of one observed call (``routed``: a router's call, whose ``call_id`` it takes)."""
        from ._callinfo import CallInfo  # with the first observed call, not with every pipeline

        model = http.json.get("model", self.model) if type(http.json) is dict else self.model
        routed = routed or {}
        info = CallInfo(
            id=routed.get("call_id") or new_call_id(),
            provider=self.provider_class.info.name,
            model=str(model),
            profile=self.profile,
            route=routed.get("route"),
            stream=stream,
            server_address=self._server[0],
            server_port=self._server[1],
            router=routed.get("router"),
        )
        return Observed(self.registry, info, self.adapter.secrets())

    def _observed_send(self, http: HttpRequest, wait: float | None, observed: Observed) -> ChatResponse:
        """A non-streaming call with its life reported to ``observed``."""
        observed.started()
        token = CURRENT.set(observed)
        try:
            if self._limiter is not None:
                reply = self._limited(http, wait)
            else:
                reply = self._reply(self.transport.send(http, retryable=self._retryable()))
        except ProviderError as error:
            observed.failed(error)
            raise
        finally:
            CURRENT.reset(token)
        observed.finished(reply)
        return reply

    async def _aobserved_send(self, http: HttpRequest, wait: float | None, observed: Observed) -> ChatResponse:
        """Async twin of :meth:`_observed_send`."""
        observed.started()
        token = CURRENT.set(observed)
        try:
            if self._limiter is not None:
                reply = await self._alimited(http, wait)
            else:
                reply = self._reply(await self.transport.asend(http, retryable=self._retryable()))
        except ProviderError as error:
            observed.failed(error)
            raise
        finally:
            CURRENT.reset(token)
        observed.finished(reply)
        return reply

    def stream(
        self,
        messages: Sequence[Mapping[str, Any] | Message],
        *,
        tools: Sequence[Mapping[str, Any] | Tool] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        deadline: float | None = None,
        **params: Any,
    ) -> ChatStream:
        """A streaming completion: iterate for :class:`~chatpipe.models.ChatChunk` objects.

        After iteration, ``stream.response`` holds the assembled reply (complete tool calls,
        usage). On a mid-stream failure the raised error's ``partial_text`` keeps what arrived.
        Closing the stream (``with pipe.stream(...) as s`` or ``s.close()``) closes the connection.
        ``deadline`` is the stream's most seconds in all (``timeout.stream_deadline`` otherwise).
        """
        from ._streams import ChatStream

        return ChatStream(self._stream_call(messages, tools, tool_choice, params, deadline))

    def astream(
        self,
        messages: Sequence[Mapping[str, Any] | Message],
        *,
        tools: Sequence[Mapping[str, Any] | Tool] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        deadline: float | None = None,
        **params: Any,
    ) -> AsyncChatStream:
        """Async twin of :meth:`stream`: ``async for chunk in pipe.astream(messages)``."""
        from ._streams import AsyncChatStream

        return AsyncChatStream(self._stream_call(messages, tools, tool_choice, params, deadline))

    def _stream_call(
        self,
        messages: Sequence[Mapping[str, Any] | Message],
        tools: Sequence[Mapping[str, Any] | Tool] | None,
        tool_choice: str | Mapping[str, Any] | None,
        params: Mapping[str, Any],
        deadline: float | None,
        wait: float | None = None,
        routed: Mapping[str, Any] | None = None,
    ) -> StreamCall:
        # The stream classes and the accumulator (~3 ms of imports and attrs classes) load with
        # the first stream, not with every pipeline: a pipeline that never streams never needs them.
        from ._streams import StreamCall, StreamLimit

        request, http, _, _ = self._build(messages, stream=True, tools=tools, tool_choice=tool_choice, params=params)
        self._require_key()
        if deadline is not None:
            http = _with_deadline(http, deadline)
        limit = None
        if self._limiter is not None:
            tokens = estimate_tokens(http.json) if self._limiter.counts_tokens else 0
            limit = StreamLimit(self._limiter, tokens, wait)
        observed = None
        if self.registry.observes_calls():
            observed = self._observed(http, True, routed)
        return StreamCall(
            self.adapter, request, http, self.transport, self._retryable(), self._observe, limit, observed
        )

    def test_message(self) -> ChatResponse:
        """Send the reference "Test Message": one non-streaming ``Hi``, no tools."""
        return self.complete(list(TEST_MESSAGES))

    def models(self) -> list[ModelInfo]:
        """The provider's model list (its static list when it has no list endpoint).

        Paged lists are followed page by page (:meth:`Provider.next_models`), up to
        :data:`MAX_MODEL_PAGES` pages; then each entry is completed by the provider's detail
        request when it has one (:meth:`Provider.build_model_details`: Ollama's context
        lengths), an entry whose details fail staying as listed. A provider declaring no model
        listing gets no request.
        """
        request = self.adapter.build_models() if self.provider_class.info.capabilities.model_listing else None
        if request is None:
            return self.adapter.static_models()
        self._require_key()
        models: list[ModelInfo] = []
        for _ in range(MAX_MODEL_PAGES):
            response = self.transport.send(request, retryable=self._retryable())
            try:
                self._raise_for_status(response)
                models.extend(self.adapter.parse_models(response))
            except ProviderError as error:
                raise _detached(error) from error.__cause__
            next_request = self.adapter.next_models(response)
            if next_request is None:
                return [self._model_details(model) for model in models]
            request = next_request
        warnings.warn(
            f"{self.provider_class.info.name} listed more than {MAX_MODEL_PAGES} pages of models; "
            f"showing the first {len(models)}",
            ChatpipeWarning,
            stacklevel=2,
        )
        return models

    def _model_details(self, model: ModelInfo) -> ModelInfo:
        """``model`` completed by the provider's detail request, if it has one; as listed when that fails."""
        request = self.adapter.build_model_details(model)
        if request is None:
            return model
        try:
            response = self.transport.send(request, retryable=self._retryable())
            if response.status >= 400:
                raise self.adapter.parse_error(response)
            return self.adapter.parse_model_details(model, response)
        except ProviderError as error:
            _log.debug("%s", scrub(f"details of model {model.id!r} unavailable: {error}", self.adapter.secrets()))
            return model

    def check(self) -> CheckResult:
        """The status check: the model list request, unless bypassed or unavailable.

        Never raises for a vendor failure: the result says what went wrong. With
        ``bypass_status_check`` a failure is reported but ``ok`` stays true. A provider declaring
        no status check gets no request.
        """
        from ._outcomes import CheckResult

        request = self.adapter.build_check() if self.provider_class.info.capabilities.status_check else None
        if request is None:
            return CheckResult(
                ok=True,
                detail=f"{self.provider_class.info.name} has no status check; run 'chatpipe test' to verify",
                bypassed=True,
            )
        try:
            self._require_key()
            response = self.transport.send(request, retryable=self._retryable())
        except ProviderError as exc:
            detail = str(exc)
            hint = self.adapter.unreachable_hint() if type(exc) is APIConnectionError else None
            if hint:
                detail += f" — {hint}"
            return CheckResult(ok=self.bypass_status_check, detail=detail, bypassed=self.bypass_status_check)
        if response.status >= 400:
            error = self.adapter.parse_error(response)
            hint = self.adapter.check_hint(response)
            detail = f"{error}" + (f" — {hint}" if hint else "")
            return CheckResult(
                ok=self.bypass_status_check, detail=detail, status=response.status, bypassed=self.bypass_status_check
            )
        try:
            models = tuple(self.adapter.parse_models(response))
        except ProviderError as exc:
            return CheckResult(ok=self.bypass_status_check, detail=str(exc), status=response.status)
        return CheckResult(
            ok=True, detail=f"connected: {len(models)} model(s) available", status=response.status, models=models
        )

    def explain(
        self,
        messages: Sequence[Mapping[str, Any] | Message],
        *,
        stream: bool = False,
        tools: Sequence[Mapping[str, Any] | Tool] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        **params: Any,
    ) -> Explanation:
        """Every converter stage's messages and the exact HTTP request, without sending it.

        The key is redacted from the request; a missing key is reported in ``notes``.
        """
        from ._outcomes import Explanation

        _, http, structured, stages = self._build(
            messages, stream=stream, tools=tools, tool_choice=tool_choice, params=params
        )
        notes = []
        info = self.provider_class.info
        if not self.adapter.settings.api_key and info.key_needed(self.adapter.settings.base_url):
            notes.append(f"no API key found for {info.name}; a real call would fail (see 'chatpipe keys set')")
        if self.required:
            notes.append(f"{info.name} requires {', '.join(c.name for c in self.required)} after the chosen converters")
        secrets = self.adapter.secrets()
        redacted = http.redacted()
        if secrets:
            import json

            redacted = json.loads(scrub(json.dumps(redacted), secrets))
        all_stages = [("input", structured), *stages]
        return Explanation(
            provider=info.name,
            model=str(http.json.get("model", self.model)) if isinstance(http.json, Mapping) else str(self.model),
            stages=tuple((name, tuple(messages_to_dicts(msgs))) for name, msgs in all_stages),
            request=redacted,
            notes=tuple(notes),
        )


# What check() and explain() return is defined in chatpipe._outcomes, created with the first
# check or explanation (each attrs class costs ~0.5 ms to create). Importable here.
# Hidden from type checkers, which would otherwise accept any name imported from this module.
if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_attributes(
        globals(),
        {name: f"chatpipe._outcomes:{name}" for name in ("CheckResult", "Explanation")},
        {*globals(), *__all__},
    )
