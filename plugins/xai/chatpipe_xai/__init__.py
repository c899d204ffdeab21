"""chatpipe provider plugin ``xai``: xAI's Grok models through its OpenAI-compatible API.

Registered through the ``chatpipe.providers`` entry point ``xai``. Key from ``XAI_API_KEY``;
no options. See README.md.
"""

from __future__ import annotations

from collections.abc import Callable

from chatpipe.plugin import Provider, hookimpl

from ._models import EFFORT_LEVELS, EFFORTS, effort_for, is_reasoning_model
from ._provider import REASONING_DROPPED, XAIProvider

__all__ = [
    "EFFORTS",
    "EFFORT_LEVELS",
    "REASONING_DROPPED",
    "XAIProvider",
    "chatpipe_register_providers",
    "effort_for",
    "is_reasoning_model",
]


@hookimpl
def chatpipe_register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register :class:`XAIProvider` under the name ``xai``."""
    register(XAIProvider)
