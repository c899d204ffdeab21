"""A router's cooldowns: a failing target is skipped, then probed once per cooldown period."""

from __future__ import annotations

import time

import pytest
from chatpipe.config import parse_config
from chatpipe.errors import AllTargetsFailedError, CoolingDownError, ServerError
from chatpipe.routing import Router
from chatpipe.state import Breaker
from chatpipe.testing import FakeResponse
from chatpipe.testing.conformance import Reply
from fake_vendors import HI, KEY, ROUTE, SIM, pipe


def test_a_target_failing_n_times_is_skipped_then_probed(vendors):
    a, b, _ = vendors
    a.route(ROUTE, lambda _: SIM.error(503))
    b.route(ROUTE, lambda _: SIM.reply(Reply(text="b")))
    router = Router([pipe(a, "a"), pipe(b, "b")], cooldown=Breaker(failures=2, window=60, duration=0.5))
    assert [router.complete(HI).route for _ in range(5)] == ["b"] * 5
    assert len(a.requests) == 2  # two failures opened the breaker: the next three skipped a
    time.sleep(0.55)
    a.route(ROUTE, lambda _: SIM.reply(Reply(text="a is back")))
    assert router.complete(HI).text == "a is back"  # the probe, which closes the breaker
    assert [router.complete(HI).route for _ in range(3)] == ["a"] * 3


def test_a_failed_probe_starts_another_cooldown(vendors):
    a, b, _ = vendors
    a.route(ROUTE, lambda _: SIM.error(500))
    b.route(ROUTE, lambda _: SIM.reply(Reply(text="b")))
    router = Router([pipe(a, "a"), pipe(b, "b")], cooldown=Breaker(failures=1, window=60, duration=0.4))
    router.complete(HI)
    time.sleep(0.45)
    router.complete(HI)  # the probe fails
    assert len(a.requests) == 2
    for _ in range(5):
        router.complete(HI)
    assert len(a.requests) == 2


def test_a_429_retry_after_sets_the_cooldown(vendors):
    a, b, _ = vendors
    a.route(ROUTE, lambda _: FakeResponse.json({"error": {"message": "slow down"}}, 429, {"Retry-After": "1"}))
    b.route(ROUTE, lambda _: SIM.reply(Reply(text="b")))
    router = Router([pipe(a, "a"), pipe(b, "b")], cooldown=Breaker(failures=5, window=60, duration=60))
    router.complete(HI)
    for _ in range(3):
        router.complete(HI)
    assert len(a.requests) == 1  # one 429 was enough: its Retry-After, not 5 failures
    time.sleep(1.05)
    router.complete(HI)
    assert len(a.requests) == 2  # the cooldown was Retry-After's second, not duration's minute


def test_when_every_target_cools_down_the_error_says_so_without_a_request(vendors):
    a, _, _ = vendors
    a.route(ROUTE, lambda _: SIM.error(503))
    router = Router([pipe(a, "a")], cooldown=Breaker(failures=1, window=60, duration=30))
    with pytest.raises(AllTargetsFailedError) as first:
        router.complete(HI)
    assert isinstance(first.value.failures[0][1], ServerError)
    with pytest.raises(AllTargetsFailedError) as second:
        router.complete(HI)
    name, error = second.value.failures[0]
    assert name == "a" and isinstance(error, CoolingDownError)
    assert error.retry_after is not None and 25 < error.retry_after <= 30
    assert "cools down" in str(second.value)
    assert len(a.requests) == 1


def test_failures_that_do_not_move_on_do_not_cool_a_target_down(vendors):
    a, b, _ = vendors
    a.route(ROUTE, lambda _: SIM.error(400))
    router = Router([pipe(a, "a"), pipe(b, "b")], cooldown=Breaker(failures=1, window=60, duration=30))
    for _ in range(3):
        with pytest.raises(Exception, match="400"):
            router.complete(HI)
    assert len(a.requests) == 3 and not b.requests


def test_without_cooldown_a_failing_target_is_tried_every_time(vendors):
    a, b, _ = vendors
    a.route(ROUTE, lambda _: SIM.error(503))
    b.route(ROUTE, lambda _: SIM.reply(Reply(text="b")))
    router = Router([pipe(a, "a"), pipe(b, "b")], cooldown=None)
    for _ in range(6):
        router.complete(HI)
    assert len(a.requests) == 6


def test_a_stream_failing_before_content_counts_and_one_with_content_heals(vendors):
    a, b, _ = vendors
    a.route(ROUTE, lambda _: SIM.error(503))
    b.route(ROUTE, lambda _: SIM.stream(Reply(text="streamed b")))
    router = Router([pipe(a, "a"), pipe(b, "b")], cooldown=Breaker(failures=2, window=60, duration=30))
    for _ in range(4):
        stream = router.stream(HI)
        assert stream.collect().text == "streamed b" and stream.route == "b"
    assert len(a.requests) == 2


def test_cooldown_from_the_config(vendors):
    a, b, _ = vendors
    profile = "{{provider: openai, model: m, base_url: '{}/v1', api_key: {}, max_retries: 0}}"
    config = parse_config(
        "profiles:\n"
        f"  a: {profile.format(a.url, KEY)}\n"
        f"  b: {profile.format(b.url, KEY)}\n"
        "  smart: {route: {targets: [a, b], cooldown: {failures: 1, window: 10, duration: 20}}}\n"
        "  plain: {route: {targets: [a, b], cooldown: null}}\n"
    )
    a.route(ROUTE, lambda _: SIM.error(503))
    b.route(ROUTE, lambda _: SIM.reply(Reply(text="b")))
    smart, plain = Router.from_config("smart", config=config), Router.from_config("plain", config=config)
    assert smart.cooldown == Breaker(1, 10, 20) and plain.cooldown is None
    for _ in range(3):
        smart.complete(HI)
    assert len(a.requests) == 1
    for _ in range(3):
        plain.complete(HI)
    assert len(a.requests) == 4  # each router keeps its own health record of its targets
