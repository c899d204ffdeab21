"""chatpipe.batch._rows: row shapes (the gateway's chat.completion), error rows, the writer."""

from __future__ import annotations

import json
from pathlib import Path

from chatpipe.batch import BatchWriter, error_row, response_row
from chatpipe.errors import BadRequestError, InvalidRequestError, OverloadedError
from chatpipe.gateway._render import completion_json
from chatpipe.models import ChatResponse, Choice, Message, Usage


def _reply(**kwargs: object) -> ChatResponse:
    base: dict[str, object] = {
        "id": "chatcmpl-1",
        "model": "m",
        "choices": (Choice(0, Message("assistant", "Hello"), "stop"),),
        "usage": Usage(prompt_tokens=4, completion_tokens=2, total_tokens=6),
        "created": 100,
    }
    base.update(kwargs)
    return ChatResponse(**base)  # type: ignore[arg-type]


def test_a_response_row_holds_the_same_chat_completion_the_gateway_sends() -> None:
    reply = _reply()
    row = response_row("q1", reply, model="fallback")
    assert list(row) == ["id", "response"]
    assert row["response"] == completion_json(reply, model="fallback")
    assert row["response"]["object"] == "chat.completion"
    assert row["response"]["choices"][0]["logprobs"] is None
    assert row["response"]["usage"]["total_tokens"] == 6


def test_a_response_without_model_or_id_gets_the_fallback_model_and_a_fresh_id() -> None:
    body = response_row("q1", _reply(id=None, model=None), model="pipe-model")["response"]
    assert body["model"] == "pipe-model"
    assert body["id"].startswith("chatcmpl-")


def test_an_error_row_names_the_class_the_message_and_the_status() -> None:
    error = BadRequestError("openai HTTP 400: no", provider="openai", status=400)
    assert error_row("q2", error) == {
        "id": "q2",
        "error": {"type": "BadRequestError", "message": str(error), "status": 400},
    }
    invalid = error_row("q3", InvalidRequestError("bad", where="line 3"))
    assert invalid["error"] == {"type": "InvalidRequestError", "message": "line 3: bad", "status": None}


def test_the_writer_appends_whole_flushed_lines_and_counts(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_bytes(b'{"id":"old","response":{}}\n')
    with BatchWriter(path, model="m") as writer:
        writer.write("a", _reply())
        # flushed: readable by another reader before close
        assert path.read_bytes().count(b"\n") == 2
        writer.write("b", OverloadedError("busy", status=503))
        assert (writer.ok, writer.failed, writer.written) == (1, 1, 2)
        assert (writer.prompt_tokens, writer.completion_tokens) == (4, 2)
    lines = path.read_bytes().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["old", "a", "b"]
    assert lines[1].startswith(b'{"id":"a","response":')
    assert json.loads(lines[2])["error"]["type"] == "OverloadedError"


def test_non_finite_floats_are_written_as_null(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    reply = _reply(usage=Usage(prompt_tokens=1, extra={"cost": float("inf")}))
    with BatchWriter(path) as writer:
        writer.write("a", reply)
    text = path.read_text()
    assert "Infinity" not in text
    assert json.loads(text)["response"]["usage"]["cost"] is None


def test_the_writer_sums_the_known_costs_and_counts_the_unpriced(tmp_path: Path) -> None:
    from decimal import Decimal

    from chatpipe._cost import cost_of
    from chatpipe.models import Prices

    priced = _reply(prices=Prices(input=Decimal(1_000_000), output=Decimal(2_000_000)))  # $1 a prompt token
    vendor = _reply(provider="openai", model="gpt-4o-mini", created=None)
    with BatchWriter(tmp_path / "out.jsonl") as writer:
        writer.write("a", _reply())
        assert (writer.cost, writer.unpriced) == (None, 1), "no known cost yet: None, not 0"
        writer.write("b", priced)
        writer.write("c", vendor)
    assert writer.unpriced == 1
    assert vendor.cost is not None and writer.cost == Decimal(8) + vendor.cost.total
    with BatchWriter(tmp_path / "vendor.jsonl", batch=True) as batch:
        batch.write("c", vendor)
    expected = cost_of(vendor, batch=True)
    assert expected is not None and batch.cost == expected.total < vendor.cost.total
