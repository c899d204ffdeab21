"""Routing across profiles: one call surface in front of several pipelines, with fallback.

::

    profiles:
      smart: {route: {strategy: fallback, targets: [claude, openai, local]}}
      pool:  {route: {strategy: weighted, targets: [{profile: fw-a, weight: 3}, {profile: fw-b, weight: 1}]}}

``Pipeline.from_config(profile="smart")`` (and :meth:`Router.from_config`) return a
:class:`Router`; in Python, ``Router([pipe_a, pipe_b], strategy="fallback")``. Each call goes
to one target pipeline, and on to the next when it fails in a way ``fallback_on`` names (see
:class:`~chatpipe.config.RouteConfig`, which documents every rule; docs/routing.md). The
reply's ``route`` names the profile that answered.

In process only: "busy" (``least-busy``) counts this router's calls in flight in this process.
"""

from __future__ import annotations

import os
import random
import threading
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import attrs

from ._streams import AsyncChatStream, ChatStream
from .config._schema import DEFAULT_FALLBACK_ON, FALLBACK_CONDITIONS, ROUTE_STRATEGIES, fallback_condition
from .errors import AllTargetsFailedError, ConfigError, ContextLengthError, ProviderError
from .models import ChatChunk, ChatResponse, Message, Tool
from .pipeline import CheckResult, Explanation, Pipeline

if TYPE_CHECKING:
    from .config import Config, RouteConfig
    from .models import ModelInfo

__all__ = ["Router"]

_SHARED_OVERRIDES = frozenset({"transport", "registry", "key_store"})
"""``from_config`` overrides a router hands to every target pipeline (others belong to one profile)."""


@attrs.frozen
class _Target:
    name: str
    pipe: Pipeline
    weight: float = 1.0


def _name_of(pipe: Pipeline, taken: set[str]) -> str:
    """A target's name: its profile, else its provider; made unique with ``#2``, ``#3``..."""
    base = pipe.profile or pipe.provider_class.info.name
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}#{n}"
    taken.add(name)
    return name


def _has_content(chunk: ChatChunk) -> bool:
    return bool(chunk.text or chunk.reasoning or chunk.tool_calls)


class Router(Pipeline):
    """Send each call to one of several pipelines, falling back between them.

    ``targets`` are pipelines (a :class:`Router` too); ``weights`` (for ``weighted``) one
    positive number per target (default ``1`` each); ``context_fallbacks`` the pipelines tried
    after a :class:`~chatpipe.errors.ContextLengthError`. ``strategy``, ``fallback_on`` and the
    rules are those of :class:`~chatpipe.config.RouteConfig`. ``rng`` draws the ``weighted``
    choices (any object with ``random()``; default a fresh :class:`random.Random`). A target
    is named by its profile (else its provider name): the names in ``failures`` and ``route``.

    The call surface is the Pipeline's: :meth:`complete`, :meth:`acomplete`, :meth:`stream`,
    :meth:`astream` (``deadline=`` bounds each target's call), :meth:`close` /
    :meth:`aclose` (every target) and the context managers. :meth:`models`, :meth:`check`
    and :meth:`explain` are the primary target's (the first written), as is any other
    attribute of a Pipeline (``model``, ``provider_class``, ``registry``...).
    """

    def __init__(
        self,
        targets: Sequence[Pipeline],
        strategy: str = "fallback",
        *,
        weights: Sequence[float] | None = None,
        fallback_on: Sequence[str] = DEFAULT_FALLBACK_ON,
        context_fallbacks: Sequence[Pipeline] = (),
        rng: random.Random | None = None,
        profile: str | None = None,
    ) -> None:
        if not targets:
            raise ConfigError("a router needs at least one target pipeline")
        if strategy not in ROUTE_STRATEGIES:
            raise ConfigError(f"unknown strategy {strategy!r}; valid: {', '.join(ROUTE_STRATEGIES)}")
        unknown = [name for name in fallback_on if name not in FALLBACK_CONDITIONS]
        if unknown:
            raise ConfigError(f"unknown fallback_on name(s) {unknown}; valid: {', '.join(FALLBACK_CONDITIONS)}")
        weights = list(weights) if weights is not None else [1.0] * len(targets)
        if len(weights) != len(targets) or any(not w > 0 for w in weights):
            raise ConfigError("weights must be one positive number per target")
        taken: set[str] = set()
        self.targets = tuple(_Target(_name_of(p, taken), p, w) for p, w in zip(targets, weights, strict=True))
        by_pipe = {id(t.pipe): t for t in self.targets}
        self.context_targets = tuple(by_pipe.get(id(p)) or _Target(_name_of(p, taken), p) for p in context_fallbacks)
        self.strategy = strategy
        self.fallback_on = frozenset(fallback_on)
        self.profile = profile
        self._rng = rng or random.Random()
        self._busy: dict[str, int] = {t.name: 0 for t in self.targets}
        self._lock = threading.Lock()

    # --- construction -------------------------------------------------------------------

    @classmethod
    def from_config(
        cls,
        profile: str | None = None,
        path: str | os.PathLike[str] | None = None,
        *,
        config: Config | None = None,
        rng: random.Random | None = None,
        **overrides: Any,
    ) -> Router:
        """The router of router profile ``profile`` (see :meth:`Pipeline.from_config`).

        ``overrides`` may only be ``transport``, ``registry`` and ``key_store``, given to every
        target pipeline (the other overrides belong to one provider profile: set them on the
        targets); ``rng`` draws the ``weighted`` choices.
        """
        from .config import load_config

        cfg = config if config is not None else load_config(path)
        name, prof = cfg.profile(profile)
        if prof.route is None:
            raise ConfigError(f"profile {name!r} is not a router profile (it has no 'route')", path=f"profiles.{name}")
        return cls._from_route(cfg, name, prof.route, {}, rng=rng, **overrides)

    @classmethod
    def _from_route(
        cls,
        cfg: Config,
        name: str,
        route: RouteConfig,
        built: dict[str, Pipeline],
        *,
        rng: random.Random | None = None,
        **overrides: Any,
    ) -> Router:
        """The router of profile ``name``; ``built`` shares one pipeline per profile (validated: no loop)."""
        given = sorted(k for k, v in overrides.items() if v is not None and k not in _SHARED_OVERRIDES)
        if given:
            raise ConfigError(
                f"profile {name!r} is a router: {', '.join(given)} cannot be overridden on it; "
                "set them on its target profiles",
                path=f"profiles.{name}",
                file=cfg.source,
            )
        shared = {k: v for k, v in overrides.items() if k in _SHARED_OVERRIDES}

        def pipe(target: str) -> Pipeline:
            if target not in built:
                prof = cfg.profiles[target]
                built[target] = (
                    cls._from_route(cfg, target, prof.route, built, rng=rng, **shared)
                    if prof.route is not None
                    else Pipeline._from_profile(cfg, target, prof, **shared)
                )
            return built[target]

        return cls(
            [pipe(t.profile) for t in route.targets],
            route.strategy,
            weights=[t.weight for t in route.targets],
            fallback_on=route.fallback_on,
            context_fallbacks=[pipe(n) for n in route.context_fallbacks],
            rng=rng,
            profile=name,
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name == "targets":
            raise AttributeError(name)
        return getattr(self.targets[0].pipe, name)

    def __repr__(self) -> str:
        return f"<Router {self.profile or ''} {self.strategy} -> {', '.join(t.name for t in self.targets)}>"

    # --- which target ---------------------------------------------------------------------

    def _plan(self) -> list[_Target]:
        """The order in which the targets of one call are tried."""
        targets = list(self.targets)
        if self.strategy == "least-busy":
            with self._lock:
                busy = dict(self._busy)
            return sorted(targets, key=lambda t: busy[t.name])
        if self.strategy == "weighted":
            order: list[_Target] = []
            while targets:
                pick = self._rng.random() * sum(t.weight for t in targets)
                for i, target in enumerate(targets):
                    pick -= target.weight
                    if pick < 0 or i == len(targets) - 1:
                        order.append(targets.pop(i))
                        break
            return order
        return targets

    @contextmanager
    def _in_flight(self, target: _Target) -> Iterator[None]:
        if target.name not in self._busy:  # a context fallback outside the targets
            yield
            return
        with self._lock:
            self._busy[target.name] += 1
        try:
            yield
        finally:
            with self._lock:
                self._busy[target.name] -= 1

    def _after(
        self, error: ProviderError, target: _Target, left: list[_Target], failures: list[tuple[str, ProviderError]]
    ) -> list[_Target]:
        """The targets still to try after ``target`` failed with ``error``; raises when none is."""
        failures.append((target.name, error))
        if isinstance(error, ContextLengthError):
            tried = {name for name, _ in failures}
            left = [t for t in self.context_targets if t.name not in tried]
            if not left and len(failures) == 1:
                raise error
        elif not isinstance(error, AllTargetsFailedError) and fallback_condition(error) not in self.fallback_on:
            raise error  # a nested router that ran out of targets moves on like its targets' failures
        if not left:
            raise AllTargetsFailedError(failures) from None
        return left

    @staticmethod
    def _answered(reply: ChatResponse, target: _Target) -> ChatResponse:
        """``reply`` naming the profile that answered (a nested router's innermost target)."""
        return reply if reply.route is not None else attrs.evolve(reply, route=target.name)

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
        """One non-streaming completion from the first target that answers (see the class)."""
        left, failures = self._plan(), list[tuple[str, ProviderError]]()
        while True:
            target = left.pop(0)
            with self._in_flight(target):
                try:
                    reply = target.pipe.complete(
                        messages, tools=tools, tool_choice=tool_choice, deadline=deadline, **params
                    )
                except ProviderError as error:
                    left = self._after(error, target, left, failures)
                    continue
            return self._answered(reply, target)

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
        left, failures = self._plan(), list[tuple[str, ProviderError]]()
        while True:
            target = left.pop(0)
            with self._in_flight(target):
                try:
                    reply = await target.pipe.acomplete(
                        messages, tools=tools, tool_choice=tool_choice, deadline=deadline, **params
                    )
                except ProviderError as error:
                    left = self._after(error, target, left, failures)
                    continue
            return self._answered(reply, target)

    def stream(
        self,
        messages: Sequence[Mapping[str, Any] | Message],
        *,
        tools: Sequence[Mapping[str, Any] | Tool] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        deadline: float | None = None,
        **params: Any,
    ) -> ChatStream:
        """A stream from the first target that answers; it moves on only before its first content."""
        call = {"tools": tools, "tool_choice": tool_choice, "deadline": deadline, **params}
        return _RoutedStream(self, messages, call)

    def astream(
        self,
        messages: Sequence[Mapping[str, Any] | Message],
        *,
        tools: Sequence[Mapping[str, Any] | Tool] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        deadline: float | None = None,
        **params: Any,
    ) -> AsyncChatStream:
        """Async twin of :meth:`stream`."""
        call = {"tools": tools, "tool_choice": tool_choice, "deadline": deadline, **params}
        return _AsyncRoutedStream(self, messages, call)

    # --- the rest -------------------------------------------------------------------------

    def _pipelines(self) -> list[Pipeline]:
        return list({id(t.pipe): t.pipe for t in (*self.targets, *self.context_targets)}.values())

    def close(self) -> None:
        """Close every target's pooled connections."""
        for pipe in self._pipelines():
            pipe.close()

    async def aclose(self) -> None:
        """Close every target's pooled connections (async clients included)."""
        for pipe in self._pipelines():
            await pipe.aclose()

    def __enter__(self) -> Router:
        return self

    async def __aenter__(self) -> Router:
        return self

    def models(self) -> list[ModelInfo]:
        """The primary target's model list."""
        return self.targets[0].pipe.models()

    def check(self) -> CheckResult:
        """The primary target's status check."""
        return self.targets[0].pipe.check()

    def explain(self, *args: Any, **kwargs: Any) -> Explanation:
        """What the primary target would send (see :meth:`Pipeline.explain`)."""
        return self.targets[0].pipe.explain(*args, **kwargs)


class _RoutedStream(ChatStream):
    """A router's stream: chunks without content are held until one with content arrives, so
    a target that fails before that leaves nothing behind and the next target takes over."""

    def __init__(self, router: Router, messages: Sequence[Mapping[str, Any] | Message], call: dict[str, Any]) -> None:
        self._router, self._messages, self._kwargs = router, messages, call
        self._inner: ChatStream | AsyncChatStream | None = None
        self._response: ChatResponse | None = None
        self._iterator: Iterator[ChatChunk] | None = None

    @property
    def text(self) -> str:
        """The text received so far (from the target now answering)."""
        return self._inner.text if self._inner is not None else ""

    def _run(self) -> Iterator[ChatChunk]:
        router = self._router
        left, failures = router._plan(), list[tuple[str, ProviderError]]()
        while True:
            target = left.pop(0)
            inner = self._inner = target.pipe.stream(self._messages, **self._kwargs)
            held: list[ChatChunk] | None = []
            with router._in_flight(target), inner:
                try:
                    for chunk in inner:
                        if held is None:
                            yield chunk
                            continue
                        held.append(chunk)
                        if _has_content(chunk):
                            yield from held
                            held = None  # content arrived: no more holding
                except ProviderError as error:
                    if held is None:
                        raise
                    left = router._after(error, target, left, failures)
                    continue
            yield from held or ()
            self._response = router._answered(inner.response, target)
            return


class _AsyncRoutedStream(AsyncChatStream):
    """Async twin of :class:`_RoutedStream`."""

    def __init__(self, router: Router, messages: Sequence[Mapping[str, Any] | Message], call: dict[str, Any]) -> None:
        self._router, self._messages, self._kwargs = router, messages, call
        self._inner: AsyncChatStream | None = None
        self._response: ChatResponse | None = None
        self._iterator: AsyncIterator[ChatChunk] | None = None

    @property
    def text(self) -> str:
        """The text received so far (from the target now answering)."""
        return self._inner.text if self._inner is not None else ""

    async def _run(self) -> AsyncIterator[ChatChunk]:
        router = self._router
        left, failures = router._plan(), list[tuple[str, ProviderError]]()
        while True:
            target = left.pop(0)
            inner = self._inner = target.pipe.astream(self._messages, **self._kwargs)
            held: list[ChatChunk] | None = []
            with router._in_flight(target):
                async with inner:
                    try:
                        async for chunk in inner:
                            if held is None:
                                yield chunk
                                continue
                            held.append(chunk)
                            if _has_content(chunk):
                                for item in held:
                                    yield item
                                held = None
                    except ProviderError as error:
                        if held is None:
                            raise
                        left = router._after(error, target, left, failures)
                        continue
            for item in held or ():
                yield item
            self._response = router._answered(inner.response, target)
            return
