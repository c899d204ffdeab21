"""A stream's repeated chunk text: read a chunk by its one changing string (pure).

Chunk after chunk, a stream mostly sends the same JSON text but for the delta's ``content``
string (and, on OpenAI, the ``obfuscation`` padding beside it). :func:`learn_shape` learns that
text from one decoded chunk — the pieces around those strings — and
:meth:`ChunkShape.text` then reads a later chunk by comparing its text with the pieces and
decoding only the strings between them, instead of the whole object.

Contract: :meth:`ChunkShape.text` returns a string only when decoding the whole chunk would give
the learnt chunk's object with that string as ``choices[0].delta.content`` (and any string as
``obfuscation``); otherwise ``None``, and the caller decodes the chunk in full. Why it holds:
a JSON string token is self-delimiting and a value's text does not change how the text around
it decodes, so the same pieces around a string token in a value's place give the same object
with that one leaf changed. :func:`learn_shape` keeps a shape only once that place is proven:
the chunk's text with a probe string put in each slot must decode to the chunk's object with
exactly those leaves changed. A slot found in the wrong place (another ``content`` key, a
duplicate key the decoder overrides, a key rather than a value) fails the proof, and no shape
is learnt.

A shape keeps the chunk it was learnt from; the parser builds each chunk of that shape as a
copy with another text (:func:`~chatpipe.models.chat_chunk_with_text`). It is learnt only when
the chunk's extras are plain scalars, so each copy's own shallow ``extra`` dict equals what
decoding would give it and shares no mutable value.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, final

from ..models import chat_chunk_with_text

if TYPE_CHECKING:
    from ..models import ChatChunk

__all__ = ["ChunkShape", "learn_shape"]

_SCAN_STRING: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_SCALARS: Final = frozenset({str, int, float, bool, type(None)})
_PROBE: Final = "chatpipe:shape-probe:"


@final
class ChunkShape:
    """The text of a stream's plain chunks: fixed pieces around the delta text (and a padding string).

    ``chunk`` is the chunk the shape was learnt from: a chunk of this shape is that one with
    another text.
    """

    __slots__ = ("_first", "_last", "_middle", "_padding_first", "chunk")

    def __init__(self, pieces: tuple[str, ...], content_slot: int, chunk: ChatChunk) -> None:
        self._first = pieces[0]
        self._last = pieces[-1]
        self._middle = pieces[1] if len(pieces) == 3 else None
        self._padding_first = content_slot == 1
        self.chunk = chunk

    def text(self, data: str) -> str | None:
        """``data``'s delta text if ``data`` has this shape, else ``None`` (see the module's contract)."""
        first = self._first
        if not data.startswith(first):
            return None
        try:
            found, end = _SCAN_STRING(data, len(first))
            middle = self._middle
            if middle is not None:  # a second string, the padding, between the middle and the last piece
                if not data.startswith(middle, end):
                    return None
                second, end = _SCAN_STRING(data, end + len(middle))
                if self._padding_first:
                    found = second
        except ValueError:  # not a valid string token: the full decode reports it
            return None
        last = self._last
        return found if end + len(last) == len(data) and data.endswith(last) else None


def learn_shape(data: str, decoded: dict[str, Any], chunk: ChatChunk) -> ChunkShape | None:
    """The shape of a plain chunk — its text, its decoded object, the chunk built from it — or ``None``.

    A plain chunk has one choice whose ``delta`` is ``{"content": <non-empty str>}`` and nothing
    else the chunk models (no finish reason, logprobs or usage); ``None`` when the shape cannot
    be proven or the chunk's extras are not all scalars.
    """
    if any(type(value) not in _SCALARS for value in chunk.extra.values()):
        return None
    content = _slot(data, "content", chunk.text)
    if content is None:
        return None
    slots = [content]
    if "obfuscation" in decoded:
        padding = decoded["obfuscation"]
        found = _slot(data, "obfuscation", padding) if type(padding) is str else None
        if found is None:
            return None
        slots.append(found)
    slots.sort()
    if len(slots) == 2 and slots[0][1] > slots[1][0]:
        return None
    pieces, position = [], 0
    for start, end in slots:
        pieces.append(data[position:start])
        position = end
    pieces.append(data[position:])
    content_slot = slots.index(content)
    if not _proven(pieces, decoded, content_slot=content_slot):
        return None
    return ChunkShape(tuple(pieces), content_slot, chat_chunk_with_text(chunk, chunk.text))  # not the caller's dicts


def _slot(data: str, key: str, value: str) -> tuple[int, int] | None:
    """The last string token after ``"key":`` that decodes to ``value``: where its text starts, where it ends.

    The text starts after the token's opening quote and ends after its closing one.
    """
    marker = f'"{key}":'
    at = data.rfind(marker)
    while at >= 0:
        start = at + len(marker)
        while data[start : start + 1] in (" ", "\t", "\n", "\r"):
            start += 1
        if data.startswith('"', start):
            try:
                found, end = _SCAN_STRING(data, start + 1)
            except ValueError:
                found, end = None, 0
            if found == value:
                return start + 1, end
        at = data.rfind(marker, 0, at)
    return None


def _proven(pieces: list[str], decoded: dict[str, Any], *, content_slot: int) -> bool:
    """Whether probe strings in the slots decode to ``decoded`` with exactly those leaves changed."""
    probes = [f"{_PROBE}{slot}" for slot in range(len(pieces) - 1)]
    probe_text = "".join(f'{piece}{probe}"' for piece, probe in zip(pieces, probes, strict=False)) + pieces[-1]
    try:
        probed = json.loads(probe_text)
    except (ValueError, RecursionError):
        return False
    choice = decoded["choices"][0]
    expected = {**decoded, "choices": [{**choice, "delta": {**choice["delta"], "content": probes[content_slot]}}]}
    if len(probes) == 2:
        expected["obfuscation"] = probes[1 - content_slot]
    return bool(probed == expected)
