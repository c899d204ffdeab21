"""A profile's rate limits (chatpipe._limiter, Pipeline(limits=...)): waits, refusals, token accounting."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest
from chatpipe import Pipeline
from chatpipe._limiter import Limiter, estimate_tokens, used_tokens
from chatpipe.config import parse_config
from chatpipe.errors import ConfigError, LimitExceededError
from chatpipe.models import Usage
from chatpipe.state import LocalStore, Quota
from chatpipe.testing import FakeServer
from chatpipe.testing.conformance import OpenAISimulator, Reply

SIM = OpenAISimulator(provider="openai")
ROUTE = "POST /v1/chat/completions"
KEY = "sk-limit-test-key-1234"
HI = [{"role": "user", "content": "Hi"}]


@pytest.fixture
def vendor() -> Iterator[FakeServer]:
    with FakeServer() as server:
        server.route(ROUTE, lambda _: SIM.reply(Reply(text="ok", prompt_tokens=30, completion_tokens=10)))
        yield server


def limited(server: FakeServer, **limits: float) -> Pipeline:
    return Pipeline(
        "openai", model="m", base_url=f"{server.url}/v1", api_key=KEY, max_retries=0, profile="p", limits=limits
    )


# --- estimates ----------------------------------------------------------------------------------


def test_the_estimate_is_the_body_length_over_four_plus_the_output_budget():
    body = {"model": "m", "messages": [{"role": "user", "content": "x" * 400}]}
    base = estimate_tokens(body)
    assert 100 <= base <= 120
    assert estimate_tokens({**body, "max_tokens": 500}) - estimate_tokens({**body, "max_tokens": 0}) in (500, 501)
    assert estimate_tokens({**body, "max_completion_tokens": 64}) > base + 63


def test_used_tokens_prefers_the_total():
    assert used_tokens(Usage(prompt_tokens=3, completion_tokens=4, total_tokens=9)) == 9
    assert used_tokens(Usage(prompt_tokens=3, completion_tokens=4)) == 7
    assert used_tokens(Usage()) is None and used_tokens(None) is None


# --- the limiter ----------------------------------------------------------------------------------


def _limiter(quota: Quota, max_wait: float = 1.0) -> Limiter:
    return Limiter(
        LocalStore(),
        "limit:p",
        quota,
        max_wait=max_wait,
        lease_ttl=60,
        profile="p",
        settings="profiles.p.limits",
        per_minute={"rpm": 60, "tpm": None, "concurrency": 1},
    )


def test_a_call_waits_for_room_then_goes():
    limiter = _limiter(Quota(concurrency=1), max_wait=2.0)
    lease = limiter.acquire(0)
    threading.Timer(0.2, limiter.release, (lease, None)).start()
    started = time.monotonic()
    limiter.acquire(0)
    assert 0.15 < time.monotonic() - started < 1.5


def test_a_call_waiting_for_a_slot_looks_again_often(monkeypatch: pytest.MonkeyPatch):
    # A freed slot is not announced (its holder may be another process): the waiter's backoff
    # stays short, so a slot held for 0.1 s is not left idle for as long again.
    limiter = _limiter(Quota(concurrency=1), max_wait=30)
    lease = limiter.acquire(0)
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 12:
            limiter.release(lease, None)

    monkeypatch.setattr("chatpipe._limiter.time.sleep", sleep)
    limiter.acquire(0)
    assert len(pauses) == 12 and max(pauses) <= 0.025, pauses
    assert pauses[0] < pauses[4], "the backoff still grows from its first pause"


def test_a_call_waiting_for_a_window_sleeps_until_it_has_room(monkeypatch: pytest.MonkeyPatch):
    limiter = _limiter(Quota(calls=1, window=60), max_wait=0.5)
    limiter.acquire(0)
    pauses: list[float] = []
    monkeypatch.setattr("chatpipe._limiter.time.sleep", pauses.append)
    monkeypatch.setattr("chatpipe._limiter.time.monotonic", lambda: 1000.0 + 0.2 * len(pauses))
    with pytest.raises(LimitExceededError):
        limiter.acquire(0)
    assert pauses and min(pauses) > 0.1, "the window's retry_after, not a short poll, decides the pause"


def test_after_max_wait_the_error_names_the_setting():
    limiter = _limiter(Quota(calls=1, window=60), max_wait=0.2)
    limiter.acquire(0)
    started = time.monotonic()
    with pytest.raises(LimitExceededError) as caught:
        limiter.acquire(0)
    assert 0.15 < time.monotonic() - started < 1.0
    error = caught.value
    assert error.limit == "rpm" and error.status is None and error.retry_after is not None
    assert "profiles.p.limits.rpm" in str(error) and "max_wait" in str(error)


def test_a_shorter_wait_is_honoured_and_zero_does_not_wait():
    limiter = _limiter(Quota(concurrency=1), max_wait=30)
    limiter.acquire(0)
    started = time.monotonic()
    with pytest.raises(LimitExceededError, match="concurrency"):
        limiter.acquire(0, wait=0)
    assert time.monotonic() - started < 0.1


def test_a_call_bigger_than_the_whole_token_budget_fails_at_once():
    limiter = _limiter(Quota(tokens=100), max_wait=30)
    with pytest.raises(LimitExceededError, match="tpm"):
        limiter.acquire(101)


def test_async_acquire_waits_without_blocking_the_loop():
    limiter = _limiter(Quota(concurrency=1), max_wait=2.0)

    async def run() -> float:
        lease = await limiter.aacquire(0)

        async def later() -> None:
            await asyncio.sleep(0.2)
            await limiter.arelease(lease, None)

        task = asyncio.create_task(later())
        started = time.monotonic()
        await limiter.aacquire(0)
        await task
        return time.monotonic() - started

    assert 0.15 < asyncio.run(run()) < 1.5


# --- through a pipeline ---------------------------------------------------------------------------


def test_rpm_sends_no_request_over_the_limit(vendor: FakeServer):
    pipe = limited(vendor, rpm=120, window=1, max_wait=0)  # 2 calls in any second
    assert [pipe.complete(HI).text for _ in range(2)] == ["ok", "ok"]
    with pytest.raises(LimitExceededError) as caught:
        pipe.complete(HI)
    assert len(vendor.requests) == 2 and caught.value.limit == "rpm"


def test_rpm_waits_for_the_window_when_allowed_to(vendor: FakeServer):
    pipe = limited(vendor, rpm=120, window=0.5, max_wait=5)  # 1 call in any half second
    started = time.monotonic()
    for _ in range(3):
        pipe.complete(HI)
    # the third call may start only once the first has left the window: a second after it
    assert time.monotonic() - started >= 0.99 and len(vendor.requests) == 3


def test_tpm_counts_the_vendors_usage_not_the_estimate(vendor: FakeServer):
    pipe = limited(vendor, tpm=90, max_wait=0)  # the vendor reports 40 tokens a call
    body = pipe.explain(HI).request["json"]
    estimate = estimate_tokens(body)
    assert estimate < 40 and 80 + estimate > 90 and 3 * estimate <= 90  # only the real counts refuse
    pipe.complete(HI)
    pipe.complete(HI)  # 80 of 90 used
    with pytest.raises(LimitExceededError, match="tpm"):
        pipe.complete(HI)
    assert len(vendor.requests) == 2


def test_a_stream_holds_its_place_until_it_ends(vendor: FakeServer):
    vendor.route(ROUTE, lambda _: SIM.stream(Reply(text="streamed")))
    pipe = limited(vendor, concurrency=1, max_wait=0)
    stream = pipe.stream(HI)
    first = next(iter(stream))
    assert first is not None
    with pytest.raises(LimitExceededError, match="concurrency"):
        pipe.complete(HI)
    stream.collect()
    assert pipe.stream(HI).collect().text == "streamed"  # the place came back at the end


def test_a_stream_closed_early_gives_its_place_back(vendor: FakeServer):
    vendor.route(ROUTE, lambda _: SIM.stream(Reply(text="a long streamed answer")))
    pipe = limited(vendor, concurrency=1, max_wait=0)

    async def run() -> str:
        stream = pipe.astream(HI)
        async for _ in stream:
            break
        await stream.aclose()
        return (await pipe.acomplete(HI)).text

    vendor.route(ROUTE, lambda r: SIM.stream(Reply(text="x")) if r.json.get("stream") else SIM.reply(Reply(text="y")))
    assert asyncio.run(run()) == "y"


def test_a_failed_call_gives_its_place_back(vendor: FakeServer):
    vendor.enqueue(ROUTE, SIM.error(500))
    pipe = limited(vendor, concurrency=1, max_wait=0)
    with pytest.raises(Exception, match="500"):
        pipe.complete(HI)
    assert pipe.complete(HI).text == "ok"


def test_limits_from_the_config_are_shared_by_pipelines_of_one_profile(vendor: FakeServer):
    config = parse_config(
        f"profiles:\n  p: {{provider: openai, model: m, base_url: '{vendor.url}/v1', api_key: {KEY}, "
        "max_retries: 0, limits: {rpm: 1, max_wait: 0}}\n"
    )
    first, second = Pipeline.from_config("p", config=config), Pipeline.from_config("p", config=config)
    first.complete(HI)
    with pytest.raises(LimitExceededError):
        second.complete(HI)


def test_pipelines_without_a_profile_count_apart(vendor: FakeServer):
    def build() -> Pipeline:
        return Pipeline("openai", model="m", base_url=f"{vendor.url}/v1", api_key=KEY, limits={"rpm": 1, "max_wait": 0})

    first, second = build(), build()
    first.complete(HI)
    second.complete(HI)
    with pytest.raises(LimitExceededError):
        first.complete(HI)


def test_bad_limits_are_config_errors(vendor: FakeServer):
    with pytest.raises(ConfigError, match=r"limits\.rpm"):
        limited(vendor, rpm=0)


def test_without_rate_limits_there_is_no_limiter(vendor: FakeServer):
    assert limited(vendor)._limiter is None
    assert limited(vendor, max_event_bytes=1024)._limiter is None


class PoolAtGrant(LocalStore):
    """The in-process store, noting at each grant whether the pipeline's HTTP pool was ready."""

    def __init__(self) -> None:
        super().__init__()
        self.pipe: Pipeline | None = None
        self.ready_at_grant: list[bool] = []

    def _pool_ready(self) -> bool:
        assert self.pipe is not None
        transport = self.pipe._transport
        if transport is None:
            return False
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return transport._client is not None  # type: ignore[attr-defined]
        return loop in transport._async_clients  # type: ignore[attr-defined]

    def acquire(self, key, quota, tokens, ttl):  # type: ignore[no-untyped-def]
        self.ready_at_grant.append(self._pool_ready())
        return super().acquire(key, quota, tokens, ttl)  # (its aacquire calls this)


def test_a_lease_is_asked_for_only_once_the_http_pool_is_built(vendor: FakeServer):
    # A first call must not be granted its place, then spend the HTTP library's import and
    # the CA certificates' loading (over 100 ms; seconds on a busy machine) before it leaves:
    # it would reach the vendor late, bunched with the next window's calls.
    store = PoolAtGrant()
    store.pipe = pipe = Pipeline(
        "openai", model="m", base_url=f"{vendor.url}/v1", api_key=KEY, profile="p", limits={"rpm": 60}, state=store
    )
    assert pipe._transport is None  # nothing built before the first call
    pipe.complete(HI)
    vendor.route(ROUTE, lambda _: SIM.stream(Reply(text="streamed")))
    assert pipe.stream(HI).collect().text == "streamed"

    async def run() -> str:
        first = (await pipe.astream(HI).collect()).text
        vendor.route(ROUTE, lambda _: SIM.reply(Reply(text="ok")))
        return first + (await pipe.acomplete(HI)).text

    assert asyncio.run(run()) == "streamedok"
    assert store.ready_at_grant == [True, True, True, True]


def test_a_given_transport_is_used_as_given_under_limits():
    from chatpipe.testing import MockTransport

    mock = MockTransport()
    mock.enqueue(SIM.reply(Reply(text="mocked")))
    pipe = Pipeline("openai", model="m", api_key=KEY, profile="p2", limits={"rpm": 60}, transport=mock)
    assert pipe.complete(HI).text == "mocked"
