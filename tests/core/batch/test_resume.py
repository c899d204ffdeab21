"""chatpipe.batch._resume: the compact id set, reading an output, the torn last line."""

from __future__ import annotations

from pathlib import Path

import pytest
from chatpipe.batch import IdSet, done_ids
from chatpipe.errors import InvalidRequestError


def test_an_id_set_holds_what_was_added_and_nothing_else() -> None:
    ids = IdSet(f"id-{i}" for i in range(5000))  # grows past its first table several times
    assert len(ids) == 5000
    assert all(f"id-{i}" in ids for i in range(5000))
    assert not any(f"id-{i}" in ids for i in range(5000, 10000))
    assert ids.add("id-1") is False
    assert ids.add("new") is True
    assert len(ids) == 5001
    assert 17 not in ids


def test_an_id_set_takes_16_bytes_per_id_or_less() -> None:
    ids = IdSet(str(i) for i in range(100_000))
    assert ids._slots.itemsize * len(ids._slots) <= 16 * 2 * len(ids)  # at most half full, doubling


def test_no_output_file_means_nothing_done(tmp_path: Path) -> None:
    assert len(done_ids(tmp_path / "missing.jsonl")) == 0


def test_done_ids_reads_every_row_and_counts_error_rows(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text(
        '{"id":"a","response":{"id":"x"}}\n'
        '{"id":"b","error":{"type":"BadRequestError","message":"m","status":400}}\n'
        "\n"
        '{"error": {"type": "X"}, "id": "c"}\n',  # written by another tool: keys in another order
        encoding="utf-8",
    )
    ids = done_ids(path)
    assert {"a", "b", "c"} <= {i for i in "abcd" if i in ids}
    assert "d" not in ids
    assert ids.errors == 2


def test_a_torn_last_line_is_cut_off_before_resuming(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    whole = b'{"id":"a","response":{}}\n{"id":"b","response":{}}\n'
    path.write_bytes(whole + b'{"id":"c","respo')
    ids = done_ids(path)
    assert path.read_bytes() == whole
    assert "c" not in ids and "b" in ids


def test_a_file_holding_only_a_torn_line_becomes_empty(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(b'{"id":"a","res' * 10_000)  # longer than one block read backwards
    assert len(done_ids(path)) == 0
    assert path.read_bytes() == b""


def test_a_line_that_is_not_a_row_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text('{"id":"a","response":{}}\nhello\n', encoding="utf-8")
    with pytest.raises(InvalidRequestError, match=r"out.jsonl line 2 is not a batch row"):
        done_ids(path)
