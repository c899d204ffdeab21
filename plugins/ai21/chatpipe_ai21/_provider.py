"""The AI21 (Jamba) adapter: the OpenAI-compatible base plus AI21's differences.

* ``POST {base}/chat/completions``, base ``https://api.ai21.com/studio/v1``, Bearer key from
  ``AI21_API_KEY``; default model ``jamba-mini``.
* :meth:`AI21Provider.prepare` runs AI21's forced conversion (:mod:`._convert`, docs/vendors/ai21.md)
  after the user's converters, and the ``json_schema`` workaround before it
  (:func:`~chatpipe.vendor.json_schema_as_message`),
  with the pipeline's placeholder and speaker names (:meth:`convert_context`).
* Body (:meth:`adjust_body`): only the parameters AI21 accepts, ``max_tokens`` bounded,
  ``tool_choice`` refused unless ``"auto"``, no ``stream_options`` (usage arrives in the last
  stream chunk anyway).
* No model-list endpoint: :meth:`static_models`; no status check (``chatpipe test`` instead).
* Errors: AI21 sends plain-text or ``{"detail": ...}`` bodies, which the base error mapper
  reads; 408, 429, 500 and 503 are retried (as AI21's SDK does).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from chatpipe.plugin import (
    Capabilities,
    ChatRequest,
    ConfigError,
    ConvertContext,
    ModelInfo,
    OpenAICompatibleProvider,
    ProviderInfo,
    check_options,
    json_schema_as_message,
)

from ._convert import convert_messages
from ._params import DEFAULT_MAX_TOKENS_LIMIT, PARAMS, adjust_ai21_body

__all__ = ["JAMBA_MODELS", "AI21Provider"]

JAMBA_MODELS = ("jamba-mini", "jamba-large", "jamba-mini-1.7-2025-07", "jamba-large-1.7-2025-07")
"""The chat models AI21 offers: the two aliases (which follow the newest release) and the dated
1.7 snapshots. AI21 has no model-list endpoint; the 1.6 (``2025-03``) and 1.5 ids are retired."""


class AI21Provider(OpenAICompatibleProvider):
    """AI21 Studio's chat-completions API for the Jamba models."""

    info = ProviderInfo(
        name="ai21",
        package="chatpipe-ai21",
        display_name="AI21 (Jamba)",
        default_base_url="https://api.ai21.com/studio/v1",
        api_key_env=("AI21_API_KEY",),
        capabilities=Capabilities(tools=True, model_listing=False, status_check=False),
        retryable_statuses=frozenset({408, 429, 500, 503}),
        default_model="jamba-mini",
        params=PARAMS,
        description="AI21's Jamba models: long context, tools, JSON mode and grounding documents.",
    )
    models_path = ""
    stream_usage = False
    OPTIONS: Mapping[str, type] = {"max_tokens_limit": int}

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        """Accept ``max_tokens_limit`` (a positive integer, default 4096); reject anything else."""
        check_options(cls.info.name, options, cls.OPTIONS)
        limit = options.get("max_tokens_limit")
        if limit is not None and limit < 1:
            raise ConfigError(
                f"option 'max_tokens_limit' must be a positive integer such as {DEFAULT_MAX_TOKENS_LIMIT} "
                f"(got {limit!r})",
                path="options.max_tokens_limit",
            )

    def convert_context(self) -> ConvertContext:
        """The placeholder and names the forced conversion uses: the pipeline's own
        (the config's ``prompt_placeholder`` and ``names``)."""
        return self.settings.context

    def prepare(self, request: ChatRequest) -> ChatRequest:
        """The json_schema workaround, then AI21's forced message conversion (both pure)."""
        request = json_schema_as_message(request)
        return attrs.evolve(request, messages=convert_messages(request.messages, self.convert_context()))

    def adjust_body(self, body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
        """AI21's parameter rules (see :func:`chatpipe_ai21._params.adjust_ai21_body`)."""
        limit = int(self.settings.options.get("max_tokens_limit") or DEFAULT_MAX_TOKENS_LIMIT)
        return adjust_ai21_body(body, request, max_tokens_limit=limit)

    def static_models(self) -> list[ModelInfo]:
        """The Jamba chat models (:data:`JAMBA_MODELS`), owned by ``ai21``."""
        return [ModelInfo(name, owned_by="ai21") for name in JAMBA_MODELS]
