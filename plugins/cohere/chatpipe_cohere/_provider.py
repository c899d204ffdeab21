"""The Cohere adapter: Cohere's own v2 chat API, sans-IO (docs/vendors/cohere.md).

* ``POST {base}/v2/chat`` (default base ``https://api.cohere.com``), ``Authorization: Bearer``
  with the key from ``CO_API_KEY``; default model :data:`DEFAULT_MODEL`.
* :meth:`CohereProvider.prepare` runs Cohere's forced conversion (:mod:`._convert`); the body is
  built by :mod:`._request`; replies by :mod:`._response`, streams by :mod:`._stream`, errors
  by :mod:`._errors`, the model list by :mod:`._models`.
* Option ``safety_mode`` (``CONTEXTUAL``, ``STRICT`` or ``OFF``): the default safety mode,
  sent when a request sets none and has neither tools nor documents. Without the option, the
  models whose name ends in ``08-2024`` get ``OFF`` (the reference's default), others none
  (:func:`~chatpipe_cohere._params.default_safety_mode`).
* Retries 429, 500, 503 and 504.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import attrs
from chatpipe.plugin import (
    DEFAULT_RETRYABLE_STATUSES,
    APIStatusError,
    Capabilities,
    ChatRequest,
    ChatResponse,
    ConfigError,
    HttpRequest,
    HttpResponse,
    InvalidRequestError,
    MalformedPayload,
    ModelInfo,
    Provider,
    ProviderInfo,
    ProviderSettings,
    StreamParser,
    join_url,
)

from ._convert import convert_messages
from ._errors import ErrorMaker
from ._http import api_root, request_headers
from ._models import PAGE_SIZE, parse_model_page
from ._params import PARAMS, default_safety_mode, safety_mode
from ._request import build_body
from ._response import parse_reply
from ._stream import CohereStreamParser

__all__ = ["CHAT_PATH", "DEFAULT_MODEL", "MODELS_PATH", "CohereProvider"]

DEFAULT_MODEL = "command-a-03-2025"
"""Cohere's generally available flagship chat model (tools, RAG with citations, 256k context)."""

CHAT_PATH = "/v2/chat"
MODELS_PATH = "/v1/models"


class CohereProvider(Provider):
    """Speaks Cohere's v2 chat API. ``base_url`` is the API root, normalised by :func:`api_root`."""

    info = ProviderInfo(
        name="cohere",
        package="chatpipe-cohere",
        display_name="Cohere",
        default_base_url="https://api.cohere.com",
        api_key_env=("CO_API_KEY",),
        capabilities=Capabilities(streaming=True, tools=True, vision=True, reasoning=True),
        retryable_statuses=DEFAULT_RETRYABLE_STATUSES,
        default_model=DEFAULT_MODEL,
        params=PARAMS,
        description="Cohere's v2 chat API: Command models, tool plans, documents with citations, safety modes.",
    )

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self.base_url = api_root(settings.base_url)
        self.validate_options(settings.options)
        self.errors = ErrorMaker(
            self.info.name,
            secrets=self.secrets(),
            has_key=bool(settings.api_key),
            env_vars=self.info.api_key_env,
            key_source=settings.api_key_source,
        )

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        """Accept ``safety_mode`` (``CONTEXTUAL``, ``STRICT`` or ``OFF``, any case); reject anything else."""
        unknown = sorted(set(options) - {"safety_mode"})
        if unknown:
            raise ConfigError(
                f"unknown option(s) {unknown} for provider 'cohere'; it accepts: safety_mode", path="options"
            )
        if "safety_mode" in options:
            try:
                safety_mode(options["safety_mode"], where="options.safety_mode")
            except InvalidRequestError as exc:
                raise ConfigError(str(exc)) from None

    # --- requests -------------------------------------------------------------------------

    def prepare(self, request: ChatRequest) -> ChatRequest:
        """Apply Cohere's forced conversion (:func:`~chatpipe_cohere._convert.convert_messages`) with the
        pipeline's placeholder and speaker names."""
        context = self.settings.context
        messages = convert_messages(request.messages, placeholder=context.placeholder, names=context.names)
        return attrs.evolve(request, messages=messages)

    def build_chat(self, request: ChatRequest) -> HttpRequest:
        """``POST {base}/v2/chat`` with the body from :func:`~chatpipe_cohere._request.build_body`."""
        body = build_body(
            request,
            safety_mode=default_safety_mode(request.model, self.settings.options.get("safety_mode")),
            include_body=self.settings.include_body,
            exclude_body=self.settings.exclude_body,
        )
        headers, secret = request_headers(self.settings.api_key, self.settings.headers, stream=request.stream)
        return HttpRequest(
            "POST", join_url(self.base_url, CHAT_PATH), headers=headers, json=body, secret_headers=secret
        )

    def build_models(self, page_token: str | None = None) -> HttpRequest:
        """``GET {base}/v1/models?endpoint=chat&page_size=1000`` (``&page_token=`` for later pages)."""
        headers, secret = request_headers(self.settings.api_key, self.settings.headers, body=False)
        query = {"endpoint": "chat", "page_size": PAGE_SIZE, **({"page_token": page_token} if page_token else {})}
        url = f"{join_url(self.base_url, MODELS_PATH)}?{urlencode(query)}"
        return HttpRequest("GET", url, headers=headers, secret_headers=secret)

    def next_models(self, response: HttpResponse) -> HttpRequest | None:
        """The next page while Cohere returns a ``next_page_token``."""
        try:
            _, token = parse_model_page(response.json())
        except (ValueError, MalformedPayload):
            return None
        return self.build_models(page_token=token) if token else None

    # --- responses ------------------------------------------------------------------------

    def _decode(self, response: HttpResponse) -> Any:
        try:
            return response.json()
        except ValueError:
            raise self.errors.protocol_error("the reply is not valid JSON", response.content, response.status) from None

    def parse_chat(self, response: HttpResponse) -> ChatResponse:
        """A 2xx ``ChatResponseV2`` body; a malformed one raises :class:`~chatpipe.errors.ProtocolError`."""
        data = self._decode(response)
        try:
            return parse_reply(data, provider=self.info.name)
        except MalformedPayload as exc:
            raise self.errors.protocol_error(str(exc), response.content, response.status) from None

    def stream_parser(self, request: ChatRequest) -> StreamParser:
        """A fresh :class:`~chatpipe_cohere._stream.CohereStreamParser`."""
        return CohereStreamParser(make_error=self.errors.stream_error, make_protocol_error=self.errors.protocol_error)

    def parse_error(self, response: HttpResponse) -> APIStatusError:
        """The typed error for a non-2xx ``{message, id}`` reply (see :mod:`._errors`)."""
        return self.errors.status_error(response)

    def parse_models(self, response: HttpResponse) -> list[ModelInfo]:
        """The chat models of one page (the pipeline follows :meth:`next_models`)."""
        try:
            models, _ = parse_model_page(self._decode(response))
        except MalformedPayload as exc:
            raise self.errors.protocol_error(str(exc), response.content, response.status) from None
        return models
