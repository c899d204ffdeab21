"""The OpenRouter adapter: the OpenAI-compatible base plus OpenRouter's differences (docs/vendors/openrouter.md).

* Base URL ``https://openrouter.ai/api/v1``, key ``OPENROUTER_API_KEY``, default model
  ``openrouter/auto`` (OpenRouter's own router: it picks a model per request and the reply
  names it). No forced conversion: OpenRouter adapts the conversation to each vendor itself.
* Options ``site_url`` / ``app_name``: app attribution headers, ``HTTP-Referer`` and
  ``X-OpenRouter-Title`` plus ``X-Title`` (the older name OpenRouter still reads), checked
  by :meth:`validate_options`.
* Body: OpenRouter's own fields (``provider`` routing preferences, ``models`` fallbacks,
  ``route``, ``transforms``, ``reasoning``, ``usage``, ``plugins``, extra sampling fields)
  are parameters passed on unchanged (:data:`OPENROUTER_PARAMS`). ``reasoning_effort`` becomes
  ``reasoning: {effort}`` (:func:`reasoning_field`) unless a ``reasoning`` object is given,
  which then decides alone.
* Replies: reasoning from ``reasoning`` or else ``reasoning_details``; cache writes lifted
  into ``Usage.cache_creation_tokens``; ``cost`` and the other usage details kept in
  ``Usage.extra`` (:mod:`._reply`). An error object in a 200 reply or stream raises its typed
  error; moderation refusals are :class:`~chatpipe.errors.ContentFilterError`, an in-stream
  error whose code is no HTTP status a :class:`~chatpipe.errors.ServerError`; a 402 names where
  to add credits (:mod:`._errors`).
* Model list: context length and prices per million tokens (:mod:`._models`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import attrs
from chatpipe.plugin import (
    OPENAI_PARAMS,
    APIStatusError,
    Capabilities,
    ChatRequest,
    ChatResponse,
    Choice,
    ConfigError,
    ContentFilterError,
    HttpResponse,
    InvalidRequestError,
    ModelInfo,
    OpenAICompatibleProvider,
    ParamType,
    ProviderInfo,
    ServerError,
    StreamParser,
    check_options,
    json_or_none,
    make_error,
)

from ._errors import error_details, error_of, is_moderation
from ._models import with_prices
from ._reply import OpenRouterStreamParser, details_text, with_cache_writes

__all__ = ["EFFORTS", "OPENROUTER_PARAMS", "OpenRouterProvider", "reasoning_field"]

OPENROUTER_PARAMS: Mapping[str, ParamType] = {
    "provider": "object",
    "models": "array",
    "route": "string",
    "transforms": "array",
    "reasoning": "object",
    "usage": "object",
    "plugins": "array",
    "include_reasoning": "boolean",
    "top_k": "integer",
    "top_a": "number",
    "min_p": "number",
    "repetition_penalty": "number",
    "debug": "object",
}
"""OpenRouter's request fields beyond OpenAI's, passed on as given (its API reference)."""

EFFORTS: Mapping[str, str | None] = {
    "none": "none",
    "auto": None,
    "minimal": "minimal",
    "min": "minimal",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "xhigh",
    "max": "xhigh",
}
"""``reasoning_effort`` values taken, and the ``reasoning.effort`` sent (``None``: no ``reasoning`` field)."""

_HEADER_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


class OpenRouterProvider(OpenAICompatibleProvider):
    """OpenRouter's OpenAI-compatible API at ``https://openrouter.ai/api/v1``."""

    info = ProviderInfo(
        name="openrouter",
        package="chatpipe-openrouter",
        display_name="OpenRouter",
        default_base_url="https://openrouter.ai/api/v1",
        api_key_env=("OPENROUTER_API_KEY",),
        capabilities=Capabilities(vision=True, reasoning=True),
        default_model="openrouter/auto",
        params={**OPENAI_PARAMS, **OPENROUTER_PARAMS},
        description="OpenRouter: one API for many vendors' models, with provider routing, fallbacks and reasoning.",
    )
    OPTIONS: Mapping[str, type] = {"site_url": str, "app_name": str}

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        """Accept ``site_url`` (an http(s) URL) and ``app_name`` (one line of text); reject anything else."""
        check_options(cls.info.name, options, cls.OPTIONS)
        site = options.get("site_url")
        if site is not None:
            parts = urlsplit(site)
            if parts.scheme not in ("http", "https") or not parts.netloc or _HEADER_UNSAFE.search(site):
                raise ConfigError(
                    f"option 'site_url' must be your app's http(s) URL, like 'https://example.com' (got {site!r}); "
                    "OpenRouter sends it as the HTTP-Referer header",
                    path="options.site_url",
                )
        name = options.get("app_name")
        if name is not None and (not name.strip() or _HEADER_UNSAFE.search(name)):
            raise ConfigError(
                f"option 'app_name' must be your app's name on one line, like 'My App' (got {name!r}); "
                "OpenRouter sends it as the X-OpenRouter-Title header",
                path="options.app_name",
            )

    def extra_headers(self) -> dict[str, str]:
        """The attribution headers of options ``site_url`` and ``app_name`` (none when unset)."""
        headers: dict[str, str] = {}
        site = self.settings.options.get("site_url")
        if site:
            headers["HTTP-Referer"] = site
        name = self.settings.options.get("app_name")
        if name:
            headers["X-OpenRouter-Title"] = name
            headers["X-Title"] = name
        return headers

    def adjust_body(self, body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
        """``reasoning_effort`` becomes ``reasoning.effort`` unless ``reasoning`` is given (:func:`reasoning_field`)."""
        effort = body.pop("reasoning_effort", None)
        if "reasoning" not in body:
            field = reasoning_field(effort)
            if field is not None:
                body["reasoning"] = field
        return body

    # --- replies ------------------------------------------------------------------------

    def adjust_choice(self, choice: Choice) -> Choice:
        """Reasoning from ``reasoning_details`` when the message has no ``reasoning`` text."""
        if choice.reasoning:
            return choice
        text = details_text(choice.message.extra.get("reasoning_details"))
        return attrs.evolve(choice, reasoning=text) if text else choice

    def parse_chat(self, response: HttpResponse) -> ChatResponse:
        """The base reply, but an error object anywhere in a 200 body raises; cache writes lifted."""
        data = json_or_none(response.text.strip()) if b'"error"' in response.content else None
        envelope = error_of(data)
        if envelope is not None:
            raise self._error(envelope, response)
        reply = super().parse_chat(response)
        usage = with_cache_writes(reply.usage)
        return reply if usage is reply.usage else attrs.evolve(reply, usage=usage)

    def stream_parser(self, request: ChatRequest) -> StreamParser:
        """The base parser wrapped by :class:`~._reply.OpenRouterStreamParser`."""
        return OpenRouterStreamParser(super().stream_parser(request), self._stream_error_of)

    def parse_error(self, response: HttpResponse) -> APIStatusError:
        """OpenRouter's envelope with its metadata read (:mod:`._errors`); other bodies as the base reads them."""
        envelope = error_of(json_or_none(response.text.strip()))
        if envelope is None:
            return super().parse_error(response)
        return self._error(envelope, response)

    def parse_models(self, response: HttpResponse) -> list[ModelInfo]:
        """The base model list, each entry with its prices and context length (:func:`~._models.with_prices`)."""
        return [with_prices(info) for info in super().parse_models(response)]

    def _stream_error_of(self, envelope: Mapping[str, Any]) -> APIStatusError:
        return self._error(envelope, None)

    def _error(self, envelope: Mapping[str, Any], response: HttpResponse | None) -> APIStatusError:
        """The typed error for ``envelope``, from ``response`` (a non-2xx or 200 reply) or a stream (``None``)."""
        details = error_details(envelope)
        status = response.status if response is not None and response.status >= 400 else None
        if response is None:
            details = attrs.evolve(details, message=f"error inside the stream: {details.message}")
        elif status is None:
            details = attrs.evolve(details, message=f"error in a 200 reply: {details.message}")
        body = response.text if response is not None else json.dumps(envelope, ensure_ascii=False)
        error = make_error(
            details,
            provider=self.info.name,
            status=status,
            headers=response.headers if response is not None else {},
            body=body,
            secrets=self.secrets(),
            hints=self.status_hints(),
            request_id=response.request_id if response is not None else None,
        )
        retyped: type[APIStatusError] | None = None
        if is_moderation(envelope) and not isinstance(error, ContentFilterError):
            retyped = ContentFilterError
        elif response is None and type(error) is APIStatusError:
            retyped = ServerError  # failed while generating, its code a word ("server_error"), not a status
        if retyped is not None:
            return retyped(
                error.message,
                provider=error.provider,
                status=error.status,
                request_id=error.request_id,
                body=error.body,
                vendor_type=error.vendor_type,
            )
        return error


def reasoning_field(effort: Any) -> dict[str, Any] | None:
    """The ``reasoning`` body field for param ``reasoning_effort`` (``None``: send none).

    Efforts map through :data:`EFFORTS` (``max`` is OpenRouter's ``xhigh``, ``auto`` leaves the
    model's default). Raises :class:`~chatpipe.errors.InvalidRequestError` for any other value.
    """
    if effort is None:
        return None
    key = effort.lower() if isinstance(effort, str) else effort
    if key not in EFFORTS:
        raise InvalidRequestError(
            f"reasoning_effort {effort!r} is not one of {', '.join(EFFORTS)} "
            "(or give OpenRouter's own 'reasoning' object, e.g. {max_tokens: 2000})",
            where="reasoning_effort",
        )
    mapped = EFFORTS[key]
    return None if mapped is None else {"effort": mapped}
