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

Work is linear in the bytes fed, however long a line is (a partial line is kept as pieces,
joined once when it ends). With ``max_event_size``, the text the decoder holds for the event
in progress — its ``data`` lines and the line not yet ended — raises :class:`EventTooLarge`
as soon as it grows past the limit (checked after each chunk, so an event that arrives whole
within one chunk is only held, and checked, as long as that chunk); comments and blank lines
never add up.

One deliberate difference from a browser's EventSource: :meth:`SSEDecoder.flush` (end of
stream) dispatches a final event that was not followed by a blank line, because some vendors
end their streams that way. ``data: [DONE]`` is not special here; adapters handle it.
Invalid UTF-8 is replaced with U+FFFD rather than raising.
"""

from __future__ import annotations

import codecs
import re
import sys

from ._messages import SSEEvent

__all__ = ["EventTooLarge", "SSEDecoder"]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class EventTooLarge(ValueError):
    """One server-sent event grew past the decoder's ``max_event_size`` (:attr:`limit` characters)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"a server-sent event grew past {limit} characters")
        self.limit = limit


class SSEDecoder:
    """Turns a byte stream into server-sent events, one chunk at a time.

    Call :meth:`feed` with each chunk as it arrives and :meth:`flush` once at the end of the
    stream. Any split of the same bytes into chunks yields the same events. After
    :meth:`flush` the decoder is reset and may decode a new stream. ``max_event_size`` (``None``:
    no limit) bounds the text of one event (see the module docstring).
    """

    def __init__(self, max_event_size: int | None = None) -> None:
        self._limit = sys.maxsize if max_event_size is None else max_event_size
        self._new_stream()

    def _new_stream(self) -> None:
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending: list[str] = []  # the pieces of the line not yet ended
        self._size = 0  # characters of the event in progress: its data lines and the line not yet ended
        self._at_start = True
        self._skip_lf = False
        self._data: list[str] = []
        self._event = ""
        self._retry: int | None = None
        self._last_id: str | None = None

    def feed(self, data: bytes) -> list[SSEEvent]:
        """Decode ``data`` (any chunk of the stream) and return the events it completed, in order."""
        return self._consume(self._utf8.decode(data))

    def flush(self) -> list[SSEEvent]:
        """End of stream: return the remaining events, including a final one with no blank line after it.

        The decoder is reset afterwards (a new stream may be fed).
        """
        events = self._consume(self._utf8.decode(b"", final=True))
        if self._pending:
            line, self._pending = "".join(self._pending), []
            event = self._line(line)
            if event is not None:
                events.append(event)
        event = self._dispatch()
        if event is not None:
            events.append(event)
        self._new_stream()
        return events

    def _consume(self, text: str) -> list[SSEEvent]:
        if not text:
            return []
        if self._at_start:
            if not self._pending and text.startswith("\ufeff"):
                text = text[1:]
            if text:
                self._at_start = False
        if self._skip_lf and text:
            if text.startswith("\n"):
                text = text[1:]
            self._skip_lf = False
        if self._pending or "\r" in text:
            return self._consume_pieces(text)
        # Fast path, what vendors send: LF line endings, no line left over from an earlier chunk.
        events: list[SSEEvent] = []
        lines = text.split("\n")
        rest = lines.pop()
        for line in lines:
            event = self._line(line)
            if event is not None:
                events.append(event)
        if rest or self._data:
            if rest:
                self._pending.append(rest)
            self._measure(rest)
        else:
            self._size = 0
        return events

    def _consume_pieces(self, text: str) -> list[SSEEvent]:
        """The general case: a line left over from earlier chunks, or CR line endings."""
        crlf = "\r" in text
        end = (max(text.rfind("\n"), text.rfind("\r")) if crlf else text.rfind("\n")) + 1
        if not end:  # no line ends here: keep the piece (joined once, when its line ends)
            self._size += len(text)
            if self._size > self._limit:
                raise EventTooLarge(self._limit)
            self._pending.append(text)
            return []
        rest = text[end:]
        self._pending.append(text[:end])
        ended = "".join(self._pending)
        self._pending = [rest] if rest else []
        if crlf or "\r" in ended:
            lines = []
            start = 0
            for match in _LINE_BREAK.finditer(ended):
                lines.append(ended[start : match.start()])
                start = match.end()
            # A CR ending the text may be the first half of a CRLF split across chunks.
            self._skip_lf = not rest and ended.endswith("\r")
        else:
            lines = ended.split("\n")
            lines.pop()  # empty: ``ended`` ends with its line break
        events: list[SSEEvent] = []
        for line in lines:
            event = self._line(line)
            if event is not None:
                events.append(event)
        self._measure(rest)
        return events

    def _measure(self, rest: str) -> None:
        """Count the event in progress (its data lines and ``rest``, the line not yet ended) against the limit."""
        size = len(rest) + sum(map(len, self._data))
        if size > self._limit:
            raise EventTooLarge(self._limit)
        self._size = size

    def _line(self, line: str) -> SSEEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith("data:"):  # the common case, same result as the general rule below
            value = line[5:]
            self._data.append(value[1:] if value.startswith(" ") else value)
            return None
        if line.startswith(":"):
            return None
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id":
            if "\0" not in value:
                self._last_id = value
        elif field == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> SSEEvent | None:
        data, event, retry = self._data, self._event, self._retry
        self._data, self._event, self._retry = [], "", None
        if not data:
            return None
        text = data[0] if len(data) == 1 else "\n".join(data)
        return SSEEvent(data=text, event=event or "message", id=self._last_id, retry=retry)
