"""chatpipe.batch._runner: amap/map, and run_batch over 5,000 conversations with failures.

The fake (tests/support/batch_fake.py) fails about 5 % of first calls: 503 and 429 with
``retry-after: 0`` (the transport retries them, then they succeed) and 400 (final).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from batch_fake import BatchFake, planned
from chatpipe import Pipeline
from chatpipe.batch import BatchItem, arun_batch, read_items, run_batch
from chatpipe.errors import APIConnectionError, AuthenticationError, BadRequestError, InvalidRequestError
from chatpipe.models import ChatResponse
from chatpipe.routing import Router


@pytest.fixture
def fake() -> Any:
    with BatchFake() as server:
        yield server


def _pipe(fake: BatchFake, **kwargs: Any) -> Pipeline:
    return Pipeline("openai", model="m", base_url=fake.base_url, api_key="sk-test", **kwargs)


def _write_input(path: Path, count: int, start: int = 0) -> list[str]:
    ids = [f"q{i}" for i in range(start, start + count)]
    with path.open("w", encoding="utf-8") as out:
        for key in ids:
            out.write(json.dumps({"id": key, "messages": [{"role": "user", "content": key}]}) + "\n")
    return ids


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def test_5000_conversations_give_5000_rows_each_id_once_errors_typed(fake: BatchFake, tmp_path: Path) -> None:
    ids = _write_input(tmp_path / "in.jsonl", 5000)
    plans = Counter(planned(key) for key in ids)
    assert plans["503"] + plans["429"] > 50 and plans["400"] > 50  # the fake does fail ~5 % of first calls

    summary = run_batch(_pipe(fake), tmp_path / "in.jsonl", tmp_path / "out.jsonl", concurrency=32)

    rows = _rows(tmp_path / "out.jsonl")
    assert len(rows) == 5000
    assert sorted(row["id"] for row in rows) == sorted(ids)
    errors = {row["id"]: row["error"] for row in rows if "error" in row}
    assert set(errors) == {key for key in ids if planned(key) == "400"}  # the retried ones succeeded
    assert {(e["type"], e["status"]) for e in errors.values()} == {("BadRequestError", 400)}
    answers = [row["response"] for row in rows if "response" in row]
    assert all(a["object"] == "chat.completion" for a in answers)
    assert {a["choices"][0]["message"]["content"] for a in answers} == {
        f"answer {key}" for key in ids if planned(key) != "400"
    }
    assert (summary.ok, summary.failed, summary.total, summary.skipped) == (5000 - len(errors), len(errors), 5000, 0)
    assert summary.prompt_tokens == 3 * summary.ok and not summary.interrupted
    assert fake.duplicates() == []
    assert sum(fake.calls.values()) == 5000 + plans["503"] + plans["429"]  # one retry each, no more


def test_a_rerun_skips_the_ids_already_written_and_cuts_a_torn_row(fake: BatchFake, tmp_path: Path) -> None:
    ids = _write_input(tmp_path / "in.jsonl", 300)
    first = _write_input(tmp_path / "first.jsonl", 100)
    run_batch(_pipe(fake), tmp_path / "first.jsonl", tmp_path / "out.jsonl", concurrency=8)
    with (tmp_path / "out.jsonl").open("ab") as out:
        out.write(b'{"id":"q150","resp')  # a row torn by a kill
    calls_before = sum(fake.finals.values())

    summary = run_batch(_pipe(fake), tmp_path / "in.jsonl", tmp_path / "out.jsonl", concurrency=8)

    rows = _rows(tmp_path / "out.jsonl")
    assert sorted(row["id"] for row in rows) == sorted(ids)
    assert summary.skipped == len(first) and summary.written == 200
    assert sum(fake.finals.values()) - calls_before == 200
    assert summary.previous_errors == sum(planned(key) == "400" for key in first)


def test_invalid_lines_and_duplicate_ids_become_error_rows(fake: BatchFake, tmp_path: Path) -> None:
    hi = [{"role": "user", "content": "q1"}]
    lines = [
        json.dumps({"id": "a", "messages": hi}),
        "{broken",
        json.dumps({"id": "a", "messages": [{"role": "user", "content": "other"}]}),
        json.dumps({"id": "b", "messages": [{"role": "wizard", "content": "q2"}]}),  # caught by the pipeline
        json.dumps({"custom_id": "c", "body": {"messages": [{"role": "user", "content": "q3"}]}}),
    ]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    summary = run_batch(_pipe(fake), tmp_path / "in.jsonl", tmp_path / "out.jsonl")

    rows = _rows(tmp_path / "out.jsonl")
    by_id: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_id.setdefault(row["id"], []).append(row)
    assert len(rows) == 5
    assert sorted("response" in r for r in by_id["a"]) == [False, True]  # the first ran, the second did not
    duplicate = next(r for r in by_id["a"] if "error" in r)["error"]
    assert duplicate["type"] == "InvalidRequestError" and "line 3: duplicate id 'a'" in duplicate["message"]
    broken = next(r for key, group in by_id.items() for r in group if key not in "abc")["error"]
    assert broken["message"].startswith("line 2: not valid JSON") and broken["status"] is None
    assert by_id["b"][0]["error"]["type"] == "InvalidRequestError"
    assert "response" in by_id["c"][0]
    assert (summary.invalid, summary.duplicates, summary.failed, summary.ok) == (1, 1, 3, 2)
    assert fake.calls["other"] == 0  # the duplicate was never sent


def test_params_override_every_lines_params(fake: BatchFake, tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_text(
        json.dumps({"id": "a", "messages": [{"role": "user", "content": "q1"}], "model": "from-line"})
        + "\n"
        + json.dumps({"id": "b", "messages": [{"role": "user", "content": "q2"}]})
        + "\n",
        encoding="utf-8",
    )
    run_batch(_pipe(fake), tmp_path / "in.jsonl", tmp_path / "one.jsonl")
    assert fake.models == Counter({"from-line": 1, "m": 1})  # a line's model beats the pipeline's
    run_batch(_pipe(fake), tmp_path / "in.jsonl", tmp_path / "two.jsonl", params={"model": "forced"})
    assert fake.models["forced"] == 2


def test_concurrency_bounds_the_calls_in_flight(tmp_path: Path) -> None:
    with BatchFake(delay=0.01) as fake:
        _write_input(tmp_path / "in.jsonl", 200)
        run_batch(_pipe(fake), tmp_path / "in.jsonl", tmp_path / "out.jsonl", concurrency=5)
        assert fake.max_in_flight == 5


def test_a_missing_key_is_raised_before_anything_is_written(fake: BatchFake, tmp_path: Path) -> None:
    _write_input(tmp_path / "in.jsonl", 3)
    pipe = Pipeline("openai", model="m", base_url="https://api.openai.com/v1")
    with pytest.raises(AuthenticationError, match="no API key"):
        run_batch(pipe, tmp_path / "in.jsonl", tmp_path / "out.jsonl")
    assert not (tmp_path / "out.jsonl").exists()


def test_setting_stop_lets_the_calls_in_flight_finish_and_marks_the_run_interrupted(tmp_path: Path) -> None:
    with BatchFake(delay=0.005) as fake:
        _write_input(tmp_path / "in.jsonl", 2000)

        async def main() -> Any:
            stop = asyncio.Event()
            asyncio.get_running_loop().call_later(0.3, stop.set)
            return await arun_batch(_pipe(fake), tmp_path / "in.jsonl", tmp_path / "out.jsonl", stop=stop)

        summary = asyncio.run(main())
        rows = _rows(tmp_path / "out.jsonl")
        assert summary.interrupted and 0 < len(rows) < 2000
        assert len(rows) == summary.written == sum(fake.finals.values())  # every call sent was written


def test_map_yields_each_item_with_its_result_in_completion_order(fake: BatchFake) -> None:
    items = [BatchItem(f"q{i}", [{"role": "user", "content": f"q{i}"}]) for i in range(60)]
    results = dict((item.id, result) for item, result in _pipe(fake).map(items, concurrency=7))
    assert set(results) == {item.id for item in items}
    for key, result in results.items():
        if planned(key) == "400":
            assert isinstance(result, BadRequestError)
        else:
            assert isinstance(result, ChatResponse) and result.text == f"answer {key}"


def test_map_takes_plain_message_lists_and_invalid_messages_are_results(fake: BatchFake) -> None:
    good = [{"role": "user", "content": "q1"}]
    bad = [{"role": "wizard", "content": "x"}]
    results = list(_pipe(fake).map([good, bad]))
    by_first = {item[0]["role"]: result for item, result in results}
    assert isinstance(by_first["user"], ChatResponse)
    assert isinstance(by_first["wizard"], InvalidRequestError)


def test_map_refuses_to_run_inside_an_event_loop(fake: BatchFake) -> None:
    async def inside() -> None:
        list(_pipe(fake).map([[{"role": "user", "content": "q1"}]]))

    with pytest.raises(InvalidRequestError, match="use 'async for"):
        asyncio.run(inside())


def test_amap_on_a_router_falls_back_per_item(fake: BatchFake) -> None:
    dead = Pipeline("openai", model="m", base_url="http://127.0.0.1:9/v1", api_key="sk-test", max_retries=0)
    router = Router([dead, _pipe(fake, profile="live")], cooldown=None)
    items = [[{"role": "user", "content": key}] for key in ("q5", "q6", "q7")]

    async def main() -> list[Any]:
        return [result async for _, result in router.amap(items, concurrency=3)]

    results = asyncio.run(main())
    assert all(isinstance(r, ChatResponse) and r.route == "live" for r in results)


def test_amap_takes_an_async_iterable_and_reports_connection_errors(fake: BatchFake) -> None:
    dead = Pipeline("openai", model="m", base_url="http://127.0.0.1:9/v1", api_key="sk-test", max_retries=0)

    async def source() -> Any:
        for i in range(4):
            yield [{"role": "user", "content": f"q{i}"}]

    async def main() -> list[Any]:
        return [result async for _, result in dead.amap(source(), concurrency=2)]

    results = asyncio.run(main())
    assert len(results) == 4 and all(isinstance(r, APIConnectionError) for r in results)


def test_amap_holds_no_more_unhandled_items_than_its_concurrency_under_a_slow_consumer(fake: BatchFake) -> None:
    items = [[{"role": "user", "content": f"q{i}"}] for i in range(60)]
    gaps = []

    async def main() -> None:
        handled = 0
        async for _ in _pipe(fake).amap(items, concurrency=4):
            await asyncio.sleep(0.01)  # a writer slower than the calls: results pile up if allowed to
            gaps.append(sum(fake.finals.values()) - handled)  # answered, not yet handled
            handled += 1

    asyncio.run(asyncio.wait_for(main(), 30))
    assert len(gaps) == 60
    # a kill at any moment loses at most the answers not yet handled: no more than the concurrency
    assert max(gaps) <= 4


def test_closing_amap_early_cancels_the_calls_in_flight(tmp_path: Path) -> None:
    with BatchFake(delay=0.5) as fake:
        items = [[{"role": "user", "content": f"q{i}"}] for i in range(100)]

        async def main() -> None:
            results = _pipe(fake).amap(items, concurrency=4)
            await asyncio.wait_for(results.__anext__(), 5)
            await results.aclose()  # type: ignore[attr-defined]

        asyncio.run(asyncio.wait_for(main(), 10))
        assert sum(fake.calls.values()) <= 8


@pytest.mark.parametrize("bad", [0, -1, True, 1.5])
def test_concurrency_must_be_a_whole_number_of_one_or_more(fake: BatchFake, bad: Any) -> None:
    with pytest.raises(InvalidRequestError, match="concurrency must be"):
        list(_pipe(fake).map([], concurrency=bad))


def test_map_over_read_items_gives_an_invalid_line_its_own_error(fake: BatchFake, tmp_path: Path) -> None:
    (tmp_path / "in.jsonl").write_text('{"id": "a", "messages": [{"role": "user", "content": "q1"}]}\nnope\n')
    results = {item.id: result for item, result in _pipe(fake).map(read_items(tmp_path / "in.jsonl"))}
    assert len(results) == 2 and isinstance(results["a"], ChatResponse)
    (error,) = [r for key, r in results.items() if key != "a"]
    assert isinstance(error, InvalidRequestError) and str(error).startswith("line 2: not valid JSON")
    assert sum(fake.calls.values()) == 1


def test_the_summary_sums_the_cost_of_the_replies(fake: BatchFake, tmp_path: Path) -> None:
    from decimal import Decimal

    from chatpipe.cli._batch import _describe
    from chatpipe.models import Prices

    _write_input(tmp_path / "in.jsonl", 40)
    unpriced = run_batch(_pipe(fake), tmp_path / "in.jsonl", tmp_path / "a.jsonl")
    assert (unpriced.cost, unpriced.to_dict()["cost"]) == (None, None), "fake-model has no price: no guess"
    assert "; cost $" not in _describe(unpriced)
    pipe = _pipe(fake, prices=Prices(input=Decimal(1000), output=Decimal(2000)))
    summary = run_batch(pipe, tmp_path / "in.jsonl", tmp_path / "b.jsonl")
    ok = summary.ok
    assert ok > 0 and summary.unpriced == 0
    # each reply: 3 prompt tokens x $0.001 + 2 completion tokens x $0.002
    assert summary.cost == Decimal("0.007") * ok
    assert json.loads(json.dumps(summary.to_dict()))["cost"] == pytest.approx(0.007 * ok)
    assert f"; cost ${Decimal('0.007') * ok:f} USD ->" in _describe(summary)
