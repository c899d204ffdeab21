"""chatpipe provider plugin ``groq``: GroqCloud's OpenAI-compatible chat API.

Registered through the ``chatpipe.providers`` entry point ``groq``; key from ``GROQ_API_KEY``;
no options. See README.md and :mod:`chatpipe_groq._provider` for what differs from OpenAI.
"""

from __future__ import annotations

from collections.abc import Callable

from chatpipe.plugin import Provider, hookimpl

from ._provider import DROPPED_PARAMS, EFFORTS, REASONING_FORMATS, GroqProvider, GroqStreamParser, check_reasoning

__all__ = [
    "DROPPED_PARAMS",
    "EFFORTS",
    "REASONING_FORMATS",
    "GroqProvider",
    "GroqStreamParser",
    "chatpipe_register_providers",
    "check_reasoning",
]


@hookimpl
def chatpipe_register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register :class:`GroqProvider` under the name ``groq``."""
    register(GroqProvider)
