"""chatpipe provider plugin ``custom``: any OpenAI-compatible chat-completions server.

Registered through the ``chatpipe.providers`` entry point ``custom``. A ``base_url`` is
required; the key is optional. See README.md.
"""

from __future__ import annotations

from collections.abc import Callable

from chatpipe.plugin import Provider, hookimpl

from ._provider import CustomProvider

__all__ = ["CustomProvider", "chatpipe_register_providers"]


@hookimpl
def chatpipe_register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register :class:`CustomProvider` under the name ``custom``."""
    register(CustomProvider)
