"""Recorded-style OpenAI payloads used across the adapter tests (shapes follow the spec)."""

from __future__ import annotations

import json
from typing import Any

from chatpipe.http import HttpResponse, SSEEvent


def completion(
    content: str | None = "Hello there.",
    *,
    finish_reason: str | None = "stop",
    tool_calls: list[dict[str, Any]] | None = None,
    usage: dict[str, Any] | None = None,
    message_extra: dict[str, Any] | None = None,
    **top: Any,
) -> dict[str, Any]:
    """A ``chat.completion`` object as OpenAI returns it."""
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None}
    if tool_calls is not None:
        message["tool_calls"] = tool_calls
    message.update(message_extra or {})
    body: dict[str, Any] = {
        "id": "chatcmpl-abc123",
        "object": "chat.completion",
        "created": 1764300000,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
        "usage": usage
        if usage is not None
        else {
            "prompt_tokens": 12,
            "completion_tokens": 4,
            "total_tokens": 16,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        },
        "system_fingerprint": "fp_0ba0d124f1",
    }
    body.update(top)
    return body


def chunk(
    delta: dict[str, Any] | None = None,
    *,
    finish_reason: str | None = None,
    usage: dict[str, Any] | None = None,
    choices: list[dict[str, Any]] | None = None,
    **top: Any,
) -> dict[str, Any]:
    """A ``chat.completion.chunk`` object."""
    body: dict[str, Any] = {
        "id": "chatcmpl-stream1",
        "object": "chat.completion.chunk",
        "created": 1764300000,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_0ba0d124f1",
        "choices": choices
        if choices is not None
        else [{"index": 0, "delta": delta or {}, "logprobs": None, "finish_reason": finish_reason}],
    }
    if usage is not None:
        body["usage"] = usage
    body.update(top)
    return body


def event(payload: Any, name: str = "message") -> SSEEvent:
    """An SSE event whose data is ``payload`` as JSON (or the string itself)."""
    return SSEEvent(payload if isinstance(payload, str) else json.dumps(payload), event=name)


def http(status: int, body: Any = b"", **headers: str) -> HttpResponse:
    """A response with a JSON (dict/list), text or bytes body."""
    if isinstance(body, (dict, list)):
        content = json.dumps(body).encode()
    elif isinstance(body, str):
        content = body.encode()
    else:
        content = body
    return HttpResponse(status, {k.replace("_", "-").lower(): v for k, v in headers.items()}, content)


TOOL_CALL_FRAGMENTS = [
    chunk({"role": "assistant", "content": None}),
    chunk(
        {
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_weather",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": ""},
                }
            ]
        }
    ),
    chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": '}}]}),
    chunk(
        {
            "tool_calls": [
                {"index": 1, "id": "call_time", "type": "function", "function": {"name": "get_time", "arguments": ""}}
            ]
        }
    ),
    chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}),
    chunk({"tool_calls": [{"index": 1, "function": {"arguments": '{"tz": "CET"}'}}]}),
    chunk({}, finish_reason="tool_calls"),
    chunk(choices=[], usage={"prompt_tokens": 80, "completion_tokens": 30, "total_tokens": 110}),
]
"""Two parallel tool calls streamed as interleaved fragments, then the usage-only chunk."""
