"""Every problem of every profile of a config, found the way a call would meet them, offline.

:func:`check_profiles` is what ``chatpipe config check`` reports. For a provider profile it
looks up the provider and each converter, validates the options, checks each of ``params``
against the provider's declared parameters (:meth:`ProviderInfo.param_problems
<chatpipe.provider.ProviderInfo.param_problems>`), builds the pipeline as a call does
(:meth:`Pipeline.from_config <chatpipe.pipeline.Pipeline.from_config>`, a base URL, limits and
observers included), and asks it whether a key is missing (:meth:`Pipeline.missing_key
<chatpipe.pipeline.Pipeline.missing_key>`). A problem found by one step does not hide the
others: the build runs without the converters or options already reported. A router profile
is checked through its targets (each a profile of its own), then built once they are sound.
Nothing is sent; no key appears in a message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import attrs

from ..errors import ChatpipeError, ConfigError, PluginNotFoundError
from ._problems import format_path

if TYPE_CHECKING:
    from ..provider import Provider
    from ..registry import Registry
    from ._schema import Config, Profile

__all__ = ["ProfileCheck", "check_profiles"]


@attrs.frozen
class ProfileCheck:
    """What :func:`check_profiles` found for one profile.

    ``kind`` is ``"provider"`` or ``"router"``; ``summary`` says what the profile is
    (``openai, converters: strict`` / ``router, fallback: a, b``); ``problems`` holds each
    ``(key path, message)``, e.g. ``("profiles.work.params.temprature", "not a parameter ...;
    did you mean 'temperature'? ...")``; empty when the profile is sound.
    """

    name: str
    kind: Literal["provider", "router"]
    summary: str
    problems: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        """Whether no problem was found."""
        return not self.problems


def check_profiles(config: Config, *, registry: Registry | None = None) -> list[ProfileCheck]:
    """A :class:`ProfileCheck` for every profile of ``config``, in the config's order."""
    from ..registry import default_registry

    registry = registry or default_registry()
    checks = {
        name: _check_provider(config, name, profile, registry)
        for name, profile in config.profiles.items()
        if profile.route is None
    }
    for name, profile in config.profiles.items():
        if profile.route is not None:
            checks[name] = _check_router(config, name, profile, registry, checks)
    return [checks[name] for name in config.profiles]


def _at(name: str, *rest: str | int) -> str:
    return format_path(("profiles", name, *rest))


def _located(name: str, error: ChatpipeError) -> tuple[str, str]:
    """``error`` as ``(key path, message)``: a :class:`ConfigError`'s path under the profile's."""
    if isinstance(error, ConfigError):
        if error.path and error.path.startswith("profiles"):
            return error.path, error.message
        return (f"{_at(name)}.{error.path}" if error.path else _at(name)), error.message
    return _at(name), str(error)


def _check_provider(config: Config, name: str, profile: Profile, registry: Registry) -> ProfileCheck:
    from ..pipeline import Pipeline

    chain = ", ".join(profile.converters) or "none"
    problems: list[tuple[str, str]] = []
    provider: type[Provider] | None = None
    try:
        provider = registry.provider(profile.provider)
    except ChatpipeError as exc:
        problems.append((_at(name, "provider"), str(exc)))
    overrides: dict[str, Any] = {}
    for index, converter in enumerate(profile.converters):
        try:
            registry.converter(converter)
        except ChatpipeError as exc:
            problems.append((_at(name, "converters", index), str(exc)))
            overrides["converters"] = []
    if provider is None:
        return ProfileCheck(name, "provider", f"{profile.provider}, converters: {chain}", tuple(problems))
    try:
        provider.validate_options(dict(profile.options))
    except ChatpipeError as exc:
        problems.append(_located(name, exc))
        overrides["options"] = {}
    problems.extend(
        (_at(name, "params", key), message) for key, message in provider.info.param_problems(profile.params)
    )
    try:
        with Pipeline.from_config(name, config=config, registry=registry, **overrides) as pipe:
            missing = pipe.missing_key()
    except PluginNotFoundError as exc:  # an observer: the profile's own, or the top level's (each profile loads it)
        where = _at(name, "observers") if exc.name in profile.observers else "observers"
        problems.append((where, str(exc)))
    except ChatpipeError as exc:
        problems.append(_located(name, exc))
    else:
        if missing is not None:
            problems.append((_at(name, "api_key"), missing))
    return ProfileCheck(name, "provider", f"{profile.provider}, converters: {chain}", tuple(problems))


def _check_router(
    config: Config, name: str, profile: Profile, registry: Registry, checks: dict[str, ProfileCheck]
) -> ProfileCheck:
    from ..pipeline import Pipeline

    route = profile.route
    assert route is not None
    targets = [target.profile for target in route.targets]
    summary = f"router, {route.strategy}: {', '.join(targets)}"
    broken = [t for t in (*targets, *route.context_fallbacks) if not _sound(t, config, checks)]
    if broken:
        listed = ", ".join(repr(t) for t in broken)
        return ProfileCheck(
            name,
            "router",
            summary,
            ((_at(name, "route"), f"its target(s) {listed} have problems (listed under them)"),),
        )
    try:
        with Pipeline.from_config(name, config=config, registry=registry):
            pass  # built: its own settings are sound
    except ChatpipeError as exc:
        return ProfileCheck(name, "router", summary, (_located(name, exc),))
    return ProfileCheck(name, "router", summary)


def _sound(target: str, config: Config, checks: dict[str, ProfileCheck], seen: frozenset[str] = frozenset()) -> bool:
    """Whether profile ``target`` has no problem: a provider profile by its check, a router by its targets'."""
    if target in checks:
        return checks[target].ok
    profile = config.profiles.get(target)
    if profile is None or profile.route is None or target in seen:
        return profile is not None  # the loader refuses unknown targets and loops; defensive only
    inner = (*(t.profile for t in profile.route.targets), *profile.route.context_fallbacks)
    return all(_sound(t, config, checks, seen | {target}) for t in inner)
