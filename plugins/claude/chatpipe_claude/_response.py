"""Claude ``Message`` JSON -> :class:`~chatpipe.models.ChatResponse` (pure); stop reasons and usage.

* Text blocks are joined with no separator into ``content`` (what a stream delivers; Claude
  splits text into several blocks around citations). Their ``citations`` are collected,
  in order, into ``response.extra["citations"]``.
* ``tool_use`` blocks become tool calls (``arguments`` = ``json.dumps(input)``).
* ``thinking`` text becomes ``Choice.reasoning``; every ``thinking`` and ``redacted_thinking``
  block is kept verbatim, signature included, in ``message.extra["thinking_blocks"]`` so that
  sending the message back replays them unchanged.
* Other block types (server tools, web search results...) are kept verbatim in
  ``message.extra["vendor_blocks"]`` and are replayed too.
* Stop reasons: :data:`STOP_REASONS`; the raw value is kept as ``raw_finish_reason`` and a
  matched ``stop_sequence`` in ``response.extra``. Unknown top-level keys land in ``extra``.
* Usage: prompt = ``input_tokens`` + ``cache_creation_input_tokens`` +
  ``cache_read_input_tokens`` (OpenAI's meaning: cached tokens included); ``cached_tokens`` is
  the cache read, ``cache_creation_tokens`` the cache write; ``extra`` keeps the whole object.

Malformed data raises :class:`~chatpipe.vendor.MalformedPayload`; a 200 body that
is Claude's error envelope raises :class:`~chatpipe.vendor.ErrorInBody`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from chatpipe.plugin import (
    ChatResponse,
    Choice,
    ErrorInBody,
    FinishReason,
    FunctionCall,
    MalformedPayload,
    Message,
    ToolCall,
    Usage,
    wire,
)

__all__ = ["STOP_REASONS", "THINKING_TYPES", "finish_reason", "parse_message", "parse_usage", "tool_call"]

STOP_REASONS: Mapping[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    "pause_turn": "pause",
}
"""Claude ``stop_reason`` → chatpipe finish reason (``pause``: resend to let a server tool go on)."""

THINKING_TYPES = frozenset({"thinking", "redacted_thinking"})
_MODELLED = frozenset({"id", "type", "role", "model", "content", "stop_reason", "stop_sequence", "usage"})


def finish_reason(raw: Any) -> tuple[FinishReason | None, str | None]:
    """``(normalised, raw)`` for a ``stop_reason``; unknown values normalise to ``None``."""
    if raw is None:
        return None, None
    text = raw if isinstance(raw, str) else str(raw)
    return STOP_REASONS.get(text), text


def parse_usage(data: Any) -> Usage | None:
    """chatpipe usage for a Claude usage object (``None`` when it is not an object).

    A count that is not a token count (``wire.token_count``: a float such as ``1e999``, out of
    range) is unknown (``None``); the raw object is kept whole in ``extra``.
    """
    if not isinstance(data, Mapping):
        return None
    fresh = wire.token_count(data.get("input_tokens"))
    written = wire.token_count(data.get("cache_creation_input_tokens"))
    read = wire.token_count(data.get("cache_read_input_tokens"))
    prompt = None if fresh is None else fresh + (written or 0) + (read or 0)
    completion = wire.token_count(data.get("output_tokens"))
    total = prompt + completion if prompt is not None and completion is not None else None
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total,
        cached_tokens=read,
        cache_creation_tokens=written,
        extra=dict(data),
    )


def tool_call(block: Mapping[str, Any], where: str) -> ToolCall:
    """The tool call of a complete ``tool_use`` block."""
    call_id, name, arguments = block.get("id"), block.get("name"), block.get("input", {})
    if not isinstance(call_id, str) or not isinstance(name, str) or not isinstance(arguments, Mapping):
        raise MalformedPayload(f"{where} is a tool_use block without a string id, a string name and an input object")
    return ToolCall(call_id, FunctionCall(name, json.dumps(arguments, ensure_ascii=False)))


def _string(block: Mapping[str, Any], key: str, where: str) -> str:
    value = block.get(key)
    if not isinstance(value, str):
        raise MalformedPayload(f"{where}.{key} should be a string")
    return value


def parse_message(data: Any, *, provider: str) -> ChatResponse:
    """The :class:`ChatResponse` for a decoded Claude ``Message``."""
    if not isinstance(data, Mapping):
        raise MalformedPayload("a Claude reply should be a JSON object of type 'message'")
    if data.get("type") == "error":
        raise ErrorInBody(data)
    content = data.get("content")
    if not isinstance(content, list):
        raise MalformedPayload("a Claude reply should have a 'content' list of blocks")
    texts: list[str] = []
    reasoning: list[str] = []
    calls: list[ToolCall] = []
    citations: list[Any] = []
    kept: dict[str, list[dict[str, Any]]] = {"thinking_blocks": [], "vendor_blocks": []}
    for i, block in enumerate(content):
        where = f"content[{i}]"
        if not isinstance(block, Mapping) or not isinstance(block.get("type"), str):
            raise MalformedPayload(f"{where} should be a block object with a 'type'")
        kind = block["type"]
        if kind == "text":
            texts.append(_string(block, "text", where))
            if isinstance(block.get("citations"), list):
                citations.extend(block["citations"])
        elif kind == "tool_use":
            calls.append(tool_call(block, where))
        elif kind in THINKING_TYPES:
            if kind == "thinking":
                reasoning.append(_string(block, "thinking", where))
            kept["thinking_blocks"].append(dict(block))
        else:
            kept["vendor_blocks"].append(dict(block))
    text = "".join(texts)
    finish, raw = finish_reason(data.get("stop_reason"))
    message = Message(
        "assistant",
        text if text or not calls else None,
        tool_calls=tuple(calls) or None,
        extra={k: v for k, v in kept.items() if v},
    )
    extra = {k: v for k, v in data.items() if k not in _MODELLED}
    if data.get("stop_sequence") is not None:
        extra["stop_sequence"] = data["stop_sequence"]
    if citations:
        extra["citations"] = citations
    return ChatResponse(
        id=data.get("id") if isinstance(data.get("id"), str) else None,
        model=data.get("model") if isinstance(data.get("model"), str) else None,
        choices=(
            Choice(0, message, finish_reason=finish, raw_finish_reason=raw, reasoning="".join(reasoning) or None),
        ),
        usage=parse_usage(data.get("usage")),
        provider=provider,
        extra=extra,
        raw=data,
    )
