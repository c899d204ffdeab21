"""chatpipe.batch._items: the two line formats, stable ids, invalid lines, line counting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chatpipe.batch import BatchItem, InvalidLine, count_lines, parse_line, read_items, stable_id
from chatpipe.errors import InvalidRequestError

HI = [{"role": "user", "content": "Hi"}]


def test_a_chatpipe_line_gives_id_messages_and_params() -> None:
    item = parse_line(json.dumps({"id": "q1", "messages": HI, "temperature": 0.2, "max_tokens": 5}), 3)
    assert item == BatchItem("q1", HI, {"temperature": 0.2, "max_tokens": 5}, 3)


def test_an_openai_batch_file_line_is_read_from_custom_id_and_body() -> None:
    line = {
        "custom_id": "request-1",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "gpt-4o-mini", "messages": HI, "max_tokens": 1000},
    }
    item = parse_line(json.dumps(line), 1)
    assert item == BatchItem("request-1", HI, {"model": "gpt-4o-mini", "max_tokens": 1000}, 1)


def test_streaming_parameters_are_dropped() -> None:
    item = parse_line(json.dumps({"id": "a", "messages": HI, "stream": True, "stream_options": {}, "n": 2}), 1)
    assert isinstance(item, BatchItem)
    assert item.params == {"n": 2}


def test_an_integer_id_is_taken_as_its_text() -> None:
    item = parse_line(json.dumps({"id": 7, "messages": HI}), 1)
    assert isinstance(item, BatchItem)
    assert item.id == "7"


def test_a_line_without_id_gets_a_stable_hash_of_its_canonical_json() -> None:
    first = parse_line('{"messages": [{"role": "user", "content": "Hi"}], "temperature": 1}', 1)
    reordered = parse_line('{"temperature":1,"messages":[{"content":"Hi","role":"user"}]}', 9)
    other = parse_line('{"messages": [{"role": "user", "content": "Ho"}]}', 1)
    assert isinstance(first, BatchItem) and isinstance(reordered, BatchItem) and isinstance(other, BatchItem)
    assert first.id == reordered.id == stable_id({"messages": HI, "temperature": 1})
    assert len(first.id) == 16 and int(first.id, 16) >= 0
    assert other.id != first.id


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "expected a JSON object, got list"),
        ('{"id": "x"}', "no 'messages'"),
        ('{"id": "x", "messages": []}', "non-empty list"),
        ('{"id": "x", "messages": "Hi"}', "non-empty list"),
        ('{"id": "x", "messages": ["Hi"]}', "messages[0] must be an object"),
        ('{"id": ["x"], "messages": [{"role": "user", "content": "Hi"}]}', "'id' must be"),
        ('{"custom_id": "x", "url": "/v1/embeddings", "body": {"input": "a"}}', "url '/v1/embeddings'"),
        ('{"custom_id": "x", "method": "GET", "body": {"messages": []}}', "method 'GET'"),
        ('{"custom_id": "x", "body": "no"}', "needs a 'body' object"),
        ('{"custom_id": [5], "body": {"messages": [{"role": "user", "content": "Hi"}]}}', "'custom_id' must be"),
    ],
)
def test_a_bad_line_is_an_invalid_line_naming_its_number(text: str, fragment: str) -> None:
    bad = parse_line(text, 12)
    assert isinstance(bad, InvalidLine)
    assert bad.line == 12
    assert isinstance(bad.error, InvalidRequestError)
    assert str(bad.error).startswith("line 12: ")
    assert fragment in str(bad.error)


def test_an_invalid_line_keeps_its_own_id_else_the_hash_of_its_text() -> None:
    own = parse_line('{"id": "x", "messages": 3}', 1)
    unreadable = parse_line("garbage here", 1)
    again = parse_line("garbage here\n", 40)
    assert isinstance(own, InvalidLine) and own.id == "x"
    assert isinstance(unreadable, InvalidLine) and isinstance(again, InvalidLine)
    assert unreadable.id == again.id == stable_id("garbage here")


def test_read_items_streams_a_file_skipping_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(
        json.dumps({"id": "a", "messages": HI}) + "\n\n   \n" + "oops\n" + json.dumps({"messages": HI}),
        encoding="utf-8",
    )
    items = list(read_items(path))
    assert [type(i).__name__ for i in items] == ["BatchItem", "InvalidLine", "BatchItem"]
    assert [i.line for i in items] == [1, 4, 5]


def test_a_line_that_is_not_utf8_is_an_invalid_line_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"id": "a", "messages": \xff}\n')
    (bad,) = list(read_items(path))
    assert isinstance(bad, InvalidLine)
    assert "not valid JSON" in str(bad.error)


@pytest.mark.parametrize(("data", "expected"), [(b"", 0), (b"a\n", 1), (b"a\nb", 2), (b"a\nb\n\n", 3)])
def test_count_lines_counts_a_last_line_without_newline(tmp_path: Path, data: bytes, expected: int) -> None:
    path = tmp_path / "f"
    path.write_bytes(data)
    assert count_lines(path) == expected
