"""Parse a ``POST /v1/messages`` body (Anthropic's Messages API) into a :class:`~._request.ChatCall` (pure).

The mapping onto chatpipe's OpenAI-shaped messages (docs/gateway.md has the table):

* ``system`` (a string or text blocks, joined by a blank line) → a leading ``system`` message;
* each ``user``/``assistant`` message → chatpipe messages: text blocks → text parts (user) or
  the joined text (assistant); ``image`` blocks (``base64`` or ``url`` source) → ``image_url``
  parts (base64 as a ``data:`` URL); ``tool_use`` → the assistant's ``tool_calls``
  (``arguments`` = the ``input`` as JSON text); ``tool_result`` → one ``tool`` message each,
  placed before the rest of that user turn (``is_error: true`` kept in the message's extra,
  where the Claude adapter reads it); signed ``thinking`` blocks and ``redacted_thinking``
  blocks → kept verbatim (signature included) in the assistant message's
  ``extra["thinking_blocks"]``, and every thinking text joined in ``extra["reasoning_content"]``:
  the same message the OpenAI route's reply carries, so a Claude profile replays them
  unchanged (an unsigned block — the gateway's rendering of another vendor's reasoning — is
  text only: Claude would refuse it without its signature);
* ``tools`` (``input_schema`` → ``parameters``), ``tool_choice`` (``auto`` → ``auto``, ``any``
  → ``required``, ``tool`` → that function, ``none`` → ``none``;
  ``disable_parallel_tool_use`` → ``parallel_tool_calls: false``);
* parameters: ``max_tokens`` (required), ``temperature``, ``top_p``, ``top_k``,
  ``stop_sequences`` → ``stop``, ``metadata.user_id`` → ``user``, and ``thinking`` →
  ``reasoning_effort`` (:func:`reasoning_effort`).

``cache_control`` and ``citations`` on blocks are dropped (not every vendor accepts them);
``service_tier`` is accepted and ignored. Any other field, block type, role or tool type is
refused with a 400 naming it: nothing a client sent is silently lost.

Every problem raises :class:`~._errors.GatewayError` 400 (``param`` names the field); the
endpoint renders it in Anthropic's error shape.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..models import FunctionCall, FunctionDef, ImagePart, ImageURL, Message, Part, TextPart, Tool, ToolCall
from ._errors import GatewayError
from ._request import ChatCall
from ._request import _decode as decode_body

__all__ = ["IGNORED_FIELDS", "SUPPORTED_FIELDS", "parse_count_tokens_body", "parse_messages_body", "reasoning_effort"]

SUPPORTED_FIELDS = frozenset(
    {
        "model",
        "messages",
        "system",
        "max_tokens",
        "stream",
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "tools",
        "tool_choice",
        "thinking",
        "metadata",
    }
)
"""The request fields ``POST /v1/messages`` maps; any other is refused (400) unless in :data:`IGNORED_FIELDS`."""

IGNORED_FIELDS = frozenset({"service_tier"})
"""Accepted and ignored: a hint about Anthropic's own capacity that no other vendor has."""

_COUNT_FIELDS = frozenset({"model", "messages", "system", "tools", "tool_choice", "thinking"})

_EFFORT_SHARES = ((0.10, "low"), (0.25, "medium"))
"""``budget_tokens / max_tokens`` up to each share → that effort; above the last → ``high``
(the inverse of the Claude adapter's budget table, so a Claude profile gets a similar budget)."""


def _bad(message: str, param: str | None = None) -> GatewayError:
    return GatewayError(400, message, param=param)


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _bad(f"'{where}' must be an object", where)
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _bad(f"'{where}' must be a string", where)
    return value


def _positive_int(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise _bad(f"'{where}' must be a positive integer", where)
    return value


def _blocks(content: Any, where: str) -> list[Mapping[str, Any]]:
    """A message's content as a block list (a string is one text block)."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list):
        raise _bad(f"'{where}' must be a string or a list of content blocks", where)
    blocks = []
    for i, block in enumerate(content):
        if not isinstance(block, Mapping) or not isinstance(block.get("type"), str):
            raise _bad(f"'{where}.{i}' must be a content block object with a 'type'", f"{where}.{i}")
        blocks.append(block)
    return blocks


def _unsupported(kind: str, where: str) -> GatewayError:
    return _bad(
        f"'{where}': content blocks of type {kind!r} are not supported by this gateway "
        "(supported: text, image, tool_use, tool_result, thinking, redacted_thinking)",
        f"{where}.type",
    )


def _image(block: Mapping[str, Any], where: str) -> ImagePart:
    source = _object(block.get("source"), f"{where}.source")
    kind = source.get("type")
    if kind == "base64":
        media_type = _text(source.get("media_type"), f"{where}.source.media_type")
        data = _text(source.get("data"), f"{where}.source.data")
        return ImagePart(ImageURL(f"data:{media_type};base64,{data}"))
    if kind == "url":
        return ImagePart(ImageURL(_text(source.get("url"), f"{where}.source.url")))
    raise _bad(
        f"'{where}.source.type' must be 'base64' or 'url' (file sources are not supported)", f"{where}.source.type"
    )


def _part(block: Mapping[str, Any], where: str) -> Part:
    """A text or image block as a content part; other types are refused."""
    kind = block["type"]
    if kind == "text":
        return TextPart(_text(block.get("text"), f"{where}.text"))
    if kind == "image":
        return _image(block, where)
    raise _unsupported(kind, where)


def _tool_result(block: Mapping[str, Any], where: str) -> Message:
    call_id = _text(block.get("tool_use_id"), f"{where}.tool_use_id")
    content = block.get("content", "")
    result: str | tuple[Part, ...]
    if isinstance(content, str):
        result = content
    else:
        result = tuple(_part(b, f"{where}.content.{i}") for i, b in enumerate(_blocks(content, f"{where}.content")))
    is_error = block.get("is_error")
    if is_error is not None and not isinstance(is_error, bool):
        raise _bad(f"'{where}.is_error' must be true or false", f"{where}.is_error")
    return Message("tool", result, tool_call_id=call_id, extra={"is_error": True} if is_error else {})


def _user(blocks: Sequence[Mapping[str, Any]], where: str) -> list[Message]:
    """A user turn: its tool results first (as ``tool`` messages), then one user message for the rest."""
    results = [_tool_result(b, f"{where}.{i}") for i, b in enumerate(blocks) if b["type"] == "tool_result"]
    parts = tuple(_part(b, f"{where}.{i}") for i, b in enumerate(blocks) if b["type"] != "tool_result")
    return [*results, Message("user", parts)] if parts or not results else results


def _tool_call(block: Mapping[str, Any], where: str) -> ToolCall:
    call_id = _text(block.get("id"), f"{where}.id")
    name = _text(block.get("name"), f"{where}.name")
    arguments = block.get("input", {})
    if not isinstance(arguments, Mapping):
        raise _bad(f"'{where}.input' must be an object", f"{where}.input")
    try:
        text = json.dumps(arguments, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except ValueError:
        raise _bad(f"'{where}.input' holds a number JSON cannot carry (Infinity or NaN)", f"{where}.input") from None
    return ToolCall(call_id, FunctionCall(name, text))


def _assistant(blocks: Sequence[Mapping[str, Any]], where: str) -> Message:
    texts: list[str] = []
    calls: list[ToolCall] = []
    thinking: list[dict[str, Any]] = []
    for i, block in enumerate(blocks):
        kind, here = block["type"], f"{where}.{i}"
        if kind == "text":
            texts.append(_text(block.get("text"), f"{here}.text"))
        elif kind == "tool_use":
            calls.append(_tool_call(block, here))
        elif kind == "thinking":
            _text(block.get("thinking"), f"{here}.thinking")
            thinking.append({k: v for k, v in block.items() if k != "cache_control"})
        elif kind == "redacted_thinking":
            _text(block.get("data"), f"{here}.data")
            thinking.append({k: v for k, v in block.items() if k != "cache_control"})
        else:
            raise _unsupported(kind, here)
    extra: dict[str, Any] = {}
    replayable = [b for b in thinking if b["type"] == "redacted_thinking" or b.get("signature")]
    if replayable:
        extra["thinking_blocks"] = replayable
    reasoning = "".join(b["thinking"] for b in thinking if b["type"] == "thinking")
    if reasoning:
        extra["reasoning_content"] = reasoning
    text = "".join(texts)
    return Message("assistant", text if text or not calls else None, tool_calls=tuple(calls) or None, extra=extra)


def _system(value: Any) -> Message | None:
    if value is None:
        return None
    if isinstance(value, str):
        return Message("system", value) if value else None
    texts = []
    for i, block in enumerate(_blocks(value, "system")):
        if block["type"] != "text":
            raise _bad(f"'system.{i}' must be a text block (system accepts text only)", f"system.{i}.type")
        texts.append(_text(block.get("text"), f"system.{i}.text"))
    return Message("system", "\n\n".join(texts)) if texts else None


def _messages(data: Mapping[str, Any]) -> tuple[Message, ...]:
    raw = data.get("messages")
    if not isinstance(raw, list) or not raw:
        raise _bad("'messages' is required: a non-empty list of user and assistant messages", "messages")
    out: list[Message] = []
    system = _system(data.get("system"))
    if system is not None:
        out.append(system)
    for i, item in enumerate(raw):
        where = f"messages.{i}"
        message = _object(item, where)
        role = message.get("role")
        blocks = _blocks(message.get("content"), f"{where}.content")
        if role == "user":
            out.extend(_user(blocks, f"{where}.content"))
        elif role == "assistant":
            out.append(_assistant(blocks, f"{where}.content"))
        else:
            raise _bad(f"'{where}.role' must be 'user' or 'assistant' (system text goes in 'system')", f"{where}.role")
    return tuple(out)


def _tools(value: Any) -> tuple[Tool, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise _bad("'tools' must be a list of tool definitions", "tools")
    tools = []
    for i, item in enumerate(value):
        where = f"tools.{i}"
        tool = _object(item, where)
        if tool.get("type", "custom") != "custom":
            raise _bad(
                f"'{where}': Anthropic server tools ({tool.get('type')!r}) are not supported by this gateway; "
                "define a custom tool with 'name' and 'input_schema'",
                f"{where}.type",
            )
        name = _text(tool.get("name"), f"{where}.name")
        schema = _object(tool.get("input_schema"), f"{where}.input_schema")
        description = tool.get("description")
        if description is not None:
            _text(description, f"{where}.description")
        tools.append(Tool(FunctionDef(name, description, dict(schema))))
    return tuple(tools) or None


def _tool_choice(value: Any, params: dict[str, Any]) -> str | Mapping[str, Any] | None:
    """The OpenAI ``tool_choice`` for Anthropic's; ``disable_parallel_tool_use`` lands in ``params``."""
    if value is None:
        return None
    choice = _object(value, "tool_choice")
    if choice.get("disable_parallel_tool_use") is True:
        params["parallel_tool_calls"] = False
    kind = choice.get("type")
    if kind == "auto":
        return "auto"
    if kind == "any":
        return "required"
    if kind == "none":
        return "none"
    if kind == "tool":
        return {"type": "function", "function": {"name": _text(choice.get("name"), "tool_choice.name")}}
    raise _bad("'tool_choice.type' must be one of auto, any, tool, none", "tool_choice.type")


def reasoning_effort(thinking: Any, max_tokens: int | None) -> str | None:
    """The ``reasoning_effort`` for Anthropic's ``thinking`` object (``None``: no thinking asked for).

    ``{"type": "enabled", "budget_tokens": B}`` → ``low`` when ``B`` is at most 10 % of
    ``max_tokens``, ``medium`` up to 25 %, else ``high``; ``{"type": "adaptive"}`` → ``medium``;
    ``{"type": "disabled"}`` → ``None``.
    """
    if thinking is None:
        return None
    choice = _object(thinking, "thinking")
    kind = choice.get("type")
    if kind == "disabled":
        return None
    if kind == "adaptive":
        return "medium"
    if kind != "enabled":
        raise _bad("'thinking.type' must be enabled, disabled or adaptive", "thinking.type")
    budget = _positive_int(choice.get("budget_tokens"), "thinking.budget_tokens")
    share = budget / max_tokens if max_tokens else 1.0
    return next((effort for limit, effort in _EFFORT_SHARES if share <= limit), "high")


def _check_fields(data: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(key for key in data if key not in allowed and key not in IGNORED_FIELDS)
    if unknown:
        raise _bad(
            f"unsupported field(s) {unknown}: this gateway's /v1/messages maps {sorted(allowed)} (see docs/gateway.md)",
            unknown[0],
        )


def _model(data: Mapping[str, Any]) -> str:
    model = data.get("model")
    if not isinstance(model, str) or not model.strip():
        raise _bad("'model' is required: a profile name, or '<profile>/<model-id>' (see GET /v1/models)", "model")
    return model.strip()


def _sampling(data: Mapping[str, Any], params: dict[str, Any]) -> None:
    for key in ("temperature", "top_p"):
        value = data.get(key)
        if value is not None:
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise _bad(f"'{key}' must be a number", key)
            params[key] = value
    if data.get("top_k") is not None:
        params["top_k"] = _positive_int(data["top_k"], "top_k")
    stops = data.get("stop_sequences")
    if stops is not None:
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            raise _bad("'stop_sequences' must be a list of strings", "stop_sequences")
        if stops:
            params["stop"] = list(stops)
    metadata = data.get("metadata")
    if metadata is not None:
        user = _object(metadata, "metadata").get("user_id")
        if user is not None:
            params["user"] = _text(user, "metadata.user_id")


def parse_messages_body(body: bytes) -> ChatCall:
    """The :class:`ChatCall` a ``POST /v1/messages`` body describes; :class:`GatewayError` 400 otherwise."""
    data = decode_body(body)
    _check_fields(data, SUPPORTED_FIELDS)
    model = _model(data)
    if "max_tokens" not in data:
        raise _bad("'max_tokens' is required: the most tokens the reply may have", "max_tokens")
    max_tokens = _positive_int(data["max_tokens"], "max_tokens")
    stream = data.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _bad("'stream' must be true or false", "stream")
    params: dict[str, Any] = {"max_tokens": max_tokens}
    _sampling(data, params)
    effort = reasoning_effort(data.get("thinking"), max_tokens)
    if effort is not None:
        params["reasoning_effort"] = effort
    tool_choice = _tool_choice(data.get("tool_choice"), params)
    return ChatCall(
        model=model,
        messages=_messages(data),
        stream=bool(stream),
        include_usage=bool(stream),
        tools=_tools(data.get("tools")),
        tool_choice=tool_choice,
        params=params,
    )


def parse_count_tokens_body(body: bytes) -> ChatCall:
    """The :class:`ChatCall` of a ``POST /v1/messages/count_tokens`` body (no ``max_tokens`` needed)."""
    data = decode_body(body)
    _check_fields(data, _COUNT_FIELDS)
    params: dict[str, Any] = {}
    tool_choice = _tool_choice(data.get("tool_choice"), params)
    reasoning_effort(data.get("thinking"), None)  # checked, not counted
    return ChatCall(
        model=_model(data), messages=_messages(data), tools=_tools(data.get("tools")), tool_choice=tool_choice
    )
