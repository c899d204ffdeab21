"""Module attributes imported on first use (PEP 562), so importing a module stays cheap."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(
    namespace: dict[str, Any], targets: Mapping[str, str], public: Iterable[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of a module whose names in ``targets`` load on first use.

    ``namespace`` is the module's ``globals()``; ``targets`` maps each lazy name to
    ``"package.module:attribute"``, or to ``"package.module"`` for the module itself. A value,
    once imported, is stored in ``namespace`` so later lookups do not come back here.
    ``__dir__`` lists ``public`` (the module's ``__all__``). Use::

        __getattr__, __dir__ = lazy_attributes(globals(), _LAZY, __all__)
    """
    module_name = namespace["__name__"]
    listed = sorted(public)

    def __getattr__(name: str) -> Any:
        target = targets.get(name)
        if target is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        path, _, attribute = target.partition(":")
        module = importlib.import_module(path)
        value = getattr(module, attribute) if attribute else module
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return list(listed)

    return __getattr__, __dir__
