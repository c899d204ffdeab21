"""SSE events of a Cohere v2 chat stream -> :class:`~chatpipe.models.ChatChunk` (pure).

Each event's data is a JSON object whose ``type`` names it (the SSE ``event:`` name is used only
when ``type`` is missing):

* ``message-start``: the reply ``id`` and role;
* ``content-start`` / ``content-delta``: ``delta.message.content.text`` -> text,
  ``.thinking`` -> reasoning, the event's ``logprobs`` -> the chunk's, in OpenAI's shape
  (:mod:`._logprobs`); ``content-end``: nothing;
* ``tool-plan-delta``: ``delta.message.tool_plan`` fragments; each chunk carries the plan so
  far in ``message_extra["tool_plan"]`` (the assembled message gets the whole plan, as a
  non-streamed reply does);
* ``tool-call-start``: the call at ``index`` with its ``id``, function name and possibly the
  first argument text; ``tool-call-delta``: argument fragments; ``tool-call-end``: nothing;
* ``citation-start``: ``delta.message.citations`` (one citation) is added to the list carried
  in the chunk's ``extra["citations"]``; ``citation-end``: nothing;
* ``message-end``: ``delta.finish_reason`` and ``delta.usage`` (see :mod:`._usage`); a
  ``delta.error`` raises the typed error. The stream is logically done here.

``debug`` and unknown event types are ignored; a trailing ``data: [DONE]`` is tolerated.
Data that is not a JSON object, or events of the wrong shape, raise
:class:`~chatpipe.errors.ProtocolError`, and so does a stream that ends before ``message-end``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from chatpipe.plugin import (
    APIStatusError,
    ChatChunk,
    MalformedPayload,
    ProtocolError,
    SSEEvent,
    StreamParser,
    ToolCallDelta,
    loads_json,
    normalise_finish_reason,
)

from ._logprobs import openai_logprobs
from ._response import arguments_text
from ._usage import FINISH_REASONS, parse_usage

__all__ = ["CohereStreamParser"]

ErrorFactory = Callable[[str, str], APIStatusError]
"""``(vendor message, raw event data) -> typed error``."""
ProtocolFactory = Callable[[str, str], ProtocolError]
"""``(problem, raw event data) -> ProtocolError``."""

_IGNORED = frozenset({"content-end", "tool-call-end", "citation-end", "debug"})


def _path(data: Mapping[str, Any], *keys: str) -> Any:
    """The value at ``data[k1][k2]...`` (``None`` when a key is missing)."""
    node: Any = data
    walked: list[str] = []
    for key in keys:
        if node is None:
            return None
        if not isinstance(node, Mapping):
            raise MalformedPayload(f"{'.'.join(walked)} should be an object, got {type(node).__name__}")
        node = node.get(key)
        walked.append(key)
    return node


def _text(value: Any, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedPayload(f"{where} should be a string, got {type(value).__name__}")
    return value


def _index(data: Mapping[str, Any]) -> int:
    index = data.get("index", 0)
    if not isinstance(index, int) or isinstance(index, bool):
        raise MalformedPayload(f"index should be an integer, got {index!r}")
    return index


class CohereStreamParser(StreamParser):
    """Parses one Cohere v2 chat stream (see the module docstring).

    ``make_error`` and ``make_protocol_error`` come from the adapter, so errors carry the
    provider name and key-scrubbed bodies.
    """

    def __init__(self, *, make_error: ErrorFactory, make_protocol_error: ProtocolFactory) -> None:
        self.done = False
        self._make_error = make_error
        self._make_protocol_error = make_protocol_error
        self._plan: list[str] = []
        self._citations: list[Any] = []

    def feed(self, event: SSEEvent) -> Iterable[ChatChunk]:
        """The chunks one event yields; raises on error events and malformed data."""
        data = event.data.strip()
        if self.done or not data:
            return ()
        if data == "[DONE]":
            self.done = True
            return ()
        try:
            decoded = loads_json(data)
        except ValueError:
            raise self._make_protocol_error("a stream event is not valid JSON", data) from None
        if not isinstance(decoded, Mapping):
            raise self._make_protocol_error(f"a stream event is a JSON {type(decoded).__name__}, not an object", data)
        kind = decoded.get("type")
        if kind is None and event.event not in ("message", ""):
            kind = event.event
        if not isinstance(kind, str):
            if isinstance(decoded.get("message"), str):
                raise self._make_error(decoded["message"], data)
            raise self._make_protocol_error("a stream event has no 'type'", data)
        try:
            return self._chunks(kind, decoded, data)
        except MalformedPayload as exc:
            raise self._make_protocol_error(f"{kind} event: {exc}", data) from None

    def _chunks(self, kind: str, event: Mapping[str, Any], data: str) -> list[ChatChunk]:
        if kind == "message-start":
            reply_id = event.get("id")
            return [ChatChunk(role="assistant", id=reply_id if isinstance(reply_id, str) else None)]
        if kind in ("content-start", "content-delta"):
            text = _text(_path(event, "delta", "message", "content", "text"), "delta.message.content.text")
            thinking = _text(_path(event, "delta", "message", "content", "thinking"), "content.thinking")
            logprobs = openai_logprobs(event.get("logprobs"))
            if not (text or thinking or logprobs):
                return []
            return [ChatChunk(text=text, reasoning=thinking, logprobs=logprobs)]
        if kind == "tool-plan-delta":
            piece = _text(_path(event, "delta", "message", "tool_plan"), "delta.message.tool_plan")
            if not piece:
                return []
            self._plan.append(piece)
            return [ChatChunk(message_extra={"tool_plan": "".join(self._plan)})]
        if kind == "tool-call-start":
            return [ChatChunk(tool_calls=(self._call_start(event),))]
        if kind == "tool-call-delta":
            where = "delta.message.tool_calls.function.arguments"
            arguments = arguments_text(_path(event, "delta", "message", "tool_calls", "function", "arguments"), where)
            return [ChatChunk(tool_calls=(ToolCallDelta(_index(event), arguments=arguments),))] if arguments else []
        if kind == "citation-start":
            citation = _path(event, "delta", "message", "citations")
            if citation is None:
                return []
            self._citations.extend(citation if isinstance(citation, list) else [citation])
            return [ChatChunk(extra={"citations": list(self._citations)})]
        if kind == "message-end":
            return self._end(event, data)
        if kind in _IGNORED:
            return []
        return []  # an event type newer than this adapter

    def _call_start(self, event: Mapping[str, Any]) -> ToolCallDelta:
        call = _path(event, "delta", "message", "tool_calls")
        if not isinstance(call, Mapping):
            raise MalformedPayload("delta.message.tool_calls should be an object")
        name = _text(_path(call, "function", "name"), "delta.message.tool_calls.function.name")
        if not name:
            raise MalformedPayload("delta.message.tool_calls.function.name is missing")
        call_id = _text(call.get("id"), "delta.message.tool_calls.id")
        arguments = arguments_text(_path(call, "function", "arguments"), "delta.message.tool_calls.function.arguments")
        return ToolCallDelta(_index(event), id=call_id or None, name=name, arguments=arguments)

    def _end(self, event: Mapping[str, Any], data: str) -> list[ChatChunk]:
        delta = event.get("delta") or {}
        if not isinstance(delta, Mapping):
            raise MalformedPayload(f"delta should be an object, got {type(delta).__name__}")
        error = delta.get("error")
        if error:
            raise self._make_error(error if isinstance(error, str) else json.dumps(error), data)
        finish, raw = normalise_finish_reason(delta.get("finish_reason"), FINISH_REASONS)
        usage = parse_usage(delta.get("usage"), "delta.usage")
        self.done = True
        reply_id = event.get("id")
        return [
            ChatChunk(
                finish_reason=finish,
                raw_finish_reason=raw,
                usage=usage,
                id=reply_id if isinstance(reply_id, str) else None,
            )
        ]

    def finish(self) -> Iterable[ChatChunk]:
        """Raise :class:`ProtocolError` when the stream ended before ``message-end``."""
        if not self.done:
            raise self._make_protocol_error("the stream ended before its message-end event", "")
        return ()
