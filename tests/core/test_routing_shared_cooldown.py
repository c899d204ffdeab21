"""A router's cooldown shared through a real Redis: when one process's calls open a target's
breaker, every other process skips that target too, and the target gets at most one probe
per cooldown period from all of them together.

Two worker processes (tests/support/state_worker.py) build the same fallback router; its
first target is a port that accepts connections and closes them unanswered (counting them),
its second a working fake vendor.
"""

from __future__ import annotations

import time

import pytest
from shared_state import KEY, DeadTarget, TimedVendor, Workers, errors, total

pytestmark = pytest.mark.slow

FAILURES = 2  # cooldown.failures
DURATION = 1.0  # cooldown.duration, seconds


def test_a_cooldown_opened_in_one_process_holds_in_the_others(tmp_path, redis_url):
    with DeadTarget() as dead, TimedVendor() as vendor:
        settings = f"api_key: {KEY}, model: m, max_retries: 0"
        cooldown = f"{{failures: {FAILURES}, window: 30, duration: {DURATION}}}"
        config = tmp_path / "chatpipe.yaml"
        config.write_text(
            "profiles:\n"
            f"  dead: {{provider: openai, base_url: '{dead.base_url}', {settings}}}\n"
            f"  good: {{provider: openai, base_url: '{vendor.base_url}', {settings}}}\n"
            f"  smart: {{route: {{strategy: fallback, targets: [dead, good], cooldown: {cooldown}}}}}\n"
            f"state: {{backend: redis, url: '{redis_url}'}}\n"
        )
        with Workers(config, "smart", 2) as workers:
            opened = time.monotonic()
            (first,) = workers.send(f"calls {FAILURES}", [0])
            assert (first["ok"], first["routes"]) == (FAILURES, {"good": FAILURES})
            assert dead.accepted == FAILURES  # each call tried the dead target, then moved on

            (second,) = workers.send("calls 5", [1])
            quick = time.monotonic() - opened < DURATION
            assert (second["ok"], second["routes"]) == (5, {"good": 5})
            # the other process never tried the target (within the cooldown; after it, one probe at most)
            hits = dead.accepted
            assert hits <= (FAILURES if quick else FAILURES + 1), (
                f"the other process hit the dead target {hits - FAILURES}x"
            )

            results = workers.send("run 2 4.0 0")  # both processes, two threads each, for 4 s
            span = time.monotonic() - opened

    assert errors(results) == {}
    assert total(results, "ok") == total(results, "attempts") > 100
    assert all(set(result["routes"]) == {"good"} for result in results)
    probes = dead.accepted - FAILURES
    # a probe may go DURATION after the breaker opened, and each failed probe opens it again
    assert 1 <= probes <= int(span / DURATION), f"{probes} probes in {span:.1f} s (cooldown {DURATION} s)"
