"""The incremental SSE decoder: WHATWG line/field rules, chunking independence, end of stream."""

from __future__ import annotations

import re

import attrs
import pytest
from chatpipe.http import EventTooLarge, SSEDecoder, SSEEvent
from chatpipe.http._messages import sse_event
from hypothesis import given
from hypothesis import strategies as st


def decode(*chunks: bytes) -> list[SSEEvent]:
    decoder = SSEDecoder()
    events: list[SSEEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.flush())
    return events


def test_single_event_and_default_name() -> None:
    assert decode(b'data: {"a": 1}\n\n') == [SSEEvent(data='{"a": 1}', event="message")]


def test_comments_and_keep_alive_lines_are_ignored() -> None:
    stream = b": keep-alive\n\n: another comment\ndata: x\n: inside\n\n:\n\n"
    assert decode(stream) == [SSEEvent(data="x")]


def test_multi_line_data_is_joined_with_newline() -> None:
    assert decode(b"data: one\ndata:two\ndata:  three\n\n") == [SSEEvent(data="one\ntwo\n three")]


def test_only_one_leading_space_is_stripped_and_colon_in_value_kept() -> None:
    assert decode(b"data:   a: b:c\n\n") == [SSEEvent(data="  a: b:c")]


def test_empty_data_line_dispatches_an_empty_event() -> None:
    assert decode(b"data\n\ndata:\n\n") == [SSEEvent(data=""), SSEEvent(data="")]


def test_event_without_data_is_not_dispatched_and_its_name_does_not_leak() -> None:
    assert decode(b"event: ping\n\ndata: x\n\n") == [SSEEvent(data="x", event="message")]


def test_named_events() -> None:
    stream = b'event: message_start\ndata: {}\n\nevent: content_block_delta\ndata: {"d": 1}\n\n'
    assert decode(stream) == [
        SSEEvent(data="{}", event="message_start"),
        SSEEvent(data='{"d": 1}', event="content_block_delta"),
    ]


def test_empty_event_name_means_message() -> None:
    assert decode(b"event:\ndata: x\n\n") == [SSEEvent(data="x", event="message")]


def test_id_persists_and_retry_is_per_event() -> None:
    stream = b"id: 7\nretry: 1500\ndata: a\n\ndata: b\n\nid\ndata: c\n\n"
    assert decode(stream) == [
        SSEEvent(data="a", id="7", retry=1500),
        SSEEvent(data="b", id="7", retry=None),
        SSEEvent(data="c", id="", retry=None),
    ]


def test_invalid_retry_and_id_with_nul_are_ignored() -> None:
    assert decode(b"id: 1\ndata: a\n\nretry: 10s\nid: 2\x003\ndata: b\n\n") == [
        SSEEvent(data="a", id="1"),
        SSEEvent(data="b", id="1", retry=None),
    ]


def test_unknown_fields_and_field_without_colon_are_ignored() -> None:
    assert decode(b"foo: bar\nbaz\ndata: x\n\n") == [SSEEvent(data="x")]


def test_crlf_line_endings() -> None:
    assert decode(b"event: e\r\ndata: a\r\ndata: b\r\n\r\n") == [SSEEvent(data="a\nb", event="e")]


def test_cr_line_endings() -> None:
    assert decode(b"data: a\rdata: b\r\rdata: c\r\r") == [SSEEvent(data="a\nb"), SSEEvent(data="c")]


def test_crlf_split_across_chunks_is_one_line_break() -> None:
    # If the CR and LF were two breaks, the LF would be a blank line and dispatch early.
    assert decode(b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n") == [SSEEvent(data="a\nb")]


def test_cr_at_chunk_end_followed_by_other_text() -> None:
    assert decode(b"data: a\r", b"data: b\r\r") == [SSEEvent(data="a\nb")]


def test_events_are_returned_as_soon_as_complete() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: fir") == []
    assert decoder.feed(b"st\n") == []
    assert decoder.feed(b"\ndata: second\n") == [SSEEvent(data="first")]
    assert decoder.feed(b"\n") == [SSEEvent(data="second")]
    assert decoder.flush() == []


def test_trailing_event_without_blank_line_is_dispatched_by_flush() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\ndata: last") == [SSEEvent(data="a")]
    assert decoder.flush() == [SSEEvent(data="last")]


def test_trailing_event_with_single_newline_is_dispatched_by_flush() -> None:
    assert decode(b"event: end\ndata: x\n") == [SSEEvent(data="x", event="end")]


def test_flush_resets_for_a_new_stream() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"id: 1\nevent: e\ndata: a")
    assert decoder.flush() == [SSEEvent(data="a", event="e", id="1")]
    assert decoder.feed(b"data: b\n\n") == [SSEEvent(data="b")]


def test_utf8_split_across_chunks() -> None:
    raw = "data: héllo 世界 🎉\n\n".encode()
    cut = raw.index("🎉".encode()) + 2
    assert decode(raw[:cut], raw[cut:]) == [SSEEvent(data="héllo 世界 🎉")]
    assert decode(*[raw[i : i + 1] for i in range(len(raw))]) == [SSEEvent(data="héllo 世界 🎉")]


def test_invalid_utf8_is_replaced_not_raised() -> None:
    assert decode(b"data: a\xffb\n\n") == [SSEEvent(data="a\ufffdb")]


def test_leading_byte_order_mark_is_skipped() -> None:
    assert decode(b"\xef\xbb\xbf", b"data: x\n\n") == [SSEEvent(data="x")]
    assert decode(b"\xef\xbb", b"\xbfdata: y\n\n") == [SSEEvent(data="y")]


def test_done_marker_is_an_ordinary_event() -> None:
    assert decode(b"data: [DONE]\n\n") == [SSEEvent(data="[DONE]")]


def test_empty_stream_and_only_comments() -> None:
    assert decode() == []
    assert decode(b": keep-alive\n\n\n\n") == []


_field_lines = st.one_of(
    st.builds(
        lambda v: f"data: {v}",
        st.text(alphabet=st.characters(codec="utf-8", blacklist_characters="\r\n\x00"), max_size=12),
    ),
    st.builds(lambda v: f"event: {v}", st.sampled_from(["a", "delta", "ünï"])),
    st.builds(lambda v: f"id: {v}", st.integers(0, 99)),
    st.builds(lambda v: f"retry: {v}", st.integers(0, 5000)),
    st.just(": keep-alive"),
    st.just(""),
)


@st.composite
def _streams(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(_field_lines, max_size=25))
    breaks = draw(st.lists(st.sampled_from(["\n", "\r\n", "\r"]), min_size=len(lines), max_size=len(lines)))
    text = "".join(line + brk for line, brk in zip(lines, breaks, strict=True))
    if draw(st.booleans()):
        text = text.rstrip("\r\n")  # a stream that ends without its final line break
    return text.encode("utf-8")


@given(_streams(), st.lists(st.integers(min_value=0, max_value=400), max_size=12))
def test_any_chunking_gives_the_same_events(stream: bytes, cuts: list[int]) -> None:
    whole = decode(stream)
    points = sorted({min(c, len(stream)) for c in cuts})
    pieces = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    assert decode(*pieces) == whole
    assert decode(*[stream[i : i + 1] for i in range(len(stream))]) == whole


@given(
    st.lists(
        st.text(alphabet=st.characters(codec="utf-8", blacklist_characters="\r\n\x00"), max_size=20),
        min_size=1,
        max_size=6,
    )
)
def test_data_round_trips(payloads: list[str]) -> None:
    stream = "".join(f"data: {p}\r\n\r\n" for p in payloads).encode()
    assert [event.data for event in decode(stream)] == payloads


def test_a_line_fed_in_many_pieces_is_one_line() -> None:
    pieces = [b"data: ", *[b"x" * 1000] * 500, b"\n\n"]
    assert decode(*pieces) == [SSEEvent(data="x" * 500_000)]


def test_an_event_over_the_size_limit_raises_as_it_grows() -> None:
    decoder = SSEDecoder(max_event_size=1000)
    assert decoder.feed(b"data: " + b"a" * 500 + b"\n\n")[0].data == "a" * 500
    decoder.feed(b"data: " + b"b" * 600 + b"\n")
    with pytest.raises(EventTooLarge) as info:
        decoder.feed(b"data: " + b"c" * 600)  # 1,200 bytes in one event
    assert info.value.limit == 1000


def test_keep_alives_never_add_up_to_the_limit() -> None:
    decoder = SSEDecoder(max_event_size=100)
    for _ in range(1000):
        assert decoder.feed(b": keep-alive\n\n\n") == []
    assert decoder.feed(b"data: ok\n\n")[0].data == "ok"


def test_the_limit_counts_bytes_not_characters() -> None:
    decoder = SSEDecoder(max_event_size=10)
    decoder.feed("data: éé\n".encode())  # 4 bytes of data held
    with pytest.raises(EventTooLarge):
        decoder.feed("data: ééé".encode())  # 4 + 9 bytes (7 characters)


def test_an_oversized_event_split_across_whole_data_chunks_raises() -> None:
    decoder = SSEDecoder(max_event_size=100)
    decoder.feed(b"data: " + b"a" * 60 + b"\n")
    with pytest.raises(EventTooLarge):
        decoder.feed(b"data: " + b"b" * 60 + b"\n")  # no blank line yet: 120 bytes held


def test_a_whole_data_event_after_state_from_earlier_chunks() -> None:
    # The one-event-per-chunk path must not skip what earlier chunks left: a name, a retry, a line.
    assert decode(b"event: e\n", b"data: x\n\n") == [SSEEvent(data="x", event="e")]
    assert decode(b"retry: 5\n", b"data: x\n\n", b"data: y\n\n") == [SSEEvent(data="x", retry=5), SSEEvent(data="y")]
    assert decode(b"data: a\n", b"data: b\n\n") == [SSEEvent(data="a\nb")]
    assert decode(b"data: a", b"data: b\n\n") == [SSEEvent(data="adata: b")]
    assert decode(b"data: a\r", b"data: b\n\n") == [SSEEvent(data="a\nb")]
    assert decode(b"id: 3\n\n", b"data:x\n\n") == [SSEEvent(data="x", id="3")]


def test_a_multi_byte_character_split_at_every_point_and_invalid_bytes() -> None:
    raw = "data: é世🎉\r\ndata: \xe9\r\n\r\n".encode() + b"data: \xf0\x9f\n\ndata: \xed\xa0\x80z\n\n"
    expected = [SSEEvent(data="é世🎉\né"), SSEEvent(data="\ufffd"), SSEEvent(data="\ufffd\ufffd\ufffdz")]
    for cut in range(len(raw) + 1):
        for second in range(cut, len(raw) + 1, 7):
            assert decode(raw[:cut], raw[cut:second], raw[second:]) == expected


def test_sse_event_builds_the_instance_init_builds() -> None:
    built = sse_event("d", "e", "7", 30)
    assert built == SSEEvent("d", "e", "7", 30)
    assert vars(built) == vars(SSEEvent("d", "e", "7", 30))
    assert set(vars(built)) == {field.name for field in attrs.fields(SSEEvent)}
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.data = "x"  # type: ignore[misc]


def reference(stream: bytes) -> list[SSEEvent]:
    """The WHATWG rules applied to the whole stream at once (decoded first), with the final flush."""
    text = stream.decode("utf-8", "replace")
    text = text.removeprefix("\ufeff")
    events: list[SSEEvent] = []
    data: list[str] = []
    name, retry, last_id = "", None, None
    for line in re.split("\r\n|\r|\n", text):
        if not line:
            if data:
                events.append(SSEEvent("\n".join(data), name or "message", last_id, retry))
            data, name, retry = [], "", None
            continue
        if line.startswith(":"):
            continue
        field, colon, value = line.partition(":")
        value = value[1:] if colon and value.startswith(" ") else value
        if field == "data":
            data.append(value)
        elif field == "event":
            name = value
        elif field == "id" and "\0" not in value:
            last_id = value
        elif field == "retry" and value.isascii() and value.isdigit():
            retry = int(value)
    if data:
        events.append(SSEEvent("\n".join(data), name or "message", last_id, retry))
    return events


_pieces = st.sampled_from(
    [
        b"data:",
        b"data: ",
        b"event: ",
        b"id:",
        b"retry: ",
        b":",
        b": ping",
        b"\n",
        b"\n\n",
        b"\r",
        b"\r\n",
        b" ",
        b"x",
        b"12",
        b"{}",
        b"[DONE]",
        "é".encode(),
        "🎉".encode(),
        b"\xff",
        b"\xf0\x9f",
        b"\x00",
        b"\xef\xbb\xbf",
    ]
)


@given(st.lists(_pieces, max_size=40), st.booleans(), st.lists(st.integers(min_value=0, max_value=200), max_size=10))
def test_bytes_split_anywhere_decode_as_the_whole_stream_does(pieces: list[bytes], bom: bool, cuts: list[int]) -> None:
    stream = (b"\xef\xbb\xbf" if bom else b"") + b"".join(pieces)
    points = sorted({min(c, len(stream)) for c in cuts})
    chunks = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    expected = reference(stream)
    assert decode(stream) == expected
    assert decode(*chunks) == expected
    assert decode(*[stream[i : i + 1] for i in range(len(stream))]) == expected


_event_lines = st.lists(
    st.one_of(
        st.builds(lambda v: b"data: " + v, st.sampled_from([b"{}", b"x", "é".encode(), b"", b" y", b"\xff"])),
        st.sampled_from([b"event: e", b"event:", b"id: 9", b"retry: 20", b": c", b"data"]),
    ),
    min_size=1,
    max_size=3,
)


@given(st.lists(_event_lines, max_size=8), st.sampled_from([b"\n", b"\r\n", b"\r"]))
def test_events_one_per_chunk_decode_as_the_whole_stream_does(events: list[list[bytes]], brk: bytes) -> None:
    chunks = [brk.join(lines) + brk + brk for lines in events]
    assert decode(*chunks) == reference(b"".join(chunks))
