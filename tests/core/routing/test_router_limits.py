"""A router and its targets' rate limits: a full target is skipped at once, waited for only last."""

from __future__ import annotations

import threading
import time

import pytest
from chatpipe.errors import AllTargetsFailedError, APITimeoutError, LimitExceededError
from chatpipe.routing import Router
from chatpipe.testing.conformance import Reply
from fake_vendors import HI, ROUTE, SIM, answer, pipe


def test_a_target_at_its_limit_is_skipped_without_waiting(vendors):
    a, b, _ = vendors
    answer(a, "a", delay=0.5)
    answer(b, "b")
    router = Router([pipe(a, "a", limits={"concurrency": 1, "max_wait": 30}), pipe(b, "b")], cooldown=None)
    slow = threading.Thread(target=router.complete, args=(HI,))
    slow.start()
    assert a.wait_for(lambda: len(a.requests) == 1)
    started = time.monotonic()
    assert router.complete(HI).route == "b"
    assert time.monotonic() - started < 0.4  # not the 30 s max_wait, not even the slow call's end
    slow.join()


def test_a_full_target_does_not_cool_down(vendors):
    a, b, _ = vendors
    answer(a, "a")
    answer(b, "b")
    router = Router([pipe(a, "a", limits={"rpm": 30, "window": 2, "max_wait": 0}), pipe(b, "b")])
    assert [router.complete(HI).route for _ in range(4)] == ["a", "b", "b", "b"]
    time.sleep(2.05)
    assert router.complete(HI).route == "a"  # room again, and not skipped as "failing"


def test_when_every_target_is_full_the_one_with_room_soonest_is_waited_for(vendors):
    a, b, _ = vendors
    answer(a, "a")
    answer(b, "b")
    router = Router(
        [
            pipe(a, "a", limits={"rpm": 6, "window": 10, "max_wait": 5}),  # 1 call per 10 s
            pipe(b, "b", limits={"rpm": 60, "window": 1, "max_wait": 5}),  # 1 call per second
        ]
    )
    assert router.complete(HI).route == "a"
    before_b = time.monotonic()
    assert router.complete(HI).route == "b"
    assert router.complete(HI).route == "b"  # waited for b's window, a's is much further away
    assert time.monotonic() - before_b >= 0.99


def test_with_no_time_to_wait_every_full_target_is_listed(vendors):
    a, b, _ = vendors
    answer(a, "a")
    answer(b, "b")
    limits = {"rpm": 1, "max_wait": 0}
    router = Router([pipe(a, "a", limits=limits), pipe(b, "b", limits=limits)])
    router.complete(HI)
    router.complete(HI)
    with pytest.raises(AllTargetsFailedError) as caught:
        router.complete(HI)
    assert {name for name, _ in caught.value.failures} == {"a", "b"}
    assert all(isinstance(error, LimitExceededError) for _, error in caught.value.failures)
    assert (len(a.requests), len(b.requests)) == (1, 1)


def test_a_router_that_does_not_move_on_for_rate_limits_waits_instead(vendors):
    a, b, _ = vendors
    answer(a, "a")
    answer(b, "b")
    router = Router(
        [pipe(a, "a", limits={"rpm": 120, "window": 0.4, "max_wait": 5}), pipe(b, "b")],
        fallback_on=["connection", "timeout", "server"],
    )
    started = time.monotonic()
    router.complete(HI)
    assert router.complete(HI).route == "a"
    assert time.monotonic() - started >= 0.39 and not b.requests


def test_the_deadline_bounds_every_hop_together(vendors):
    a, b, _ = vendors
    answer(a, "slow a", delay=2.0)
    answer(b, "b", delay=2.0)
    router = Router([pipe(a, "a"), pipe(b, "b")], cooldown=None)
    started = time.monotonic()
    with pytest.raises(AllTargetsFailedError) as caught:
        router.complete(HI, deadline=0.6)
    elapsed = time.monotonic() - started
    assert elapsed < 1.2  # not 0.6 per target
    assert all(isinstance(error, APITimeoutError) for _, error in caught.value.failures)


def test_a_stream_skips_a_full_target_too(vendors):
    a, b, _ = vendors
    a.route(ROUTE, lambda _: SIM.stream(Reply(text="from a")))
    b.route(ROUTE, lambda _: SIM.stream(Reply(text="from b")))
    router = Router([pipe(a, "a", limits={"rpm": 1, "max_wait": 30}), pipe(b, "b")])
    assert router.stream(HI).collect().text == "from a"
    stream = router.stream(HI)
    assert stream.collect().text == "from b" and stream.route == "b"

    async def run() -> str | None:
        routed = router.astream(HI)
        await routed.collect()
        return routed.route

    import asyncio

    assert asyncio.run(run()) == "b"
    assert len(a.requests) == 1
