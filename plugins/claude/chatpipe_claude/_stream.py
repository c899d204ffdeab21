"""Claude's typed SSE events -> :class:`~chatpipe.models.ChatChunk` (pure, one parser per stream).

Events handled (the event kind is the payload's ``type``, else the SSE ``event:`` name):

* ``message_start``: the message ``id``, ``model``, role and first usage (input and cache tokens);
* ``content_block_start`` / ``content_block_delta`` / ``content_block_stop`` per block ``index``:

  * ``text`` blocks: ``text_delta`` → chunk text; ``citations_delta`` → the citations so far
    in ``chunk.extra["citations"]`` (cumulative, so the last one wins when assembled);
  * ``tool_use`` blocks: the start gives a :class:`~chatpipe.models.ToolCallDelta` with ``id``
    and ``name`` at the next tool-call index (block indexes are not tool-call indexes);
    ``input_json_delta`` fragments are its ``arguments``; a call that received no fragment
    gets ``"{}"`` at its stop, as the non-streaming reply says;
  * ``thinking`` blocks: ``thinking_delta`` → chunk reasoning; ``signature_delta`` is kept;
    at the block's stop the complete block — and ``redacted_thinking`` blocks — go out as
    ``chunk.message_extra["thinking_blocks"]`` (cumulative list), to be sent back unchanged;
  * any other block (server tools...) is rebuilt (its ``input_json_delta`` included) and goes
    out as ``message_extra["vendor_blocks"]`` at its stop;

* ``message_delta``: ``stop_reason`` (mapped, raw kept), ``stop_sequence`` (in ``extra``) and
  usage, merged into the usage of ``message_start`` (Claude's figures are cumulative);
* ``message_stop``: :attr:`done`; ``ping``: nothing; unknown events: nothing (forward compatible);
* ``error`` (``event: error`` inside the 200 stream): the typed error is raised; the pipeline
  keeps the text received so far on it.

Malformed data (not JSON, wrong types, a delta for a block that never started) raises
:class:`~chatpipe.errors.ProtocolError`; so does a stream that ends before ``message_stop``
(the reply would be silently incomplete).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import attrs
from chatpipe.plugin import (
    APIStatusError,
    ChatChunk,
    MalformedPayload,
    ProtocolError,
    SSEEvent,
    StreamParser,
    ToolCallDelta,
    loads_json,
)

from ._response import THINKING_TYPES, finish_reason, parse_usage

__all__ = ["ClaudeStreamParser"]

ErrorFactory = Callable[[Mapping[str, Any] | str], APIStatusError]
ProtocolFactory = Callable[[str, str], ProtocolError]


@attrs.define
class _Block:
    kind: str
    data: dict[str, Any]
    tool_index: int | None = None
    json_parts: list[str] = attrs.field(factory=list)


class ClaudeStreamParser(StreamParser):
    """Parses one Claude Messages stream (see the module docstring).

    ``make_error(payload)`` builds the typed error of an error event; ``make_protocol_error(
    problem, data)`` the error for malformed data. Both come from the adapter, so errors carry
    the provider name and scrubbed bodies.
    """

    def __init__(self, *, make_error: ErrorFactory, make_protocol_error: ProtocolFactory) -> None:
        self.done = False
        self._make_error = make_error
        self._protocol = make_protocol_error
        self._blocks: dict[int, _Block] = {}
        self._tools = 0
        self._usage: dict[str, Any] = {}
        self._citations: list[Any] = []
        self._kept: dict[str, list[dict[str, Any]]] = {"thinking_blocks": [], "vendor_blocks": []}
        self._started = False

    # --- entry points ---------------------------------------------------------------------

    def feed(self, event: SSEEvent) -> Iterable[ChatChunk]:
        """The chunks one event yields; raises on error events and malformed data."""
        data = event.data.strip()
        if self.done or not data or event.event == "ping":
            return ()
        try:
            payload: Any = loads_json(data)
        except ValueError:
            if event.event == "error":
                raise self._make_error(data) from None
            raise self._protocol("a stream event is not valid JSON", data) from None
        if not isinstance(payload, Mapping):
            raise self._protocol("a stream event should be a JSON object", data)
        kind = payload["type"] if isinstance(payload.get("type"), str) else event.event
        if kind == "error" or event.event == "error":
            raise self._make_error(payload)
        handler = self._HANDLERS.get(kind)
        if handler is None:
            return ()
        try:
            return handler(self, payload)
        except MalformedPayload as exc:
            raise self._protocol(str(exc), data) from None

    def finish(self) -> Iterable[ChatChunk]:
        """The byte stream ended: fine after ``message_stop``, a ProtocolError before it."""
        if not self.done:
            what = "before message_stop" if self._started else "without any message event"
            raise self._protocol(f"the stream ended {what}; the reply is incomplete", "")
        return ()

    # --- events ---------------------------------------------------------------------------

    def _message_start(self, payload: Mapping[str, Any]) -> list[ChatChunk]:
        message = _mapping(payload, "message")
        self._started = True
        self._usage.update(_optional_mapping(message, "usage"))
        ident, model = message.get("id"), message.get("model")
        return [
            ChatChunk(
                role="assistant",
                id=ident if isinstance(ident, str) else None,
                model=model if isinstance(model, str) else None,
                usage=parse_usage(self._usage) if self._usage else None,
            )
        ]

    def _block_start(self, payload: Mapping[str, Any]) -> list[ChatChunk]:
        index = _index(payload)
        block = dict(_mapping(payload, "content_block"))
        kind = block.get("type")
        if not isinstance(kind, str):
            raise MalformedPayload("content_block_start needs a block with a 'type'")
        state = _Block(kind, block)
        self._blocks[index] = state
        if kind == "text":
            text = _str(block, "text", default="")
            return [ChatChunk(text=text)] if text else []
        if kind == "thinking":
            text = _str(block, "thinking", default="")
            return [ChatChunk(reasoning=text)] if text else []
        if kind == "tool_use":
            state.tool_index = self._tools
            self._tools += 1
            call = ToolCallDelta(state.tool_index, id=_str(block, "id"), name=_str(block, "name"))
            initial = block.get("input")
            if isinstance(initial, Mapping) and initial:
                state.json_parts.append(json.dumps(initial, ensure_ascii=False))
                call = attrs.evolve(call, arguments=state.json_parts[0])
            return [ChatChunk(tool_calls=(call,))]
        return []

    def _block_delta(self, payload: Mapping[str, Any]) -> list[ChatChunk]:
        state = self._block(payload)
        delta = _mapping(payload, "delta")
        kind = delta.get("type")
        if kind == "text_delta":
            return [ChatChunk(text=_str(delta, "text"))]
        if kind == "thinking_delta":
            text = _str(delta, "thinking")
            state.data["thinking"] = _str(state.data, "thinking", default="") + text
            return [ChatChunk(reasoning=text)]
        if kind == "signature_delta":
            state.data["signature"] = _str(state.data, "signature", default="") + _str(delta, "signature")
            return []
        if kind == "input_json_delta":
            fragment = _str(delta, "partial_json")
            state.json_parts.append(fragment)
            if state.tool_index is None or not fragment:
                return []
            return [ChatChunk(tool_calls=(ToolCallDelta(state.tool_index, arguments=fragment),))]
        if kind == "citations_delta":
            self._citations.append(delta.get("citation"))
            return [ChatChunk(extra={"citations": list(self._citations)})]
        return []

    def _block_stop(self, payload: Mapping[str, Any]) -> list[ChatChunk]:
        state = self._block(payload)
        if state.kind == "text":
            return []
        if state.kind == "tool_use":
            if state.tool_index is not None and not "".join(state.json_parts):
                return [ChatChunk(tool_calls=(ToolCallDelta(state.tool_index, arguments="{}"),))]
            return []
        key = "thinking_blocks" if state.kind in THINKING_TYPES else "vendor_blocks"
        block = dict(state.data)
        if state.json_parts:
            try:
                block["input"] = loads_json("".join(state.json_parts))
            except ValueError:
                raise MalformedPayload(f"the input of a {state.kind} block is not valid JSON") from None
        self._kept[key].append(block)
        return [ChatChunk(message_extra={key: list(self._kept[key])})]

    def _message_delta(self, payload: Mapping[str, Any]) -> list[ChatChunk]:
        delta = _optional_mapping(payload, "delta")
        self._usage.update(_optional_mapping(payload, "usage"))
        finish, raw = finish_reason(delta.get("stop_reason"))
        extra = {"stop_sequence": delta["stop_sequence"]} if delta.get("stop_sequence") is not None else {}
        usage = parse_usage(self._usage) if self._usage else None
        return [ChatChunk(finish_reason=finish, raw_finish_reason=raw, usage=usage, extra=extra)]

    def _message_stop(self, payload: Mapping[str, Any]) -> list[ChatChunk]:
        self.done = True
        return []

    _HANDLERS: ClassVar[dict[str, Callable[[ClaudeStreamParser, Mapping[str, Any]], list[ChatChunk]]]] = {
        "message_start": _message_start,
        "content_block_start": _block_start,
        "content_block_delta": _block_delta,
        "content_block_stop": _block_stop,
        "message_delta": _message_delta,
        "message_stop": _message_stop,
    }

    def _block(self, payload: Mapping[str, Any]) -> _Block:
        index = _index(payload)
        if index not in self._blocks:
            raise MalformedPayload(f"an event refers to content block {index}, which never started")
        return self._blocks[index]


def _mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise MalformedPayload(f"'{key}' should be an object")
    return value


def _optional_mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise MalformedPayload(f"'{key}' should be an object")
    return value


def _str(data: Mapping[str, Any], key: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise MalformedPayload(f"'{key}' should be a string")
    return value


def _index(payload: Mapping[str, Any]) -> int:
    index = payload.get("index")
    if isinstance(index, bool) or not isinstance(index, int):
        raise MalformedPayload("a content block event needs an integer 'index'")
    return index
