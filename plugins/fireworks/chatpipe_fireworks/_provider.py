"""The Fireworks AI adapter: the OpenAI-compatible base with Fireworks' URL, key and default model.

Nothing else differs (reference 3.8: no forced conversion). Model ids are resource paths
(``accounts/fireworks/models/<name>``). The model list is ``GET /models``; each entry keeps
Fireworks' ``supports_chat`` / ``supports_tools`` / ``context_length`` details in
``ModelInfo.extra`` (``context_length`` is lifted into its own field).
"""

from __future__ import annotations

from chatpipe.openai_compat import OpenAICompatibleProvider
from chatpipe.provider import Capabilities, ProviderInfo

__all__ = ["FireworksProvider"]


class FireworksProvider(OpenAICompatibleProvider):
    """Fireworks AI's serverless and dedicated inference at ``https://api.fireworks.ai/inference/v1``."""

    info = ProviderInfo(
        name="fireworks",
        package="chatpipe-fireworks",
        display_name="Fireworks AI",
        default_base_url="https://api.fireworks.ai/inference/v1",
        api_key_env=("FIREWORKS_API_KEY",),
        capabilities=Capabilities(vision=True, reasoning=True),
        default_model="accounts/fireworks/models/llama-v3p1-8b-instruct",
        description="Fireworks AI's OpenAI-compatible inference API (open-weight models).",
    )
