"""Message content as "pieces": text runs and part objects, joined losslessly.

A message's content is handled as a tuple of pieces. A piece is either a ``str`` (a run of
text) or a part object (:class:`~chatpipe.models.ImagePart`, ``AudioPart``, ``OtherPart``, or a
``TextPart`` that carries extra keys such as ``cache_control``, or an empty ``TextPart``). Two
text runs that meet are joined with a blank line (``"\\n\\n"``), so a pieces tuple never holds
two adjacent runs nor an empty run. This replaces the reference's random-token trick with the
same observable joins, without ever dropping a part: an empty text part stays a part of a
part list, as in the reference, and contributes nothing to content that renders as a string.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Union

from ..errors import InvalidRequestError
from ..models import AudioPart, ImagePart, OtherPart, Part, TextPart

__all__ = ["JOIN", "Piece", "Pieces", "first_text", "join", "prepend", "render", "to_pieces"]

JOIN = "\n\n"
"""What two text runs are joined with (the reference's separator)."""

Piece = Union[str, Part]
Pieces = tuple[Piece, ...]

_PART_TYPES = (TextPart, ImagePart, AudioPart, OtherPart)


def _normalised(pieces: Iterable[Piece]) -> Pieces:
    """Drop empty runs and join adjacent runs with ``JOIN``; an empty text part stays only
    where no text run is next to it (one for several in a row), so it marks text that would
    otherwise vanish from between or around other parts."""
    out: list[Piece] = []
    for piece in pieces:
        if isinstance(piece, str):
            if not piece:
                continue
            if out and isinstance(out[-1], str):
                out[-1] = out[-1] + JOIN + piece
                continue
            if out and _empty_text(out[-1]):
                out[-1] = piece
                continue
        elif _empty_text(piece) and out and (isinstance(out[-1], str) or _empty_text(out[-1])):
            continue
        out.append(piece)
    return tuple(out)


def to_pieces(content: object, *, where: str = "content") -> Pieces:
    """The pieces of a message's ``content`` (``None``, a string, or a sequence of parts).

    ``None`` and ``""`` give no pieces; a non-empty ``TextPart`` without extra keys becomes a
    text run; every other part (an empty ``TextPart`` included) is kept as an object. Raises
    :class:`InvalidRequestError` for anything that is not valid content.
    """
    if content is None:
        return ()
    if isinstance(content, str):
        return _normalised((content,))
    if not isinstance(content, (tuple, list)):
        raise InvalidRequestError(
            f"content must be a string, None or a tuple of parts, not {type(content).__name__}; "
            "build messages with chatpipe.wire.messages_from_dicts",
            where=where,
        )
    pieces: list[Piece] = []
    for index, part in enumerate(content):
        if not isinstance(part, _PART_TYPES):
            raise InvalidRequestError(
                f"a content part must be a chatpipe.models part (TextPart, ImagePart, AudioPart, OtherPart), "
                f"not {type(part).__name__}; build messages with chatpipe.wire.messages_from_dicts",
                where=f"{where}[{index}]",
            )
        if isinstance(part, TextPart) and not part.extra and part.text:
            pieces.append(part.text)
        else:
            pieces.append(part)
    return _normalised(pieces)


def join(first: Pieces, second: Pieces) -> Pieces:
    """``first`` followed by ``second``; runs meeting at the seam are joined by a blank line.

    An empty side contributes nothing, so no leading or trailing blank line appears.
    """
    return _normalised((*first, *second))


def first_text(pieces: Pieces) -> str:
    """The text the content starts with: the first run or leading TextPart's text, else ``""``."""
    if not pieces:
        return ""
    head = pieces[0]
    if isinstance(head, str):
        return head
    if isinstance(head, TextPart):
        return head.text
    return ""


def prepend(pieces: Pieces, text: str) -> Pieces:
    """``text`` glued directly in front of the content (no separator).

    When the content starts with a text run, ``text`` is prepended to that run; a leading empty
    text part becomes ``text``; otherwise (empty content, or a leading part object) it becomes a
    new leading run, so a leading image survives behind it.
    """
    if pieces and isinstance(pieces[0], str):
        return (text + pieces[0], *pieces[1:])
    if pieces and _empty_text(pieces[0]):
        return _normalised((text, *pieces[1:]))
    return _normalised((text, *pieces))


def render(pieces: Pieces) -> str | tuple[Part, ...]:
    """Pieces back to ``Message.content``.

    No pieces give ``""``; a text run or an empty text part alone gives one plain string;
    otherwise a tuple of parts in which each text run is one ``TextPart`` and part objects,
    empty text parts included, keep their place.
    """
    if not pieces:
        return ""
    if len(pieces) == 1 and isinstance(pieces[0], str):
        return pieces[0]
    if all(isinstance(p, str) or _empty_text(p) for p in pieces):
        return next((p for p in pieces if isinstance(p, str)), "")
    return tuple(TextPart(p) if isinstance(p, str) else p for p in pieces)


def _empty_text(piece: Piece) -> bool:
    """Whether ``piece`` is an empty text part without extra keys (kept only inside part lists)."""
    return type(piece) is TextPart and not piece.text and not piece.extra
