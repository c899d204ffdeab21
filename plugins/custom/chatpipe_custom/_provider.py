"""The custom adapter: any OpenAI-compatible server at a base URL the user gives.

Differences from the base:

* no default base URL (one is required) and no required key: without a key no
  ``Authorization`` header is sent at all (docs/configuration.md); no env var is read;
* a 404 suggests ``/v1`` when the base URL has no version segment (the status check's
  :meth:`check_hint` and the 404 error message both say so);
* ``audio_url`` parts holding ``data:`` URLs are sent as ``input_audio`` (docs/vendors/custom.md);
* option ``text_completion: true`` sends every call of the profile to ``{base}/completions``
  with a flattened prompt (text-completion models; the reference's custom source does so for
  its legacy list, chatpipe leaves the choice to the profile: a custom server's model names say
  nothing reliable).

URL normalisation (trailing slashes, a ``/chat/completions`` suffix corrected with a
warning) is the base adapter's. ``bypass_status_check`` is a profile key the pipeline reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chatpipe.plugin import (
    Capabilities,
    ChatRequest,
    HttpResponse,
    OpenAICompatibleProvider,
    ProviderInfo,
    check_options,
    has_version_segment,
    join_url,
    safe_url,
)

__all__ = ["CustomProvider"]


class CustomProvider(OpenAICompatibleProvider):
    """An OpenAI-compatible endpoint: LM Studio, vLLM, llama.cpp server, Ollama, LiteLLM, proxies."""

    info = ProviderInfo(
        name="custom",
        package="chatpipe-custom",
        display_name="Custom OpenAI-compatible endpoint",
        default_base_url=None,
        api_key_env=(),
        key_required=False,
        capabilities=Capabilities(vision=True, reasoning=True),
        extra_params=True,  # whatever the server takes is passed on
        description="Any server speaking OpenAI's chat/completions protocol at a base URL you give.",
    )
    rewrite_audio = True
    OPTIONS: Mapping[str, type] = {"text_completion": bool}

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        """Accept ``text_completion`` (a boolean); reject anything else."""
        check_options(cls.info.name, options, cls.OPTIONS)

    def text_completion(self, request: ChatRequest) -> bool:
        """Whether the profile says its model is a text-completion one (``options.text_completion``)."""
        return self.settings.options.get("text_completion") is True

    def _v1_suggestion(self) -> str | None:
        if has_version_segment(self.base_url):
            return None
        suggested = safe_url(join_url(self.base_url, "/v1"))
        return f"many OpenAI-compatible servers live under /v1 — try base_url {suggested}"

    def not_found_hint(self) -> str:
        """The generic 404 hint, plus the ``/v1`` suggestion when the base URL lacks a version."""
        hint = super().not_found_hint()
        suggestion = self._v1_suggestion()
        return f"{hint}; {suggestion}" if suggestion else hint

    def check_hint(self, response: HttpResponse) -> str | None:
        """For a 404 status check on a base URL without ``/v1``: suggest adding it."""
        suggestion = self._v1_suggestion()
        if response.status != 404 or suggestion is None:
            return None
        url = join_url(self.models_base_url(), self.models_path)
        return f"the server answered 404 for {safe_url(url)}; {suggestion}"
