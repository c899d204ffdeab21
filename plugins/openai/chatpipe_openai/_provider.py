"""The OpenAI adapter: the OpenAI-compatible base plus OpenAI's few differences.

Differences declared here:

* options ``organization`` and ``project`` become the ``OpenAI-Organization`` /
  ``OpenAI-Project`` headers;
* reasoning models (o1, o3, o4 and gpt-5 families) take ``max_completion_tokens``: a
  ``max_tokens`` parameter is renamed for them (docs/vendors/openai.md);
* ``reasoning_effort`` is sent to reasoning models only (the others reject it), and never as
  ``auto`` (the reference's "let the model decide", which OpenAI does not know), as the
  reference does;
* ``audio_url`` parts holding ``data:`` URLs are sent as ``input_audio`` (docs/vendors/openai.md);
* text-completion models (``gpt-3.5-turbo-instruct``, the ``davinci`` family:
  ``TEXT_COMPLETION_MODELS``) go to ``/completions`` with a flattened prompt;
* OpenAI has a batch API (files + ``/v1/batches``, about half the price):
  :meth:`OpenAIProvider.batch_api` returns the core's ``OpenAIBatchAPI``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chatpipe.plugin import (
    Capabilities,
    ChatRequest,
    OpenAICompatibleProvider,
    ProviderInfo,
    check_options,
    is_text_completion_model,
)

if TYPE_CHECKING:
    from chatpipe.plugin import OpenAIBatchAPI

__all__ = ["OpenAIProvider", "uses_max_completion_tokens"]

_REASONING_MODEL = re.compile(r"^(o1|o3|o4)(-|$)|^gpt-5", re.IGNORECASE)


def uses_max_completion_tokens(model: str) -> bool:
    """Whether ``model`` (optionally ``vendor/``-prefixed) is a reasoning model: one that rejects
    ``max_tokens`` (it takes ``max_completion_tokens``) and takes ``reasoning_effort``."""
    return bool(_REASONING_MODEL.search(model.rsplit("/", 1)[-1]))


class OpenAIProvider(OpenAICompatibleProvider):
    """OpenAI's Chat Completions API at ``https://api.openai.com/v1``."""

    info = ProviderInfo(
        name="openai",
        package="chatpipe-openai",
        display_name="OpenAI",
        default_base_url="https://api.openai.com/v1",
        api_key_env=("OPENAI_API_KEY",),
        capabilities=Capabilities(vision=True, reasoning=True),
        default_model="gpt-4o-mini",
        description="OpenAI's Chat Completions API (GPT and o-series models).",
    )
    rewrite_audio = True
    OPTIONS: Mapping[str, type] = {"organization": str, "project": str}

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        """Accept ``organization`` and ``project`` (strings); reject anything else."""
        check_options(cls.info.name, options, cls.OPTIONS)

    def text_completion(self, request: ChatRequest) -> bool:
        """Whether ``request``'s model is served by ``/completions`` only (``is_text_completion_model``)."""
        return is_text_completion_model(request.model)

    def batch_api(self) -> OpenAIBatchAPI:
        """OpenAI's files + batches API (``chatpipe batch --vendor-batch``, docs/vendor-batch.md)."""
        from chatpipe.plugin import OpenAIBatchAPI  # (imported when a batch is run, not with the provider)

        return OpenAIBatchAPI(self)

    def extra_headers(self) -> dict[str, str]:
        """``OpenAI-Organization`` / ``OpenAI-Project`` from the options, when set."""
        headers = {}
        if self.settings.options.get("organization"):
            headers["OpenAI-Organization"] = str(self.settings.options["organization"])
        if self.settings.options.get("project"):
            headers["OpenAI-Project"] = str(self.settings.options["project"])
        return headers

    def adjust_body(self, body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
        """Rename ``max_tokens`` to ``max_completion_tokens`` for reasoning models; send
        ``reasoning_effort`` to them only, and not as ``auto``.

        An explicit ``max_completion_tokens`` wins; ``max_tokens`` is then dropped.
        ``include_body`` can still force either field.
        """
        reasoning = uses_max_completion_tokens(request.model)
        if "max_tokens" in body and reasoning:
            value = body.pop("max_tokens")
            body.setdefault("max_completion_tokens", value)
        if "reasoning_effort" in body and (not reasoning or body["reasoning_effort"] == "auto"):
            del body["reasoning_effort"]
        return body
