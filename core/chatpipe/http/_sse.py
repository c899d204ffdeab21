"""An incremental server-sent-events decoder: bytes in, :class:`~chatpipe.http.SSEEvent` out.

Pure (no I/O): the transport feeds it whatever chunks the socket delivers, in any sizes, and
gets back every event completed by those bytes. It follows the WHATWG "event stream
interpretation" rules:

* lines end with LF, CRLF or CR (a CR ending one chunk and an LF starting the next are one
  line break); a UTF-8 byte-order mark at the very start is skipped;
* lines starting with ``:`` are comments (``: keep-alive``) and are ignored;
* ``field: value`` — one optional space after the colon is stripped; a line without a colon
  is a field with an empty value; unknown fields are ignored;
* ``data`` lines accumulate and are joined with ``"\\n"``; ``event`` names the event
  (``"message"`` when absent or empty); ``id`` sets the last event id, which persists for
  later events (an id containing NUL is ignored); ``retry`` (digits only) is reported on the
  event it came with;
* a blank line dispatches the event; an event without any ``data`` line is not dispatched.

The decoder works on the bytes: lines are split on the byte values of CR and LF (which never
occur inside a multi-byte UTF-8 character, so a character split across chunks needs no
special care) and only the values a field keeps are decoded, once per event. Invalid UTF-8 is
replaced with U+FFFD rather than raising (the same text an incremental decoder of the whole
stream gives). The common chunk — one whole ``data:`` event ending in ``\\n\\n`` — takes a
path of a few byte-string operations.

Work is linear in the bytes fed, however long a line is (a partial line is kept as pieces,
joined once when it ends). With ``max_event_size``, the bytes the decoder holds for the event
in progress — its ``data`` lines and the line not yet ended — raise :class:`EventTooLarge`
as soon as they grow past the limit (checked after each chunk, so an event that arrives whole
within one chunk is only held, and checked, as long as that chunk); comments and blank lines
never add up.

One deliberate difference from a browser's EventSource: :meth:`SSEDecoder.flush` (end of
stream) dispatches a final event that was not followed by a blank line, because some vendors
end their streams that way. ``data: [DONE]`` is not special here; adapters handle it.
"""

from __future__ import annotations

import re
import sys

from ._messages import SSEEvent, sse_event

__all__ = ["EventTooLarge", "SSEDecoder"]

_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_BOM = b"\xef\xbb\xbf"


class EventTooLarge(ValueError):
    """One server-sent event grew past the decoder's ``max_event_size`` (:attr:`limit` bytes)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"a server-sent event grew past {limit} bytes")
        self.limit = limit


def _text(value: bytes) -> str:
    return value.decode("utf-8", "replace")


class SSEDecoder:
    """Turns a byte stream into server-sent events, one chunk at a time.

    Call :meth:`feed` with each chunk as it arrives and :meth:`flush` once at the end of the
    stream. Any split of the same bytes into chunks yields the same events. After
    :meth:`flush` the decoder is reset and may decode a new stream. ``max_event_size`` (``None``:
    no limit) bounds the bytes of one event (see the module docstring).
    """

    def __init__(self, max_event_size: int | None = None) -> None:
        self._limit = sys.maxsize if max_event_size is None else max_event_size
        self._new_stream()

    def _new_stream(self) -> None:
        self._pending: list[bytes] = []  # the pieces of the line not yet ended
        self._pending_size = 0
        self._at_start = True  # a byte-order mark may still come
        self._skip_lf = False  # the last chunk ended with CR: an LF starting the next one ends no line
        self._data: list[bytes] = []
        self._data_size = 0
        self._event = ""
        self._retry: int | None = None
        self._last_id: str | None = None
        self._clean = False  # nothing held from earlier chunks: no line, data, name, retry or CR; no BOM to come

    def feed(self, data: bytes) -> list[SSEEvent]:
        """Decode ``data`` (any chunk of the stream) and return the events it completed, in order."""
        if (
            # The common chunk: one whole data event, nothing held from earlier chunks.
            self._clean
            and data.endswith(b"\n\n")
            and data.startswith(b"data:")
            and data.count(b"\n") == 2
            and b"\r" not in data
        ):
            value = data[6:-2] if data[5] == 32 else data[5:-2]  # 32: one optional space
            return [sse_event(value.decode("utf-8", "replace"), "message", self._last_id, None)]
        return self._consume(data)

    def flush(self) -> list[SSEEvent]:
        """End of stream: return the remaining events, including a final one with no blank line after it.

        The decoder is reset afterwards (a new stream may be fed).
        """
        events: list[SSEEvent] = []
        if self._pending:
            event = self._line(b"".join(self._pending))
            if event is not None:
                events.append(event)
        event = self._dispatch()
        if event is not None:
            events.append(event)
        self._new_stream()
        return events

    def _consume(self, data: bytes) -> list[SSEEvent]:
        """The general case: any chunk, any state."""
        self._clean = False
        if self._at_start:
            if self._pending:  # the first bytes of a byte-order mark, held back
                data = b"".join(self._pending) + data
                self._pending, self._pending_size = [], 0
            if len(data) < len(_BOM) and _BOM.startswith(data):
                if data:
                    self._pending, self._pending_size = [data], len(data)
                return []
            if data.startswith(_BOM):
                data = data[len(_BOM) :]
            self._at_start = False
        if self._skip_lf and data:
            if data.startswith(b"\n"):
                data = data[1:]
            self._skip_lf = False
        end = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
        if not end:  # no line ends here: keep the piece (joined once, when its line ends)
            if data:
                self._pending.append(data)
                self._pending_size += len(data)
                self._check()
            return []
        rest = data[end:]
        if self._pending:
            self._pending.append(data[:end])
            ended = b"".join(self._pending)
        else:
            ended = data[:end] if rest else data
        self._pending, self._pending_size = ([rest], len(rest)) if rest else ([], 0)
        if b"\r" in ended:
            lines = _LINE_BREAK.split(ended)
            # A CR ending the chunk may be the first half of a CRLF split across chunks.
            self._skip_lf = not rest and ended.endswith(b"\r")
        else:
            lines = ended.split(b"\n")
        lines.pop()  # empty: ``ended`` ends with its line break
        events: list[SSEEvent] = []
        for line in lines:
            event = self._line(line)
            if event is not None:
                events.append(event)
        self._check()
        self._clean = not (rest or self._data or self._event or self._retry is not None or self._skip_lf)
        return events

    def _check(self) -> None:
        """Count the event in progress (its data lines and the line not yet ended) against the limit."""
        if self._pending_size + self._data_size > self._limit:
            raise EventTooLarge(self._limit)

    def _line(self, line: bytes) -> SSEEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(b"data:"):  # the common case, same result as the general rule below
            value = line[6:] if line[5:6] == b" " else line[5:]
            self._data.append(value)
            self._data_size += len(value)
            return None
        if line.startswith(b":"):
            return None
        field, colon, value = line.partition(b":")
        if colon and value.startswith(b" "):
            value = value[1:]
        if field == b"data":
            self._data.append(value)
            self._data_size += len(value)
        elif field == b"event":
            self._event = _text(value)
        elif field == b"id":
            if b"\0" not in value:
                self._last_id = _text(value)
        elif field == b"retry" and value.isdigit():  # bytes.isdigit: ASCII digits only
            self._retry = int(value)
        return None

    def _dispatch(self) -> SSEEvent | None:
        data, event, retry = self._data, self._event, self._retry
        if event:
            self._event = ""
        if retry is not None:
            self._retry = None
        if not data:
            return None
        self._data, self._data_size = [], 0
        text = _text(data[0] if len(data) == 1 else b"\n".join(data))
        return sse_event(text, event or "message", self._last_id, retry)
