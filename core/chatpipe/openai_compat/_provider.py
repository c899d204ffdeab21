"""The OpenAI-compatible sans-IO adapter that the OpenAI-family plugins specialise.

A vendor plugin subclasses :class:`OpenAICompatibleProvider`, sets ``info`` and declares only
its differences through class attributes and small hooks:

* ``chat_path`` / ``models_path``: endpoint paths joined to the base URL;
* ``stream_usage``: send ``stream_options: {include_usage: true}`` when streaming;
* ``rewrite_audio``: turn ``audio_url`` data-URL parts into ``input_audio`` (OpenAI, custom);
* ``finish_reasons``: the finish-reason table;
* :meth:`adjust_body`, :meth:`extra_headers`, :meth:`models_base_url`, :meth:`adjust_choice`,
  :meth:`not_found_hint`, :meth:`text_completion` (which requests go to ``/completions``, see
  :mod:`chatpipe.openai_compat._completions`) and the :class:`~chatpipe.provider.Provider` hooks (``prepare``,
  ``validate_options``, ``static_models``, ``check_hint``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..errors import APIStatusError, ProtocolError
from ..http import HttpRequest, HttpResponse, merge_headers
from ..models import ChatRequest, ChatResponse, Choice, FinishReason, ModelInfo
from ..provider import Provider, ProviderSettings, StreamParser
from ..secrets import scrub
from ..vendor import (
    FINISH_REASONS,
    ErrorDetails,
    ErrorInBody,
    MalformedPayload,
    decode_json,
    details_from_json,
    error_details,
    join_url,
    make_error,
    normalise_base_url,
    protocol_error,
)
from ._completions import COMPLETIONS_PATH, TextCompletionStreamParser, as_chat_completion, completions_body
from ._models import parse_model_list
from ._request import build_body
from ._response import parse_completion
from ._stream import OpenAIStreamParser

__all__ = ["OpenAICompatibleProvider"]


class OpenAICompatibleProvider(Provider):
    """Speaks OpenAI's ``chat/completions`` protocol; subclasses declare vendor differences.

    The instance's :attr:`base_url` is the settings' base URL normalised by
    :func:`~chatpipe.vendor.normalise_base_url` (no trailing slash, no
    ``/chat/completions`` suffix).
    """

    chat_path: ClassVar[str] = "/chat/completions"
    models_path: ClassVar[str] = "/models"
    stream_usage: ClassVar[bool] = True
    rewrite_audio: ClassVar[bool] = False
    finish_reasons: ClassVar[Mapping[str, FinishReason]] = FINISH_REASONS

    def __init__(self, settings: ProviderSettings) -> None:
        super().__init__(settings)
        self.base_url = normalise_base_url(settings.base_url, provider=self.info.name)
        self._headers: dict[bool, tuple[dict[str, str], frozenset[str]]] = {}

    # --- hooks for subclasses -----------------------------------------------------------

    def adjust_body(self, body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
        """Rename or drop body fields for the vendor; runs before include/exclude. Default: none."""
        return body

    def extra_headers(self) -> dict[str, str]:
        """Vendor headers added after the standard ones (e.g. OpenAI-Organization). Default: none.

        Called once per adapter (per streaming mode): the headers derive from the settings
        only and are pre-built, not rebuilt for every request.
        """
        return {}

    def models_base_url(self) -> str:
        """The base URL the model list lives under. Default: :attr:`base_url`."""
        return self.base_url

    def adjust_choice(self, choice: Choice) -> Choice:
        """Post-process one parsed non-streaming choice. Default: unchanged."""
        return choice

    def text_completion(self, request: ChatRequest) -> bool:
        """Whether ``request`` goes to ``{base}/completions`` with a flattened prompt. Default: never."""
        return False

    def chat_url(self) -> str:
        """The absolute chat-completions URL."""
        return join_url(self.base_url, self.chat_path)

    # --- requests -----------------------------------------------------------------------

    def headers(self, *, stream: bool = False) -> tuple[dict[str, str], frozenset[str]]:
        """The request headers (a fresh dict) and the names of those carrying a secret.

        ``Authorization: Bearer`` is sent only when a key is set (docs/configuration.md); the vendor's
        :meth:`extra_headers` and then ``settings.headers`` follow and may override (names
        compared case-insensitively). A settings header whose value contains the key is secret.
        Built once per streaming mode, as they depend on the settings alone.
        """
        built = self._headers.get(stream)
        if built is None:
            built = self._headers[stream] = self._build_headers(stream)
        return dict(built[0]), built[1]

    def _build_headers(self, stream: bool) -> tuple[dict[str, str], frozenset[str]]:
        headers: dict[str, str] = {
            "Content-Type": "application/json",
            "Accept": "text/event-stream" if stream else "application/json",
        }
        key = self.settings.api_key.reveal() if self.settings.api_key else ""
        if key:
            headers["Authorization"] = f"Bearer {key}"
        overrides = (*self.extra_headers().items(), *self.settings.headers.items())
        return merge_headers(headers, overrides, key=key)

    def build_body(self, request: ChatRequest) -> dict[str, Any]:
        """The JSON body for ``request`` (see :mod:`chatpipe.openai_compat._request`)."""
        return build_body(
            request,
            include_body=self.settings.include_body,
            exclude_body=self.settings.exclude_body,
            adjust=self.adjust_body,
            stream_usage=self.stream_usage,
            rewrite_audio=self.rewrite_audio,
        )

    def build_chat(self, request: ChatRequest) -> HttpRequest:
        """``POST {base}/chat/completions`` with the body from :meth:`build_body`.

        For a :meth:`text_completion` request: ``POST {base}/completions`` with that body's
        ``messages`` flattened into a ``prompt``.
        """
        headers, secret = self.headers(stream=request.stream)
        body = self.build_body(request)
        url = self.chat_url()
        if self.text_completion(request):
            body = completions_body(body, request.messages)
            url = join_url(self.base_url, COMPLETIONS_PATH)
        return HttpRequest("POST", url, headers=headers, json=body, secret_headers=secret)

    def build_models(self) -> HttpRequest | None:
        """``GET {base}/models`` with the same auth and headers (``None`` when ``models_path`` is empty)."""
        if not self.models_path:
            return None
        headers, secret = self.headers()
        headers.pop("Content-Type", None)
        return HttpRequest(
            "GET", join_url(self.models_base_url(), self.models_path), headers=headers, secret_headers=secret
        )

    # --- responses ----------------------------------------------------------------------

    def _protocol_error(
        self, problem: str, body: str | bytes, status: int | None = None, request_id: str | None = None
    ) -> ProtocolError:
        return protocol_error(
            problem,
            body,
            provider=self.info.name,
            expected="be OpenAI-compatible",
            secrets=self.secrets(),
            status=status,
            request_id=request_id,
        )

    def _body_error(self, details: ErrorDetails, response: HttpResponse) -> APIStatusError:
        return make_error(
            details,
            provider=self.info.name,
            status=response.status,
            headers=response.headers,
            body=response.text,
            secrets=self.secrets(),
            hints=self.status_hints(),
            request_id=response.request_id,
        )

    def parse_chat(self, response: HttpResponse) -> ChatResponse:
        """A 2xx ``chat.completion`` / ``text_completion`` body; malformed: ProtocolError; error envelope: its error."""
        try:
            data = as_chat_completion(decode_json(response.content))
            overridden = type(self).adjust_choice is not OpenAICompatibleProvider.adjust_choice
            hook = self.adjust_choice if overridden else None
            return parse_completion(data, provider=self.info.name, finish_table=self.finish_reasons, choice_hook=hook)
        except ErrorInBody as exc:
            details = details_from_json(exc.data) or ErrorDetails(message="the server returned an error object")
            raise self._body_error(details, response) from None
        except MalformedPayload as exc:
            raise self._protocol_error(str(exc), response.content, response.status, response.request_id) from None

    def stream_parser(self, request: ChatRequest) -> StreamParser:
        """A fresh :class:`~chatpipe.openai_compat._stream.OpenAIStreamParser` for one stream.

        A :meth:`text_completion` request gets its ``/completions`` twin, ``TextCompletionStreamParser``.
        """
        parser = TextCompletionStreamParser if self.text_completion(request) else OpenAIStreamParser
        return parser(
            make_error=self._stream_error,
            make_protocol_error=lambda problem, data: self._protocol_error(problem, data),
            finish_table=self.finish_reasons,
        )

    def _stream_error(self, payload: Mapping[str, Any] | str) -> APIStatusError:
        import json

        if isinstance(payload, Mapping):
            details = details_from_json(payload) or ErrorDetails(message=json.dumps(payload)[:500])
            body = json.dumps(payload, ensure_ascii=False)
        else:
            details = ErrorDetails(message=payload[:500] or "error event")
            body = payload
        details = ErrorDetails(
            message=f"error inside the stream: {details.message}",
            type=details.type,
            code=details.code,
            param=details.param,
            status=details.status,
        )
        return make_error(
            details,
            provider=self.info.name,
            status=None,
            headers={},
            body=body,
            secrets=self.secrets(),
            hints=self.status_hints(),
        )

    def parse_error(self, response: HttpResponse) -> APIStatusError:
        """The typed error for a non-2xx response (see :mod:`chatpipe.vendor`)."""
        scrubbed = HttpResponse(response.status, response.headers, scrub(response.text, self.secrets()).encode())
        return self._body_error(error_details(scrubbed), scrubbed)

    def should_retry(self, response: HttpResponse) -> bool:
        """No retry when the body says the quota is exhausted (a 429 that waiting cannot fix)."""
        details = error_details(response)
        return "insufficient_quota" not in (details.code, details.type)

    def parse_models(self, response: HttpResponse) -> list[ModelInfo]:
        """A 2xx model-list body (``{"data": [...]}`` or a bare list)."""
        try:
            return parse_model_list(decode_json(response.content))
        except MalformedPayload as exc:
            raise self._protocol_error(str(exc), response.content, response.status, response.request_id) from None
