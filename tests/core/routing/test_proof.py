"""The issue's proof of routing, at scale: many calls over real loopback HTTP to several fake vendors.

* fallback: 500 calls succeed while the primary is down (each way it can fail), every one
  answered by the secondary, and the primary is called only until its cooldown opens;
* a stream cut after its first content is raised with its text, never restarted elsewhere;
* weighted: 2,000 calls split by the weights (within 5 points), by ``route`` and by what
  each vendor received;
* least-busy: while one target holds calls in flight, new calls go to the idle one;
* cooldown: a failing target sees at most one probe per cooldown period during a long run,
  with the in-process state and with two routers sharing a real Redis.

Traffic is async (concurrent tasks), so the runs stay short; the fake vendors record the
time each request arrives.
"""

from __future__ import annotations

import asyncio
import math
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import pytest
from chatpipe import Pipeline, hookimpl
from chatpipe.errors import ProviderError
from chatpipe.models import ChatResponse
from chatpipe.registry import Registry
from chatpipe.routing import Router
from chatpipe.state import Breaker, RedisStore
from chatpipe.testing import FakeResponse, FakeServer, RecordedRequest
from chatpipe.testing.conformance import OpenAISimulator, Reply

SIM = OpenAISimulator(provider="openai")
ROUTE = "POST /v1/chat/completions"
KEY = "sk-proof-test-key-1234"
HI = [{"role": "user", "content": "Hi"}]
WORKERS = 10
"""Concurrent tasks driving a run: at most this many calls are in flight at once."""


def closed_port_url() -> str:
    """A loopback URL whose port nothing listens on (bound, then released): connections are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


class Attempts:
    """An observer counting the chat requests a pipeline's transport sends (refused ones too)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    @hookimpl
    def chatpipe_before_send(self, provider: str, request: Any) -> None:
        if request.url.endswith("/chat/completions"):
            with self._lock:
                self.count += 1


def pipe(base_url: str, name: str, registry: Registry | None = None, **kwargs: Any) -> Pipeline:
    kwargs.setdefault("max_retries", 0)
    return Pipeline(
        "openai", model=f"model-{name}", base_url=base_url, api_key=KEY, profile=name, registry=registry, **kwargs
    )


def answers(name: str, stream: bool = False) -> Callable[[RecordedRequest], FakeResponse]:
    """A route handler answering every request with a reply whose text is ``name``."""
    return lambda _: SIM.stream(Reply(text=name)) if stream else SIM.reply(Reply(text=name))


class Arrivals:
    """A route handler that notes each request's arrival time (``time.monotonic``) and answers with ``respond``."""

    def __init__(self, respond: Callable[[RecordedRequest], FakeResponse]) -> None:
        self.times: list[float] = []
        self._respond = respond
        self._lock = threading.Lock()

    def __call__(self, request: RecordedRequest) -> FakeResponse:
        with self._lock:
            self.times.append(time.monotonic())
        return self._respond(request)


def drive(total: int, call: Callable[[], Awaitable[Any]], workers: int = WORKERS) -> list[Any]:
    """``total`` calls of ``call``, ``workers`` at a time (each task takes the next as it finishes)."""
    results: list[Any] = []
    left = iter(range(total))

    async def worker() -> None:
        for _ in left:
            results.append(await call())

    async def run() -> None:
        await asyncio.gather(*(worker() for _ in range(workers)))

    asyncio.run(run())
    return results


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [choice]}


# --- fallback while the primary is down ---------------------------------------------------------

DOWN = {
    "refused": None,  # no server: the primary's URL is a closed port
    "503": lambda _: SIM.error(503),
    "429-retry-after": lambda _: FakeResponse.json({"error": {"message": "slow down"}}, 429, {"Retry-After": "60"}),
    "read-timeout": lambda _: FakeResponse.json({}, delay=3.0),
    "stream-cut-before-content": lambda _: FakeResponse.sse([_chunk({"role": "assistant"})], cut_after=1),
}
RUN = 500


@pytest.fixture
def three() -> Iterator[tuple[FakeServer, FakeServer, FakeServer]]:
    with FakeServer() as primary, FakeServer() as secondary, FakeServer() as tertiary:
        yield primary, secondary, tertiary


@pytest.mark.parametrize("failure", list(DOWN))
def test_proof_fallback_500_requests_primary_down(three, failure):
    primary, secondary, tertiary = three
    streaming = failure.startswith("stream")
    attempts, registry = Attempts(), Registry()
    registry.register(attempts)
    handler = DOWN[failure]
    if handler is not None:
        primary.route(ROUTE, handler)
    secondary.route(ROUTE, answers("secondary", streaming))
    tertiary.route(ROUTE, answers("tertiary", streaming))
    first_url = closed_port_url() if handler is None else f"{primary.url}/v1"
    router = Router(
        [
            pipe(first_url, "primary", registry, timeout={"connect": 1.0, "read": 0.2}),
            pipe(f"{secondary.url}/v1", "secondary"),
            pipe(f"{tertiary.url}/v1", "tertiary"),
        ]
    )
    breaker = router.cooldown
    assert breaker is not None  # the router's default cooldown

    async def call() -> tuple[str, str | None]:
        if streaming:
            stream = router.astream(HI)
            text = "".join([chunk.text async for chunk in stream])
            return text, stream.route
        reply = await router.acomplete(HI)
        return reply.text, reply.route

    started = time.monotonic()
    results = drive(RUN, call)
    elapsed = time.monotonic() - started
    asyncio.run(router.aclose())

    assert results == [("secondary", "secondary")] * RUN
    assert len(secondary.requests) == RUN and tertiary.requests == []
    # The primary is called until its breaker opens: `failures` failures (one, for a 429 with a
    # Retry-After), plus the calls already admitted and in flight then (at most WORKERS - 1);
    # the cooldown outlasts the run, so no probe.
    assert elapsed < breaker.duration
    opening = 1 if failure.startswith("429") else breaker.failures
    assert opening <= attempts.count <= opening + WORKERS - 1
    if handler is not None:
        assert len(primary.requests) == attempts.count
    print(f"{failure}: primary hits {attempts.count} of {RUN} in {elapsed:.2f} s")


def test_proof_a_stream_cut_after_content_is_never_restarted(three):
    primary, secondary, _ = three
    events = [_chunk({"role": "assistant", "content": "Hel"}), _chunk({"content": "lo"})]
    primary.route(ROUTE, lambda _: FakeResponse.sse(events, cut_after=1))
    secondary.route(ROUTE, answers("secondary", stream=True))
    router = Router(
        [pipe(f"{primary.url}/v1", "primary"), pipe(f"{secondary.url}/v1", "secondary")],
        cooldown=None,
    )

    async def call() -> tuple[str, str, str | None, str]:
        stream = router.astream(HI)
        received: list[str] = []
        try:
            async for chunk in stream:
                received.append(chunk.text)
        except ProviderError as error:
            return "".join(received), error.partial_text, stream.route, type(error).__name__
        return "".join(received), "", stream.route, "no error"

    results = drive(50, call)
    asyncio.run(router.aclose())
    assert {(text, partial, route) for text, partial, route, _ in results} == {("Hel", "Hel", "primary")}
    assert len(primary.requests) == 50
    assert secondary.requests == []  # never a silent restart
    print(f"errors raised: {sorted({name for *_, name in results})}")


# --- weighted -------------------------------------------------------------------------------------


def test_proof_weighted_shares_over_2000_loopback_calls(three):
    a, b, _ = three
    a.route(ROUTE, answers("a"))
    b.route(ROUTE, answers("b"))
    router = Router([pipe(f"{a.url}/v1", "a"), pipe(f"{b.url}/v1", "b")], "weighted", weights=[3, 1])
    total = 2000

    async def call() -> ChatResponse:
        return await router.acomplete(HI)

    replies: list[ChatResponse] = drive(total, call, workers=20)
    asyncio.run(router.aclose())
    assert all(reply.text == reply.route for reply in replies)
    routes = [reply.route for reply in replies]
    by_route = {name: routes.count(name) / total for name in ("a", "b")}
    by_vendor = {"a": len(a.requests) / total, "b": len(b.requests) / total}
    assert by_route == by_vendor
    assert abs(by_route["a"] - 0.75) <= 0.05 and abs(by_route["b"] - 0.25) <= 0.05
    print(f"weighted 3:1 over {total}: a {by_route['a']:.3f}, b {by_route['b']:.3f}")


# --- least-busy ---------------------------------------------------------------------------------


def test_proof_least_busy_sends_new_calls_to_the_idle_target(three):
    a, b, _ = three
    release, held = threading.Event(), 5

    def slow(_: RecordedRequest) -> FakeResponse:
        release.wait(10.0)
        return SIM.reply(Reply(text="a"))

    a.route(ROUTE, slow)
    b.route(ROUTE, answers("b"))
    pipe_a, pipe_b = pipe(f"{a.url}/v1", "a"), pipe(f"{b.url}/v1", "b")
    # Two routers of one profile share the in-flight counts (as two workers would): `other`
    # holds `held` slow calls on a; then `router` decides with a busy and b idle.
    other = Router([pipe_a], "least-busy", profile="proof-pool")
    router = Router([pipe_a, pipe_b], "least-busy", profile="proof-pool")

    async def run() -> tuple[list[str | None], list[str | None]]:
        holding = [asyncio.create_task(other.acomplete(HI)) for _ in range(held)]
        while len(a.requests) < held:  # a condition wait: the fake's own thread records them
            await asyncio.sleep(0.005)
        # Batches of `held` concurrent calls: b has at most held - 1 of them in flight when
        # each decides, fewer than a's `held`, so each must pick b.
        new: list[str | None] = []
        for _ in range(4):
            new += [r.route for r in await asyncio.gather(*(router.acomplete(HI) for _ in range(held)))]
        release.set()
        slow_routes = [r.route for r in await asyncio.gather(*holding)]
        await router.aclose()
        return new, slow_routes

    new, slow_routes = asyncio.run(run())
    assert new == ["b"] * 4 * held
    assert slow_routes == ["a"] * held
    assert (len(a.requests), len(b.requests)) == (held, 4 * held)


# --- cooldown: one probe per period over a long run --------------------------------------------

PERIOD = 2.0
"""The cooldown's duration in the long runs: ~10 periods in 20 s."""
FAILURES = 2
TASKS = 4
"""Concurrent traffic tasks (in all, over the routers of a run)."""
PACE = 0.02
"""Each task's pause between calls."""
CLOCK_SLACK = 0.02
"""How much sooner than PERIOD a probe may arrive after the previous one: the breaker's
times are stored in whole milliseconds, and with Redis the cooldown is timed on the server's
clock, not the test's (the two run at the same rate to well under 1 ms per 2 s)."""


def run_traffic(routers: list[Router], seconds: float, stores: Sequence[RedisStore] = ()) -> list[str | None]:
    """``TASKS`` tasks (spread over ``routers``) each calling, then pausing PACE, for ``seconds``;
    then the routers and ``stores`` are closed (in the loop: async clients belong to it)."""
    routes: list[str | None] = []

    async def task(router: Router, ends: float) -> None:
        while time.monotonic() < ends:
            routes.append((await router.acomplete(HI)).route)
            await asyncio.sleep(PACE)

    async def run() -> None:
        ends = time.monotonic() + seconds
        await asyncio.gather(*(task(routers[i % len(routers)], ends) for i in range(TASKS)))
        for router in routers:
            await router.aclose()
        for store in stores:
            await store.aclose()

    asyncio.run(run())
    return routes


def check_probes(hits: list[float], ends: float) -> dict[str, Any]:
    """Assert the failing target's arrivals: ``FAILURES`` to open, then one probe per period at most."""
    assert len(hits) >= FAILURES
    opened = hits[FAILURES - 1]
    # Calls admitted while still healthy and in flight when the breaker opened (at most one per
    # other task) arrive just after it; a probe arrives a whole period later.
    in_flight = [t for t in hits[FAILURES:] if t - opened < PERIOD - CLOCK_SLACK]
    probes = hits[FAILURES + len(in_flight) :]
    assert len(in_flight) <= TASKS - 1
    gaps = [b - a for a, b in zip([opened, *probes], probes, strict=False)]
    assert all(gap >= PERIOD - CLOCK_SLACK for gap in gaps), gaps
    # Probes do happen: each goes soon after its period ends (traffic comes every few ms), so
    # the count is the run's periods after opening, or one less (delays add up over the run).
    periods = math.floor((ends - opened) / PERIOD)
    assert periods - 1 <= len(probes) <= periods, (len(probes), periods)
    return {"in_flight": len(in_flight), "probes": len(probes), "periods": periods, "min_gap": min(gaps)}


def failing_and_healthy(bad: FakeServer, good: FakeServer) -> Arrivals:
    arrivals = Arrivals(lambda _: SIM.error(503))
    bad.route(ROUTE, arrivals)
    good.route(ROUTE, answers("good"))
    return arrivals


def test_proof_cooldown_one_probe_per_period_over_20_s(three):
    bad, good, _ = three
    arrivals = failing_and_healthy(bad, good)
    breaker = Breaker(failures=FAILURES, window=60, duration=PERIOD)
    router = Router([pipe(f"{bad.url}/v1", "bad"), pipe(f"{good.url}/v1", "good")], cooldown=breaker)
    routes = run_traffic([router], 20.0)
    ends = time.monotonic()
    assert set(routes) == {"good"} and len(good.requests) == len(routes)
    seen = check_probes(arrivals.times, ends)
    print(f"in-process, 20 s, {len(routes)} calls: {len(arrivals.times)} hits on the failing target, {seen}")


def test_proof_cooldown_one_probe_per_period_two_routers_sharing_redis(three, redis_url):
    bad, good, _ = three
    arrivals = failing_and_healthy(bad, good)
    breaker = Breaker(failures=FAILURES, window=60, duration=PERIOD)

    stores = [RedisStore(redis_url), RedisStore(redis_url)]  # one client per worker

    def worker(store: RedisStore) -> Router:
        targets = [pipe(f"{bad.url}/v1", "bad"), pipe(f"{good.url}/v1", "good")]
        return Router(targets, cooldown=breaker, state=store, profile="proof-shared")

    # 10 s, not 20: the in-process run above is the long one; this one proves the sharing.
    routes = run_traffic([worker(store) for store in stores], 10.0, stores)
    ends = time.monotonic()
    assert set(routes) == {"good"} and len(good.requests) == len(routes)
    seen = check_probes(arrivals.times, ends)
    print(f"Redis, two routers, 10 s, {len(routes)} calls: {len(arrivals.times)} hits on the failing target, {seen}")
