"""One row of :meth:`Registry.listing <chatpipe.registry.Registry.listing>` (importable from
:mod:`chatpipe.registry`).

Apart from the registry, which every pipeline uses, so that the class is created only when
plugins are listed.
"""

from __future__ import annotations

import attrs

from ._markers import PROJECT_NAME

__all__ = ["PluginListing"]


@attrs.frozen
class PluginListing:
    """One installed plugin (one object) with every entry-point name it has, from metadata only.

    :attr:`name` is its own name — the one its package is named for (``chatpipe-merge`` →
    ``merge``), else the first in order; :attr:`aliases` are the others.
    """

    kind: str
    names: tuple[str, ...]
    distribution: str
    version: str
    target: str

    @property
    def name(self) -> str:
        own = self.distribution.removeprefix(f"{PROJECT_NAME}-")
        return own if own in self.names else self.names[0]

    @property
    def aliases(self) -> tuple[str, ...]:
        return tuple(n for n in self.names if n != self.name)
