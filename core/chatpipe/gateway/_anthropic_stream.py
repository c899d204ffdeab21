"""Anthropic's event stream for one streamed reply: chatpipe chunks in, ``event:``/``data:`` frames out.

The order a client sees (what Anthropic sends)::

    message_start, ping,
    (content_block_start, content_block_delta..., content_block_stop) per block,
    message_delta (stop_reason, stop_sequence, usage), message_stop

A block is opened when the kind of content changes: reasoning → a ``thinking`` block
(``thinking_delta``; when the vendor signed it — Claude, whose adapter hands the finished block
over in ``message_extra["thinking_blocks"]`` — a ``signature_delta`` before its stop; a
``redacted_thinking`` block is sent whole), text → a ``text`` block (``text_delta``), each new
tool call → a ``tool_use`` block whose arguments arrive as ``input_json_delta`` fragments.
Usage is known only at the end for most vendors: ``message_start`` carries what the first chunk
had (usually zeros) and ``message_delta`` the final counts (input, output, cache).

A failure after the stream began is one ``error`` event (Anthropic's error shape); what was
already sent stays sent, the open block is left open, and no ``message_stop`` follows.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from ..models import ChatChunk, Usage
from ._anthropic_render import error_json, message_id, stop_reason, usage_json
from ._errors import GatewayError
from ._render import encode_json

__all__ = ["AnthropicStreamRenderer", "event_frame"]

_THINKING_START: Mapping[str, Any] = {"type": "thinking", "thinking": "", "signature": ""}
"""How a thinking block opens; its text and signature follow as deltas."""


def event_frame(name: str, data: Mapping[str, Any]) -> bytes:
    """One server-sent event ``event: <name>`` with ``data: <json>``."""
    return b"event: " + name.encode("ascii") + b"\ndata: " + encode_json(data) + b"\n\n"


class AnthropicStreamRenderer:
    """Turns one stream's :class:`~chatpipe.models.ChatChunk` objects into Anthropic events.

    ``model`` is the name used unless the vendor names its model. Only choice 0 is rendered
    (the Messages API has one reply per request). The same interface as
    :class:`~._render.StreamRenderer`, so :class:`~._stream.SSEResponse` sends either.
    """

    def __init__(self, *, model: str) -> None:
        self._model = model
        self._started = False
        self._open: str | None = None  # "thinking", "text" or "tool:<n>" while a block is open
        self._blocks = 0
        self._tool_blocks: dict[int, int] = {}
        self._signed = 0  # how many of the vendor's finished thinking blocks were sent on
        self._finish: str | None = None
        self._raw_finish: str | None = None
        self._stop_sequence: str | None = None
        self.usage: Usage | None = None

    # --- frames -------------------------------------------------------------------------

    def _start(self, chunk: ChatChunk | None) -> bytes:
        self._started = True
        usage = usage_json(chunk.usage if chunk is not None else None)
        message: dict[str, Any] = {
            "id": message_id(chunk.id if chunk is not None else None),
            "type": "message",
            "role": "assistant",
            "model": (chunk.model if chunk is not None else None) or self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage,
        }
        return event_frame("message_start", {"type": "message_start", "message": message}) + event_frame(
            "ping", {"type": "ping"}
        )

    def _open_block(self, kind: str, block: Mapping[str, Any]) -> bytes:
        out = self._close()
        self._open = kind
        out += event_frame(
            "content_block_start", {"type": "content_block_start", "index": self._blocks, "content_block": block}
        )
        return out

    def _close(self) -> bytes:
        if self._open is None:
            return b""
        self._open = None
        self._blocks += 1
        return event_frame("content_block_stop", {"type": "content_block_stop", "index": self._blocks - 1})

    def _delta(self, delta: Mapping[str, Any], index: int | None = None) -> bytes:
        where = self._blocks if index is None else index
        return event_frame("content_block_delta", {"type": "content_block_delta", "index": where, "delta": delta})

    # --- content ------------------------------------------------------------------------

    def _reasoning(self, text: str) -> bytes:
        out = b"" if self._open == "thinking" else self._open_block("thinking", _THINKING_START)
        return out + self._delta({"type": "thinking_delta", "thinking": text})

    def _finished_thinking(self, blocks: Any) -> bytes:
        """The vendor's finished thinking blocks not sent on yet: a signature for the open one, redacted ones whole."""
        if not isinstance(blocks, list):
            return b""
        out = b""
        for block in blocks[self._signed :]:
            self._signed += 1
            if not isinstance(block, Mapping):
                continue
            if block.get("type") == "redacted_thinking":
                out += self._open_block("redacted", dict(block)) + self._close()
                continue
            if self._open != "thinking":
                out += self._open_block("thinking", _THINKING_START)
                text = block.get("thinking")
                if isinstance(text, str) and text:
                    out += self._delta({"type": "thinking_delta", "thinking": text})
            signature = block.get("signature")
            if isinstance(signature, str) and signature:
                out += self._delta({"type": "signature_delta", "signature": signature})
            out += self._close()
        return out

    def _text(self, text: str) -> bytes:
        out = b"" if self._open == "text" else self._open_block("text", {"type": "text", "text": ""})
        return out + self._delta({"type": "text_delta", "text": text})

    def _tool_calls(self, chunk: ChatChunk) -> bytes:
        out = b""
        for call in chunk.tool_calls:
            if call.index not in self._tool_blocks:
                block = {"type": "tool_use", "id": call.id or f"toolu_{uuid.uuid4().hex}", "name": call.name or ""}
                out += self._open_block(f"tool:{call.index}", {**block, "input": {}})
                self._tool_blocks[call.index] = self._blocks
            if call.arguments:
                index = self._tool_blocks[call.index]
                out += self._delta({"type": "input_json_delta", "partial_json": call.arguments}, index)
        return out

    # --- the renderer interface -----------------------------------------------------------

    def chunk(self, chunk: ChatChunk) -> bytes | None:
        """The events for ``chunk`` (the first one also opens the message); ``None`` when there are none."""
        if chunk.index != 0:
            return None
        out = b"" if self._started else self._start(chunk)
        if chunk.reasoning:
            out += self._reasoning(chunk.reasoning)
        if "thinking_blocks" in chunk.message_extra:
            out += self._finished_thinking(chunk.message_extra["thinking_blocks"])
        if chunk.text:
            out += self._text(chunk.text)
        if chunk.tool_calls:
            out += self._tool_calls(chunk)
        if chunk.finish_reason is not None:
            self._finish, self._raw_finish = chunk.finish_reason, chunk.raw_finish_reason
        sequence = chunk.extra.get("stop_sequence")
        if isinstance(sequence, str):
            self._stop_sequence = sequence
        if chunk.usage is not None:
            self.usage = chunk.usage
        return out or None

    def finish(self, usage: Usage | None = None) -> bytes:
        """The closing events: the open block's stop, ``message_delta`` (stop reason, usage), ``message_stop``."""
        out = b"" if self._started else self._start(None)
        out += self._close()
        reason = stop_reason(
            self._finish, self._raw_finish, has_tool_calls=bool(self._tool_blocks), stop_sequence=self._stop_sequence
        )
        delta = {"stop_reason": reason, "stop_sequence": self._stop_sequence}
        final = usage_json(usage if usage is not None else self.usage)
        out += event_frame("message_delta", {"type": "message_delta", "delta": delta, "usage": final})
        return out + event_frame("message_stop", {"type": "message_stop"})

    @staticmethod
    def error(error: GatewayError) -> bytes:
        """The ``error`` event for a failure after the stream began."""
        return event_frame("error", error_json(error))
