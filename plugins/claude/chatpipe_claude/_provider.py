"""The Claude adapter: Anthropic's Messages API, sans-IO (docs/vendors/claude.md).

* ``POST {base}/v1/messages`` and ``GET {base}/v1/models?limit=1000``; base URL
  ``https://api.anthropic.com`` (a configured base ending in ``/v1`` works too: the suffix is
  not doubled).
* Headers: ``x-api-key`` (only when a key is set; marked secret), ``anthropic-version:
  2023-06-01``, ``anthropic-beta`` joined from the ``betas`` option; profile ``headers`` may
  override any of them (names compared case-insensitively).
* Body: :mod:`chatpipe_claude._request` (with the forced conversion of
  :mod:`chatpipe_claude._messages`); replies :mod:`chatpipe_claude._response`; streams
  :mod:`chatpipe_claude._stream`; errors and retries :mod:`chatpipe_claude._errors`.
* Retryable statuses: the default set plus 529 (overloaded); a spend-limit 429 is not retried
  (nor, as for every provider, is a response saying ``x-should-retry: false``: the transport
  checks that header).
* Batches: :meth:`ClaudeProvider.batch_api` returns the Message Batches API
  (:mod:`chatpipe_claude._batch`; about half the price, results within 24 hours).

Options (profile ``options``): ``max_tokens`` (int, default per model), ``betas`` (list of
beta names for ``anthropic-beta``), ``adaptive_thinking`` (bool: ``reasoning_effort`` gives
adaptive thinking + ``output_config.effort`` instead of a token budget), ``use_system_prompt``
(bool, default true: leading system messages go to ``system``; false sends them as user turns),
``web_search`` (bool, default false: Claude's server-side web-search tool is added to ``tools``;
an error on models before Claude 3.5).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from chatpipe.plugin import (
    DEFAULT_RETRYABLE_STATUSES,
    APIStatusError,
    Capabilities,
    ChatRequest,
    ChatResponse,
    ConfigError,
    ErrorInBody,
    HttpRequest,
    HttpResponse,
    MalformedPayload,
    ModelInfo,
    ProtocolError,
    Provider,
    ProviderInfo,
    StreamParser,
    check_options,
    decode_json,
    join_url,
    merge_headers,
    normalise_base_url,
    protocol_error,
)

from ._batch import ClaudeBatchAPI
from ._errors import error_from_event, error_from_response, spend_limit_reached
from ._models import MODELS_PAGE_LIMIT, next_page_cursor, parse_model_page
from ._request import PARAMS, build_body
from ._response import parse_message
from ._stream import ClaudeStreamParser

__all__ = ["ANTHROPIC_VERSION", "OPTIONS", "ClaudeProvider"]

ANTHROPIC_VERSION = "2023-06-01"

OPTIONS: Mapping[str, type | tuple[type, ...]] = {
    "max_tokens": int,
    "betas": (list, tuple),
    "adaptive_thinking": bool,
    "use_system_prompt": bool,
    "web_search": bool,
}
"""The options this provider reads, with their accepted types."""


class ClaudeProvider(Provider):
    """Anthropic's Messages API (see the module docstring)."""

    info = ProviderInfo(
        name="claude",
        package="chatpipe-claude",
        display_name="Claude (Anthropic)",
        default_base_url="https://api.anthropic.com",
        api_key_env=("ANTHROPIC_API_KEY",),
        capabilities=Capabilities(streaming=True, tools=True, vision=True, reasoning=True, model_listing=True),
        retryable_statuses=DEFAULT_RETRYABLE_STATUSES | {529},
        default_model="claude-sonnet-4-5",
        params=PARAMS,
        description="Anthropic's Messages API: Claude models with tools, vision, extended thinking and prompt caching.",
    )
    messages_path = "/v1/messages"
    models_path = "/v1/models"

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        base = normalise_base_url(settings.base_url, provider=self.info.name)
        self.base_url = base[: -len("/v1")] if base.endswith("/v1") else base

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        """Accept the options of :data:`OPTIONS`; ``betas`` must list strings, ``max_tokens`` be >= 1."""
        check_options(cls.info.name, options, OPTIONS)
        betas = options.get("betas", [])
        if not all(isinstance(b, str) and b.strip() for b in betas):
            raise ConfigError(
                "option 'betas' must list beta names such as ['prompt-caching-2024-07-31']", path="options.betas"
            )
        if options.get("max_tokens", 1) < 1:
            raise ConfigError("option 'max_tokens' must be at least 1", path="options.max_tokens")

    # --- requests -------------------------------------------------------------------------

    def headers(self, *, stream: bool = False, body: bool = True) -> tuple[dict[str, str], frozenset[str]]:
        """The request headers and the names of those carrying a secret."""
        headers: dict[str, str] = {"anthropic-version": ANTHROPIC_VERSION}
        if body:
            headers["Content-Type"] = "application/json"
        headers["Accept"] = "text/event-stream" if stream else "application/json"
        key = self.settings.api_key.reveal() if self.settings.api_key else ""
        if key:
            headers["x-api-key"] = key
        betas = self.settings.options.get("betas")
        if betas:
            headers["anthropic-beta"] = ",".join(b.strip() for b in betas)
        return merge_headers(
            headers, self.settings.headers.items(), key=key, secret_names=("x-api-key", "authorization")
        )

    def build_body(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON body for ``request`` (see :mod:`chatpipe_claude._request`)."""
        return build_body(
            request,
            options=self.settings.options,
            include_body=self.settings.include_body,
            exclude_body=self.settings.exclude_body,
            placeholder=self.settings.context.placeholder,
            names=self.settings.context.names,
        )

    def build_chat(self, request: ChatRequest) -> HttpRequest:
        """``POST {base}/v1/messages`` with the body from :meth:`build_body`."""
        headers, secret = self.headers(stream=request.stream)
        url = join_url(self.base_url, self.messages_path)
        return HttpRequest("POST", url, headers=headers, json=self.build_body(request), secret_headers=secret)

    def build_models(self, after_id: str | None = None) -> HttpRequest:
        """``GET {base}/v1/models?limit=1000`` (``&after_id=...`` for the following pages)."""
        headers, secret = self.headers(body=False)
        query = urlencode({"limit": MODELS_PAGE_LIMIT, **({"after_id": after_id} if after_id else {})})
        url = f"{join_url(self.base_url, self.models_path)}?{query}"
        return HttpRequest("GET", url, headers=headers, secret_headers=secret)

    def next_models(self, response: HttpResponse) -> HttpRequest | None:
        """The next page while Claude says ``has_more`` (cursor: the page's ``last_id``)."""
        try:
            cursor = next_page_cursor(decode_json(response.content))
        except MalformedPayload:
            return None
        return self.build_models(after_id=cursor) if cursor else None

    def batch_api(self) -> ClaudeBatchAPI:
        """Anthropic's Message Batches API (``chatpipe batch --vendor-batch``, docs/vendor-batch.md)."""
        return ClaudeBatchAPI(self)

    # --- responses ------------------------------------------------------------------------

    def _protocol_error(self, problem: str, body: str | bytes, response: HttpResponse | None = None) -> ProtocolError:
        return protocol_error(
            problem,
            body,
            provider=self.info.name,
            expected="speak Claude's Messages API",
            secrets=self.secrets(),
            status=response.status if response else None,
            request_id=response.request_id if response else None,
        )

    def _event_error(self, payload: Mapping[str, Any] | str) -> APIStatusError:
        return error_from_event(payload, provider=self.info.name, secrets=self.secrets(), hints=self.status_hints())

    def parse_chat(self, response: HttpResponse) -> ChatResponse:
        """A 2xx Claude ``Message``; malformed → ProtocolError, an error envelope → its typed error."""
        try:
            return parse_message(decode_json(response.content), provider=self.info.name)
        except ErrorInBody as exc:
            raise self._event_error(exc.data) from None
        except MalformedPayload as exc:
            raise self._protocol_error(str(exc), response.content, response) from None

    def stream_parser(self, request: ChatRequest) -> StreamParser:
        """A fresh :class:`~chatpipe_claude._stream.ClaudeStreamParser` for one stream."""
        return ClaudeStreamParser(
            make_error=self._event_error,
            make_protocol_error=lambda problem, data: self._protocol_error(problem, data),
        )

    def parse_error(self, response: HttpResponse) -> APIStatusError:
        """The typed error for a non-2xx response (see :mod:`chatpipe_claude._errors`)."""
        return error_from_response(response, provider=self.info.name, secrets=self.secrets(), hints=self.status_hints())

    def should_retry(self, response: HttpResponse) -> bool:
        """No retry for a spend-limit 429 (``x-should-retry: false`` is the transport's check)."""
        return not spend_limit_reached(response)

    def parse_models(self, response: HttpResponse) -> list[ModelInfo]:
        """A 2xx ``GET /v1/models`` page (see :func:`~chatpipe_claude._models.parse_model_page`)."""
        try:
            return parse_model_page(decode_json(response.content))
        except MalformedPayload as exc:
            raise self._protocol_error(str(exc), response.content, response) from None
