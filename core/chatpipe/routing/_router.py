"""The :class:`Router`: one call surface in front of several pipelines (see the package docs)."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .._observe import new_call_id, safe_call
from .._streams import AsyncChatStream, ChatStream
from ..config._schema import DEFAULT_FALLBACK_ON, FALLBACK_CONDITIONS, ROUTE_STRATEGIES
from ..errors import ConfigError, ProviderError, StateUnavailableError
from ..models import ChatResponse, Message, Tool
from ..pipeline import CheckResult, Explanation, Pipeline
from ..registry import default_registry
from ..state import Breaker, Quota, anonymous, local_store
from ._choice import Latencies, by_busy, by_latency, by_weight
from ._hops import Hops, Target, retry_after

if TYPE_CHECKING:
    from ..config import Config, RouteConfig
    from ..models import ModelInfo
    from ..state import Admission, Store

__all__ = ["Router"]

_SHARED_OVERRIDES = frozenset({"transport", "registry", "key_store"})
"""``from_config`` overrides a router hands to every target pipeline (others belong to one profile)."""

IN_FLIGHT_TTL = 600.0
"""How long a call counts as in flight for ``least-busy`` if its process dies before it ends."""

_NO_QUOTA = Quota()

DEFAULT_COOLDOWN = Breaker()
"""A router's cooldown unless told otherwise: 3 failures within 60 s → skipped for 30 s."""


def _name_of(pipe: Pipeline, taken: set[str]) -> str:
    """A target's name: its profile, else its provider; made unique with ``#2``, ``#3``..."""
    base = pipe.profile or pipe.provider_class.info.name
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}#{n}"
    taken.add(name)
    return name


class Router(Pipeline):
    """Send each call to one of several pipelines, falling back between them.

    ``targets`` are pipelines (a :class:`Router` too); ``weights`` (for ``weighted``) one
    positive number per target (default ``1`` each); ``context_fallbacks`` the pipelines tried
    after a :class:`~chatpipe.errors.ContextLengthError`. ``strategy``, ``fallback_on``,
    ``cooldown`` (a :class:`~chatpipe.state.Breaker`, ``None`` for none) and ``explore`` follow
    :class:`~chatpipe.config.RouteConfig`, which documents every rule. ``state`` is the
    :class:`~chatpipe.state.Store` of cooldowns and in-flight counts (default the process's);
    they are kept under the router's ``profile`` name (without one, for this object alone).
    ``rng`` draws the random choices (default a fresh :class:`random.Random`). A target is
    named by its profile (else its provider name): the names in ``failures`` and ``route``.

    The call surface is the Pipeline's: :meth:`complete`, :meth:`acomplete`, :meth:`stream`,
    :meth:`astream` (``deadline=`` bounds the whole routed call, every hop included),
    :meth:`close` / :meth:`aclose` (every target) and the context managers. :meth:`models`
    and :meth:`check` are the primary target's (the first written), as is any other attribute
    of a Pipeline (``model``, ``provider_class``, ``registry``...); :meth:`explain` shows the
    target tried first, :meth:`explain_targets` every target in the order a call would try them.
    """

    def __init__(
        self,
        targets: Sequence[Pipeline],
        strategy: str = "fallback",
        *,
        weights: Sequence[float] | None = None,
        fallback_on: Sequence[str] = DEFAULT_FALLBACK_ON,
        context_fallbacks: Sequence[Pipeline] = (),
        cooldown: Breaker | None = DEFAULT_COOLDOWN,
        explore: float = 0.1,
        state: Store | None = None,
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
        if not 0 <= explore <= 1:
            raise ConfigError(f"explore must be from 0 to 1, got {explore!r}")
        taken: set[str] = set()
        self.targets = tuple(Target(_name_of(p, taken), p, w) for p, w in zip(targets, weights, strict=True))
        by_pipe = {id(t.pipe): t for t in self.targets}
        self.context_targets = tuple(by_pipe.get(id(p)) or Target(_name_of(p, taken), p) for p in context_fallbacks)
        self.strategy = strategy
        self.fallback_on = frozenset(fallback_on)
        self.cooldown = cooldown
        self.explore = explore
        self.profile = profile
        self.state: Store = state or local_store()
        self._rng = rng or random.Random()
        self._latencies = Latencies()
        namespace = f"route:{profile or anonymous('router')}"
        self._health_keys = {t.name: f"{namespace}:{t.name}" for t in (*self.targets, *self.context_targets)}
        self._busy_keys = [self._health_keys[t.name] for t in self.targets]

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
        targets); ``rng`` draws the random choices.
        """
        from ..config import load_config

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
        from ..state import store_for

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

        cooldown = route.cooldown
        observers = cfg.profiles[name].observers if name in cfg.profiles else ()
        if observers:
            (shared.get("registry") or default_registry()).load_plugins(observers)
        return cls(
            [pipe(t.profile) for t in route.targets],
            route.strategy,
            weights=[t.weight for t in route.targets],
            fallback_on=route.fallback_on,
            context_fallbacks=[pipe(n) for n in route.context_fallbacks],
            cooldown=None if cooldown is None else Breaker(cooldown.failures, cooldown.window, cooldown.duration),
            explore=route.explore,
            state=store_for(cfg.state),
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

    def _order(self, busy: Sequence[int] | None = None) -> list[Target]:
        """The strategy's order of the targets for one call (``busy``: in-flight counts, for least-busy)."""
        if self.strategy == "fallback":
            return list(self.targets)
        if self.strategy == "weighted":
            return by_weight(self.targets, self._rng)
        if self.strategy == "latency":
            return by_latency(self.targets, self._latencies, self._rng, self.explore)
        return by_busy(self.targets, busy or [0] * len(self.targets))

    def _hops(self, call: Mapping[str, Any], wait: float | None) -> Hops:
        busy = self.state.in_flight(self._busy_keys) if self.strategy == "least-busy" else None
        return Hops(self._order(busy), self.context_targets, self.fallback_on, call, wait)

    async def _ahops(self, call: Mapping[str, Any], wait: float | None) -> Hops:
        busy = await self.state.ain_flight(self._busy_keys) if self.strategy == "least-busy" else None
        return Hops(self._order(busy), self.context_targets, self.fallback_on, call, wait)

    # --- the store: cooldowns and in-flight counts (each a no-op when not configured) --------

    def _admit(self, target: Target) -> Admission | None:
        return None if self.cooldown is None else self.state.admit(self._health_keys[target.name], self.cooldown)

    async def _aadmit(self, target: Target) -> Admission | None:
        return None if self.cooldown is None else await self.state.aadmit(self._health_keys[target.name], self.cooldown)

    def _enter(self, target: Target) -> str | None:
        if self.strategy != "least-busy" or target not in self.targets:
            return None
        return self.state.acquire(self._health_keys[target.name], _NO_QUOTA, 0, IN_FLIGHT_TTL).lease

    async def _aenter(self, target: Target) -> str | None:
        if self.strategy != "least-busy" or target not in self.targets:
            return None
        return (await self.state.aacquire(self._health_keys[target.name], _NO_QUOTA, 0, IN_FLIGHT_TTL)).lease

    def _leave(self, target: Target, lease: str | None) -> None:
        if lease is not None:
            self.state.release(self._health_keys[target.name], _NO_QUOTA, lease, None)

    async def _aleave(self, target: Target, lease: str | None) -> None:
        if lease is not None:
            await self.state.arelease(self._health_keys[target.name], _NO_QUOTA, lease, None)

    def _record(self, target: Target, admission: Admission | None, error: ProviderError | None) -> None:
        if self.cooldown is None or admission is None:
            return
        if error is not None:
            self.state.record(
                self._health_keys[target.name], self.cooldown, failed=True, retry_after=retry_after(error)
            )
        elif admission.must_record_success:
            self.state.record(self._health_keys[target.name], self.cooldown, failed=False)

    async def _arecord(self, target: Target, admission: Admission | None, error: ProviderError | None) -> None:
        if self.cooldown is None or admission is None:
            return
        key = self._health_keys[target.name]
        if error is not None:
            await self.state.arecord(key, self.cooldown, failed=True, retry_after=retry_after(error))
        elif admission.must_record_success:
            await self.state.arecord(key, self.cooldown, failed=False)

    def _answered(self, reply: ChatResponse, target: Target, started: float) -> ChatResponse:
        """``reply`` naming the profile that answered (a nested router's innermost target)."""
        if self.strategy == "latency":
            self._latencies.observe(target.name, time.monotonic() - started)
        return self._named(reply, target.name)

    @staticmethod
    def _named(reply: ChatResponse, name: str) -> ChatResponse:
        return reply if reply.route is not None else attrs.evolve(reply, route=name)

    # --- calls ----------------------------------------------------------------------------

    def _call(
        self,
        tools: Sequence[Mapping[str, Any] | Tool] | None,
        tool_choice: str | Mapping[str, Any] | None,
        deadline: float | None,
        params: Mapping[str, Any],
    ) -> dict[str, Any]:
        call = {"tools": tools, "tool_choice": tool_choice, "deadline": deadline, "params": params}
        if self.registry.observes_calls():
            call["call_id"] = new_call_id()  # every target's events and the hops share it
        return call

    def _tried(
        self, args: Mapping[str, Any], target: Target, last: tuple[str, ProviderError] | None
    ) -> Mapping[str, Any]:
        """``args`` for ``target`` of an observed call (naming it ``route``), after reporting the hop from ``last``."""
        if "call_id" not in args:
            return args
        if last is not None and self.registry.observes("chatpipe_router_hop"):
            hop = {"call_id": args["call_id"], "profile": self.profile, "from_target": last[0]}
            safe_call(self.registry, "chatpipe_router_hop", (), {**hop, "to_target": target.name, "error": last[1]})
        return {**args, "route": target.name, "router": self.profile}

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
        return self._complete_within(messages, self._call(tools, tool_choice, deadline, params), None)

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
        return await self._acomplete_within(messages, self._call(tools, tool_choice, deadline, params), None)

    def _complete_within(
        self, messages: Sequence[Mapping[str, Any] | Message], call: Mapping[str, Any], wait: float | None
    ) -> ChatResponse:
        hops = self._hops(call, wait)
        last: tuple[str, ProviderError] | None = None
        while (hop := hops.next()) is not None:
            target, args, room = hop
            admission = self._admit(target)
            if admission is not None and not admission.allowed:
                hops.cooling(target, admission)
                continue
            args, last = self._tried(args, target, last), None
            lease, started = self._enter(target), time.monotonic()
            try:
                reply = target.pipe._complete_within(messages, args, room)
            except ProviderError as error:
                self._record(target, admission, error if hops.failed(target, error) else None)
                last = (target.name, error)
                continue
            finally:
                self._leave(target, lease)
            self._record(target, admission, None)
            return self._answered(reply, target, started)
        raise hops.exhausted()

    async def _acomplete_within(
        self, messages: Sequence[Mapping[str, Any] | Message], call: Mapping[str, Any], wait: float | None
    ) -> ChatResponse:
        hops = await self._ahops(call, wait)
        last: tuple[str, ProviderError] | None = None
        while (hop := hops.next()) is not None:
            target, args, room = hop
            admission = await self._aadmit(target)
            if admission is not None and not admission.allowed:
                hops.cooling(target, admission)
                continue
            args, last = self._tried(args, target, last), None
            lease, started = await self._aenter(target), time.monotonic()
            try:
                reply = await target.pipe._acomplete_within(messages, args, room)
            except ProviderError as error:
                await self._arecord(target, admission, error if hops.failed(target, error) else None)
                last = (target.name, error)
                continue
            finally:
                await self._aleave(target, lease)
            await self._arecord(target, admission, None)
            return self._answered(reply, target, started)
        raise hops.exhausted()

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
        return self._stream_within(messages, self._call(tools, tool_choice, deadline, params), None)

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
        return self._astream_within(messages, self._call(tools, tool_choice, deadline, params), None)

    def _stream_within(
        self, messages: Sequence[Mapping[str, Any] | Message], call: Mapping[str, Any], wait: float | None
    ) -> ChatStream:
        from ._streams import RoutedStream

        return RoutedStream(self, messages, call, wait)

    def _astream_within(
        self, messages: Sequence[Mapping[str, Any] | Message], call: Mapping[str, Any], wait: float | None
    ) -> AsyncChatStream:
        from ._streams import AsyncRoutedStream

        return AsyncRoutedStream(self, messages, call, wait)

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

    # --- explain: what a call would send, target by target (nothing is sent) ----------------

    def explain(
        self,
        messages: Sequence[Mapping[str, Any] | Message],
        *,
        stream: bool = False,
        tools: Sequence[Mapping[str, Any] | Tool] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        **params: Any,
    ) -> Explanation:
        """What the target tried first would send (see :meth:`Pipeline.explain`).

        The first entry of :meth:`explain_targets`: its ``notes`` start by saying this is a
        router, its strategy and the order of the targets; :meth:`explain_targets` has them all.
        """
        return self.explain_targets(messages, stream=stream, tools=tools, tool_choice=tool_choice, **params)[0][1]

    def explain_targets(
        self,
        messages: Sequence[Mapping[str, Any] | Message],
        *,
        stream: bool = False,
        tools: Sequence[Mapping[str, Any] | Tool] | None = None,
        tool_choice: str | Mapping[str, Any] | None = None,
        **params: Any,
    ) -> list[tuple[str, Explanation]]:
        """Each target's name and :class:`Explanation`, in the order a call would try them now.

        A target that is itself a router is replaced by its own targets, in its order (names
        are then the innermost profiles, as in ``route``). ``fallback`` and ``least-busy``
        (in-flight counts read from the state now) give the order a call made now would
        follow; ``weighted`` and ``latency`` draw an order as a call does, so another call
        may draw another — the notes say so. Not shown: targets a call would skip because
        they are cooling down (reading that would count as a probe), and the
        ``context_fallbacks`` (named in the notes), tried only after a context-length error.
        Nothing is sent and no state is changed; every request is redacted.
        """
        order, how = self._explain_order()
        names = ", ".join(t.name for t in order)
        label = repr(self.profile) if self.profile else "(unnamed)"
        found: list[tuple[str, Explanation]] = []
        for position, target in enumerate(order, 1):
            note = f"router {label} ({self.strategy}) tries target {position} of {len(order)} here: {names}; {how}"
            if isinstance(target.pipe, Router):
                inner = target.pipe.explain_targets(
                    messages, stream=stream, tools=tools, tool_choice=tool_choice, **params
                )
            else:
                explained = target.pipe.explain(messages, stream=stream, tools=tools, tool_choice=tool_choice, **params)
                inner = [(target.name, explained)]
            found.extend((name, attrs.evolve(e, notes=(note, *e.notes))) for name, e in inner)
        extra = self._explain_extra_notes()
        if extra:
            found[0] = (found[0][0], attrs.evolve(found[0][1], notes=(*found[0][1].notes, *extra)))
        return found

    def _explain_order(self) -> tuple[list[Target], str]:
        """The order :meth:`explain_targets` shows and how it was found (read-only on the state)."""
        if self.strategy == "fallback":
            return self._order(), "the order written in the route"
        if self.strategy == "weighted":
            return self._order(), "drawn at random by weight, as for a call: another call may draw another order"
        if self.strategy == "latency":
            return self._order(), (
                f"fastest first by the latencies this process has seen (a random first {self.explore:.0%} "
                "of the time), drawn as for a call: another call may draw another order"
            )
        try:
            busy = self.state.in_flight(self._busy_keys)
        except StateUnavailableError as error:
            return list(self.targets), f"fewest calls in flight first, but the state did not answer ({error})"
        counts = ", ".join(f"{t.name} {n}" for t, n in zip(self.targets, busy, strict=True))
        return self._order(busy), f"fewest calls in flight first (now: {counts})"

    def _explain_extra_notes(self) -> list[str]:
        notes = []
        if self.cooldown is not None:
            notes.append(
                f"a target cooling down (after {self.cooldown.failures} failures within "
                f"{self.cooldown.window:g} s) is skipped by a call; explain does not show which are"
            )
        if self.context_targets:
            listed = ", ".join(t.name for t in self.context_targets)
            notes.append(f"after a context-length error the call goes on to the context_fallbacks: {listed}")
        return notes
