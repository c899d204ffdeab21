"""chatpipe provider plugin ``openai``: OpenAI's Chat Completions API.

Registered through the ``chatpipe.providers`` entry point ``openai``. See README.md for the
key (``OPENAI_API_KEY``) and options (``organization``, ``project``).
"""

from __future__ import annotations

from collections.abc import Callable

from chatpipe.plugin import Provider, hookimpl

from ._provider import OpenAIProvider, uses_max_completion_tokens

__all__ = ["OpenAIProvider", "chatpipe_register_providers", "uses_max_completion_tokens"]


@hookimpl
def chatpipe_register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register :class:`OpenAIProvider` under the name ``openai``."""
    register(OpenAIProvider)
