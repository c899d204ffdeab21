"""chatpipe provider plugin ``ai21``: AI21 Studio's chat API for the Jamba models.

Registered through the ``chatpipe.providers`` entry point ``ai21``. Key from ``AI21_API_KEY``;
option ``max_tokens_limit``. See README.md.
"""

from __future__ import annotations

from collections.abc import Callable

from chatpipe.plugin import Provider, hookimpl

from ._convert import convert_messages
from ._params import ACCEPTED_PARAMS, DEFAULT_MAX_TOKENS_LIMIT
from ._provider import JAMBA_MODELS, AI21Provider

__all__ = [
    "ACCEPTED_PARAMS",
    "DEFAULT_MAX_TOKENS_LIMIT",
    "JAMBA_MODELS",
    "AI21Provider",
    "chatpipe_register_providers",
    "convert_messages",
]


@hookimpl
def chatpipe_register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register :class:`AI21Provider` under the name ``ai21``."""
    register(AI21Provider)
