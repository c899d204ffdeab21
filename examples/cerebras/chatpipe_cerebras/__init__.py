"""chatpipe provider plugin ``cerebras`` (an example third-party plugin): Cerebras Inference.

Cerebras speaks the OpenAI chat format at ``https://api.cerebras.ai/v1``; this module only
declares what differs. Registered through the ``chatpipe.providers`` entry point
``cerebras``; key from ``CEREBRAS_API_KEY``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chatpipe.plugin import Capabilities, ChatRequest, OpenAICompatibleProvider, Provider, ProviderInfo, hookimpl

__all__ = ["UNSUPPORTED_PARAMS", "CerebrasProvider", "chatpipe_register_providers"]

UNSUPPORTED_PARAMS = ("frequency_penalty", "presence_penalty", "logit_bias", "parallel_tool_calls", "service_tier")
"""OpenAI body fields Cerebras answers 400 to; dropped before ``include_body``/``exclude_body`` apply."""


class CerebrasProvider(OpenAICompatibleProvider):
    """Cerebras Inference's OpenAI-compatible chat completions (open-weight models on wafer-scale chips)."""

    info = ProviderInfo(
        name="cerebras",
        package="chatpipe-cerebras",
        display_name="Cerebras",
        default_base_url="https://api.cerebras.ai/v1",
        api_key_env=("CEREBRAS_API_KEY",),
        capabilities=Capabilities(tools=True, reasoning=True),
        default_model="llama3.1-8b",
        description="Cerebras Inference's OpenAI-compatible chat API (example third-party plugin).",
    )

    def adjust_body(self, body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
        """Drop :data:`UNSUPPORTED_PARAMS`."""
        for key in UNSUPPORTED_PARAMS:
            body.pop(key, None)
        return body


@hookimpl
def chatpipe_register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register :class:`CerebrasProvider` under the name ``cerebras``."""
    register(CerebrasProvider)
