"""Replies in OpenAI format: ``chat.completion`` JSON and ``chat.completion.chunk`` SSE frames.

Every choice of a JSON reply carries ``logprobs``: the vendor's object, or ``null`` (as OpenAI
sends it). A stream chunk carries ``choices[0].logprobs`` only when the vendor sent it for that
increment (OpenAI's chunks may leave it out), so an absent field costs nothing per chunk.

``created`` is the vendor's timestamp (for a stream, the first chunk's); the gateway's clock
stands in only when the vendor sent none (Claude, Cohere, AI21 send none).

Streams follow OpenAI's shape: every chunk carries the same ``id``, ``created`` and
``model``; the first delta carries ``role: "assistant"``; chunks carry no ``usage`` unless
the client asked for ``stream_options.include_usage``, in which case one last chunk with
``choices: []`` and the usage follows (when the vendor reported usage); then ``data: [DONE]``.
An error after the stream started is sent as one ``data: {"error": {...}}`` frame and the
stream ends without ``[DONE]`` (what OpenAI does; its SDKs raise on it).

Only standard JSON is sent: a non-finite float a vendor sent (``1e999`` decodes to ``inf``, in
a usage object for example) is sent as ``null``, never as ``Infinity`` or ``NaN``.
"""

from __future__ import annotations

import json
import time
from typing import Any

from ..models import ChatChunk, Usage
from ..wire import chunk_to_dict, finite_json, usage_to_dict
from ..wire import completion_to_dict as completion_json
from ..wire import new_completion_id as new_id
from ._errors import GatewayError

__all__ = ["DONE", "StreamRenderer", "completion_json", "encode_json", "sse_frame"]

DONE = b"data: [DONE]\n\n"


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
"""One encoder for every frame: ``json.dumps`` with options builds a new encoder each call."""


def encode_json(obj: Any) -> bytes:
    """Compact UTF-8 standard JSON; a non-finite float anywhere in ``obj`` becomes ``null``.

    A reply nested too deeply to encode raises a 502 :class:`~._errors.GatewayError` (the
    vendor sent it; ``RecursionError`` never escapes).
    """
    try:
        try:
            text = _ENCODE(obj)
        except ValueError:  # a non-finite float: rare, so the copy is paid only then
            text = _ENCODE(finite_json(obj))
    except RecursionError:
        text = ""
    if not text:
        raise GatewayError(502, "the vendor's reply is nested too deeply to send on as JSON", type="api_error")
    return text.encode("utf-8")


def sse_frame(obj: Any) -> bytes:
    """One ``data: <json>`` server-sent event."""
    return b"data: " + encode_json(obj) + b"\n\n"


_SENTINEL = "\x00chatpipe-text\x00"


def _only_text(chunk: ChatChunk) -> bool:
    """Whether ``chunk`` is a plain text increment of choice 0 (what most chunks of a stream are)."""
    return (
        chunk.index == 0
        and chunk.finish_reason is None
        and chunk.usage is None
        and chunk.role is None
        and chunk.logprobs is None
        and not chunk.reasoning
        and not chunk.tool_calls
        and bool(chunk.text)
    )


class StreamRenderer:
    """Turns :class:`~chatpipe.models.ChatChunk` objects into SSE frames for one stream.

    ``model`` is the name used until (unless) the vendor names its model; ``include_usage``
    is the client's ``stream_options.include_usage``; ``created`` (default: the clock when the
    renderer is made) the timestamp used unless the stream's first chunk carries the vendor's.
    """

    def __init__(self, *, model: str, include_usage: bool, created: int | None = None) -> None:
        self.include_usage = include_usage
        self._clock = int(time.time()) if created is None else created
        self.created: int | None = None
        self.id: str | None = None
        self.model: str | None = None
        self._fallback_model = model
        self._role_sent: set[int] = set()
        self.usage: Usage | None = None
        self._text_frame: tuple[bytes, bytes] | None = None  # (head, tail) of a text-only frame at index 0

    def _stamp(self, chunk: ChatChunk) -> None:
        if self.id is None:  # the first chunk: it fixes the stream's id and timestamp
            self.id = chunk.id or new_id()
            self.created = chunk.created if chunk.created is not None else self._clock
        if self.model is None:
            self.model = chunk.model or self._fallback_model

    def chunk(self, chunk: ChatChunk) -> bytes | None:
        """The frame for ``chunk``, or ``None`` when it carries nothing a client sees (usage is kept)."""
        if self._text_frame is not None and _only_text(chunk):
            head, tail = self._text_frame
            return head + _ENCODE(chunk.text).encode("utf-8") + tail
        self._stamp(chunk)
        if chunk.usage is not None:
            self.usage = chunk.usage
        body = chunk_to_dict(chunk)
        body.pop("usage", None)
        choice = body["choices"][0]
        delta = choice["delta"]
        if chunk.index not in self._role_sent:
            self._role_sent.add(chunk.index)
            delta.setdefault("role", "assistant")
            if "content" not in delta and "tool_calls" not in delta:
                delta["content"] = ""
        elif not delta and choice["finish_reason"] is None and chunk.logprobs is None:
            return None
        frame = self._frame(body["choices"])
        if self._text_frame is None and 0 in self._role_sent and _only_text(chunk):
            self._text_frame = self._split_text_frame()
        return frame

    def _split_text_frame(self) -> tuple[bytes, bytes]:
        """The bytes around the text of a text-only frame: most of a stream's frames differ only there.

        Made once per stream by rendering a sentinel text the general way, so both paths send the same bytes.
        """
        frame = self._frame([{"index": 0, "delta": {"content": _SENTINEL}, "finish_reason": None}])
        head, _, tail = frame.partition(_ENCODE(_SENTINEL).encode("utf-8"))
        return head, tail

    def _frame(self, choices: list[dict[str, Any]]) -> bytes:
        body = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }
        if self.include_usage:
            body["usage"] = None
        return sse_frame(body)

    def finish(self, usage: Usage | None = None) -> bytes:
        """The closing frames: the usage chunk (if asked for and known), then ``[DONE]``."""
        usage = usage if usage is not None else self.usage
        if not self.include_usage or usage is None:
            return DONE
        body = {
            "id": self.id or new_id(),
            "object": "chat.completion.chunk",
            "created": self._clock if self.created is None else self.created,
            "model": self.model or self._fallback_model,
            "choices": [],
            "usage": usage_to_dict(usage),
        }
        return sse_frame(body) + DONE

    @staticmethod
    def error(error: GatewayError) -> bytes:
        """The frame reporting a failure after the stream started."""
        return sse_frame(error.body())
