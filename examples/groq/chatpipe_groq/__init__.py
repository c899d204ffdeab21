"""chatpipe provider plugin ``groq`` (an example third-party plugin): GroqCloud's chat API.

GroqCloud speaks the OpenAI chat format at ``https://api.groq.com/openai/v1``; this module
only declares what differs. Registered through the ``chatpipe.providers`` entry point
``groq``; key from ``GROQ_API_KEY``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chatpipe.plugin import Capabilities, ChatRequest, OpenAICompatibleProvider, Provider, ProviderInfo, hookimpl

__all__ = ["UNSUPPORTED_PARAMS", "GroqProvider", "chatpipe_register_providers"]

UNSUPPORTED_PARAMS = ("logprobs", "top_logprobs", "logit_bias")
"""OpenAI body fields GroqCloud rejects; dropped before ``include_body``/``exclude_body`` apply."""


class GroqProvider(OpenAICompatibleProvider):
    """GroqCloud's OpenAI-compatible chat completions (fast open-weight models)."""

    info = ProviderInfo(
        name="groq",
        package="chatpipe-groq",
        display_name="GroqCloud",
        default_base_url="https://api.groq.com/openai/v1",
        api_key_env=("GROQ_API_KEY",),
        capabilities=Capabilities(tools=True, vision=True, reasoning=True),
        default_model="llama-3.1-8b-instant",
        description="GroqCloud's OpenAI-compatible chat API (example third-party plugin).",
    )

    def adjust_body(self, body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
        """Drop :data:`UNSUPPORTED_PARAMS`; GroqCloud only accepts ``n`` = 1, so ``n`` is removed too."""
        for key in (*UNSUPPORTED_PARAMS, "n"):
            body.pop(key, None)
        return body


@hookimpl
def chatpipe_register_providers(register: Callable[[type[Provider]], None]) -> None:
    """Register :class:`GroqProvider` under the name ``groq``."""
    register(GroqProvider)
