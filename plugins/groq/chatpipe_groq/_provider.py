"""The GroqCloud adapter: the OpenAI-compatible base plus Groq's differences (docs/vendors/groq.md).

* Body: :data:`DROPPED_PARAMS` (``logprobs``, ``top_logprobs``, ``logit_bias``, ``n``) and
  every message's ``name`` are removed — GroqCloud answers 400 to them (``n`` is accepted only
  as 1, the one choice it returns anyway). ``include_body`` can still force any field back.
* Reasoning (:func:`check_reasoning`): ``reasoning_format`` must be ``parsed``, ``raw`` or
  ``hidden``; ``reasoning_effort`` one of :data:`EFFORTS`; ``include_reasoning`` and
  ``reasoning_format`` exclude each other. Each is an :class:`InvalidRequestError` naming the
  parameter before anything is sent. The reply's ``message.reasoning`` (and a delta's
  ``reasoning``) is the base's reasoning field, so it becomes ``reply.reasoning``.
* ``x_groq``: the request id and, in a stream's last chunk, the usage Groq reports there;
  :class:`GroqStreamParser` lifts ``x_groq.usage`` to ``usage`` when the chunk has none.
  Everything else in ``x_groq`` stays in the chunk's or reply's ``extra``.
* Model list: each entry's ``context_window`` fills ``ModelInfo.context_length``.
* HTTP 498 is Groq's "flex tier capacity exceeded" (``service_tier: flex``): an
  :class:`OverloadedError`, retried like a 503 (not the base's 401-like 498).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
from chatpipe.plugin import (
    DEFAULT_RETRYABLE_STATUSES,
    OPENAI_PARAMS,
    APIStatusError,
    Capabilities,
    ChatChunk,
    ChatRequest,
    HttpResponse,
    InvalidRequestError,
    ModelInfo,
    OpenAICompatibleProvider,
    OverloadedError,
    ProviderInfo,
    SSEEvent,
    StreamParser,
    error_details,
    scrub,
    truncate,
)

__all__ = [
    "DROPPED_PARAMS",
    "EFFORTS",
    "REASONING_FORMATS",
    "GroqProvider",
    "GroqStreamParser",
    "check_reasoning",
]

DROPPED_PARAMS = ("logprobs", "top_logprobs", "logit_bias", "n")
"""OpenAI body fields GroqCloud rejects (``n`` unless 1); removed before include/exclude apply."""

REASONING_FORMATS = ("parsed", "raw", "hidden")
"""``reasoning_format`` values: reasoning in ``message.reasoning``, inside ``<think>`` in the text, or not returned."""

EFFORTS = ("none", "default", "low", "medium", "high")
"""``reasoning_effort`` values Groq takes (Qwen 3: ``none``/``default``; GPT-OSS: ``low``/``medium``/``high``)."""

FLEX_CAPACITY_STATUS = 498
"""Groq's own status for a ``service_tier: flex`` request refused for lack of capacity."""

_PARAMS = {
    **{name: kind for name, kind in OPENAI_PARAMS.items() if name not in DROPPED_PARAMS[:3]},
    "reasoning_format": "string",
    "include_reasoning": "boolean",
    "search_settings": "object",
    "documents": "array",
    "citation_options": "string",
    "compound_custom": "object",
    "disable_tool_validation": "boolean",
}


class GroqProvider(OpenAICompatibleProvider):
    """GroqCloud's OpenAI-compatible chat completions (fast open-weight models, reasoning models)."""

    info = ProviderInfo(
        name="groq",
        package="chatpipe-groq",
        display_name="GroqCloud",
        default_base_url="https://api.groq.com/openai/v1",
        api_key_env=("GROQ_API_KEY",),
        capabilities=Capabilities(tools=True, vision=True, reasoning=True),
        retryable_statuses=DEFAULT_RETRYABLE_STATUSES | {FLEX_CAPACITY_STATUS},
        default_model="llama-3.1-8b-instant",
        params=_PARAMS,
        description="GroqCloud's OpenAI-compatible chat API: fast open-weight and reasoning models.",
    )

    def adjust_body(self, body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
        """Check the reasoning parameters; drop :data:`DROPPED_PARAMS` and each message's ``name``."""
        check_reasoning(body)
        for key in DROPPED_PARAMS:
            body.pop(key, None)
        messages = body.get("messages")
        if isinstance(messages, list) and any(isinstance(m, dict) and "name" in m for m in messages):
            body["messages"] = [
                {k: v for k, v in m.items() if k != "name"} if isinstance(m, dict) else m for m in messages
            ]
        return body

    def stream_parser(self, request: ChatRequest) -> StreamParser:
        """The base parser behind :class:`GroqStreamParser` (``x_groq.usage`` read as usage)."""
        return GroqStreamParser(super().stream_parser(request))

    def parse_models(self, response: HttpResponse) -> list[ModelInfo]:
        """``GET /models``, each entry's ``context_window`` as its ``context_length``."""
        models = super().parse_models(response)
        return [_with_context_window(m) for m in models]

    def parse_error(self, response: HttpResponse) -> APIStatusError:
        """The base mapping, except HTTP 498 (flex capacity exceeded): an :class:`OverloadedError`."""
        if response.status != FLEX_CAPACITY_STATUS:
            return super().parse_error(response)
        details = error_details(response)
        secrets = self.secrets()
        message = (
            f"{details.message.rstrip('.')} (GroqCloud's flex tier is at capacity; chatpipe retries it, "
            "or leave service_tier unset for on-demand processing)"
        )
        return OverloadedError(
            scrub(message, secrets),
            provider=self.info.name,
            status=response.status,
            request_id=response.request_id,
            body=truncate(scrub(response.text, secrets)),
            vendor_type=details.code or details.type,
        )


class GroqStreamParser(StreamParser):
    """Wraps the OpenAI stream parser: a chunk whose usage Groq sent only in ``x_groq.usage``
    (older API versions, or no ``stream_options``) is read as if it were the chunk's ``usage``."""

    def __init__(self, inner: StreamParser) -> None:
        self.inner = inner
        self.done = False

    def feed(self, event: SSEEvent) -> Iterable[ChatChunk]:
        """The wrapped parser's chunks for ``event``, with ``x_groq.usage`` lifted to ``usage``."""
        if '"x_groq"' in event.data and '"usage"' in event.data:
            event = _lift_usage(event)
        chunks = self.inner.feed(event)
        self.done = self.inner.done
        return chunks

    def finish(self) -> Iterable[ChatChunk]:
        """The wrapped parser's end-of-stream check."""
        return self.inner.finish()


def _lift_usage(event: SSEEvent) -> SSEEvent:
    try:
        data = json.loads(event.data)
    except ValueError:
        return event  # the wrapped parser reports malformed data
    if not isinstance(data, dict) or data.get("usage") is not None:
        return event
    extra = data.get("x_groq")
    if not isinstance(extra, Mapping) or not isinstance(extra.get("usage"), Mapping):
        return event
    return attrs.evolve(event, data=json.dumps({**data, "usage": extra["usage"]}))


def check_reasoning(body: Mapping[str, Any]) -> None:
    """Raise :class:`InvalidRequestError` for a reasoning parameter GroqCloud would refuse.

    ``reasoning_format`` must be one of :data:`REASONING_FORMATS` and ``reasoning_effort`` one
    of :data:`EFFORTS`; ``include_reasoning`` may not be combined with ``reasoning_format``.
    """
    fmt = body.get("reasoning_format")
    if fmt is not None and fmt not in REASONING_FORMATS:
        raise InvalidRequestError(
            f"reasoning_format {fmt!r} is not one of {', '.join(REASONING_FORMATS)}", where="reasoning_format"
        )
    effort = body.get("reasoning_effort")
    if effort is not None and effort not in EFFORTS:
        raise InvalidRequestError(
            f"reasoning_effort {effort!r} is not one GroqCloud takes ({', '.join(EFFORTS)}; "
            "Qwen 3 takes none/default, GPT-OSS low/medium/high)",
            where="reasoning_effort",
        )
    if fmt is not None and body.get("include_reasoning") is not None:
        raise InvalidRequestError(
            "include_reasoning and reasoning_format cannot both be set for GroqCloud; keep one "
            "(reasoning_format: hidden is include_reasoning: false)",
            where="include_reasoning",
        )


def _with_context_window(model: ModelInfo) -> ModelInfo:
    window = model.extra.get("context_window")
    if model.context_length is not None or type(window) is not int:
        return model
    return attrs.evolve(model, context_length=window)
