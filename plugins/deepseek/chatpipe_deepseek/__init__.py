"""chatpipe provider plugin ``deepseek``: DeepSeek's chat API.

Registered through the ``chatpipe.providers`` entry point ``deepseek``. Key from
``DEEPSEEK_API_KEY``; option ``prefix`` (default true). See README.md.
"""

from __future__ import annotations

from collections.abc import Callable

from chatpipe.plugin import Provider, hookimpl

from ._provider import DROPPED_PARAMS, DeepSeekProvider

__all__ = ["DROPPED_PARAMS", "DeepSeekProvider", "chatpipe_register_providers"]


@hookimpl
def chatpipe_register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register :class:`DeepSeekProvider` under the name ``deepseek``."""
    register(DeepSeekProvider)
