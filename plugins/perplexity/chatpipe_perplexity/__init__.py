"""chatpipe provider plugin ``perplexity``: Perplexity's Sonar chat API.

Registered through the ``chatpipe.providers`` entry point ``perplexity``. Key from
``PERPLEXITY_API_KEY``; option ``path``. See README.md.
"""

from __future__ import annotations

from collections.abc import Callable

from chatpipe.plugin import Provider, hookimpl

from ._provider import SONAR_MODELS, PerplexityProvider

__all__ = ["SONAR_MODELS", "PerplexityProvider", "chatpipe_register_providers"]


@hookimpl
def chatpipe_register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register :class:`PerplexityProvider` under the name ``perplexity``."""
    register(PerplexityProvider)
