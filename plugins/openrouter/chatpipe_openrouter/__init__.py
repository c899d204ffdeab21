"""chatpipe provider plugin ``openrouter``: OpenRouter's API to many vendors' models.

Registered through the ``chatpipe.providers`` entry point ``openrouter``. Key from
``OPENROUTER_API_KEY``; options ``site_url`` and ``app_name`` (app attribution headers).
See README.md.
"""

from __future__ import annotations

from collections.abc import Callable

from chatpipe.plugin import Provider, hookimpl

from ._provider import EFFORTS, OPENROUTER_PARAMS, OpenRouterProvider, reasoning_field

__all__ = ["EFFORTS", "OPENROUTER_PARAMS", "OpenRouterProvider", "chatpipe_register_providers", "reasoning_field"]


@hookimpl
def chatpipe_register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register :class:`OpenRouterProvider` under the name ``openrouter``."""
    register(OpenRouterProvider)
