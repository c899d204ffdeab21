"""The Store contract (chatpipe.state._store), run against both stores: in-process and a real Redis.

Every rule of the contract is checked on both, with short windows and real clocks (the
Redis store counts on the server's clock), so the two cannot drift apart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from chatpipe.state import Breaker, LocalStore, Quota, RedisStore, Store

LONG = 60.0  # a lease or window that does not end during a test


@pytest.fixture(params=["local", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "local":
        yield LocalStore()
        return
    redis_store = RedisStore(request.getfixturevalue("redis_url"), prefix="contract")
    yield redis_store
    redis_store.close()


# --- calls in a window ------------------------------------------------------------------------


def test_calls_beyond_the_window_quota_wait_for_the_oldest_to_leave(store: Store):
    quota = Quota(calls=3, window=1.2)
    leases = [store.acquire("k", quota, 0, LONG).lease]
    time.sleep(0.4)
    leases += [store.acquire("k", quota, 0, LONG).lease for _ in range(2)]
    assert all(leases) and len(set(leases)) == 3
    refused = store.acquire("k", quota, 0, LONG)
    assert refused.lease is None and refused.limit == "calls"
    assert refused.retry_after is not None and 0 < refused.retry_after <= 0.8  # when the first leaves
    time.sleep(refused.retry_after + 0.05)
    assert store.acquire("k", quota, 0, LONG).lease is not None
    assert store.acquire("k", quota, 0, LONG).lease is None  # the other two are still in the window


def test_releasing_a_call_does_not_give_its_place_in_the_window_back(store: Store):
    quota = Quota(calls=1, window=LONG)
    lease = store.acquire("k", quota, 0, LONG).lease
    assert lease is not None
    store.release("k", quota, lease, None)
    assert store.acquire("k", quota, 0, LONG).lease is None


def test_keys_are_counted_apart(store: Store):
    quota = Quota(calls=1, window=LONG)
    assert store.acquire("a", quota, 0, LONG).lease is not None
    assert store.acquire("b", quota, 0, LONG).lease is not None
    assert store.acquire("a", quota, 0, LONG).lease is None


# --- tokens in a window -----------------------------------------------------------------------


def test_tokens_are_estimated_then_corrected_to_the_real_count(store: Store):
    quota = Quota(tokens=100, window=LONG)
    first = store.acquire("k", quota, 60, LONG).lease
    assert first is not None
    refused = store.acquire("k", quota, 50, LONG)
    assert refused.lease is None and refused.limit == "tokens" and refused.retry_after is not None
    store.release("k", quota, first, 10)  # the vendor counted 10, not 60
    assert store.acquire("k", quota, 50, LONG).lease is not None
    assert store.acquire("k", quota, 41, LONG).lease is None  # 10 + 50 + 41 > 100
    assert store.acquire("k", quota, 40, LONG).lease is not None


def test_a_correction_upwards_counts_too(store: Store):
    quota = Quota(tokens=100, window=LONG)
    lease = store.acquire("k", quota, 10, LONG).lease
    assert lease is not None
    store.release("k", quota, lease, 95)
    assert store.acquire("k", quota, 6, LONG).lease is None
    assert store.acquire("k", quota, 5, LONG).lease is not None


def test_tokens_leave_with_their_calls(store: Store):
    quota = Quota(tokens=100, window=0.4)
    assert store.acquire("k", quota, 80, LONG).lease is not None
    refused = store.acquire("k", quota, 80, LONG)
    assert refused.lease is None and refused.retry_after is not None and refused.retry_after <= 0.4
    time.sleep(refused.retry_after + 0.05)
    assert store.acquire("k", quota, 80, LONG).lease is not None


# --- concurrency and leases -------------------------------------------------------------------


def test_concurrency_frees_a_place_when_a_call_ends(store: Store):
    quota = Quota(concurrency=2)
    first, second = (store.acquire("k", quota, 0, LONG).lease for _ in range(2))
    assert first and second
    refused = store.acquire("k", quota, 0, LONG)
    assert (refused.lease, refused.retry_after, refused.limit) == (None, None, "concurrency")
    store.release("k", quota, first, None)
    assert store.acquire("k", quota, 0, LONG).lease is not None


def test_a_lease_never_released_ends_by_itself(store: Store):
    quota = Quota(concurrency=1)
    assert store.acquire("k", quota, 0, 0.3).lease is not None  # its holder "crashed"
    assert store.acquire("k", quota, 0, LONG).lease is None
    time.sleep(0.4)
    assert store.acquire("k", quota, 0, LONG).lease is not None


def test_in_flight_counts_the_leases_held(store: Store):
    none = Quota()
    leases = [store.acquire("a", none, 0, LONG).lease for _ in range(2)]
    assert store.in_flight(["a", "b"]) == [2, 0]
    store.release("a", none, leases[0] or "", None)
    assert store.in_flight(["a", "b"]) == [1, 0]


def test_a_full_quota_names_concurrency_before_the_window(store: Store):
    quota = Quota(calls=1, concurrency=1, window=LONG)
    assert store.acquire("k", quota, 0, LONG).lease is not None
    refused = store.acquire("k", quota, 0, LONG)
    assert refused.limit == "concurrency" and refused.retry_after is not None  # the window's wait is known


# --- health: the circuit breaker --------------------------------------------------------------


def test_failures_open_the_breaker_then_one_probe_goes(store: Store):
    breaker = Breaker(failures=2, window=LONG, duration=0.4)
    assert store.admit("t", breaker).allowed
    store.record("t", breaker, failed=True)
    after_one = store.admit("t", breaker)
    assert after_one.allowed and after_one.failures == 1 and after_one.must_record_success
    store.record("t", breaker, failed=True)
    cooling = store.admit("t", breaker)
    assert not cooling.allowed and 0 < cooling.retry_after <= 0.4
    time.sleep(cooling.retry_after + 0.05)
    probe = store.admit("t", breaker)
    assert probe.allowed and probe.probe
    others = store.admit("t", breaker)
    assert not others.allowed and others.retry_after > 0  # one probe per cooldown period
    store.record("t", breaker, failed=False)
    healed = store.admit("t", breaker)
    assert healed.allowed and not healed.probe and healed.failures == 0 and not healed.must_record_success


def test_a_failed_probe_starts_another_cooldown(store: Store):
    breaker = Breaker(failures=1, window=LONG, duration=0.3)
    store.record("t", breaker, failed=True)
    time.sleep(0.35)
    assert store.admit("t", breaker).probe
    store.record("t", breaker, failed=True)
    again = store.admit("t", breaker)
    assert not again.allowed and again.retry_after > 0.2


def test_a_retry_after_opens_the_breaker_for_that_long(store: Store):
    breaker = Breaker(failures=5, window=LONG, duration=LONG)
    store.record("t", breaker, failed=True, retry_after=0.3)
    cooling = store.admit("t", breaker)
    assert not cooling.allowed and 0 < cooling.retry_after <= 0.3
    time.sleep(0.35)
    assert store.admit("t", breaker).probe


def test_failures_older_than_the_window_are_forgotten(store: Store):
    breaker = Breaker(failures=2, window=0.3, duration=LONG)
    store.record("t", breaker, failed=True)
    time.sleep(0.4)
    store.record("t", breaker, failed=True)
    admitted = store.admit("t", breaker)
    assert admitted.allowed and admitted.failures == 1


def test_a_success_clears_the_failures(store: Store):
    breaker = Breaker(failures=2, window=LONG, duration=LONG)
    store.record("t", breaker, failed=True)
    store.record("t", breaker, failed=False)
    store.record("t", breaker, failed=True)
    assert store.admit("t", breaker).allowed


# --- async twins ------------------------------------------------------------------------------


def test_the_async_twins_follow_the_same_contract(store: Store):
    async def run() -> None:
        quota = Quota(calls=1, concurrency=1, window=LONG)
        lease = (await store.aacquire("k", quota, 0, LONG)).lease
        assert lease is not None
        assert (await store.aacquire("k", quota, 0, LONG)).lease is None
        assert await store.ain_flight(["k"]) == [1]
        await store.arelease("k", quota, lease, None)
        assert await store.ain_flight(["k"]) == [0]
        breaker = Breaker(failures=1, window=LONG, duration=LONG)
        await store.arecord("t", breaker, failed=True)
        assert not (await store.aadmit("t", breaker)).allowed
        await store.arecord("t", breaker, failed=False)
        assert (await store.aadmit("t", breaker)).allowed
        await store.aclose()

    asyncio.run(run())
    asyncio.run(run_again(store))  # a second event loop gets its own connections


async def run_again(store: Store) -> None:
    assert await store.ain_flight(["other"]) == [0]
    await store.aclose()


def test_a_quota_of_windows_alone_holds_no_lease(store: Store):
    windows = Quota(calls=5, window=LONG)
    assert not windows.holds_leases and Quota().holds_leases and Quota(calls=1, concurrency=2).holds_leases
    store.acquire("k", windows, 0, LONG)
    assert store.in_flight(["k"]) == [0]  # nothing to release: no round trip needed after the call


# --- spending per period ----------------------------------------------------------------------


def test_spending_adds_up_within_a_period_and_names_when_it_resets(store: Store):
    before = time.time()
    store.spend("k", {"tokens": 10, "usd": 0.25}, LONG)
    store.spend("k", {"tokens": 5}, LONG)
    spent = store.spent("k", LONG)
    assert spent.amounts == {"tokens": 15.0, "usd": 0.25}
    assert spent.resets_at % LONG == pytest.approx(0, abs=0.01)  # a boundary aligned to the epoch
    assert before < spent.resets_at <= before + LONG + 1


def test_a_period_never_spent_is_empty_and_keys_and_periods_are_apart(store: Store):
    store.spend("a", {"tokens": 3}, LONG)
    assert store.spent("b", LONG).amounts == {}
    assert store.spent("a", LONG / 2).amounts == {}  # another period length is another budget
    assert store.spent("a", LONG).amounts == {"tokens": 3.0}


def test_spending_starts_again_at_zero_when_the_period_ends(store: Store):
    store.spend("k", {"tokens": 7}, 1.0)
    first = store.spent("k", 1.0)
    if not first.amounts:  # the spend landed just before a boundary the read is past
        store.spend("k", {"tokens": 7}, 1.0)
        first = store.spent("k", 1.0)
    assert first.amounts == {"tokens": 7.0}
    time.sleep(max(0.0, first.resets_at - time.time()) + 0.05)
    later = store.spent("k", 1.0)
    assert later.amounts == {}
    assert later.resets_at == pytest.approx(first.resets_at + 1.0, abs=0.01)


def test_the_async_twins_of_spending(store: Store):
    async def run() -> None:
        await store.aspend("k", {"usd": 0.5}, LONG)
        await store.aspend("k", {"usd": 0.25}, LONG)
        assert (await store.aspent("k", LONG)).amounts == {"usd": 0.75}

    asyncio.run(run())
