"""Rate limits shared through a real Redis by several processes (the claim of ``state: {backend: redis}``).

Four worker processes (tests/support/state_worker.py) each build the same profile from one
config file and call one loopback vendor as fast as they can; the vendor records when each
request arrives. What the vendor sees is the proof: it never gets more than the quota in any
window, or more than ``concurrency`` requests at once, however hard the processes push.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from shared_state import KEY, TimedVendor, Workers, errors, max_in_window, total

pytestmark = pytest.mark.slow

PROCESSES = 4
WINDOW = 1.5  # seconds: limits.window
QUOTA = 10  # calls per window: rpm = QUOTA * 60 / WINDOW
RUN = 3.2  # seconds of load (the local control needs one window: 1 s)
# Admission is decided on the Redis server's clock; arrival is stamped by the vendor, a few
# hops later (Redis reply, the worker's Python, HTTP, the vendor's thread). Two requests
# admitted W apart can arrive less than W apart by as much as the spread of that delay. A
# process's first call adds its lazy imports and connection setup (0.15 s alone, far more with
# four processes starting on two cores), so every worker makes one call first and the
# measurement starts a window later. After that the spread is a few milliseconds, tens on a
# loaded machine (scheduling). So arrivals are counted in windows SKEW shorter than W: a pair
# closer than W - SKEW at the vendor was admitted less than W apart, i.e. within one Redis
# window. Without sharing, each process admits its own quota: 4x the limit (the local control
# below), far beyond what SKEW could hide.
SKEW = 0.25


def warm_up(workers: Workers, vendor: TimedVendor) -> None:
    """One call per worker (imports, connections), then a window's pause: the run starts clean."""
    assert total(workers.send("calls 1"), "ok") == PROCESSES
    time.sleep(WINDOW)
    vendor.forget()


def write_config(tmp_path: Path, vendor: TimedVendor, limits: str, state: str) -> Path:
    config = tmp_path / "chatpipe.yaml"
    settings = f"base_url: '{vendor.base_url}', api_key: {KEY}, model: m, max_retries: 0"
    config.write_text(f"profiles:\n  limited: {{provider: openai, {settings}, limits: {limits}}}\nstate: {state}\n")
    return config


@pytest.mark.parametrize("backend", ["redis", "local"])
def test_rpm_holds_across_processes_sharing_redis(tmp_path, redis_url, backend):
    rpm = int(QUOTA * 60 / WINDOW)
    state = f"{{backend: redis, url: '{redis_url}'}}" if backend == "redis" else "{backend: local}"
    with TimedVendor() as vendor:
        config = write_config(tmp_path, vendor, f"{{rpm: {rpm}, window: {WINDOW}, max_wait: 0}}", state)
        with Workers(config, "limited", PROCESSES) as workers:
            warm_up(workers, vendor)
            results = workers.send(f"run 4 {RUN if backend == 'redis' else 1.0} 0.02")
        arrivals = vendor.times()

    assert errors(results) == {}
    admitted, attempts = total(results, "ok"), total(results, "attempts")
    assert len(arrivals) == admitted
    busiest = max_in_window(arrivals, WINDOW - SKEW)
    if backend == "local":
        # the control: limits kept per process let every process send its own quota
        assert busiest > QUOTA, f"{busiest} calls in {WINDOW - SKEW} s with per-process limits"
        return
    # the load offered was many times the limit (so the limit, not the load, kept the count down)
    offered_per_window = attempts / RUN * WINDOW
    assert offered_per_window > 5 * QUOTA, f"only {offered_per_window:.0f} attempts per window were offered"
    assert busiest <= QUOTA, (
        f"the vendor saw {busiest} calls within {WINDOW - SKEW} s (quota {QUOTA} per {WINDOW} s; "
        f"{max_in_window(arrivals, WINDOW)} in a full window)"
    )
    # and the limiter does not starve: every window of the run was used (bursts at 0, W, 2W, ...)
    windows = int(RUN // WINDOW)
    assert QUOTA * windows <= admitted <= QUOTA * (windows + 1), f"{admitted} admitted in {RUN} s"


def test_concurrency_holds_across_processes_sharing_redis(tmp_path, redis_url):
    limit, hold, run = 3, 0.1, 2.0
    with TimedVendor(hold=hold) as vendor:
        config = write_config(
            tmp_path, vendor, f"{{concurrency: {limit}, max_wait: 10}}", f"{{backend: redis, url: '{redis_url}'}}"
        )
        with Workers(config, "limited", PROCESSES) as workers:
            workers.send("calls 1")
            vendor.forget()
            results = workers.send(f"run 3 {run} 0.02")  # 12 callers for 3 slots
        peak = vendor.max_in_flight

    assert errors(results) == {}
    assert total(results, "limited") == 0  # callers waited for a slot (max_wait 10 s) instead of failing
    assert peak == limit, f"the vendor saw {peak} calls at once (concurrency {limit})"
    # the slots were kept busy: a freed slot is taken again within a poll (at most 0.1 s)
    capacity = limit * run / hold
    assert total(results, "ok") >= 0.5 * capacity, f"{total(results, 'ok')} calls done of a possible {capacity:.0f}"
