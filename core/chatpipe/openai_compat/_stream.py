"""SSE events of an OpenAI-style stream -> :class:`~chatpipe.models.ChatChunk` (pure).

Handles: ``data: [DONE]``; ``choices[].delta`` with ``role``, ``content``,
``reasoning_content`` or ``reasoning``, and ``tool_calls`` fragments (the first fragment of a
call carries ``id`` and ``name``, later ones only ``index`` and argument text — or the whole
call at once, Mistral style); ``finish_reason``; the usage-only final chunk (``choices: []``);
and usage repeated in every chunk (Perplexity). An integer ``created`` becomes every chunk's
``created``. ``choices[].logprobs`` becomes the chunk's
``logprobs``, verbatim (a choice carrying only logprobs still yields a chunk).

Usage contract: usage figures are *cumulative*. Each chunk carries the usage object it was
sent with, so a consumer must take the **last** usage seen, never sum them (that is what
:class:`~chatpipe._accumulate.StreamAccumulator` does).

A stream is complete when it sent ``data: [DONE]`` or a ``finish_reason`` (Perplexity omits
``[DONE]``; that is accepted). One that ends without either was cut short, however cleanly
its body ended: :meth:`finish` raises :class:`~chatpipe.errors.ProtocolError` (the stream
keeps the text received on it). An
``{"error": ...}`` payload or an ``event: error`` inside the 200 stream raises the typed
API error; data that is not JSON raises :class:`~chatpipe.errors.ProtocolError`.

Plain chunks after the first are read through the stream's chunk shape
(:mod:`chatpipe.openai_compat._shape`): the same chunks, without decoding the whole object.
"""

from __future__ import annotations

import json
from collections.abc import (
    Callable,
    Iterable,
    Mapping,  # not typing.Mapping: its isinstance() is ~10x slower, per chunk
)
from typing import Any

import attrs

from ..errors import APIStatusError, ProtocolError
from ..http import SSEEvent
from ..models import ChatChunk, FinishReason, ToolCallDelta, chat_chunk, chat_chunk_with_text
from ..provider import StreamParser
from ..vendor import FINISH_REASONS, MalformedPayload, json_or_none, normalise_finish_reason
from ._response import parse_logprobs, parse_usage
from ._shape import ChunkShape, learn_shape

__all__ = ["OpenAIStreamParser"]

_MODELLED_KEYS = frozenset({"id", "object", "model", "choices", "usage", "obfuscation", "created"})
_DATA_EVENTS = frozenset({"message", "", "chunk", "completion"})
_SHAPE_TRIES = 3  # a stream whose chunks never share a shape stops learning after this many

ErrorFactory = Callable[[Mapping[str, Any] | str], APIStatusError]
ProtocolFactory = Callable[[str, str], ProtocolError]


_DECODER = json.JSONDecoder()
# The decoder's own scanner (the C one; typeshed does not declare it): raw_decode without its Python frame.
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


class OpenAIStreamParser(StreamParser):
    """Parses one OpenAI-compatible SSE stream.

    ``make_error(payload)`` builds the typed error for an error event (a decoded envelope or
    the raw text); ``make_protocol_error(problem, data)`` builds the error for malformed data.
    Both come from the adapter so errors carry the provider name and scrubbed bodies.
    """

    def __init__(
        self,
        *,
        make_error: ErrorFactory,
        make_protocol_error: ProtocolFactory,
        finish_table: Mapping[str, FinishReason] = FINISH_REASONS,
    ) -> None:
        self.done = False
        self._finished = False  # a finish_reason arrived
        self._make_error = make_error
        self._make_protocol_error = make_protocol_error
        self._finish_table = finish_table
        self._keys: Any = None  # the keys of the last chunk object, and those of them that go to ``extra``
        self._extra_names: tuple[str, ...] = ()
        # A subclass that reads choices its own way (e.g. /completions' ``text``) gets every choice.
        self._plain_choices = type(self)._choice_chunk is OpenAIStreamParser._choice_chunk
        self._shape: ChunkShape | None = None  # the text of the last plain chunk, around its delta text
        self._shape_misses = 0  # shapes learnt in a row that no chunk has matched

    def feed(self, event: SSEEvent) -> Iterable[ChatChunk]:
        """The chunks one event yields; raises on error events and malformed data."""
        data = event.data
        if event.event == "message" and not self.done:
            shape = self._shape
            if shape is not None and (text := shape.text(data)):  # the chunk before's text but for its delta's
                self._shape_misses = 0
                return [chat_chunk_with_text(shape.chunk, text)]
            # The common event: one JSON object, nothing around it (the same result as below; anything
            # else — [DONE], blank, padded or broken data, an error object — takes the general path).
            try:
                decoded, end = _SCAN(data, 0)
            except (StopIteration, ValueError, RecursionError):
                pass
            else:
                if end == len(data) and type(decoded) is dict and ("error" not in decoded or decoded.get("choices")):
                    try:
                        return self._chunks(decoded, data)
                    except MalformedPayload as exc:
                        raise self._make_protocol_error(str(exc), data) from None
        return self._feed(event)

    def _feed(self, event: SSEEvent) -> Iterable[ChatChunk]:
        """:meth:`feed` for any event."""
        data = event.data.strip()
        if self.done or not data:
            return ()
        if data == "[DONE]":
            self.done = True
            return ()
        if event.event == "error":
            payload = json_or_none(data)
            raise self._make_error(payload if isinstance(payload, Mapping) else data)
        try:
            decoded, end = _DECODER.raw_decode(data)  # json.loads without its extra checks: data is stripped
            if end != len(data):
                decoded = json.loads(data)  # raises the "extra data" error
        except (ValueError, RecursionError):  # RecursionError: nested too deeply to decode
            if event.event not in _DATA_EVENTS:
                return ()  # an unknown named event carrying text: not ours to interpret
            raise self._make_protocol_error("a stream event is not valid JSON", data) from None
        if type(decoded) is not dict and not isinstance(decoded, Mapping):  # dict first: the ABC check is slower
            raise self._make_protocol_error(f"a stream event is a JSON {type(decoded).__name__}, not an object", data)
        if "error" in decoded and not decoded.get("choices"):
            raise self._make_error(decoded)
        try:
            return self._chunks(decoded)
        except MalformedPayload as exc:
            raise self._make_protocol_error(str(exc), data) from None

    def finish(self) -> Iterable[ChatChunk]:
        """The body ended: nothing is pending, but a stream without ``[DONE]`` or a finish reason was cut."""
        if not (self.done or self._finished):
            raise self._make_protocol_error(
                "the stream ended without a finish reason or [DONE]: it was cut short (the text received is kept)",
                "",
            )
        return ()

    def _chunks(self, data: Mapping[str, Any], text_data: str | None = None) -> list[ChatChunk]:
        """The chunks of one decoded event; ``text_data``, its whole text, lets a plain chunk teach the shape."""
        chunk_id = data.get("id")
        if not isinstance(chunk_id, str):
            chunk_id = None
        model = data.get("model")
        if not isinstance(model, str):
            model = None
        created = data.get("created")
        if type(created) is not int:
            created = None
        usage_data = data.get("usage")
        usage = None if usage_data is None else parse_usage(usage_data)
        keys = data.keys()
        if keys != self._keys:  # a stream's chunks mostly carry the same keys: their extra names are known
            self._keys = keys
            self._extra_names = tuple(k for k in keys if k not in _MODELLED_KEYS)
        names = self._extra_names
        extra = {k: data[k] for k in names} if names else {}
        choices = data.get("choices")
        if choices is None:
            choices = []
        if not isinstance(choices, list):
            raise MalformedPayload(f"'choices' should be a list, got {type(choices).__name__}")
        if usage is None and len(choices) == 1 and self._plain_choices:
            # The commonest chunk: one choice whose delta is its text alone, nothing else set
            # (the same chunk _choice_chunk builds from it).
            choice = choices[0]
            delta = choice.get("delta") if type(choice) is dict else None
            text = delta.get("content") if type(delta) is dict and len(delta) == 1 else None
            if (
                type(text) is str
                and text
                and type(index := choice.get("index", 0)) is int
                and choice.get("finish_reason") is None
                and choice.get("logprobs") is None
            ):
                plain = chat_chunk(index, text, "", (), None, None, None, chunk_id, model, None, created, extra)
                if text_data is not None and self._shape_misses < _SHAPE_TRIES:
                    self._shape_misses += 1
                    self._shape = learn_shape(text_data, data, plain)  # type: ignore[arg-type]
                return [plain]
        chunks: list[ChatChunk] = []
        for i, c in enumerate(choices):
            chunk = self._choice_chunk(c, i, chunk_id, model, created, extra)
            if chunk is not None:
                chunks.append(chunk)
        if usage is not None:
            if chunks:
                chunks[-1] = attrs.evolve(chunks[-1], usage=usage)
            else:
                chunks.append(ChatChunk(usage=usage, id=chunk_id, model=model, created=created, extra=extra))
        elif not chunks and extra:
            chunks.append(ChatChunk(id=chunk_id, model=model, created=created, extra=extra))
        return chunks

    def _choice_chunk(
        self,
        data: Any,
        position: int,
        chunk_id: str | None,
        model: str | None,
        created: int | None,
        extra: Mapping[str, Any],
    ) -> ChatChunk | None:
        if type(data) is not dict and not isinstance(data, Mapping):
            raise MalformedPayload(f"choices[{position}] should be an object, got {type(data).__name__}")
        index = data.get("index", position)
        if type(index) is not int and (not isinstance(index, int) or isinstance(index, bool)):
            raise MalformedPayload(f"choices[{position}].index should be an integer, got {index!r}")
        delta = data.get("delta")
        if delta is None:
            delta = {}
        if type(delta) is not dict and not isinstance(delta, Mapping):
            raise MalformedPayload(f"choices[{position}].delta should be an object, got {type(delta).__name__}")
        # Per-chunk hot path: plain strings and absent fields skip the helper calls (same results).
        text = delta.get("content")
        role: str | None = None
        calls: tuple[ToolCallDelta, ...] = ()
        reasoning: Any = ""
        if len(delta) != 1 or type(text) is not str:  # else the commonest delta: its text alone
            if type(text) is not str:
                text = _string(text, f"choices[{position}].delta.content")
            reasoning = delta.get("reasoning_content")
            if type(reasoning) is not str:
                reasoning = "" if reasoning is None else _string(reasoning, "delta.reasoning_content")
            if not reasoning:
                other = delta.get("reasoning")
                reasoning = "" if other is None else _string(other, "delta.reasoning")
            role = delta.get("role")
            if type(role) is not str:
                role = None
            tool_calls = delta.get("tool_calls")
            calls = () if tool_calls is None else _tool_call_deltas(tool_calls, position)
        raw_finish = data.get("finish_reason")
        if raw_finish is None:
            finish = raw = None
        else:
            finish, raw = normalise_finish_reason(raw_finish, self._finish_table)
            self._finished = True
        logprobs = data.get("logprobs")
        if logprobs is not None:
            logprobs = parse_logprobs(logprobs, position)
        if not (text or reasoning or calls or role or raw or logprobs):
            return None
        return chat_chunk(index, text, reasoning, calls, role, finish, raw, chunk_id, model, logprobs, created, extra)


def _string(value: Any, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # Mistral-style content chunks: join their text parts
        return "".join(p.get("text", "") for p in value if isinstance(p, Mapping) and isinstance(p.get("text"), str))
    raise MalformedPayload(f"{where} should be a string, got {type(value).__name__}")


def _tool_call_deltas(data: Any, position: int) -> tuple[ToolCallDelta, ...]:
    if data is None:
        return ()
    if not isinstance(data, list):
        raise MalformedPayload(f"choices[{position}].delta.tool_calls should be a list, got {type(data).__name__}")
    out = []
    for i, call in enumerate(data):
        where = f"choices[{position}].delta.tool_calls[{i}]"
        if not isinstance(call, Mapping):
            raise MalformedPayload(f"{where} should be an object, got {type(call).__name__}")
        index = call.get("index", i)
        if not isinstance(index, int) or isinstance(index, bool):
            raise MalformedPayload(f"{where}.index should be an integer, got {index!r}")
        function = call.get("function") or {}
        if not isinstance(function, Mapping):
            raise MalformedPayload(f"{where}.function should be an object, got {type(function).__name__}")
        arguments = function.get("arguments")
        if arguments is None:
            arguments = ""
        elif not isinstance(arguments, str):
            arguments = json.dumps(arguments, ensure_ascii=False)
        call_id = call.get("id")
        name = function.get("name")
        out.append(
            ToolCallDelta(
                index=index,
                id=call_id if isinstance(call_id, str) and call_id else None,
                name=name if isinstance(name, str) and name else None,
                arguments=arguments,
            )
        )
    return tuple(out)
