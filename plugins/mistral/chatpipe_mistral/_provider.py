"""The Mistral AI adapter: the OpenAI-compatible base plus Mistral's differences (docs/vendors/mistral.md).

* Base URL ``https://api.mistral.ai/v1``; key from ``MISTRAL_API_KEY``; default model
  ``mistral-small-latest``; retries on 429, 500, 502, 503 and 504 (the official SDK's set).
* :meth:`MistralProvider.prepare` runs the forced conversion of :mod:`._convert` (tool ids to 9
  characters, user-after-tool reordering, system-after-assistant rule, name prefixes, and
  ``prefix: true`` on a final assistant turn when option ``prefix`` is on).
* :meth:`MistralProvider.adjust_body` renames and trims the body for Mistral's strict schema
  (:mod:`._body`), and adds ``safe_prompt`` from the option unless the request sets it.
* No ``stream_options``: Mistral's schema forbids it and the last chunk carries usage anyway.
* Replies: chunk-list content with ``thinking`` chunks becomes text plus ``reasoning``
  (:mod:`._content`), in replies and streams; ``model_length`` maps to ``length`` (core table).
* Errors: Mistral's validation bodies are rendered as ``loc: msg`` lines (:mod:`._errors`).
* Model list: only models whose ``capabilities.completion_chat`` is true (entries without a
  ``capabilities`` object are kept); ``max_context_length`` becomes ``context_length`` and the
  capabilities stay in ``ModelInfo.extra``.

Tool-call ids in replies are Mistral's own; the hashing applies only to what is sent.

Batches: :meth:`MistralProvider.batch_api` returns Mistral's batch jobs API
(:mod:`._batch`; ``chatpipe batch --vendor-batch``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from chatpipe.plugin import (
    APIStatusError,
    Capabilities,
    ChatRequest,
    ChatResponse,
    HttpResponse,
    MalformedPayload,
    ModelInfo,
    OpenAICompatibleProvider,
    OpenAIStreamParser,
    ProviderInfo,
    StreamParser,
    check_options,
    error_details,
    json_or_none,
    scrub,
)

from ._batch import MistralBatchAPI
from ._body import PARAMS, adjust_mistral_body
from ._content import split_choice_content
from ._convert import convert_mistral_messages
from ._errors import mistral_error_details
from ._stream import MistralStreamParser

__all__ = ["RETRYABLE_STATUSES", "MistralProvider"]

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
"""The statuses Mistral's official SDK retries."""


class MistralProvider(OpenAICompatibleProvider):
    """Mistral AI's chat completions API at ``https://api.mistral.ai/v1``.

    Options: ``prefix`` (bool, default false) marks a final assistant message as a prefix the
    reply must continue; ``safe_prompt`` (bool) asks Mistral to prepend its safety prompt (a
    ``safe_prompt`` request parameter overrides it).
    """

    info = ProviderInfo(
        name="mistral",
        package="chatpipe-mistral",
        display_name="Mistral AI",
        default_base_url="https://api.mistral.ai/v1",
        api_key_env=("MISTRAL_API_KEY",),
        capabilities=Capabilities(vision=True, reasoning=True),
        retryable_statuses=RETRYABLE_STATUSES,
        default_model="mistral-small-latest",
        params=PARAMS,
        description="Mistral AI's models (Mistral, Magistral reasoning, Pixtral, Codestral) through la Plateforme.",
    )
    stream_usage = False
    rewrite_audio = True
    OPTIONS: Mapping[str, type] = {"prefix": bool, "safe_prompt": bool}

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        """Accept ``prefix`` and ``safe_prompt`` (both booleans); reject anything else."""
        check_options(cls.info.name, options, cls.OPTIONS)

    def prepare(self, request: ChatRequest) -> ChatRequest:
        """The request with Mistral's forced conversion applied to its messages (pure).

        Example-prefixing uses the speaker names of ``settings.context`` (the profile's ``names``).
        """
        prefix = bool(self.settings.options.get("prefix", False))
        messages = convert_mistral_messages(request.messages, self.settings.context.names, prefix=prefix)
        return attrs.evolve(request, messages=messages)

    def adjust_body(self, body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
        """Mistral's field names and strict shapes (see :mod:`._body`), plus the ``safe_prompt`` option."""
        body = adjust_mistral_body(body)
        option = self.settings.options.get("safe_prompt")
        if option is not None and "safe_prompt" not in body:
            body["safe_prompt"] = bool(option)
        return body

    def batch_api(self) -> MistralBatchAPI:
        """Mistral's batch jobs (files + ``/v1/batch/jobs``, docs/vendor-batch.md)."""
        return MistralBatchAPI(self)

    def parse_chat(self, response: HttpResponse) -> ChatResponse:
        """The base parse, then chunk-list content resolved into text and reasoning."""
        parsed = super().parse_chat(response)
        try:
            choices = tuple(split_choice_content(c, i) for i, c in enumerate(parsed.choices))
        except MalformedPayload as exc:
            raise self._protocol_error(str(exc), response.content, response.status, response.request_id) from None
        return attrs.evolve(parsed, choices=choices)

    def stream_parser(self, request: ChatRequest) -> StreamParser:
        """A :class:`~chatpipe_mistral._stream.MistralStreamParser` around the base parser."""
        inner = super().stream_parser(request)
        assert isinstance(inner, OpenAIStreamParser)
        return MistralStreamParser(
            inner,
            make_error=self._stream_error,
            make_protocol_error=lambda problem, data: self._protocol_error(problem, data),
        )

    def parse_error(self, response: HttpResponse) -> APIStatusError:
        """The typed error, with Mistral's validation bodies rendered as ``loc: msg``."""
        scrubbed = HttpResponse(response.status, response.headers, scrub(response.text, self.secrets()).encode())
        details = mistral_error_details(json_or_none(scrubbed.text)) or error_details(scrubbed)
        return self._body_error(details, scrubbed)

    def parse_models(self, response: HttpResponse) -> list[ModelInfo]:
        """The chat-capable models (see the module docstring), with ``context_length`` filled in."""
        out = []
        for model in super().parse_models(response):
            capabilities = model.extra.get("capabilities")
            if isinstance(capabilities, Mapping) and not capabilities.get("completion_chat"):
                continue
            length = model.extra.get("max_context_length")
            if model.context_length is None and isinstance(length, int) and not isinstance(length, bool):
                model = attrs.evolve(model, context_length=length)
            out.append(model)
        return out
