"""chatpipe provider plugin ``fireworks``: Fireworks AI's OpenAI-compatible API.

Registered through the ``chatpipe.providers`` entry point ``fireworks``. Key from
``FIREWORKS_API_KEY``. See README.md.
"""

from __future__ import annotations

from collections.abc import Callable

from chatpipe._markers import hookimpl
from chatpipe.provider import Provider

from ._provider import FireworksProvider

__all__ = ["FireworksProvider", "chatpipe_register_providers"]


@hookimpl
def chatpipe_register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register :class:`FireworksProvider` under the name ``fireworks``."""
    register(FireworksProvider)
