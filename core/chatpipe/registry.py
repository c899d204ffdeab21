"""The plugin registry: loads exactly the providers, converters and plugins a pipeline names.

A :class:`Registry` owns one pluggy ``PluginManager``. Looking up a name first checks what is
already registered, then loads only the entry point of that name from the matching group
(``chatpipe.providers`` / ``chatpipe.converters`` / ``chatpipe.plugins``), registers the
object it names, and lets the plugin's historic registration hooks fill the tables. No other
plugin module is imported.

An entry point of ``chatpipe.providers`` may name a :class:`~chatpipe.provider.ProviderInfo`
instead of a plugin module: such a *data provider* is the OpenAI-compatible base adapter with
that declaration (:func:`data_provider`), for vendors that differ from it by data only.

Core code calls hooks only through the registry's typed methods (:meth:`Registry.before_send`,
:meth:`Registry.after_response`, :meth:`Registry.register_commands`), never through
``plugin_manager.hook``. Every registration is checked with pluggy's ``check_pending``, so a
misspelt hook implementation fails when its plugin loads, naming the plugin and the fix.

:func:`default_registry` returns the process-wide registry used when a pipeline is given none;
tests and embedders can create their own and register in-process plugins with
:meth:`Registry.register`.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING, Literal, TypeGuard

import pluggy

from . import _catalog, hookspecs
from ._entrypoints import EntryPoint, cached_scan
from ._lazy import lazy_attributes
from ._markers import PROJECT_NAME
from .errors import ChatpipeError, PluginNotFoundError

if TYPE_CHECKING:
    from ._listing import PluginListing
    from .converter import Converter
    from .http import HttpRequest
    from .models import ChatResponse
    from .openai_compat import OpenAICompatibleProvider
    from .provider import Provider, ProviderInfo

__all__ = [
    "COMMAND_GROUP",
    "CONVERTER_GROUP",
    "PLUGIN_GROUP",
    "PROVIDER_GROUP",
    "ObservationHook",
    "Observer",
    "PluginListing",
    "Registry",
    "data_provider",
    "default_registry",
    "package_for",
]

PROVIDER_GROUP = "chatpipe.providers"
CONVERTER_GROUP = "chatpipe.converters"
COMMAND_GROUP = "chatpipe.commands"
PLUGIN_GROUP = "chatpipe.plugins"
"""Plugins that are neither providers nor converters (observers): loaded only by name, when the
config's ``observers`` list (or its alias ``plugins``) names them. (Commands use
``chatpipe.commands``, loaded by the CLI.)"""

_GROUPS = {"provider": PROVIDER_GROUP, "converter": CONVERTER_GROUP, "plugin": PLUGIN_GROUP}
_LISTED = {PROVIDER_GROUP: "provider", CONVERTER_GROUP: "converter", PLUGIN_GROUP: "observer"}
"""The groups ``listing()`` reports, in its order, with the kind it names each."""

CONVERTER_ALIASES: dict[str, str] = {"": "none"}
"""Reference ids that cannot be entry-point names: SillyTavern's empty string means "none"."""

ObservationHook = Literal[
    "chatpipe_before_send",
    "chatpipe_after_response",
    "chatpipe_call_started",
    "chatpipe_call_retry",
    "chatpipe_router_hop",
    "chatpipe_rate_limit_wait",
    "chatpipe_first_token",
    "chatpipe_call_finished",
    "chatpipe_call_failed",
]

Observer = tuple["Callable[..., object]", tuple[str, ...], str]
"""One implementation of an observation hook: its function, the argument names it takes, its plugin's name."""


def package_for(kind: str, name: str) -> str | None:
    """The first-party package providing ``name`` (``kind``: provider, converter or plugin), or ``None``.

    The table is generated from the workspace's plugins (``chatpipe._catalog``), so a name can be
    mapped to its package even when that package is not installed.
    """
    return _catalog.PACKAGES.get(_GROUPS[kind], {}).get(name)


@functools.cache
def data_provider(info: ProviderInfo) -> type[OpenAICompatibleProvider]:
    """The adapter class of a data-only provider: the OpenAI-compatible base with ``info``.

    A ``chatpipe.providers`` entry point naming a :class:`~chatpipe.provider.ProviderInfo`
    (``fireworks = "chatpipe_fireworks:INFO"``) stands for this class. The same ``info`` always
    gives the same class.
    """
    from .openai_compat import OpenAICompatibleProvider

    class_name = "".join(part.capitalize() for part in re.split(r"[^0-9A-Za-z]+", info.name)) + "Provider"
    doc = f"{info.display_name}: the OpenAI-compatible adapter with the declaration of data provider {info.name!r}."
    return type(class_name, (OpenAICompatibleProvider,), {"info": info, "__doc__": doc})


class Registry:
    """Providers, converters and plugins by name, loaded on demand; the typed door to every hook."""

    def __init__(self, *, entry_points: Iterable[EntryPoint] | None = None) -> None:
        """``entry_points`` replaces the scan of installed metadata (for tests)."""
        self.plugin_manager = pluggy.PluginManager(PROJECT_NAME)
        self.plugin_manager.add_hookspecs(hookspecs)
        self._providers: dict[str, type[Provider] | ProviderInfo] = {}
        self._converters: dict[str, Converter] = {}
        self._plugins: set[str] = set()
        self._entry_points = list(entry_points) if entry_points is not None else None
        self._lock = threading.RLock()
        self._calls_observed: bool | None = None
        self._observers: dict[str, tuple[Observer, ...]] = {}
        hook = self.plugin_manager.hook
        hook.chatpipe_register_providers.call_historic(kwargs={"register": self._add_provider})
        hook.chatpipe_register_converters.call_historic(kwargs={"register": self._add_converter})

    # --- registration -------------------------------------------------------------------

    def register(self, plugin: object, name: str | None = None) -> None:
        """Register an in-process plugin: a module or object with ``@hookimpl`` functions, or a
        :class:`~chatpipe.provider.ProviderInfo` (a data provider, see :func:`data_provider`).

        Raises :class:`~chatpipe.errors.ChatpipeError` naming the plugin when one of its hook
        implementations has no hook of that name or takes arguments the hook does not have.
        """
        self._register(plugin, name, source=None)

    def _register(self, plugin: object, name: str | None, source: EntryPoint | None) -> None:
        with self._lock:
            if _is_info(plugin):
                self._add_provider(plugin)
                return
            if self.plugin_manager.is_registered(plugin):
                return
            self._calls_observed, self._observers = None, {}
            try:
                self.plugin_manager.register(plugin, name=name)
                self.plugin_manager.check_pending()
            except pluggy.PluginValidationError as exc:
                error = self._invalid_plugin(plugin, source, exc)
                if self.plugin_manager.is_registered(plugin):
                    self.plugin_manager.unregister(plugin)
                raise error from None

    def _invalid_plugin(self, plugin: object, source: EntryPoint | None, exc: Exception) -> ChatpipeError:
        label = f"{source.value!r} ({source.distribution} {source.version})" if source else repr(plugin)
        fix = f"; or update it: pip install --upgrade {source.distribution}" if source else ""
        specs = [name for name in vars(hookspecs) if name.startswith("chatpipe_")]
        unknown = [
            name
            for name, caller in vars(self.plugin_manager.hook).items()
            if isinstance(caller, pluggy.HookCaller)
            and not caller.has_spec()
            and any(impl.plugin is plugin for impl in caller.get_hookimpls())
        ]
        if unknown:
            import difflib  # ~1.5 ms to import: only for a did-you-mean

            close = difflib.get_close_matches(unknown[0], specs, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problem = f"implements {unknown[0]!r}, which is not a chatpipe hook{hint}"
        else:
            problem = f"has an invalid hook implementation: {' '.join(str(exc).split())}"
        return ChatpipeError(
            f"plugin {label} {problem}; fix its @hookimpl function (hooks and arguments: docs/plugins.md){fix}"
        )

    def _add_provider(self, provider: type[Provider] | ProviderInfo) -> None:
        info = provider.info if isinstance(provider, type) else provider
        existing = self._providers.get(info.name)
        if existing is not None and existing != provider:  # classes compare by identity, infos by value
            raise ChatpipeError(
                f"provider {info.name!r} is registered twice ({_origin(existing)} and {_origin(provider)}); "
                "uninstall one of the packages"
            )
        self._providers[info.name] = provider

    def _add_converter(self, converter: Converter) -> None:
        for name in (converter.name, *converter.aliases):
            existing = self._converters.get(name)
            if existing is not None and existing.fn is not converter.fn:
                raise ChatpipeError(f"converter name {name!r} is registered twice; uninstall one of the packages")
            self._converters[name] = converter

    # --- lookup -------------------------------------------------------------------------

    def entry_points(self) -> list[EntryPoint]:
        """Installed provider, converter, command and plugin entry points (cached after the first scan)."""
        with self._lock:
            if self._entry_points is None:
                self._entry_points = cached_scan([PROVIDER_GROUP, CONVERTER_GROUP, COMMAND_GROUP, PLUGIN_GROUP])
            return self._entry_points

    def _load(self, group: str, name: str | None) -> bool:
        """Load the entry points of ``group`` called ``name`` (``None``: all); whether there were any."""
        found = False
        for entry in self.entry_points():
            if entry.group == group and (name is None or entry.name == name):
                found = True
                try:
                    plugin = entry.load()
                except ImportError as exc:
                    raise ChatpipeError(
                        f"plugin {entry.name!r} from {entry.distribution} failed to import ({exc}); "
                        f"reinstall it: pip install --force-reinstall {entry.distribution}"
                    ) from exc
                self._register(plugin, f"{group}:{entry.value}", source=entry)
        return found

    def provider(self, name: str) -> type[Provider]:
        """The provider class registered as ``name``; raises PluginNotFoundError with hints."""
        provider = self._provider_entry(name)
        return provider if isinstance(provider, type) else data_provider(provider)

    def provider_info(self, name: str) -> ProviderInfo:
        """The declaration of provider ``name``; for a data provider, without importing any adapter."""
        provider = self._provider_entry(name)
        return provider.info if isinstance(provider, type) else provider

    def _provider_entry(self, name: str) -> type[Provider] | ProviderInfo:
        """What is registered as provider ``name`` (loaded by name if needed), or PluginNotFoundError."""
        with self._lock:
            if name not in self._providers:
                self._load(PROVIDER_GROUP, name)
            provider = self._providers.get(name)
        if provider is None:
            raise self._not_found("provider", name, self._providers)
        return provider

    def provider_infos(self) -> list[ProviderInfo]:
        """The declaration of every installed provider, by name (imports class-based plugins' modules)."""
        names = {e.name for e in self.entry_points() if e.group == PROVIDER_GROUP}
        return [self.provider_info(name) for name in sorted(names)]

    def converter(self, name: str) -> Converter:
        """The converter registered as ``name`` (or an alias of it)."""
        name = CONVERTER_ALIASES.get(name, name)
        with self._lock:
            if name not in self._converters:
                self._load(CONVERTER_GROUP, name)
            if name in self._converters:
                return self._converters[name]
        raise self._not_found("converter", name, self._converters)

    def load_plugins(self, names: Iterable[str]) -> None:
        """Load and register the ``chatpipe.plugins`` entry points called ``names`` (once each).

        Raises :class:`~chatpipe.errors.PluginNotFoundError` (with did-you-mean) for a name no
        installed package provides.
        """
        for name in names:
            with self._lock:
                if name in self._plugins:
                    continue
                if not self._load(PLUGIN_GROUP, name):
                    raise self._not_found("plugin", name, self._plugins)
                self._plugins.add(name)

    def load_commands(self, cli: object) -> None:
        """Load every ``chatpipe.commands`` entry point and let the plugins add their commands to ``cli``."""
        if self._load(COMMAND_GROUP, None):
            self.register_commands(cli)

    def _not_found(self, kind: str, name: str, registered: Collection[str]) -> PluginNotFoundError:
        import difflib

        group = _GROUPS[kind]
        known = sorted({e.name for e in self.entry_points() if e.group == group} | set(registered))
        suggestions = difflib.get_close_matches(name, known, n=2, cutoff=0.6)
        if not suggestions:
            catalog = _catalog.PACKAGES.get(group, {})
            suggestions = [s for s in difflib.get_close_matches(name, list(catalog), n=2, cutoff=0.6) if s != name]
        # A first-party name names its package; for a likely typo the suggestion is the fix, and
        # otherwise third-party plugins are conventionally published as chatpipe-<name>.
        package = package_for(kind, name) or (f"chatpipe-{name}" if name and not suggestions else None)
        return PluginNotFoundError(kind, name, suggestions=suggestions, package=package, available=known)

    # --- hooks (the only callers of plugin_manager.hook) ---------------------------------

    def observes(self, hook: ObservationHook) -> bool:
        """Whether any registered plugin implements the observation hook ``hook``.

        Callers check it first so that a call nobody observes pays nothing for the hook.
        """
        return bool(self.observers(hook))

    def observers(self, hook: ObservationHook) -> tuple[Observer, ...]:
        """The implementations of the observation hook ``hook``, in pluggy's order (cached until
        the next registration: an event's dispatch is then one lookup, not pluggy's machinery)."""
        found = self._observers.get(hook)
        if found is None:
            impls = getattr(self.plugin_manager.hook, hook).get_hookimpls()
            found = self._observers[hook] = tuple((i.function, tuple(i.argnames), i.plugin_name) for i in impls)
        return found

    def observes_calls(self) -> bool:
        """Whether any registered plugin implements a hook of a call's life (cached until the next registration).

        The one check a call pays when nobody observes it.
        """
        observed = self._calls_observed
        if observed is None:
            from ._observe import CALL_HOOKS

            observed = self._calls_observed = any(self.observes(hook) for hook in CALL_HOOKS)  # type: ignore[arg-type]
        return observed

    def before_send(self, provider: str, request: HttpRequest) -> None:
        """Call :func:`~chatpipe.hookspecs.chatpipe_before_send` (an exception aborts the call)."""
        self.plugin_manager.hook.chatpipe_before_send(provider=provider, request=request)

    def after_response(self, provider: str, response: ChatResponse) -> None:
        """Call :func:`~chatpipe.hookspecs.chatpipe_after_response`."""
        self.plugin_manager.hook.chatpipe_after_response(provider=provider, response=response)

    def register_commands(self, cli: object) -> None:
        """Call :func:`~chatpipe.hookspecs.chatpipe_register_commands` with the root command group."""
        self.plugin_manager.hook.chatpipe_register_commands(cli=cli)

    # --- listing ------------------------------------------------------------------------

    def listing(self) -> list[PluginListing]:
        """Installed providers, converters and observers (the ``chatpipe.plugins`` group) from metadata,
        one row per plugin object with all its entry-point names: providers, then converters, then observers."""
        from ._listing import PluginListing  # created for a listing only, not with every registry

        grouped: dict[tuple[str, str, str], list[EntryPoint]] = {}
        for entry in self.entry_points():
            if entry.group in _LISTED:
                grouped.setdefault((entry.group, entry.distribution, entry.value), []).append(entry)
        out = []
        for (group, dist, value), entries in grouped.items():
            out.append(PluginListing(_LISTED[group], tuple(e.name for e in entries), dist, entries[0].version, value))
        kinds = list(_LISTED.values())
        return sorted(out, key=lambda p: (kinds.index(p.kind), p.names))


def _is_info(obj: object) -> TypeGuard[ProviderInfo]:
    # Imported here: listing plugins and ``--help`` import the registry but need no provider types.
    from .provider import ProviderInfo

    return isinstance(obj, ProviderInfo)


def _origin(provider: type[Provider] | ProviderInfo) -> str:
    return provider.__module__ if isinstance(provider, type) else provider.package


_default: Registry | None = None
_default_lock = threading.Lock()


def default_registry() -> Registry:
    """The process-wide registry (created on first use; it only caches loaded plugins)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Registry()
        return _default


# PluginListing is defined in chatpipe._listing and created with the first listing (an attrs
# class costs ~0.5 ms to create; building a pipeline never lists plugins). Importable here.
# Hidden from type checkers, which would otherwise accept any name imported from this module.
if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_attributes(
        globals(), {"PluginListing": "chatpipe._listing:PluginListing"}, {*globals(), *__all__}
    )
