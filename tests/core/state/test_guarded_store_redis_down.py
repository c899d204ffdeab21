"""``state.on_state_error`` with a real Redis that stops (or freezes) in the middle of a run.

``open``: calls keep succeeding within in-process limits, one warning is logged, and once
Redis is back the calls count there again. ``closed``: calls fail fast with
StateUnavailableError and nothing reaches the vendor, until Redis answers again. In both
modes no call waits longer than about ``state.timeout``, even when Redis accepts the
connection but never answers (SIGSTOP).
"""

from __future__ import annotations

import logging
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from chatpipe import Pipeline
from chatpipe.errors import LimitExceededError, StateUnavailableError
from shared_state import KEY, TimedVendor

pytestmark = pytest.mark.slow

HI = [{"role": "user", "content": "Hi"}]
TIMEOUT = 0.3  # state.timeout
SLACK = 0.7  # what a loaded machine may add to a call on loopback
RETRY_AFTER = 1.0  # how long the open mode leaves a failed Redis alone (5 s in production; shortened here)


@pytest.fixture
def vendor() -> Iterator[TimedVendor]:
    with TimedVendor() as server:
        yield server


def pipeline(tmp_path: Path, vendor: TimedVendor, url: str, mode: str, limits: str) -> Pipeline:
    config = tmp_path / "chatpipe.yaml"
    settings = f"base_url: '{vendor.base_url}', api_key: {KEY}, model: m, max_retries: 0"
    state = f"{{backend: redis, url: '{url}', timeout: {TIMEOUT}, on_state_error: {mode}}}"
    config.write_text(f"profiles:\n  limited: {{provider: openai, {settings}, limits: {limits}}}\nstate: {state}\n")
    return Pipeline.from_config("limited", config)


def timed(pipe: Pipeline) -> tuple[str, float]:
    """One call: its outcome (``ok`` or the exception's type name) and how long it took."""
    started = time.monotonic()
    try:
        pipe.complete(HI)
        outcome = "ok"
    except (LimitExceededError, StateUnavailableError) as error:
        outcome = type(error).__name__
    return outcome, time.monotonic() - started


def keys(server) -> list[bytes]:
    with server.client() as client:
        return sorted(client.keys("chatpipe:*"))


@contextmanager
def frozen(server) -> Iterator[None]:
    """Redis stopped with SIGSTOP: connections are accepted by the kernel, nothing is answered."""
    os.kill(server.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(server.pid, signal.SIGCONT)


def test_open_keeps_serving_with_local_limits_and_uses_redis_again(
    tmp_path, vendor, own_redis_server, caplog, monkeypatch
):
    import chatpipe.state._guarded as guarded

    monkeypatch.setattr(guarded, "RETRY_AFTER", RETRY_AFTER)
    caplog.set_level(logging.WARNING, logger="chatpipe.state")
    # 10 calls per 5 s window: the in-process fallback's limit shows within one short burst
    pipe = pipeline(tmp_path, vendor, own_redis_server.url, "open", "{rpm: 120, window: 5, max_wait: 0}")
    assert [timed(pipe)[0] for _ in range(3)] == ["ok"] * 3
    assert keys(own_redis_server), "the limits were not counted in Redis"

    own_redis_server.stop()
    sent_before = len(vendor.times())
    outcomes = [timed(pipe) for _ in range(12)]
    assert [outcome for outcome, _ in outcomes] == ["ok"] * 10 + ["LimitExceededError"] * 2
    assert len(vendor.times()) - sent_before == 10  # the local window's quota, no more
    assert max(seconds for _, seconds in outcomes) < TIMEOUT + SLACK
    warnings = [r for r in caplog.records if r.name == "chatpipe.state" and r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert f"127.0.0.1:{own_redis_server.port}" in warnings[0].getMessage()

    own_redis_server.start()  # empty: no persistence
    assert keys(own_redis_server) == []
    time.sleep(RETRY_AFTER)
    assert timed(pipe)[0] == "ok"  # the local window is full: this call was admitted by Redis
    assert keys(own_redis_server), "the limits are not counted in Redis again after it came back"

    with frozen(own_redis_server):
        time.sleep(RETRY_AFTER)
        outcomes = [timed(pipe) for _ in range(3)]
    # a Redis that never answers costs one timeout, then the calls go on in the process
    assert outcomes[0][1] < TIMEOUT + SLACK
    assert all(seconds < SLACK for _, seconds in outcomes[1:])
    assert len(warnings) == 1  # still the one warning (at most one per 30 s)


def test_closed_refuses_fast_and_serves_again_when_redis_is_back(tmp_path, vendor, own_redis_server):
    pipe = pipeline(tmp_path, vendor, own_redis_server.url, "closed", "{rpm: 6000, window: 1}")
    assert timed(pipe)[0] == "ok"

    own_redis_server.stop()
    sent_before = len(vendor.times())
    outcomes = [timed(pipe) for _ in range(5)]
    assert [outcome for outcome, _ in outcomes] == ["StateUnavailableError"] * 5
    assert max(seconds for _, seconds in outcomes) < TIMEOUT + SLACK
    assert len(vendor.times()) == sent_before  # nothing was sent
    with pytest.raises(StateUnavailableError, match=f"127.0.0.1:{own_redis_server.port}"):
        pipe.complete(HI)

    own_redis_server.start()
    assert timed(pipe)[0] == "ok"

    with frozen(own_redis_server):
        outcome, seconds = timed(pipe)
    assert outcome == "StateUnavailableError"
    assert TIMEOUT * 0.9 <= seconds < TIMEOUT + SLACK  # waited for state.timeout, not longer
    assert timed(pipe)[0] == "ok"
