"""The Perplexity (Sonar) adapter: the OpenAI-compatible base plus Perplexity's differences.

* Required conversion ``strict`` (no tools): Perplexity wants alternating turns (docs/vendors/perplexity.md).
* No model-list endpoint: :meth:`static_models` returns the known Sonar models, and there is
  no status check (``chatpipe test`` sends one real request instead).
* No ``stream_options``: Perplexity sends usage in every chunk anyway (the last one wins).
* Reasoning models put ``<think>…</think>`` at the start of the content: it is moved to
  ``reasoning``, in replies and incrementally in streams (tags split across chunks are handled).
* ``citations``, ``search_results``, ``images``, ``related_questions`` stay in
  ``ChatResponse.extra``. A stream may end without ``[DONE]``.
* Option ``path`` (default ``/chat/completions``): the chat endpoint path, because Perplexity
  has announced new endpoints (``/v1/sonar``); change it without waiting for a release.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chatpipe.plugin import (
    Capabilities,
    ChatRequest,
    Choice,
    ConfigError,
    ModelInfo,
    OpenAICompatibleProvider,
    ProviderInfo,
    StreamParser,
    ThinkStreamParser,
    check_options,
    join_url,
    split_choice,
)

__all__ = ["SONAR_MODELS", "PerplexityProvider"]

SONAR_MODELS = ("sonar", "sonar-pro", "sonar-reasoning-pro", "sonar-deep-research")
"""The Sonar models offered by the chat API (there is no list endpoint)."""


class PerplexityProvider(OpenAICompatibleProvider):
    """Perplexity's Sonar chat API at ``https://api.perplexity.ai``."""

    info = ProviderInfo(
        name="perplexity",
        package="chatpipe-perplexity",
        display_name="Perplexity",
        default_base_url="https://api.perplexity.ai",
        api_key_env=("PERPLEXITY_API_KEY",),
        capabilities=Capabilities(tools=False, vision=True, reasoning=True, model_listing=False, status_check=False),
        required_converters=("strict",),
        default_model="sonar",
        extra_params=True,  # its search parameters (search_domain_filter, search_recency_filter...) pass on
        description="Perplexity's Sonar models: answers grounded in web search, with citations.",
    )
    models_path = ""
    stream_usage = False
    OPTIONS: Mapping[str, type] = {"path": str}

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        """Accept ``path`` (a string starting with ``/``); reject anything else."""
        check_options(cls.info.name, options, cls.OPTIONS)
        path = options.get("path")
        if path is not None and not path.startswith("/"):
            raise ConfigError(
                f"option 'path' must start with '/', like '/chat/completions' (got {path!r})", path="options.path"
            )

    def chat_url(self) -> str:
        """``{base}{path}`` where ``path`` is the option (default ``/chat/completions``)."""
        return join_url(self.base_url, str(self.settings.options.get("path") or self.chat_path))

    def static_models(self) -> list[ModelInfo]:
        """The Sonar models, owned by ``perplexity``."""
        return [ModelInfo(name, owned_by="perplexity") for name in SONAR_MODELS]

    def adjust_choice(self, choice: Choice) -> Choice:
        """Move a leading ``<think>`` block from the content to ``reasoning``."""
        return split_choice(choice)

    def stream_parser(self, request: ChatRequest) -> StreamParser:
        """The base parser wrapped so leading ``<think>`` text streams as reasoning."""
        return ThinkStreamParser(super().stream_parser(request))
