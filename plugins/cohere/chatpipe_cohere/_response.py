"""A Cohere v2 chat reply (``ChatResponseV2``) -> :class:`~chatpipe.models.ChatResponse` (pure).

* ``message.content[]``: ``text`` blocks are joined (no separator, as a stream delivers them)
  into the message content; ``thinking`` blocks into the choice's ``reasoning``; other block
  types are ignored (newer than this adapter). A plain string is taken as text.
* ``message.tool_calls[]`` become tool calls (``arguments`` kept as the JSON string sent; an
  object is serialised). With tool calls and no text, the content is ``None``.
* ``message.tool_plan`` is kept in the message's ``extra["tool_plan"]`` (sent back as the plan
  when the message returns in the history); ``message.citations`` in the response's
  ``extra["citations"]``; ``logprobs`` in the choice's ``logprobs``, in OpenAI's shape
  (:mod:`._logprobs`).
* ``finish_reason`` and ``usage``: see :mod:`._usage`. The decoded body stays in ``raw``.

Malformed shapes raise :class:`~chatpipe.vendor.MalformedPayload`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from chatpipe.plugin import (
    ChatResponse,
    Choice,
    FunctionCall,
    MalformedPayload,
    Message,
    ToolCall,
    normalise_finish_reason,
)

from ._logprobs import openai_logprobs
from ._usage import FINISH_REASONS, parse_usage

__all__ = ["arguments_text", "parse_reply"]


def _string(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise MalformedPayload(f"{where} should be a string, got {type(value).__name__}")


def arguments_text(value: Any, where: str) -> str:
    """Tool-call arguments as JSON text (a string is kept, an object serialised, absent is ``""``)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (Mapping, list)):
        return json.dumps(value, ensure_ascii=False)
    raise MalformedPayload(f"{where} should be a JSON string, got {type(value).__name__}")


def _blocks(content: Any) -> tuple[str, str]:
    """``(text, thinking)`` of ``message.content``."""
    if content is None:
        return "", ""
    if isinstance(content, str):
        return content, ""
    if not isinstance(content, list):
        raise MalformedPayload(f"message.content should be a list of blocks, got {type(content).__name__}")
    text, thinking = [], []
    for i, block in enumerate(content):
        if not isinstance(block, Mapping):
            raise MalformedPayload(f"message.content[{i}] should be an object, got {type(block).__name__}")
        if block.get("type") == "text":
            text.append(_string(block.get("text"), f"message.content[{i}].text") or "")
        elif block.get("type") == "thinking":
            thinking.append(_string(block.get("thinking"), f"message.content[{i}].thinking") or "")
    return "".join(text), "".join(thinking)


def _tool_calls(data: Any) -> tuple[ToolCall, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        raise MalformedPayload(f"message.tool_calls should be a list, got {type(data).__name__}")
    calls = []
    for i, call in enumerate(data):
        where = f"message.tool_calls[{i}]"
        function = call.get("function") if isinstance(call, Mapping) else None
        if not isinstance(function, Mapping):
            raise MalformedPayload(f"{where} should be an object with a 'function' object")
        name = _string(function.get("name"), f"{where}.function.name")
        if not name:
            raise MalformedPayload(f"{where}.function.name is missing")
        call_id = _string(call.get("id"), f"{where}.id") or f"call_0_{i}"
        calls.append(ToolCall(call_id, FunctionCall(name, arguments_text(function.get("arguments"), where))))
    return tuple(calls)


def parse_reply(data: Any, *, provider: str) -> ChatResponse:
    """The :class:`ChatResponse` for a decoded ``ChatResponseV2`` body."""
    if not isinstance(data, Mapping):
        raise MalformedPayload(f"the reply should be a JSON object, got {type(data).__name__}")
    message = data.get("message")
    if not isinstance(message, Mapping):
        raise MalformedPayload("the reply has no 'message' object")
    text, thinking = _blocks(message.get("content"))
    calls = _tool_calls(message.get("tool_calls"))
    plan = _string(message.get("tool_plan"), "message.tool_plan")
    citations = message.get("citations")
    if citations is not None and not isinstance(citations, list):
        raise MalformedPayload(f"message.citations should be a list, got {type(citations).__name__}")
    finish, raw_finish = normalise_finish_reason(data.get("finish_reason"), FINISH_REASONS)
    extra: dict[str, Any] = {}
    if citations:
        extra["citations"] = citations
    choice = Choice(
        0,
        Message(
            "assistant",
            text if text or not calls else None,
            tool_calls=calls or None,
            extra={"tool_plan": plan} if plan else {},
        ),
        finish_reason=finish,
        raw_finish_reason=raw_finish,
        reasoning=thinking or None,
        logprobs=openai_logprobs(data.get("logprobs")),
    )
    return ChatResponse(
        id=_string(data.get("id"), "id"),
        model=None,
        choices=(choice,),
        usage=parse_usage(data.get("usage")),
        provider=provider,
        extra=extra,
        raw=data,
    )
