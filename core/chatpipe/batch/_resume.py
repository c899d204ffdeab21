"""Resuming a batch: the ids already in the output, kept in a compact set of 64-bit hashes.

:func:`done_ids` reads an existing output file (streamed) and returns the ids of its rows as
an :class:`IdSet`. A torn last line — one without its newline, left by a killed run — is cut
off the file first, so the rerun appends whole rows after whole rows and runs that item again.
Any other line that is not a row is an error naming the line (the file is not a batch output).

:class:`IdSet` stores each id as the 64-bit BLAKE2b hash of its UTF-8 text in an
open-addressing table (``array('Q')``, linear probing, kept at most half full by doubling):
16 to 32 bytes per id — 16.8 MB for a million ids — where a ``set`` of the id strings takes
~100 MB. Two
different ids share a hash with probability about n²/2⁶⁵ over n ids — 3·10⁻⁸ for a million,
3·10⁻⁴ for a hundred million; such a collision would make the second id count as already
done (or as a duplicate) and get no row of its own. That risk is accepted for flat memory.
"""

from __future__ import annotations

import json
import os
from array import array
from collections.abc import Iterable
from hashlib import blake2b

from ..errors import InvalidRequestError

__all__ = ["IdSet", "done_ids", "id_hash"]

_PREFIX = b'{"id":'
_DECODER = json.JSONDecoder()


def id_hash(item_id: str) -> int:
    """The 64-bit hash an :class:`IdSet` stores for ``item_id`` (never 0: 0 marks a free slot)."""
    value = int.from_bytes(blake2b(item_id.encode("utf-8"), digest_size=8).digest(), "little")
    return value or 1


class IdSet:
    """A set of ids stored as 64-bit hashes (see the module docstring for the collision risk)."""

    def __init__(self, ids: Iterable[str] = ()) -> None:
        self._slots = array("Q", bytes(8 * 1024))
        self._mask = 1023
        self._count = 0
        self.errors = 0
        """Error rows among the ids (set by :func:`done_ids`)."""
        for item_id in ids:
            self.add(item_id)

    def __len__(self) -> int:
        return self._count

    def _find(self, value: int) -> int:
        """The slot holding ``value``, else the free slot where it would go."""
        slots, mask = self._slots, self._mask
        index = value & mask  # the value is a uniform hash already
        while True:
            held = slots[index]
            if held == value or held == 0:
                return index
            index = (index + 1) & mask

    def __contains__(self, item_id: object) -> bool:
        if not isinstance(item_id, str):
            return False
        value = id_hash(item_id)
        return self._slots[self._find(value)] == value

    def add(self, item_id: str) -> bool:
        """Add ``item_id``; ``False`` when it (or an id of the same hash) was already there."""
        value = id_hash(item_id)
        index = self._find(value)
        if self._slots[index] == value:
            return False
        self._slots[index] = value
        self._count += 1
        if self._count * 2 > len(self._slots):
            self._grow()
        return True

    def _grow(self) -> None:
        old = self._slots
        self._slots = array("Q", bytes(16 * len(old)))
        self._mask = len(self._slots) - 1
        for value in old:
            if value:
                self._slots[self._find(value)] = value


def _row(line: bytes, number: int, path: str) -> tuple[str, bool]:
    """The id of one output row and whether it is an error row (read without decoding the whole
    row when it starts with ``{"id":``, as every row :class:`~._rows.BatchWriter` writes does)."""
    value: object = None
    failed = False
    try:
        if line.startswith(_PREFIX):
            text = line.decode("utf-8")
            value, end = _DECODER.raw_decode(text, len(_PREFIX))
            failed = text.startswith(',"error"', end)
        else:
            row = json.loads(line)
            value, failed = row.get("id"), "error" in row
    except (ValueError, AttributeError, TypeError):
        value = None
    if not isinstance(value, str):
        raise InvalidRequestError(
            f"{path} line {number} is not a batch row ({{'id': ..., 'response'|'error': ...}}); "
            "give another output file, or remove the line",
            where="output",
        )
    return value, failed


def done_ids(path: str | os.PathLike[str]) -> IdSet:
    """The ids of the rows in the output ``path`` (empty when it does not exist).

    A last line without its newline (a torn write) is truncated away first. The set's
    ``errors`` attribute counts the error rows read.
    """
    path = os.fspath(path)
    ids = IdSet()
    try:
        size = os.path.getsize(path)
    except FileNotFoundError:
        return ids
    if size:
        _cut_torn_line(path, size)
    with open(path, "rb") as rows:
        for number, line in enumerate(rows, 1):
            if line.strip():
                item_id, failed = _row(line, number, path)
                ids.add(item_id)
                ids.errors += failed
    return ids


def _cut_torn_line(path: str, size: int) -> None:
    """Truncate ``path`` after its last newline when its last byte is not one."""
    with open(path, "rb+") as data:
        data.seek(size - 1)
        if data.read(1) == b"\n":
            return
        end, block = size, 1 << 16
        while end > 0:
            start = max(0, end - block)
            data.seek(start)
            chunk = data.read(end - start)
            cut = chunk.rfind(b"\n")
            if cut >= 0:
                data.truncate(start + cut + 1)
                return
            end = start
        data.truncate(0)
