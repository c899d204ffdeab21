"""Prompt and completion content in the GenAI conventions' message shape, and its opt-in switch.

Content is recorded only when the user opts in (the conventions' guidance: it may hold
personal data). Only text, tool calls and tool results are kept; other parts (images, audio,
files) are named by type without their payload. Nothing here sees a header, so no key.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from chatpipe.plugin import ChatResponse, ConfigError

ENV = "CHATPIPE_OTEL_CAPTURE_CONTENT"
OTEL_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def capture_from_env(environ: Mapping[str, str] | None = None) -> bool:
    """Whether content capture is on: ``CHATPIPE_OTEL_CAPTURE_CONTENT``, else the OpenTelemetry
    GenAI instrumentations' ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``; off when
    neither is set. A value that is no boolean raises :class:`ConfigError` naming it."""
    env = os.environ if environ is None else environ
    for name in (ENV, OTEL_ENV):
        if name in env:
            value = env[name].strip().lower()
            if value in _TRUE:
                return True
            if value in _FALSE:
                return False
            raise ConfigError(f"{name}={env[name]!r} is not a boolean: set it to true or false")
    return False


def _parts(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    parts: list[dict[str, Any]] = []
    for part in content if isinstance(content, list) else []:
        if isinstance(part, Mapping):
            kind = str(part.get("type", "unknown"))
            text = part.get("text")
            parts.append({"type": "text", "content": text} if isinstance(text, str) else {"type": kind})
    return parts


def _input_message(message: Mapping[str, Any]) -> dict[str, Any]:
    role = str(message.get("role", "user"))
    parts = _parts(message.get("content"))
    if role == "tool":
        parts = [{"type": "tool_call_response", "id": message.get("tool_call_id"), "response": message.get("content")}]
    for call in message.get("tool_calls") or ():
        function = call.get("function", {}) if isinstance(call, Mapping) else {}
        parts.append(
            {
                "type": "tool_call",
                "id": call.get("id"),
                "name": function.get("name"),
                "arguments": function.get("arguments"),
            }
        )
    return {"role": role, "parts": parts}


def input_attributes(body: Mapping[str, Any]) -> dict[str, str]:
    """``gen_ai.input.messages`` (and ``gen_ai.system_instructions`` for a top-level ``system``)
    of a chat request body, as JSON strings; empty when the body has no ``messages`` list."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return {}
    out = {"gen_ai.input.messages": json.dumps([_input_message(m) for m in messages if isinstance(m, Mapping)])}
    system = body.get("system")
    if system is not None:
        out["gen_ai.system_instructions"] = json.dumps(_parts(system))
    return out


def output_messages(response: ChatResponse) -> str:
    """``gen_ai.output.messages`` of a reply, as a JSON string."""
    out = []
    for choice in response.choices:
        parts: list[dict[str, Any]] = []
        if choice.message.text:
            parts.append({"type": "text", "content": choice.message.text})
        for call in choice.message.tool_calls or ():
            parts.append(
                {"type": "tool_call", "id": call.id, "name": call.function.name, "arguments": call.function.arguments}
            )
        out.append({"role": choice.message.role, "parts": parts, "finish_reason": choice.finish_reason or ""})
    return json.dumps(out)
