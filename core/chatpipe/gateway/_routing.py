"""Routing: the request's ``model`` names a profile, optionally with a vendor model id.

* ``"<profile>"``: the profile as configured;
* ``"<profile>/<model-id>"``: the profile with its model replaced by ``<model-id>``, which
  may itself contain slashes (``fireworks/accounts/fireworks/models/llama-v3``).

A whole-string profile match wins; otherwise the longest profile name that is a prefix
before a ``/``. A ``model`` longer than :data:`MAX_MODEL_CHARS` is refused (400) before any
lookup, so neither the prefix search nor the did-you-mean ever work on unbounded input, and
error messages quote a model only through :func:`~chatpipe._shown.shown`. Pipelines are
built once per profile and reused (they hold no per-call state and pool their connections):
all of them when the gateway starts (:meth:`Router.load`), which is where a broken profile
is found — it then stops the start, or is left out of what is served.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from .._log import get_logger
from .._shown import shown
from ..errors import ChatpipeError, ConfigError
from ..secrets import scrub
from ._errors import GatewayError, from_chatpipe_error

if TYPE_CHECKING:
    from ..config import Config
    from ..pipeline import Pipeline
    from ..secrets import Secret

__all__ = ["MAX_MODEL_CHARS", "Route", "Router"]

_log = get_logger("gateway")

MAX_MODEL_CHARS = 256
"""The longest ``model`` the gateway routes (a profile name, or ``<profile>/<model-id>`` in all)."""


@attrs.frozen
class Route:
    """Where a request goes: ``profile`` and the ``model`` override (``None``: the profile's)."""

    profile: str
    model: str | None = None


def _default_factory(config: Config, profile: str) -> Pipeline:
    from ..pipeline import Pipeline

    return Pipeline.from_config(profile, config=config)


class Router:
    """Resolves ``model`` strings to routes and hands out each profile's pipeline.

    ``factory(config, profile)`` builds a pipeline (default: :meth:`Pipeline.from_config`).
    """

    def __init__(self, config: Config, *, factory: Callable[[Config, str], Pipeline] | None = None) -> None:
        self.config = config
        self._factory = factory or _default_factory
        self._pipelines: dict[str, Pipeline] = {}
        self._unavailable: dict[str, str] = {}

    @property
    def profiles(self) -> list[str]:
        """The profile names served, in config order (those left out by :meth:`load` are not)."""
        return [name for name in self.config.profiles if name not in self._unavailable]

    def load(self, *, skip_broken: bool) -> dict[str, str]:
        """Build every profile's pipeline now, the way its first call would (no network).

        A profile is broken when it cannot be built, when its key is missing, or when it routes
        to a broken profile. With ``skip_broken`` the broken ones are left out of what is served
        (each logged, as a warning); otherwise a :class:`~chatpipe.errors.ConfigError` lists
        them all. Returns the broken profiles with why (scrubbed of keys).
        """
        broken: dict[str, str] = {}
        for name in self.config.profiles:
            try:
                built = self._pipelines.get(name) or self._factory(self.config, name)
                _require_keys(built)
            except ChatpipeError as exc:
                broken[name] = scrub(str(exc), [s for s in self.profile_secrets(name) if s])
                continue
            self._pipelines[name] = built
        for name in self.config.profiles:  # a router to a broken profile is broken (in config order)
            route = self.config.profiles[name].route
            names = [t.profile for t in route.targets] + list(route.context_fallbacks) if route else []
            missing = [target for target in names if target in broken]
            if name not in broken and missing:
                broken[name] = f"it routes to {', '.join(repr(m) for m in missing)}, which cannot be served"
        if broken and not skip_broken:
            listed = "\n".join(f"  profiles.{name}: {why}" for name, why in broken.items())
            raise ConfigError(
                f"{len(broken)} of {len(self.config.profiles)} profiles cannot be served:\n{listed}\n"
                "fix them (chatpipe config check), or serve the others: chatpipe serve --skip-broken-profiles "
                "(serve.broken_profiles: skip)",
                file=self.config.source,
            )
        for name, why in broken.items():
            _log.warning("profile %r is not served: %s", name, why)
            self._pipelines.pop(name, None)
        self._unavailable = broken
        return broken

    def resolve(self, model: str) -> Route:
        """The route for ``model``; :class:`GatewayError` 404 (with a did-you-mean) when no profile matches.

        A ``model`` longer than :data:`MAX_MODEL_CHARS` is a :class:`GatewayError` 400 naming
        the limit, raised before any lookup or suggestion; the cost of a refusal does not grow
        with the length of ``model``.
        """
        if len(model) > MAX_MODEL_CHARS:
            raise GatewayError(
                400,
                f"model names are at most {MAX_MODEL_CHARS} characters; got {len(model)}. "
                "Use a profile name or '<profile>/<model-id>' (see GET /v1/models)",
                param="model",
            )
        profiles = self.config.profiles
        if model in profiles:
            return self._served(Route(model))
        best: Route | None = None
        for index, char in enumerate(model):
            if char == "/" and model[:index] in profiles and model[index + 1 :]:
                best = Route(model[:index], model[index + 1 :])
        if best is not None:
            return self._served(best)
        close = difflib.get_close_matches(model.split("/", 1)[0], list(profiles), n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        available = ", ".join(profiles) or "(none configured)"
        raise GatewayError(
            404,
            f"the model {shown(model)} does not exist: use a profile name or '<profile>/<model-id>'.{hint} "
            f"Profiles: {available}.",
            code="model_not_found",
            param="model",
        )

    def _served(self, route: Route) -> Route:
        """``route``, unless its profile was left out at start: a 503 that says no more to the client."""
        if route.profile in self._unavailable:
            raise GatewayError(
                503,
                f"the profile {route.profile!r} is not available on this gateway: it could not be loaded "
                "when the gateway started (the server's log says why)",
                code="profile_unavailable",
                param="model",
            )
        return route

    def pipeline(self, profile: str) -> Pipeline:
        """The pipeline of ``profile`` (built once); a build failure is a :class:`GatewayError` 500."""
        found = self._pipelines.get(profile)
        if found is None:
            try:
                found = self._factory(self.config, profile)
            except ChatpipeError as exc:
                raise from_chatpipe_error(exc, profile=profile, secrets=self.profile_secrets(profile)) from exc
            self._pipelines[profile] = found
        return found

    def profile_secrets(self, profile: str) -> tuple[Secret | str | None, ...]:
        """Values to scrub from anything shown about ``profile``: its key and header values."""
        settings = self.config.profiles.get(profile)
        values: list[Secret | str | None] = []
        if settings is not None:
            values.append(settings.api_key)
            values.extend(settings.headers.values())
        built = self._pipelines.get(profile)
        if built is not None:
            values.extend(built.adapter.secrets())
        return tuple(values)

    async def aclose(self) -> None:
        """Close every pipeline's pooled connections."""
        pipelines, self._pipelines = list(self._pipelines.values()), {}
        for pipeline in pipelines:
            await pipeline.aclose()
            pipeline.close()


def _require_keys(pipeline: Pipeline) -> None:
    """Raise the error a first call would raise for a missing API key. A router is not checked
    itself: its targets are profiles of their own, checked as such (and a router answers what it
    lacks with its first target's, which would judge the router by that one target)."""
    from ..routing import Router as RouterPipeline

    if not isinstance(pipeline, RouterPipeline):
        pipeline._require_key()
