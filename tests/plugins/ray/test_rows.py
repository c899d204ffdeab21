"""The Ray stage without Ray: batches read as chatpipe batch items, results as rows.

``ChatCompletions`` is a plain class; here it is called in this process, as an actor would
call it, against the fast loopback fake of tests/support/batch_fake.py.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from batch_fake import BatchFake, planned
from chatpipe.batch import BatchItem, InvalidLine, parse_line, stable_id
from chatpipe.errors import InvalidRequestError
from chatpipe_ray import OUTPUT_SCHEMA, ChatCompletions, PipelineSpec, chat_completions
from chatpipe_ray._rows import items_of

KEY_VAR = "CHATPIPE_RAY_TEST_KEY"


def spec_for(base_url: str, extra: str = "") -> PipelineSpec:
    return PipelineSpec(
        "fake",
        f"profiles:\n  fake: {{provider: openai, base_url: '{base_url}', api_key: '${{{KEY_VAR}}}', model: m, "
        f"max_retries: 1{extra}}}\n",
    )


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setenv(KEY_VAR, "sk-rows-test")
    with BatchFake() as server:
        yield server


def ok_ids(count: int) -> list[str]:
    return [key for key in (f"q{i}" for i in range(count * 3)) if planned(key) == "ok"][:count]


def rows_of(table: pa.Table) -> dict[str, dict[str, Any]]:
    assert table.schema == OUTPUT_SCHEMA
    return {row["id"]: row for row in table.to_pylist()}


def test_text_rows_are_jsonl_lines_in_either_format_with_stable_ids():
    chatpipe_line = json.dumps({"id": "a", "messages": [{"role": "user", "content": "x"}], "temperature": 0.5})
    openai_line = json.dumps({"custom_id": "b", "body": {"model": "g", "messages": [{"role": "user", "content": "y"}]}})
    no_id = json.dumps({"messages": [{"role": "user", "content": "z"}]})
    items = items_of(pa.table({"text": [chatpipe_line, openai_line, no_id, "not json", "  "]}))
    assert items[:3] == [parse_line(chatpipe_line, 0), parse_line(openai_line, 0), parse_line(no_id, 0)]
    assert isinstance(items[0], BatchItem) and items[0].params == {"temperature": 0.5}
    assert isinstance(items[1], BatchItem) and items[1].id == "b" and items[1].params == {"model": "g"}
    assert isinstance(items[2], BatchItem) and items[2].id == stable_id(json.loads(no_id))
    for bad in items[3:]:
        assert isinstance(bad, InvalidLine)
        assert isinstance(bad.error, InvalidRequestError)
        assert "line 0" not in str(bad.error)  # a Ray row has no line number
    assert "not valid JSON" in str(items[3].error)
    assert "blank" in str(items[4].error)


def test_column_rows_in_arrow_pandas_and_numpy_form_give_the_same_items():
    rows = [
        {"id": "a", "messages": [{"role": "user", "content": "x"}], "temperature": 0.5},
        {"id": "b", "messages": [{"role": "user", "content": "y", "name": "Alex"}], "temperature": None},
    ]
    expected = [
        BatchItem("a", [{"role": "user", "content": "x"}], {"temperature": 0.5}),
        BatchItem("b", [{"role": "user", "content": "y", "name": "Alex"}], {}),
    ]
    table = pa.Table.from_pylist(rows)  # Arrow gives row a's message a null 'name'
    assert table.to_pylist()[0]["messages"][0]["name"] is None
    assert items_of(table) == expected
    assert items_of(table.to_pandas()) == expected
    numpy_batch = {name: np.array(table.column(name).to_pylist(), dtype=object) for name in table.column_names}
    assert items_of(numpy_batch) == expected
    as_text = {"id": ["a"], "messages": [json.dumps(rows[0]["messages"])], "temperature": [0.5]}
    assert items_of(as_text) == expected[:1]
    assert isinstance(items_of({"id": ["c"], "messages": [[]]})[0], InvalidLine)
    with pytest.raises(TypeError, match="pyarrow Table"):
        items_of([1, 2])


def test_a_batch_gives_one_row_per_input_row_and_failures_are_rows(fake):
    good = ok_ids(30)
    refused = next(key for key in (f"r{i}" for i in range(200)) if planned(key) == "400")
    retried = next(key for key in (f"s{i}" for i in range(200)) if planned(key) == "503")
    ids = [*good, refused, retried]
    batch = pd.DataFrame({"id": ids, "messages": [[{"role": "user", "content": key}] for key in ids]})
    batch = pd.concat([batch, pd.DataFrame({"id": ["bad"], "messages": [[{"role": "nobody", "content": "x"}]]})])
    stage = ChatCompletions(spec_for(fake.base_url), concurrency=4)

    out = rows_of(stage(batch))
    stage.close()

    assert set(out) == {*ids, "bad"}
    for key in [*good, retried]:
        assert out[key]["error"] is None
        assert json.loads(out[key]["response"])["choices"][0]["message"]["content"] == f"answer {key}"
    assert json.loads(out[refused]["error"])["status"] == 400
    assert out[refused]["response"] is None
    bad = json.loads(out["bad"]["error"])
    assert bad["status"] is None and "role" in bad["message"]
    assert fake.max_in_flight <= 4
    assert fake.calls[retried] == 2  # retried once by the transport, one row


def test_params_override_every_row_and_a_second_batch_reuses_the_actors_loop(fake):
    ids = ok_ids(6)
    stage = ChatCompletions(spec_for(fake.base_url), concurrency=2, params={"model": "override"})
    first = stage({"id": ids[:3], "messages": [[{"role": "user", "content": k}] for k in ids[:3]]})
    second = stage({"id": ids[3:], "messages": [[{"role": "user", "content": k}] for k in ids[3:]]})
    stage.close()
    assert first.num_rows == second.num_rows == 3
    assert fake.models == {"override": 6}


def test_a_rate_limit_that_cannot_wait_is_an_error_row(fake):
    ids = ok_ids(5)
    stage = ChatCompletions(spec_for(fake.base_url, ", limits: {rpm: 2, window: 60, max_wait: 0}"), concurrency=5)
    out = rows_of(stage({"id": ids, "messages": [[{"role": "user", "content": k}] for k in ids]}))
    stage.close()
    errors = [json.loads(row["error"]) for row in out.values() if row["error"] is not None]
    assert len(out) == 5 and len(errors) == 3
    assert {error["type"] for error in errors} == {"LimitExceededError"}


def test_bad_arguments_are_refused_with_the_fix(fake):
    spec = spec_for(fake.base_url)
    with pytest.raises(InvalidRequestError, match="concurrency must be a whole number"):
        ChatCompletions(spec, concurrency=0)
    with pytest.raises(InvalidRequestError, match="PipelineSpec"):
        ChatCompletions("fake", concurrency=1)  # type: ignore[arg-type]


def test_an_unexpected_exception_of_one_call_is_that_rows_error_the_others_are_answered(fake, monkeypatch):
    ids = ok_ids(3)
    stage = ChatCompletions(spec_for(fake.base_url), concurrency=2)
    original = stage.pipeline.acomplete

    async def flaky(messages: Any, **params: Any) -> Any:
        if messages[-1]["content"] == "boom":
            raise RuntimeError("a bug in a plugin")
        return await original(messages, **params)

    monkeypatch.setattr(stage.pipeline, "acomplete", flaky)
    batch = {"id": [*ids, "x"], "messages": [[{"role": "user", "content": k}] for k in [*ids, "boom"]]}
    out = rows_of(stage(batch))
    stage.close()
    assert json.loads(out["x"]["error"]) == {"type": "RuntimeError", "message": "a bug in a plugin", "status": None}
    assert all(out[key]["error"] is None for key in ids)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"actors": 0}, "actors"), ({"concurrency": True}, "concurrency"), ({"batch_size": -1}, "batch_size")],
)
def test_chat_completions_refuses_bad_counts_before_touching_the_dataset(kwargs, message):
    spec = PipelineSpec("fake", "profiles:\n  fake: {provider: openai, model: m}\n")
    with pytest.raises(InvalidRequestError, match=f"{message} must be a whole number"):
        chat_completions(object(), spec, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="PipelineSpec"):
        chat_completions(object(), "fake")  # type: ignore[arg-type]
