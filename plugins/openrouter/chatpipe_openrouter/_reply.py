"""What OpenRouter adds to an OpenAI-style reply: reasoning details, usage details, errors in a 200 stream.

* Reasoning: OpenRouter sends the model's thinking as ``message.reasoning`` /
  ``delta.reasoning`` (which the base adapter reads) and as ``reasoning_details``, a list of
  ``reasoning.text`` (``text``), ``reasoning.summary`` (``summary``) and ``reasoning.encrypted``
  (no readable text) blocks. :func:`details_text` is the readable text of such a list; it is used
  only when ``reasoning`` itself is empty, so the same thinking is never counted twice. A stream
  sends the details as fragments; :func:`merge_fragments` assembles them, and the parser hands
  the assembled list on as the message's ``reasoning_details`` (``ChatChunk.message_extra``), so
  a streamed reply keeps them for the next turn as a non-streamed one does.
* Usage (:func:`with_cache_writes`): ``cost``, ``is_byok``, ``cost_details`` and the token
  details stay in ``Usage.extra``; cached and reasoning tokens are lifted by the base adapter,
  and ``prompt_tokens_details.cache_write_tokens`` becomes ``Usage.cache_creation_tokens``.
* :class:`OpenRouterStreamParser`: wraps the base parser; an event carrying an error object —
  top level, with or without ``choices``, or in a choice — raises it (a mid-stream failure
  ends with ``finish_reason: "error"`` and that object beside the choice). ``: OPENROUTER
  PROCESSING`` comment lines never reach a parser: the SSE reader drops comments.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs
from chatpipe.plugin import APIStatusError, ChatChunk, SSEEvent, StreamParser, Usage, json_or_none

from ._errors import error_of

__all__ = [
    "OpenRouterStreamParser",
    "details_text",
    "merge_fragments",
    "with_cache_writes",
    "with_details_reasoning",
]


def details_text(details: Any) -> str:
    """The readable text of a ``reasoning_details`` list (text and summary blocks, in order)."""
    if not isinstance(details, list):
        return ""
    parts = []
    for block in details:
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        value = block.get("text") if kind == "reasoning.text" else block.get("summary")
        if kind in ("reasoning.text", "reasoning.summary") and isinstance(value, str):
            parts.append(value)
    return "".join(parts)


def with_details_reasoning(message: Mapping[str, Any]) -> Mapping[str, Any]:
    """``message`` (or a delta) with ``reasoning`` filled from ``reasoning_details`` when it has none."""
    if message.get("reasoning") or message.get("reasoning_content"):
        return message
    text = details_text(message.get("reasoning_details"))
    return {**message, "reasoning": text} if text else message


_FRAGMENT_TEXT = ("text", "summary", "data")


def merge_fragments(blocks: list[dict[str, Any]], fragments: list[Any]) -> None:
    """Add streamed ``reasoning_details`` fragments to ``blocks``, the details assembled so far.

    A fragment continues the last block when both have the same ``type`` and ``index``: its
    ``text`` / ``summary`` / ``data`` strings are appended and its other keys (``signature``,
    ``format``, ``id``) set when not null. Any other fragment starts a new block. Blocks are
    replaced, never changed in place, so a list handed out earlier stays as it was.
    """
    for fragment in fragments:
        if not isinstance(fragment, Mapping):
            continue
        last = blocks[-1] if blocks else None
        if last is None or last.get("type") != fragment.get("type") or last.get("index") != fragment.get("index"):
            blocks.append(dict(fragment))
            continue
        merged = dict(last)
        for key, value in fragment.items():
            if key in _FRAGMENT_TEXT and isinstance(value, str) and isinstance(merged.get(key), str):
                merged[key] += value
            elif value is not None:
                merged[key] = value
        blocks[-1] = merged


def with_cache_writes(usage: Usage | None) -> Usage | None:
    """``usage`` with ``cache_creation_tokens`` from ``prompt_tokens_details.cache_write_tokens``."""
    if usage is None or usage.cache_creation_tokens is not None:
        return usage
    details = usage.extra.get("prompt_tokens_details")
    written = details.get("cache_write_tokens") if isinstance(details, Mapping) else None
    if not isinstance(written, int) or isinstance(written, bool) or written < 0:
        return usage
    return attrs.evolve(usage, cache_creation_tokens=written)


class OpenRouterStreamParser(StreamParser):
    """The base OpenAI parser plus OpenRouter's in-stream errors, reasoning details and usage details.

    ``make_error(envelope)`` builds the typed error for an error object found in an event.
    """

    def __init__(self, inner: StreamParser, make_error: Callable[[Mapping[str, Any]], APIStatusError]) -> None:
        self.inner = inner
        self.done = False
        self._make_error = make_error
        self._details: dict[int, list[dict[str, Any]]] = {}  # per choice index, the fragments merged so far
        self._grown: set[int] = set()  # choices whose details this event extended

    def feed(self, event: SSEEvent) -> Iterable[ChatChunk]:
        """Raise an error object the event carries; else the inner parser's chunks, usage details lifted
        and the reasoning details so far attached as ``message_extra``."""
        data = event.data
        self._grown.clear()
        if '"error"' in data or '"reasoning_details"' in data:  # a substring test spares ordinary chunks a decode
            event = self._inspect(event)
        chunks = [self._lift(chunk) for chunk in self.inner.feed(event)]
        self.done = self.inner.done
        if self._grown:
            chunks = self._attach_details(chunks)
        return chunks

    def _attach_details(self, chunks: list[ChatChunk]) -> list[ChatChunk]:
        out = []
        for chunk in chunks:
            if chunk.index in self._grown:
                self._grown.discard(chunk.index)
                extra = {**chunk.message_extra, "reasoning_details": list(self._details[chunk.index])}
                chunk = attrs.evolve(chunk, message_extra=extra)
            out.append(chunk)
        for index in sorted(self._grown):  # details alone (an encrypted block): a chunk of their own
            out.append(ChatChunk(index=index, message_extra={"reasoning_details": list(self._details[index])}))
        return out

    def finish(self) -> Iterable[ChatChunk]:
        """The inner parser's end-of-stream check."""
        return self.inner.finish()

    def _inspect(self, event: SSEEvent) -> SSEEvent:
        payload = json_or_none(event.data.strip())
        if not isinstance(payload, Mapping):
            return event
        envelope = error_of(payload)
        if envelope is not None:
            raise self._make_error(envelope)
        choices = payload.get("choices")
        if not isinstance(choices, list):
            return event
        changed = False
        rewritten = []
        for position, choice in enumerate(choices):
            delta = choice.get("delta") if isinstance(choice, Mapping) else None
            if isinstance(delta, Mapping):
                fragments = delta.get("reasoning_details")
                if isinstance(fragments, list) and fragments:
                    index = choice.get("index", position)
                    if isinstance(index, int) and not isinstance(index, bool):
                        merge_fragments(self._details.setdefault(index, []), fragments)
                        self._grown.add(index)
                filled = with_details_reasoning(delta)
                if filled is not delta:
                    choice = {**choice, "delta": filled}
                    changed = True
            rewritten.append(choice)
        if not changed:
            return event
        return attrs.evolve(event, data=json.dumps({**payload, "choices": rewritten}, ensure_ascii=False))

    @staticmethod
    def _lift(chunk: ChatChunk) -> ChatChunk:
        if chunk.usage is None:
            return chunk
        lifted = with_cache_writes(chunk.usage)
        return chunk if lifted is chunk.usage else attrs.evolve(chunk, usage=lifted)
