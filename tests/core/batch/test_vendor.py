"""run_vendor_batch against loopback fakes of OpenAI's and Anthropic's batch APIs (validated
against their OpenAPI files): per-item successes and errors, expiry, failure, splitting,
interruption and resume without a second submission."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from chatpipe import Pipeline
from chatpipe.batch._vendor import custom_id_for, run_vendor_batch
from chatpipe.errors import (
    APITimeoutError,
    BadRequestError,
    ChatpipeError,
    ConfigError,
    InvalidRequestError,
    ProviderError,
    RateLimitError,
)
from chatpipe.models import ChatResponse
from chatpipe.provider import BatchStatus
from chatpipe.testing import FakeServer

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the fakes live beside this file
    sys.path.insert(0, str(HERE))

from vendor_fakes import FakeAnthropicBatches, FakeMistralBatches, FakeOpenAIBatches  # noqa: E402

KEY = "sk-test-PLANTED-batch-0123456789abcdef"


@attrs.frozen
class Item:
    id: str
    messages: list[dict[str, Any]]
    params: dict[str, Any] = attrs.field(factory=dict)
    line: int = 0


def items(n: int, prefix: str = "c") -> list[Item]:
    return [Item(f"{prefix}{i}", [{"role": "user", "content": f"question {i}"}], line=i + 1) for i in range(n)]


class Collector:
    def __init__(self) -> None:
        self.results: list[tuple[str, ChatResponse | ChatpipeError]] = []

    def __call__(self, item_id: str, result: ChatResponse | ChatpipeError) -> None:
        self.results.append((item_id, result))

    def by_id(self) -> dict[str, ChatResponse | ChatpipeError]:
        ids = [i for i, _ in self.results]
        assert len(ids) == len(set(ids)), "an item got two results"
        return dict(self.results)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as s:
        yield s


@pytest.fixture
def openai_pipe(server: FakeServer) -> Iterator[Pipeline]:
    with Pipeline("openai", model="gpt-4o-mini", base_url=f"{server.url}/v1", api_key=KEY, max_retries=0) as pipe:
        yield pipe


@pytest.fixture
def claude_pipe(server: FakeServer) -> Iterator[Pipeline]:
    with Pipeline("claude", model="claude-sonnet-4-5", base_url=server.url, api_key=KEY, max_tokens=64) as pipe:
        yield pipe


def no_sleep(seconds: float) -> None:
    assert 0 < seconds <= 300


def fail_some(custom_id: str, body: dict[str, Any]) -> tuple[int, str, str] | None:
    number = int(custom_id[1:])
    if number % 5 == 1:
        return (400, "invalid_request_error", f"bad request {custom_id}")
    if number % 5 == 3:
        return (429, "rate_limit_error", f"slow down {custom_id}")
    return None


def routes(server: FakeServer, method: str, prefix: str) -> list[str]:
    return [r.route for r in server.requests if r.method == method and r.route.startswith(prefix)]


# --- OpenAI -------------------------------------------------------------------------------------


def test_openai_batch_with_per_item_successes_and_errors(
    server: FakeServer, openai_pipe: Pipeline, openai_spec: Any, tmp_path: Path
) -> None:
    fake = FakeOpenAIBatches(server, openai_spec, answer=fail_some)
    got = Collector()
    polled: list[BatchStatus] = []
    summary = run_vendor_batch(
        openai_pipe, items(10), got, state_file=tmp_path / "state.json", on_progress=polled.append, sleep=no_sleep
    )
    results = got.by_id()
    assert sorted(results) == sorted(f"c{i}" for i in range(10))
    for i in range(10):
        result = results[f"c{i}"]
        if i % 5 == 1:
            assert isinstance(result, BadRequestError) and f"bad request c{i}" in str(result)
        elif i % 5 == 3:
            assert isinstance(result, RateLimitError) and result.status == 429
        else:
            assert isinstance(result, ChatResponse) and result.choices[0].message.content == f"echo c{i}"
    assert fake.problems == []
    assert fake.creates == 1
    assert summary.submitted == ("batch_1",) and summary.resumed == ()
    assert (summary.succeeded, summary.failed) == (6, 4)
    assert [s.vendor_status for s in polled] == ["validating", "in_progress", "completed"]
    assert set(routes(server, "GET", "/v1/files/")) == {
        "/v1/files/file-output-batch_1/content",
        "/v1/files/file-error-batch_1/content",
    }
    uploads = [r for r in server.requests if r.route == "/v1/files"]
    assert uploads[0].headers["authorization"] == f"Bearer {KEY}"
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["provider"] == "openai" and [b["id"] for b in state["batches"]] == ["batch_1"]
    assert KEY not in (tmp_path / "state.json").read_text()


def test_the_batch_line_body_is_what_a_direct_call_sends(
    server: FakeServer, openai_pipe: Pipeline, openai_spec: Any, tmp_path: Path
) -> None:
    FakeOpenAIBatches(server, openai_spec)
    item = Item("x", [{"role": "user", "content": "Hi"}], params={"temperature": 0.5, "max_tokens": 7})
    run_vendor_batch(openai_pipe, [item], Collector(), state_file=tmp_path / "s.json", sleep=no_sleep)
    upload = next(r for r in server.requests if r.route == "/v1/files")
    line = json.loads(upload.body.split(b"\r\n\r\n")[-1].split(b"\r\n")[0])
    direct = openai_pipe._call_request(item.messages, None, None, item.params, None).json
    assert line == {"custom_id": "x", "method": "POST", "url": "/v1/chat/completions", "body": direct}


def test_openai_expired_batch_gives_the_missing_items_errors(
    server: FakeServer, openai_pipe: Pipeline, openai_spec: Any, tmp_path: Path
) -> None:
    fake = FakeOpenAIBatches(server, openai_spec, outcome="expired", processed=3)
    got = Collector()
    summary = run_vendor_batch(openai_pipe, items(7), got, state_file=tmp_path / "s.json", sleep=no_sleep)
    results = got.by_id()
    assert len(results) == 7
    assert all(isinstance(results[f"c{i}"], ChatResponse) for i in range(3))
    for i in range(3, 7):
        error = results[f"c{i}"]
        assert isinstance(error, APITimeoutError) and "expired" in str(error) and "batch_1" in str(error)
    assert (summary.succeeded, summary.failed) == (3, 4)
    assert fake.problems == []


def test_openai_failed_batch_fails_every_item_with_the_reason(
    server: FakeServer, openai_pipe: Pipeline, openai_spec: Any, tmp_path: Path
) -> None:
    FakeOpenAIBatches(server, openai_spec, outcome="failed")
    got = Collector()
    run_vendor_batch(openai_pipe, items(3), got, state_file=tmp_path / "s.json", sleep=no_sleep)
    results = got.by_id()
    assert len(results) == 3
    assert all(isinstance(e, BadRequestError) and "no such model (line 1)" in str(e) for e in results.values())
    assert routes(server, "GET", "/v1/files/") == []


def test_a_large_input_is_split_into_batches_within_the_limits(
    server: FakeServer, openai_pipe: Pipeline, openai_spec: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chatpipe.openai_compat import OpenAIBatchAPI

    monkeypatch.setattr(OpenAIBatchAPI, "max_requests", 4)
    fake = FakeOpenAIBatches(server, openai_spec)
    got = Collector()
    summary = run_vendor_batch(openai_pipe, items(10), got, state_file=tmp_path / "s.json", sleep=no_sleep)
    assert summary.submitted == ("batch_1", "batch_2", "batch_3")
    assert [len(fake.files[f"file-in{n}"].splitlines()) for n in (1, 2, 3)] == [4, 4, 2]
    assert len(got.by_id()) == 10 and all(isinstance(r, ChatResponse) for r in got.by_id().values())
    assert fake.problems == []


def test_an_openai_batch_holds_one_model(
    server: FakeServer, openai_pipe: Pipeline, openai_spec: Any, tmp_path: Path
) -> None:
    fake = FakeOpenAIBatches(server, openai_spec)
    mixed = [
        Item(f"m{i}", [{"role": "user", "content": "q"}], params={"model": "gpt-4o" if i % 2 else "gpt-4o-mini"})
        for i in range(5)
    ]
    got = Collector()
    summary = run_vendor_batch(openai_pipe, mixed, got, state_file=tmp_path / "s.json", sleep=no_sleep)
    assert summary.submitted == ("batch_1", "batch_2")
    models = [{json.loads(raw)["body"]["model"] for raw in fake.files[f"file-in{n}"].splitlines()} for n in (1, 2)]
    assert models == [{"gpt-4o-mini"}, {"gpt-4o"}]
    assert len(got.by_id()) == 5 and fake.problems == []


def test_interrupted_mid_poll_and_resumed_never_submits_again(
    server: FakeServer, openai_pipe: Pipeline, openai_spec: Any, tmp_path: Path
) -> None:
    fake = FakeOpenAIBatches(server, openai_spec, answer=fail_some, polls=3)
    state = tmp_path / "s.json"
    got = Collector()

    class Interrupted(Exception):
        pass

    def interrupt(status: BatchStatus) -> None:
        if status.vendor_status == "in_progress":
            raise Interrupted

    with pytest.raises(Interrupted):
        run_vendor_batch(openai_pipe, items(6), got, state_file=state, on_progress=interrupt, sleep=no_sleep)
    assert state.exists() and got.results == [] and fake.creates == 1

    summary = run_vendor_batch(openai_pipe, items(6), got, state_file=state, sleep=no_sleep)
    assert fake.creates == 1, "the resumed run submitted the batch again"
    assert len(routes(server, "POST", "/v1/files")) == 1
    assert summary.submitted == () and summary.resumed == ("batch_1",)
    assert sorted(got.by_id()) == [f"c{i}" for i in range(6)]
    assert fake.problems == []


def test_interrupted_while_handing_out_results_and_resumed_gives_each_item_one_result(
    server: FakeServer, openai_pipe: Pipeline, openai_spec: Any, tmp_path: Path
) -> None:
    fake = FakeOpenAIBatches(server, openai_spec, answer=fail_some)
    state = tmp_path / "s.json"
    written: dict[str, ChatResponse | ChatpipeError] = {}  # what the output file would hold

    def write_three(item_id: str, result: ChatResponse | ChatpipeError) -> None:
        if len(written) == 3:
            raise KeyboardInterrupt
        written[item_id] = result

    with pytest.raises(KeyboardInterrupt):
        run_vendor_batch(openai_pipe, items(8), write_three, state_file=state, sleep=no_sleep)
    assert len(written) == 3
    # The batch runner's resume skips the ids already written and passes the rest.
    rest = [item for item in items(8) if item.id not in written]
    got = Collector()
    run_vendor_batch(openai_pipe, rest, got, state_file=state, sleep=no_sleep)
    assert fake.creates == 1
    assert sorted([*written, *got.by_id()]) == sorted(f"c{i}" for i in range(8))
    assert not set(written) & set(got.by_id())


def test_a_rerun_after_a_finished_run_downloads_again_without_submitting(
    server: FakeServer, openai_pipe: Pipeline, openai_spec: Any, tmp_path: Path
) -> None:
    fake = FakeOpenAIBatches(server, openai_spec)
    state = tmp_path / "s.json"
    run_vendor_batch(openai_pipe, items(4), Collector(), state_file=state, sleep=no_sleep)
    again = Collector()
    # The batch runner passes only the items not yet in the output: here two of them, plus a new one.
    rest = [*items(4)[2:], Item("new", [{"role": "user", "content": "late"}])]
    summary = run_vendor_batch(openai_pipe, rest, again, state_file=state, sleep=no_sleep)
    assert sorted(again.by_id()) == ["c2", "c3", "new"]
    assert summary.resumed == ("batch_1",) and summary.submitted == ("batch_2",)
    assert fake.creates == 2
    assert [len(b["items"]) for b in json.loads(state.read_text())["batches"]] == [4, 1]


def test_a_changed_input_with_the_same_ids_is_refused(
    server: FakeServer, openai_pipe: Pipeline, openai_spec: Any, tmp_path: Path
) -> None:
    fake = FakeOpenAIBatches(server, openai_spec)
    state = tmp_path / "s.json"
    run_vendor_batch(openai_pipe, items(2), Collector(), state_file=state, sleep=no_sleep)
    changed = [Item("c0", [{"role": "user", "content": "something else"}])]
    with pytest.raises(ConfigError, match=r"item 'c0' \(line 0\) changed since batch batch_1.*delete the state file"):
        run_vendor_batch(openai_pipe, changed, Collector(), state_file=state, sleep=no_sleep)
    assert fake.creates == 1


def test_a_state_file_of_another_provider_is_refused(
    server: FakeServer, openai_pipe: Pipeline, claude_pipe: Pipeline, openai_spec: Any, tmp_path: Path
) -> None:
    FakeOpenAIBatches(server, openai_spec)
    state = tmp_path / "s.json"
    run_vendor_batch(openai_pipe, items(1), Collector(), state_file=state, sleep=no_sleep)
    with pytest.raises(ConfigError, match="belongs to provider 'openai'"):
        run_vendor_batch(claude_pipe, items(1), Collector(), state_file=state, sleep=no_sleep)


def test_items_that_cannot_be_sent_get_their_error_and_the_rest_run(
    server: FakeServer, openai_pipe: Pipeline, openai_spec: Any, tmp_path: Path
) -> None:
    fake = FakeOpenAIBatches(server, openai_spec)
    bad = Item("bad", [{"role": "wizard", "content": "x"}], line=9)
    streaming = Item("stream", [{"role": "user", "content": "x"}], params={"stream": True})
    got = Collector()
    run_vendor_batch(openai_pipe, [bad, *items(2), streaming], got, state_file=tmp_path / "s.json", sleep=no_sleep)
    results = got.by_id()
    assert isinstance(results["bad"], InvalidRequestError)
    assert isinstance(results["stream"], InvalidRequestError) and "does not stream" in str(results["stream"])
    assert isinstance(results["c0"], ChatResponse) and isinstance(results["c1"], ChatResponse)
    assert len(fake.files["file-in1"].splitlines()) == 2


def test_ids_that_vendors_refuse_are_mapped_to_safe_custom_ids(
    server: FakeServer, claude_pipe: Pipeline, vendor_spec: Callable[[str], Any], tmp_path: Path
) -> None:
    fake = FakeAnthropicBatches(server, vendor_spec("anthropic"))
    odd = [Item("conv/1 é", [{"role": "user", "content": "a"}]), Item("x" * 80, [{"role": "user", "content": "b"}])]
    got = Collector()
    run_vendor_batch(claude_pipe, odd, got, state_file=tmp_path / "s.json", sleep=no_sleep)
    assert sorted(got.by_id()) == sorted(i.id for i in odd)
    sent = [r["custom_id"] for r in fake.requests["msgbatch_0001"]]
    assert sent == [custom_id_for(i.id) for i in odd] and all(s.startswith("h-") and len(s) == 42 for s in sent)
    assert fake.problems == []


def test_duplicate_ids_are_refused(openai_pipe: Pipeline, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"item id 'c0' \(line 1\) is used twice"):
        run_vendor_batch(openai_pipe, [*items(1), *items(1)], Collector(), state_file=tmp_path / "s.json")


def test_a_provider_without_batch_api_is_refused_naming_those_with_one(tmp_path: Path) -> None:
    pipe = Pipeline("custom", base_url="http://127.0.0.1:9/v1", model="m")
    with pytest.raises(ConfigError, match=r"provider 'custom' has no batch API; providers with one: .*claude.*openai"):
        run_vendor_batch(pipe, items(1), Collector(), state_file=tmp_path / "s.json")
    assert not (tmp_path / "s.json").exists()


def test_a_router_is_refused(tmp_path: Path) -> None:
    from chatpipe.config import load_config

    config = tmp_path / "chatpipe.yaml"
    config.write_text(
        "profiles:\n"
        "  a: {provider: openai, model: m, api_key: sk-a}\n"
        "  b: {provider: claude, model: m, api_key: sk-b}\n"
        "  both: {route: {targets: [a, b]}}\n"
    )
    router = Pipeline.from_config("both", config=load_config(config))
    with pytest.raises(ConfigError, match=r"profile 'both' is a router; run it with one of its targets \(a, b\)"):
        run_vendor_batch(router, items(1), Collector(), state_file=tmp_path / "s.json")


def test_a_vendor_error_while_creating_is_raised_typed_and_nothing_is_recorded(
    server: FakeServer, openai_pipe: Pipeline, openai_spec: Any, tmp_path: Path
) -> None:
    from chatpipe.testing import FakeResponse

    FakeOpenAIBatches(server, openai_spec)
    server.enqueue(
        "POST /v1/batches", FakeResponse.json({"error": {"message": "nope", "type": "invalid_request_error"}}, 400)
    )
    with pytest.raises(BadRequestError, match="nope"):
        run_vendor_batch(openai_pipe, items(2), Collector(), state_file=tmp_path / "s.json", sleep=no_sleep)
    assert not (tmp_path / "s.json").exists()


# --- Mistral ------------------------------------------------------------------------------------


@pytest.fixture
def mistral_pipe(server: FakeServer) -> Iterator[Pipeline]:
    with Pipeline("mistral", model="mistral-small-latest", base_url=f"{server.url}/v1", api_key=KEY) as pipe:
        yield pipe


def test_mistral_batch_with_per_item_errors_and_resume(
    server: FakeServer, mistral_pipe: Pipeline, vendor_spec: Callable[[str], Any], tmp_path: Path
) -> None:
    fake = FakeMistralBatches(server, vendor_spec("mistral"), answer=fail_some, polls=3)
    state = tmp_path / "s.json"
    got = Collector()

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_vendor_batch(mistral_pipe, items(6), got, state_file=state, sleep=interrupt)
    summary = run_vendor_batch(mistral_pipe, items(6), got, state_file=state, sleep=no_sleep)
    assert fake.creates == 1 and summary.resumed == ("batch_1",)
    results = got.by_id()
    assert len(results) == 6
    assert isinstance(results["c0"], ChatResponse) and results["c0"].choices[0].message.content == "echo c0"
    assert isinstance(results["c1"], BadRequestError) and isinstance(results["c3"], RateLimitError)
    assert fake.problems == []


def test_mistral_timeout_exceeded_gives_the_missing_items_errors(
    server: FakeServer, mistral_pipe: Pipeline, vendor_spec: Callable[[str], Any], tmp_path: Path
) -> None:
    fake = FakeMistralBatches(server, vendor_spec("mistral"), outcome="expired", processed=1)
    got = Collector()
    run_vendor_batch(mistral_pipe, items(3), got, state_file=tmp_path / "s.json", sleep=no_sleep)
    results = got.by_id()
    assert isinstance(results["c0"], ChatResponse)
    assert isinstance(results["c1"], APITimeoutError) and isinstance(results["c2"], APITimeoutError)
    assert fake.problems == []


# --- Anthropic ----------------------------------------------------------------------------------


def test_anthropic_batch_with_per_item_successes_and_errors(
    server: FakeServer, claude_pipe: Pipeline, vendor_spec: Callable[[str], Any], tmp_path: Path
) -> None:
    fake = FakeAnthropicBatches(server, vendor_spec("anthropic"), answer=fail_some)
    got = Collector()
    summary = run_vendor_batch(claude_pipe, items(10), got, state_file=tmp_path / "s.json", sleep=no_sleep)
    results = got.by_id()
    assert len(results) == 10
    for i in range(10):
        result = results[f"c{i}"]
        if i % 5 == 1:
            assert isinstance(result, BadRequestError) and result.status == 400
        elif i % 5 == 3:
            assert isinstance(result, RateLimitError)
        else:
            assert isinstance(result, ChatResponse) and result.choices[0].message.content == f"echo c{i}"
    assert fake.problems == [] and fake.creates == 1
    assert (summary.succeeded, summary.failed) == (6, 4)
    assert routes(server, "POST", "/v1/files") == []
    create = next(r for r in server.requests if r.route == "/v1/messages/batches")
    assert create.headers["x-api-key"] == KEY and create.headers["anthropic-version"] == "2023-06-01"


def test_anthropic_expired_items_become_errors(
    server: FakeServer, claude_pipe: Pipeline, vendor_spec: Callable[[str], Any], tmp_path: Path
) -> None:
    fake = FakeAnthropicBatches(server, vendor_spec("anthropic"), outcome="expired", processed=2)
    got = Collector()
    run_vendor_batch(claude_pipe, items(5), got, state_file=tmp_path / "s.json", sleep=no_sleep)
    results = got.by_id()
    assert [isinstance(results[f"c{i}"], ChatResponse) for i in range(5)] == [True, True, False, False, False]
    assert all(isinstance(results[f"c{i}"], APITimeoutError) for i in range(2, 5))
    assert fake.problems == []


def test_anthropic_interrupted_and_resumed_never_submits_again(
    server: FakeServer, claude_pipe: Pipeline, vendor_spec: Callable[[str], Any], tmp_path: Path
) -> None:
    fake = FakeAnthropicBatches(server, vendor_spec("anthropic"), polls=3)
    state = tmp_path / "s.json"
    got = Collector()
    sleeps: list[float] = []

    def interrupt(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_vendor_batch(claude_pipe, items(5), got, state_file=state, sleep=interrupt, poll_interval=2)
    assert sleeps == [2, 3.0] and got.results == []
    run_vendor_batch(claude_pipe, items(5), got, state_file=state, sleep=no_sleep)
    assert fake.creates == 1
    assert sorted(got.by_id()) == [f"c{i}" for i in range(5)]
    assert all(isinstance(r, ChatResponse) for _, r in got.results)


def test_a_results_url_on_another_host_is_not_fetched_with_the_key(
    server: FakeServer, claude_pipe: Pipeline, vendor_spec: Callable[[str], Any], tmp_path: Path
) -> None:
    fake = FakeAnthropicBatches(server, vendor_spec("anthropic"), polls=1)
    original = fake._finish

    def elsewhere(batch_id: str) -> None:
        original(batch_id)
        fake.batches[batch_id]["results_url"] = "https://evil.example/results"

    fake._finish = elsewhere  # type: ignore[method-assign]
    with pytest.raises(ProviderError, match="another host"):
        run_vendor_batch(claude_pipe, items(1), Collector(), state_file=tmp_path / "s.json", sleep=no_sleep)
    assert routes(server, "GET", "/v1/messages/batches/msgbatch_0001/results") == []
