"""chatpipe provider plugin ``gemini``: Google AI Studio's native Gemini API.

Registered through the ``chatpipe.providers`` entry point ``gemini``. Key from
``GEMINI_API_KEY``, then ``GOOGLE_API_KEY``; options ``safety_settings``, ``include_thoughts``.
See README.md for what is specific to Gemini.
"""

from __future__ import annotations

from collections.abc import Callable

from chatpipe.plugin import Provider, hookimpl

from ._messages import convert_messages
from ._provider import API_VERSION, DEFAULT_MODEL, OPTIONS, GeminiProvider
from ._schema import gemini_schema
from ._stream import GeminiStreamParser

__all__ = [
    "API_VERSION",
    "DEFAULT_MODEL",
    "OPTIONS",
    "GeminiProvider",
    "GeminiStreamParser",
    "chatpipe_register_providers",
    "convert_messages",
    "gemini_schema",
]


@hookimpl
def chatpipe_register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register :class:`GeminiProvider` under the name ``gemini``."""
    register(GeminiProvider)
