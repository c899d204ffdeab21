"""chatpipe provider plugin ``fireworks``: Fireworks AI's OpenAI-compatible API, as data.

Fireworks differs from the OpenAI-compatible base adapter by its declaration only, so this
package is that declaration: the ``chatpipe.providers`` entry point ``fireworks`` names
:data:`INFO`, and the registry serves it with the base adapter
(:func:`chatpipe.registry.data_provider`). No forced conversion (docs/post-processing.md).
Model ids are resource paths (``accounts/fireworks/models/<name>``); the model list is
``GET /models``, each entry keeping Fireworks' ``supports_chat`` / ``supports_tools`` details in
``ModelInfo.extra`` (``context_length`` is lifted into its own field). Key from
``FIREWORKS_API_KEY``. See README.md.
"""

from __future__ import annotations

from chatpipe.plugin import Capabilities, ProviderInfo

__all__ = ["INFO"]

INFO = ProviderInfo(
    name="fireworks",
    package="chatpipe-fireworks",
    display_name="Fireworks AI",
    default_base_url="https://api.fireworks.ai/inference/v1",
    api_key_env=("FIREWORKS_API_KEY",),
    capabilities=Capabilities(vision=True, reasoning=True),
    default_model="accounts/fireworks/models/llama-v3p1-8b-instruct",
    extra_params=True,  # its own sampling parameters (top_k, min_p, repetition_penalty...) pass on
    description="Fireworks AI's OpenAI-compatible inference API (open-weight models).",
)
"""Fireworks AI's serverless and dedicated inference at ``https://api.fireworks.ai/inference/v1``."""
