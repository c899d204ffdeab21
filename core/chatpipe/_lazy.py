"""Module attributes imported on first access (PEP 562), so importing a package stays cheap.

::

    __getattr__, __dir__ = lazy_attributes(__name__, {"Pipeline": ".pipeline", "Config": "chatpipe.config"})

The module then imports ``.pipeline`` the first time ``Pipeline`` is read (``from package
import Pipeline`` included), caches the value in its namespace (later reads cost a plain
attribute lookup) and lists its ``__all__`` in ``dir()``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(
    module_name: str, attributes: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of module ``module_name``, called from that module.

    ``attributes`` maps each lazy name to the module defining an attribute of the same name,
    absolute (``chatpipe.models``) or relative to the calling module's package (``.models``).
    Reading a name not in ``attributes`` raises :class:`AttributeError`, as a plain module
    would. ``__dir__`` returns the module's ``__all__`` sorted; the module must define it.
    """
    module = sys.modules[module_name]
    table = dict(attributes)

    def __getattr__(name: str) -> Any:
        target = table.get(name)
        if target is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(target, module.__package__), name)
        setattr(module, name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(module.__all__)

    return __getattr__, __dir__
