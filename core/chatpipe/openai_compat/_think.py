"""Split a leading ``<think>…</think>`` block out of reply text into reasoning (pure).

Some models (Perplexity's sonar-reasoning family, local R1-style models) put their thinking
inside the content. Only a block at the very start of the content (after whitespace) counts;
a ``<think>`` later in the text is ordinary text.

* :func:`split_think` works on a complete text;
* :class:`ThinkSplitter` works incrementally on streamed text, coping with tags split across
  chunks; :class:`ThinkStreamParser` applies it to another parser's chunks, per choice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import attrs

from ..http import SSEEvent
from ..models import ChatChunk, Choice
from ..provider import StreamParser

__all__ = ["ThinkSplitter", "ThinkStreamParser", "split_choice", "split_think"]

OPEN = "<think>"
CLOSE = "</think>"
_BLOCK = re.compile(r"^\s*<think>(.*?)(?:</think>|\Z)\s*", re.DOTALL)


def split_think(text: str) -> tuple[str | None, str]:
    """``(reasoning, rest)``: the leading think block's text (stripped) and the remaining text.

    Without a leading block, ``(None, text)``. An unclosed block (a reply cut by the length
    limit) is all reasoning.
    """
    match = _BLOCK.match(text)
    if not match:
        return None, text
    return match.group(1).strip(), text[match.end() :]


def split_choice(choice: Choice) -> Choice:
    """``choice`` with a leading think block moved from its string content to ``reasoning``."""
    content = choice.message.content
    if not isinstance(content, str):
        return choice
    reasoning, rest = split_think(content)
    if reasoning is None:
        return choice
    combined = "\n\n".join(r for r in (choice.reasoning, reasoning) if r)
    return attrs.evolve(choice, message=attrs.evolve(choice.message, content=rest), reasoning=combined or None)


def _held_suffix(text: str, tag: str) -> int:
    """Length of the longest suffix of ``text`` that is a proper prefix of ``tag``."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


class ThinkSplitter:
    """Incremental splitter for one choice's streamed text.

    :meth:`feed` returns ``(reasoning, text)`` to emit now; text that may still turn out to be
    part of a tag is held back until the next call or :meth:`flush`.
    """

    def __init__(self) -> None:
        self._state = "start"  # start -> think -> text
        self._buffer = ""
        self._strip = False  # strip whitespace at the start of the next emitted piece

    def feed(self, text: str) -> tuple[str, str]:
        """Consume ``text``; return the reasoning and the text that are certain now."""
        self._buffer += text
        reasoning = ""
        out = ""
        if self._state == "start":
            stripped = self._buffer.lstrip()
            if not stripped or (OPEN.startswith(stripped) and stripped != OPEN):
                return "", ""
            if stripped.startswith(OPEN):
                self._state = "think"
                self._buffer = stripped[len(OPEN) :].lstrip()
            else:
                self._state = "text"
        if self._state == "think":
            end = self._buffer.find(CLOSE)
            if end >= 0:
                reasoning = self._buffer[:end]
                self._buffer = self._buffer[end + len(CLOSE) :]
                self._state = "text"
                self._strip = True
            else:
                keep = _held_suffix(self._buffer, CLOSE)
                cut = len(self._buffer) - keep
                reasoning, self._buffer = self._buffer[:cut], self._buffer[cut:]
                return reasoning, ""
        if self._state == "text":
            out, self._buffer = self._buffer, ""
            if self._strip:
                out = out.lstrip()
                self._strip = not out
        return reasoning, out

    def flush(self) -> tuple[str, str]:
        """The stream ended: return what was held back (an unclosed block is reasoning)."""
        held, self._buffer = self._buffer, ""
        if self._state == "think":
            return held, ""
        return "", held


class ThinkStreamParser(StreamParser):
    """Wraps another parser and routes each choice's leading ``<think>`` text to ``reasoning``."""

    def __init__(self, inner: StreamParser) -> None:
        self.inner = inner
        self.done = False
        self._splitters: dict[int, ThinkSplitter] = {}

    def _split(self, chunks: Iterable[ChatChunk]) -> list[ChatChunk]:
        out = []
        for chunk in chunks:
            if chunk.text:
                splitter = self._splitters.setdefault(chunk.index, ThinkSplitter())
                reasoning, text = splitter.feed(chunk.text)
                chunk = attrs.evolve(chunk, text=text, reasoning=chunk.reasoning + reasoning)
            out.append(chunk)
        return out

    def feed(self, event: SSEEvent) -> Iterable[ChatChunk]:
        """The inner parser's chunks with think text moved to reasoning."""
        chunks = self._split(self.inner.feed(event))
        self.done = self.inner.done
        return chunks

    def finish(self) -> Iterable[ChatChunk]:
        """The inner parser's pending chunks, then any text each splitter held back."""
        out = self._split(self.inner.finish())
        for index, splitter in sorted(self._splitters.items()):
            reasoning, text = splitter.flush()
            if reasoning or text:
                out.append(ChatChunk(index=index, text=text, reasoning=reasoning))
        return out
