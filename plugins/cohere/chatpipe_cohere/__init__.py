"""chatpipe provider plugin ``cohere``: Cohere's v2 chat API.

Registered through the ``chatpipe.providers`` entry point ``cohere``. Key from ``CO_API_KEY``;
option ``safety_mode``. See README.md for what is specific to Cohere.
"""

from __future__ import annotations

from collections.abc import Callable

from chatpipe.plugin import Provider, hookimpl

from ._convert import TOOL_PLAN_TEMPLATE, convert_messages
from ._provider import DEFAULT_MODEL, CohereProvider
from ._stream import CohereStreamParser

__all__ = [
    "DEFAULT_MODEL",
    "TOOL_PLAN_TEMPLATE",
    "CohereProvider",
    "CohereStreamParser",
    "chatpipe_register_providers",
    "convert_messages",
]


@hookimpl
def chatpipe_register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register :class:`CohereProvider` under the name ``cohere``."""
    register(CohereProvider)
