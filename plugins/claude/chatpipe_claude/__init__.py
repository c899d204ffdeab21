"""chatpipe provider plugin ``claude``: Anthropic's Messages API.

Registered through the ``chatpipe.providers`` entry point ``claude``. Key from
``ANTHROPIC_API_KEY``; options ``max_tokens``, ``betas``, ``adaptive_thinking``,
``use_system_prompt``. See README.md.
"""

from __future__ import annotations

from collections.abc import Callable

from chatpipe.plugin import Provider, hookimpl

from ._provider import ANTHROPIC_VERSION, OPTIONS, ClaudeProvider

__all__ = ["ANTHROPIC_VERSION", "OPTIONS", "ClaudeProvider", "chatpipe_register_providers"]


@hookimpl
def chatpipe_register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register :class:`ClaudeProvider` under the name ``claude``."""
    register(ClaudeProvider)
