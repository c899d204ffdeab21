"""Parse a ``POST /v1/chat/completions`` body into a :class:`ChatCall` (pure).

Fields the gateway reads itself: ``model`` (required), ``messages`` (required), ``stream``,
``stream_options.include_usage``, ``tools``, ``tool_choice``. Every other field —
``temperature``, ``max_tokens``, vendor-only fields such as ``top_k`` or ``thinking`` — is
passed through to the adapter as a request parameter under its own name.

Every problem raises :class:`~.GatewayError` 400 naming the field (``param``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ..errors import InvalidRequestError
from ..models import Message, Tool
from ..vendor import loads_json
from ..wire import messages_from_dicts, tools_from_dicts
from ._errors import GatewayError

__all__ = ["ChatCall", "parse_chat_body"]

_OWN_FIELDS = frozenset({"model", "messages", "stream", "stream_options", "tools", "tool_choice"})


@attrs.frozen
class ChatCall:
    """One chat completion request, parsed: what to send and how to answer.

    ``params`` are the pass-through fields (OpenAI and vendor-only), in request order.
    """

    model: str
    messages: tuple[Message, ...]
    stream: bool = False
    include_usage: bool = False
    tools: tuple[Tool, ...] | None = None
    tool_choice: str | Mapping[str, Any] | None = None
    params: Mapping[str, Any] = attrs.field(factory=dict)


def _bad(message: str, param: str | None = None) -> GatewayError:
    return GatewayError(400, message, param=param)


def _decode(body: bytes) -> dict[str, Any]:
    if not body.strip():
        raise _bad("the request body is empty; send a JSON object with 'model' and 'messages'")
    try:
        data = loads_json(body)
    except UnicodeDecodeError:
        raise _bad("the request body is not UTF-8 text; send JSON encoded as UTF-8") from None
    except ValueError as exc:
        raise _bad(f"the request body is not valid JSON ({exc.args[0] if exc.args else exc})") from None
    if not isinstance(data, dict):
        raise _bad(f"the request body must be a JSON object, got a JSON {type(data).__name__}")
    return data


def _stream_flags(data: Mapping[str, Any]) -> tuple[bool, bool]:
    stream = data.get("stream", False)
    if stream is None:
        stream = False
    if not isinstance(stream, bool):
        raise _bad("'stream' must be true or false", "stream")
    options = data.get("stream_options")
    if options is None:
        return stream, False
    if not isinstance(options, Mapping):
        raise _bad("'stream_options' must be an object such as {\"include_usage\": true}", "stream_options")
    include = options.get("include_usage", False)
    if not isinstance(include, bool):
        raise _bad("'stream_options.include_usage' must be true or false", "stream_options.include_usage")
    return stream, include


def parse_chat_body(body: bytes) -> ChatCall:
    """The :class:`ChatCall` a raw request body describes; :class:`GatewayError` 400 otherwise."""
    data = _decode(body)
    model = data.get("model")
    if not isinstance(model, str) or not model.strip():
        raise _bad("'model' is required: a profile name, or '<profile>/<model-id>' (see GET /v1/models)", "model")
    if "messages" not in data:
        raise _bad("'messages' is required: a list of chat messages", "messages")
    stream, include_usage = _stream_flags(data)
    tool_choice = data.get("tool_choice")
    if tool_choice is not None and not isinstance(tool_choice, (str, Mapping)):
        raise _bad("'tool_choice' must be a string (auto, none, required) or an object", "tool_choice")
    try:
        messages = messages_from_dicts(data["messages"])
        if not messages:
            raise InvalidRequestError("must hold at least one message", where="messages")
        raw_tools = data.get("tools")
        tools = tools_from_dicts(raw_tools) if raw_tools else None
    except InvalidRequestError as exc:
        raise _bad(str(exc), exc.where) from None
    params = {key: value for key, value in data.items() if key not in _OWN_FIELDS}
    return ChatCall(
        model=model.strip(),
        messages=messages,
        stream=stream,
        include_usage=include_usage and stream,
        tools=tools,
        tool_choice=tool_choice,
        params=params,
    )
