"""The plugin registry: loads exactly the providers and converters a pipeline names.

A :class:`Registry` owns one pluggy ``PluginManager``. Looking up a name first checks what is
already registered, then loads only the entry point of that name from the matching group
(``chatpipe.providers`` / ``chatpipe.converters``), registers the object it names, and lets
the plugin's historic registration hooks fill the tables. No other plugin module is imported.

:func:`default_registry` returns the process-wide registry used when a pipeline is given none;
tests and embedders can create their own and register in-process plugins with
:meth:`Registry.register`.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import attrs
import pluggy

from . import _catalog, hookspecs
from ._entrypoints import EntryPoint, scan
from ._markers import PROJECT_NAME
from .errors import ChatpipeError, PluginNotFoundError

if TYPE_CHECKING:
    from .converter import Converter
    from .provider import Provider

__all__ = ["CONVERTER_GROUP", "PROVIDER_GROUP", "PluginListing", "Registry", "default_registry"]

PROVIDER_GROUP = "chatpipe.providers"
CONVERTER_GROUP = "chatpipe.converters"
COMMAND_GROUP = "chatpipe.commands"


@attrs.frozen
class PluginListing:
    """One installed plugin name, from metadata only (nothing imported)."""

    kind: str
    names: tuple[str, ...]
    distribution: str
    version: str
    target: str


class Registry:
    """Providers and converters by name, loaded on demand."""

    def __init__(self, *, entry_points: Iterable[EntryPoint] | None = None) -> None:
        """``entry_points`` replaces the scan of installed metadata (for tests)."""
        self.plugin_manager = pluggy.PluginManager(PROJECT_NAME)
        self.plugin_manager.add_hookspecs(hookspecs)
        self._providers: dict[str, type[Provider]] = {}
        self._converters: dict[str, Converter] = {}
        self._entry_points = list(entry_points) if entry_points is not None else None
        self._lock = threading.RLock()
        hook = self.plugin_manager.hook
        hook.chatpipe_register_providers.call_historic(kwargs={"register": self._add_provider})
        hook.chatpipe_register_converters.call_historic(kwargs={"register": self._add_converter})

    # --- registration -------------------------------------------------------------------

    def register(self, plugin: object, name: str | None = None) -> None:
        """Register an in-process plugin (a module or object with ``@hookimpl`` functions)."""
        with self._lock:
            if not self.plugin_manager.is_registered(plugin):
                self.plugin_manager.register(plugin, name=name)

    def _add_provider(self, cls: type[Provider]) -> None:
        name = cls.info.name
        existing = self._providers.get(name)
        if existing is not None and existing is not cls:
            raise ChatpipeError(
                f"provider {name!r} is registered twice ({existing.__module__} and {cls.__module__}); "
                "uninstall one of the packages"
            )
        self._providers[name] = cls

    def _add_converter(self, converter: Converter) -> None:
        for name in (converter.name, *converter.aliases):
            existing = self._converters.get(name)
            if existing is not None and existing.fn is not converter.fn:
                raise ChatpipeError(f"converter name {name!r} is registered twice; uninstall one of the packages")
            self._converters[name] = converter

    # --- lookup -------------------------------------------------------------------------

    def entry_points(self) -> list[EntryPoint]:
        """Installed provider and converter entry points (cached after the first scan)."""
        with self._lock:
            if self._entry_points is None:
                self._entry_points = scan([PROVIDER_GROUP, CONVERTER_GROUP, COMMAND_GROUP])
            return self._entry_points

    def _load(self, group: str, name: str) -> None:
        for entry in self.entry_points():
            if entry.group == group and entry.name == name:
                try:
                    plugin = entry.load()
                except ImportError as exc:
                    raise ChatpipeError(
                        f"plugin {name!r} from {entry.distribution} failed to import ({exc}); "
                        f"reinstall it: pip install --force-reinstall {entry.distribution}"
                    ) from exc
                self.register(plugin, name=f"{group}:{entry.value}")

    def provider(self, name: str) -> type[Provider]:
        """The provider class registered as ``name``; raises PluginNotFoundError with hints."""
        with self._lock:
            if name not in self._providers:
                self._load(PROVIDER_GROUP, name)
            if name in self._providers:
                return self._providers[name]
        raise self._not_found("provider", name, PROVIDER_GROUP, self._providers)

    def converter(self, name: str) -> Converter:
        """The converter registered as ``name`` (or an alias of it)."""
        name = _catalog.CONVERTER_ALIASES.get(name, name)
        with self._lock:
            if name not in self._converters:
                self._load(CONVERTER_GROUP, name)
            if name in self._converters:
                return self._converters[name]
        raise self._not_found("converter", name, CONVERTER_GROUP, self._converters)

    def _not_found(self, kind: str, name: str, group: str, registered: Mapping[str, object]) -> PluginNotFoundError:
        known = sorted({e.name for e in self.entry_points() if e.group == group} | set(registered))
        catalog = _catalog.PROVIDER_PACKAGES if kind == "provider" else _catalog.CONVERTER_PACKAGES
        suggestions = difflib.get_close_matches(name, known, n=2, cutoff=0.6)
        if not suggestions:
            suggestions = [s for s in difflib.get_close_matches(name, list(catalog), n=2, cutoff=0.6) if s != name]
        # A first-party name names its package; for a likely typo the suggestion is the fix, and
        # otherwise third-party plugins are conventionally published as chatpipe-<name>.
        package = _catalog.package_for(kind, name) or (f"chatpipe-{name}" if name and not suggestions else None)
        return PluginNotFoundError(kind, name, suggestions=suggestions, package=package, available=known)

    # --- listing ------------------------------------------------------------------------

    def listing(self) -> list[PluginListing]:
        """Installed plugins from metadata, one row per plugin object with all its entry-point names."""
        grouped: dict[tuple[str, str, str], list[EntryPoint]] = {}
        for entry in self.entry_points():
            if entry.group in (PROVIDER_GROUP, CONVERTER_GROUP):
                grouped.setdefault((entry.group, entry.distribution, entry.value), []).append(entry)
        out = []
        for (group, dist, value), entries in grouped.items():
            kind = "provider" if group == PROVIDER_GROUP else "converter"
            out.append(PluginListing(kind, tuple(e.name for e in entries), dist, entries[0].version, value))
        return sorted(out, key=lambda p: (p.kind != "provider", p.names))


_default: Registry | None = None
_default_lock = threading.Lock()


def default_registry() -> Registry:
    """The process-wide registry (created on first use; it only caches loaded plugins)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Registry()
        return _default
