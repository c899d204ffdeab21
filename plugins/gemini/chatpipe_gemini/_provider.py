"""The Gemini adapter: Google AI Studio's native Gemini API, sans-IO (docs/vendors/gemini.md).

* ``POST {base}/v1beta/models/{model}:generateContent``, and
  ``:streamGenerateContent?alt=sse`` for streams; ``GET {base}/v1beta/models?pageSize=1000``
  (paged) for the model list. Base URL ``https://generativelanguage.googleapis.com``; a
  configured base ending in a version segment (``/v1beta``, ``/v1``, ``/v1alpha``) uses that
  version instead. A model given as ``models/NAME`` is sent as ``NAME``.
* The key goes in the ``x-goog-api-key`` header (marked secret), never in the URL; keys from
  ``GEMINI_API_KEY``, then ``GOOGLE_API_KEY``. Profile ``headers`` may override any header.
* Body: :mod:`chatpipe_gemini._request` (with the conversion of
  :mod:`chatpipe_gemini._messages`); replies :mod:`chatpipe_gemini._response`; streams
  :mod:`chatpipe_gemini._stream`; errors :mod:`chatpipe_gemini._errors`; models
  :mod:`chatpipe_gemini._models`.
* A prompt Gemini blocks (``promptFeedback.blockReason``) is a
  :class:`~chatpipe.errors.ContentFilterError` naming the reason (no reply to return).

Options (profile ``options``): ``safety_settings`` (list of ``{category, threshold}``, see
:mod:`chatpipe_gemini._safety`), ``include_thoughts`` (bool, default true: thought summaries
are asked for whenever thinking is configured).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from chatpipe.plugin import (
    APIStatusError,
    Capabilities,
    ChatRequest,
    ChatResponse,
    ContentFilterError,
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
    merge_headers,
    normalise_base_url,
    protocol_error,
    scrub,
    truncate,
)

from ._errors import error_from_event, error_from_response
from ._models import PAGE_SIZE, next_page_token, parse_model_page
from ._request import PARAMS, build_body
from ._response import PromptBlocked, parse_response
from ._safety import safety_settings
from ._stream import GeminiStreamParser

__all__ = ["API_VERSION", "DEFAULT_MODEL", "OPTIONS", "GeminiProvider"]

API_VERSION = "v1beta"
DEFAULT_MODEL = "gemini-2.5-flash"

OPTIONS: Mapping[str, type | tuple[type, ...]] = {"safety_settings": (list, tuple), "include_thoughts": bool}
"""The options this provider reads, with their accepted types."""

_VERSION = re.compile(r"/(v\d+(?:beta\d*|alpha\d*)?)$")


class GeminiProvider(Provider):
    """Google's Gemini API (see the module docstring)."""

    info = ProviderInfo(
        name="gemini",
        package="chatpipe-gemini",
        display_name="Gemini (Google AI Studio)",
        default_base_url="https://generativelanguage.googleapis.com",
        api_key_env=("GEMINI_API_KEY", "GOOGLE_API_KEY"),
        capabilities=Capabilities(streaming=True, tools=True, vision=True, reasoning=True, model_listing=True),
        default_model=DEFAULT_MODEL,
        params=PARAMS,
        description="Google's native Gemini API: thinking with signatures, tools, media parts, safety settings.",
    )

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        base = normalise_base_url(settings.base_url, provider=self.info.name)
        match = _VERSION.search(base)
        self.base_url = base[: match.start()] if match else base
        self.api_version = match.group(1) if match else API_VERSION

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        """Accept the options of :data:`OPTIONS`; ``safety_settings`` entries are checked one by one."""
        check_options(cls.info.name, options, OPTIONS)
        if "safety_settings" in options:
            safety_settings(options["safety_settings"])

    # --- requests -------------------------------------------------------------------------

    def headers(self, *, stream: bool = False, body: bool = True) -> tuple[dict[str, str], frozenset[str]]:
        """The request headers and the names of those carrying a secret."""
        headers: dict[str, str] = {}
        if body:
            headers["Content-Type"] = "application/json"
        headers["Accept"] = "text/event-stream" if stream else "application/json"
        key = self.settings.api_key.reveal() if self.settings.api_key else ""
        if key:
            headers["x-goog-api-key"] = key
        return merge_headers(
            headers, self.settings.headers.items(), key=key, secret_names=("x-goog-api-key", "authorization")
        )

    def _url(self, path: str) -> str:
        return f"{self.base_url}/{self.api_version}/{path}"

    def chat_url(self, model: str, *, stream: bool) -> str:
        """The generate URL of ``model`` (``:streamGenerateContent?alt=sse`` when streaming)."""
        name = quote(model.removeprefix("models/"), safe="-._~")
        method = "streamGenerateContent?alt=sse" if stream else "generateContent"
        return self._url(f"models/{name}:{method}")

    def build_body(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON body for ``request`` (see :mod:`chatpipe_gemini._request`)."""
        return build_body(
            request,
            options=self.settings.options,
            include_body=self.settings.include_body,
            exclude_body=self.settings.exclude_body,
            placeholder=self.settings.context.placeholder,
            names=self.settings.context.names,
        )

    def build_chat(self, request: ChatRequest) -> HttpRequest:
        """``POST`` the body to the model's generate URL."""
        headers, secret = self.headers(stream=request.stream)
        url = self.chat_url(request.model, stream=request.stream)
        return HttpRequest("POST", url, headers=headers, json=self.build_body(request), secret_headers=secret)

    def build_models(self, page_token: str | None = None) -> HttpRequest:
        """``GET {base}/v1beta/models?pageSize=1000`` (``&pageToken=...`` for the following pages)."""
        headers, secret = self.headers(body=False)
        query = urlencode({"pageSize": PAGE_SIZE, **({"pageToken": page_token} if page_token else {})})
        return HttpRequest("GET", f"{self._url('models')}?{query}", headers=headers, secret_headers=secret)

    def next_models(self, response: HttpResponse) -> HttpRequest | None:
        """The next page while Gemini gives a ``nextPageToken``."""
        try:
            token = next_page_token(decode_json(response.content))
        except MalformedPayload:
            return None
        return self.build_models(page_token=token) if token else None

    # --- responses ------------------------------------------------------------------------

    def _protocol_error(self, problem: str, body: str | bytes, response: HttpResponse | None = None) -> ProtocolError:
        return protocol_error(
            problem,
            body,
            provider=self.info.name,
            expected="speak Google's Gemini API",
            secrets=self.secrets(),
            status=response.status if response else None,
            request_id=response.request_id if response else None,
        )

    def _event_error(self, payload: Mapping[str, Any]) -> APIStatusError:
        return error_from_event(payload, provider=self.info.name, secrets=self.secrets(), hints=self.status_hints())

    def _blocked(self, blocked: PromptBlocked, body: str | bytes) -> APIStatusError:
        text = body.decode("utf-8", errors="replace") if isinstance(body, bytes) else body
        return ContentFilterError(
            f"Gemini blocked the prompt (blockReason {blocked.reason}) and returned no reply; rephrase it, "
            "or relax the profile option safety_settings",
            provider=self.info.name,
            body=truncate(scrub(text, self.secrets())),
            vendor_type=blocked.reason,
        )

    def parse_chat(self, response: HttpResponse) -> ChatResponse:
        """A 2xx ``GenerateContentResponse``; malformed → ProtocolError, an error envelope → its typed error."""
        try:
            return parse_response(decode_json(response.content), provider=self.info.name)
        except ErrorInBody as exc:
            raise self._event_error(exc.data) from None
        except PromptBlocked as exc:
            raise self._blocked(exc, response.content) from None
        except MalformedPayload as exc:
            raise self._protocol_error(str(exc), response.content, response) from None

    def stream_parser(self, request: ChatRequest) -> StreamParser:
        """A fresh :class:`~chatpipe_gemini._stream.GeminiStreamParser` for one stream."""
        return GeminiStreamParser(
            make_error=self._event_error,
            make_blocked=self._blocked,
            make_protocol_error=lambda problem, data: self._protocol_error(problem, data),
        )

    def parse_error(self, response: HttpResponse) -> APIStatusError:
        """The typed error for a non-2xx response (see :mod:`chatpipe_gemini._errors`)."""
        return error_from_response(response, provider=self.info.name, secrets=self.secrets(), hints=self.status_hints())

    def parse_models(self, response: HttpResponse) -> list[ModelInfo]:
        """A 2xx ``GET /v1beta/models`` page (see :func:`~chatpipe_gemini._models.parse_model_page`)."""
        try:
            return parse_model_page(decode_json(response.content))
        except MalformedPayload as exc:
            raise self._protocol_error(str(exc), response.content, response) from None
