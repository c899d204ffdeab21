"""chatpipe provider plugin ``mistral``: Mistral AI's chat completions API.

Registered through the ``chatpipe.providers`` entry point ``mistral``. Key from
``MISTRAL_API_KEY``; options ``prefix`` (default false) and ``safe_prompt``. See README.md.
"""

from __future__ import annotations

from collections.abc import Callable

from chatpipe.plugin import Provider, hookimpl

from ._body import DROPPED_PARAMS, adjust_mistral_body
from ._content import split_chunks
from ._convert import convert_mistral_messages, mistral_tool_id
from ._provider import RETRYABLE_STATUSES, MistralProvider

__all__ = [
    "DROPPED_PARAMS",
    "RETRYABLE_STATUSES",
    "MistralProvider",
    "adjust_mistral_body",
    "chatpipe_register_providers",
    "convert_mistral_messages",
    "mistral_tool_id",
    "split_chunks",
]


@hookimpl
def chatpipe_register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register :class:`MistralProvider` under the name ``mistral``."""
    register(MistralProvider)
