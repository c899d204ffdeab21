"""chatpipe provider plugin ``ollama``: a local Ollama server.

Registered through the ``chatpipe.providers`` entry point ``ollama``. No key needed
(``api_key``, or ``OLLAMA_API_KEY``, is sent as a Bearer token when given); no options. Default
base URL ``http://127.0.0.1:11434``, with or without ``/v1``. See README.md.
"""

from __future__ import annotations

from collections.abc import Callable

from chatpipe.plugin import Provider, hookimpl

from ._provider import DEFAULT_BASE_URL, OllamaProvider, missing_model, parse_show, parse_tags, server_root

__all__ = [
    "DEFAULT_BASE_URL",
    "OllamaProvider",
    "chatpipe_register_providers",
    "missing_model",
    "parse_show",
    "parse_tags",
    "server_root",
]


@hookimpl
def chatpipe_register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register :class:`OllamaProvider` under the name ``ollama``."""
    register(OllamaProvider)
