"""Replies and errors in Anthropic's Messages API shape (pure): ``message`` JSON, stop reasons, usage.

A :class:`~chatpipe.models.ChatResponse` becomes a ``message``:

* ``id``: the vendor's when it starts with ``msg_``, else ``msg_`` + the vendor's id (a fresh
  one when it gave none); ``model``: the vendor's model, else the requested one;
* ``content``: the thinking blocks first — the vendor's own when it sent signed ones
  (``message.extra["thinking_blocks"]``, Claude), else one ``thinking`` block with the
  reasoning text and an empty ``signature`` — then the text, then one ``tool_use`` block per
  tool call (``input`` = the parsed arguments);
* ``stop_reason`` (:func:`stop_reason`) and ``stop_sequence``; ``usage`` (:func:`usage_json`).

Errors keep the status :func:`~._errors.from_chatpipe_error` decided (one mapping for both
APIs); only the rendering differs (:func:`error_json`), plus Anthropic's own status for an
overloaded vendor (529).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from ..models import ChatResponse, Choice, ToolCall, Usage
from ._errors import GatewayError

__all__ = ["anthropic_status", "error_json", "message_id", "message_json", "stop_reason", "tool_input", "usage_json"]

_ERROR_TYPES: Mapping[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    422: "invalid_request_error",
    429: "rate_limit_error",
    504: "timeout_error",
    529: "overloaded_error",
}
"""Anthropic's ``error.type`` per status; any other 4xx is ``invalid_request_error``, 5xx ``api_error``."""

OVERLOADED = 529
"""Anthropic's status for an overloaded service (the OpenAI route answers 503)."""


def anthropic_status(error: GatewayError) -> int:
    """The HTTP status of ``error`` on the Anthropic route: its own, but 529 for an overloaded vendor."""
    return OVERLOADED if error.code == "upstream_overloaded" else error.status


def error_json(error: GatewayError) -> dict[str, Any]:
    """``{"type": "error", "error": {"type", "message"}}`` for ``error`` (the message is already safe)."""
    status = anthropic_status(error)
    kind = _ERROR_TYPES.get(status) or ("invalid_request_error" if status < 500 else "api_error")
    return {"type": "error", "error": {"type": kind, "message": error.message}}


def message_id(vendor_id: str | None) -> str:
    """A ``msg_…`` id: the vendor's when it already is one, else ``msg_`` + the vendor's (or a fresh) id."""
    if vendor_id and vendor_id.startswith("msg_"):
        return vendor_id
    return f"msg_{vendor_id or uuid.uuid4().hex}"


def stop_reason(finish: str | None, raw: str | None, *, has_tool_calls: bool, stop_sequence: str | None = None) -> str:
    """Anthropic's ``stop_reason`` for a chatpipe finish reason.

    ``length`` → ``max_tokens``; ``content_filter`` → ``refusal``; ``pause`` → ``pause_turn``;
    ``tool_calls`` — or any other end of a reply holding tool calls (some local models say
    ``stop``) — → ``tool_use``; ``stop`` → ``stop_sequence`` when the vendor reported the matched
    sequence (Claude does; OpenAI-family vendors do not), else ``end_turn`` (also when unknown).
    """
    if finish == "length":
        return "max_tokens"
    if finish == "content_filter":
        return "refusal"
    if finish == "pause":
        return "pause_turn"
    if finish == "tool_calls" or has_tool_calls:
        return "tool_use"
    if stop_sequence is not None or raw == "stop_sequence":
        return "stop_sequence"
    return "end_turn"


def usage_json(usage: Usage | None) -> dict[str, int]:
    """Anthropic's usage: ``input_tokens`` without the cached ones (chatpipe's prompt count includes them)."""
    if usage is None:
        return {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    read = usage.cached_tokens or 0
    written = usage.cache_creation_tokens or 0
    return {
        "input_tokens": max(0, (usage.prompt_tokens or 0) - read - written),
        "output_tokens": usage.completion_tokens or 0,
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": read,
    }


def tool_input(call: ToolCall) -> dict[str, Any]:
    """A tool call's arguments as the ``input`` object (empty arguments: ``{}``); 502 when not a JSON object."""
    text = call.function.arguments.strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise GatewayError(
            502,
            f"the vendor's arguments for tool call {call.function.name!r} are not a JSON object",
            type="upstream_error",
            code="upstream_protocol_error",
        )
    return value


def _thinking_blocks(choice: Choice) -> list[dict[str, Any]]:
    kept = choice.message.extra.get("thinking_blocks")
    if isinstance(kept, list) and kept:
        return [dict(b) for b in kept if isinstance(b, Mapping)]
    if choice.reasoning:
        return [{"type": "thinking", "thinking": choice.reasoning, "signature": ""}]
    return []


def message_json(response: ChatResponse, *, model: str) -> dict[str, Any]:
    """The Anthropic ``message`` for ``response`` (its first choice); ``model`` when the vendor named none."""
    content: list[dict[str, Any]] = []
    finish = raw = None
    calls: tuple[ToolCall, ...] = ()
    if response.choices:
        choice = response.choices[0]
        finish, raw = choice.finish_reason, choice.raw_finish_reason
        content.extend(_thinking_blocks(choice))
        if choice.message.text:
            content.append({"type": "text", "text": choice.message.text})
        calls = choice.message.tool_calls or ()
        content.extend({"type": "tool_use", "id": c.id, "name": c.function.name, "input": tool_input(c)} for c in calls)
    sequence = response.extra.get("stop_sequence")
    sequence = sequence if isinstance(sequence, str) else None
    return {
        "id": message_id(response.id),
        "type": "message",
        "role": "assistant",
        "model": response.model or model,
        "content": content,
        "stop_reason": stop_reason(finish, raw, has_tool_calls=bool(calls), stop_sequence=sequence),
        "stop_sequence": sequence,
        "usage": usage_json(response.usage),
    }
