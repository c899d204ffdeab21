"""The DeepSeek adapter: the OpenAI-compatible base plus DeepSeek's differences (docs/vendors/deepseek.md).

* Base URL ``https://api.deepseek.com/beta`` so chat prefix completion works; the model list
  is read from the non-beta base (a trailing ``/beta`` is stripped for ``GET /models``).
* Required conversion ``semi-strict-tools`` (run by the pipeline after the user's chain).
* :meth:`prepare`: a ``json_schema`` response format (DeepSeek has JSON mode only) becomes
  ``json_object`` plus a user message carrying the schema
  (:func:`~chatpipe.vendor.json_schema_as_message`), merged into a trailing user turn by
  running the required ``semi-strict-tools`` merge again, as the reference appends it before
  that conversion. Then, when the request defines no tools and contains no ``tool`` message, and
  the **last** message is an assistant message, it gets ``prefix: true`` (the API only accepts
  ``prefix`` on the last message; the reference says "the last assistant message", which
  would be rejected when it is not last). Option ``prefix: false`` turns this off. Every
  message with ``tool_calls`` gets ``reasoning_content: ""`` unless it already has the key.
* Thinking (:func:`thinking_fields`): the body always carries ``thinking: {"type": "enabled"}``
  when reasoning is asked for — param ``reasoning_effort`` other than ``none``/``auto`` — and
  ``{"type": "disabled"}`` otherwise, as the reference does; ``reasoning_effort`` is sent only
  with thinking on, as ``max`` for ``max``/``xhigh`` and ``high`` for every other effort (the
  reference's mapping). A ``thinking`` param of the caller's is sent as given and decides.
* Body: ``n``, ``logit_bias`` and ``top_k`` are dropped; a tool whose parameters say
  ``required: []`` loses that key. ``include_body`` can still force any of them back.
* Finish reason ``insufficient_system_resource`` normalises to ``error`` (base table).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from chatpipe.plugin import (
    OPENAI_PARAMS,
    Capabilities,
    ChatRequest,
    InvalidRequestError,
    Message,
    OpenAICompatibleProvider,
    ProviderInfo,
    check_options,
    json_schema_as_message,
    merge_messages,
)

__all__ = ["DROPPED_PARAMS", "EFFORTS", "DeepSeekProvider", "thinking_fields"]

DROPPED_PARAMS = ("n", "logit_bias", "top_k")
"""Body fields DeepSeek does not accept; removed before include/exclude apply."""

EFFORTS: Mapping[str, str | None] = {
    "none": None,
    "auto": None,
    "minimal": "high",
    "min": "high",
    "low": "high",
    "medium": "high",
    "high": "high",
    "xhigh": "max",
    "max": "max",
}
"""``reasoning_effort`` values taken, and what DeepSeek is sent (``None``: no reasoning asked for)."""


class DeepSeekProvider(OpenAICompatibleProvider):
    """DeepSeek's OpenAI-compatible chat API (beta base, for prefix completion)."""

    info = ProviderInfo(
        name="deepseek",
        package="chatpipe-deepseek",
        display_name="DeepSeek",
        default_base_url="https://api.deepseek.com/beta",
        api_key_env=("DEEPSEEK_API_KEY",),
        capabilities=Capabilities(reasoning=True),
        required_converters=("semi-strict-tools",),
        default_model="deepseek-chat",
        params={**OPENAI_PARAMS, "top_k": "integer", "thinking": "object"},
        description="DeepSeek's chat API: chat and reasoner models, prefix completion, reasoning_content.",
    )
    OPTIONS: Mapping[str, type] = {"prefix": bool}

    @classmethod
    def validate_options(cls, options: Mapping[str, Any]) -> None:
        """Accept ``prefix`` (a bool, default true); reject anything else."""
        check_options(cls.info.name, options, cls.OPTIONS)

    def prepare(self, request: ChatRequest) -> ChatRequest:
        """The schema workaround; mark a trailing assistant message as a prefix; give tool-call
        messages ``reasoning_content``."""
        with_schema = json_schema_as_message(request)
        if with_schema is not request:
            merged = merge_messages(
                with_schema.messages, self.settings.context, strict=True, placeholders=False, single=False, tools=True
            )
            request = attrs.evolve(with_schema, messages=merged)
        messages = list(request.messages)
        use_prefix = self.settings.options.get("prefix", True)
        no_tools = not request.tools and not any(m.role == "tool" for m in messages)
        if use_prefix and no_tools and messages and messages[-1].role == "assistant" and not messages[-1].tool_calls:
            last = messages[-1]
            if "prefix" not in last.extra:
                messages[-1] = attrs.evolve(last, extra={**last.extra, "prefix": True})
        messages = [_with_reasoning_content(m) for m in messages]
        return attrs.evolve(request, messages=tuple(messages))

    def models_base_url(self) -> str:
        """The base URL without a trailing ``/beta``: the model list lives at the API root."""
        base = self.base_url
        return base[: -len("/beta")] if base.endswith("/beta") else base

    def adjust_body(self, body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
        """Drop ``n``, ``logit_bias``, ``top_k``; set ``thinking`` (and ``reasoning_effort``, see
        :func:`thinking_fields`); remove empty ``required`` lists from tool parameters."""
        for key in DROPPED_PARAMS:
            body.pop(key, None)
        body.update(thinking_fields(body.pop("thinking", None), body.pop("reasoning_effort", None)))
        if "tools" in body:
            body["tools"] = [_without_empty_required(t) for t in body["tools"]]
        return body


def thinking_fields(thinking: Any, effort: Any) -> dict[str, Any]:
    """The ``thinking`` and ``reasoning_effort`` body fields for the caller's two params.

    ``thinking`` given is kept as is and decides whether the model thinks; else reasoning is
    asked for when ``effort`` maps to a DeepSeek effort (:data:`EFFORTS`). ``reasoning_effort``
    is sent only when the model thinks and an effort was asked for. Raises
    :class:`~chatpipe.errors.InvalidRequestError` for an effort that is not in :data:`EFFORTS`.
    """
    mapped = None
    if effort is not None:
        key = effort.lower() if isinstance(effort, str) else effort
        if key not in EFFORTS:
            raise InvalidRequestError(
                f"reasoning_effort {effort!r} is not one of {', '.join(EFFORTS)} "
                "(DeepSeek is sent 'high' or 'max'; 'none' turns thinking off)",
                where="reasoning_effort",
            )
        mapped = EFFORTS[key]
    if thinking is None:
        thinking = {"type": "enabled" if mapped else "disabled"}
    fields: dict[str, Any] = {"thinking": thinking}
    if mapped and isinstance(thinking, Mapping) and thinking.get("type") == "enabled":
        fields["reasoning_effort"] = mapped
    return fields


def _with_reasoning_content(message: Message) -> Message:
    if message.tool_calls is None or "reasoning_content" in message.extra:
        return message
    return attrs.evolve(message, extra={**message.extra, "reasoning_content": ""})


def _without_empty_required(tool: dict[str, Any]) -> dict[str, Any]:
    function = tool.get("function")
    if not isinstance(function, Mapping):
        return tool
    parameters = function.get("parameters")
    if not isinstance(parameters, Mapping) or parameters.get("required") != []:
        return tool
    trimmed = {k: v for k, v in parameters.items() if k != "required"}
    return {**tool, "function": {**function, "parameters": trimmed}}
