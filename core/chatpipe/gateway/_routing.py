"""Routing: the request's ``model`` names a profile, optionally with a vendor model id.

* ``"<profile>"``: the profile as configured;
* ``"<profile>/<model-id>"``: the profile with its model replaced by ``<model-id>``, which
  may itself contain slashes (``fireworks/accounts/fireworks/models/llama-v3``).

A whole-string profile match wins; otherwise the longest profile name that is a prefix
before a ``/``. A ``model`` longer than :data:`MAX_MODEL_CHARS` is refused (400) before any
lookup, so neither the prefix search nor the did-you-mean ever work on unbounded input, and
error messages quote a model only through :func:`~chatpipe._shown.shown`. Pipelines are
built on first use, one per profile, and reused (they hold no per-call state and pool their
connections).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from .._shown import shown
from ..errors import ChatpipeError
from ._errors import GatewayError, from_chatpipe_error

if TYPE_CHECKING:
    from ..config import Config
    from ..pipeline import Pipeline
    from ..secrets import Secret

__all__ = ["MAX_MODEL_CHARS", "Route", "Router"]

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

    @property
    def profiles(self) -> list[str]:
        """The profile names, in config order."""
        return list(self.config.profiles)

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
            return Route(model)
        best: Route | None = None
        for index, char in enumerate(model):
            if char == "/" and model[:index] in profiles and model[index + 1 :]:
                best = Route(model[:index], model[index + 1 :])
        if best is not None:
            return best
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
