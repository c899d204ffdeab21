"""RetryPolicy.delay and the Timeouts/RetryPolicy value checks (pure, no I/O)."""

from __future__ import annotations

import email.utils

import pytest
from chatpipe._transport import RetryPolicy, Timeouts
from chatpipe.errors import ConfigError
from hypothesis import given
from hypothesis import strategies as st

NO_JITTER = RetryPolicy(jitter=0.0)


def test_exponential_backoff_is_capped() -> None:
    assert [NO_JITTER.delay(attempt, {}) for attempt in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


def test_jitter_spreads_around_the_base() -> None:
    policy = RetryPolicy(backoff_base=1.0, jitter=0.25)
    assert policy.delay(0, {}, rand=lambda: 0.0) == pytest.approx(0.75)
    assert policy.delay(0, {}, rand=lambda: 0.5) == pytest.approx(1.0)
    assert policy.delay(0, {}, rand=lambda: 0.999999) == pytest.approx(1.25, abs=1e-5)


def test_jitter_never_exceeds_backoff_max() -> None:
    policy = RetryPolicy(backoff_base=8.0, backoff_max=8.0, jitter=0.5)
    assert policy.delay(3, {}, rand=lambda: 0.99) == 8.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "0"}, 0.0),
        ({"retry-after": "7"}, 7.0),
        ({"Retry-After": " 2.5 "}, 2.5),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"Retry-After-Ms": "20", "Retry-After": "9"}, 0.02),
        ({"retry-after-ms": "junk", "retry-after": "3"}, 3.0),
    ],
)
def test_vendor_headers_win_without_jitter(headers: dict[str, str], expected: float) -> None:
    policy = RetryPolicy(jitter=0.5)
    assert policy.delay(4, headers, rand=lambda: 0.0) == pytest.approx(expected)


def test_retry_after_as_http_date() -> None:
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 12, usegmt=True)
    assert NO_JITTER.delay(0, {"Retry-After": date}, now=now) == pytest.approx(12.0)
    past = email.utils.formatdate(now - 100, usegmt=True)
    assert NO_JITTER.delay(0, {"Retry-After": past}, now=now) == 0.0


@pytest.mark.parametrize("value", ["soon", "-5", "nan", "inf", ""])
def test_unusable_retry_after_falls_back_to_backoff(value: str) -> None:
    assert NO_JITTER.delay(1, {"Retry-After": value}) == 1.0


@pytest.mark.parametrize("headers", [{"retry-after": "61"}, {"retry-after-ms": "60001"}])
def test_retry_after_beyond_the_limit_means_do_not_retry(headers: dict[str, str]) -> None:
    assert RetryPolicy().delay(0, headers) is None
    assert RetryPolicy(max_retry_after=120).delay(0, headers) is not None


@given(
    attempt=st.integers(min_value=0, max_value=80),
    base=st.floats(min_value=0, max_value=10),
    cap=st.floats(min_value=0, max_value=100),
    jitter=st.floats(min_value=0, max_value=1),
    rand=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_backoff_is_always_within_zero_and_the_cap(
    attempt: int, base: float, cap: float, jitter: float, rand: float
) -> None:
    policy = RetryPolicy(backoff_base=base, backoff_max=cap, jitter=jitter)
    delay = policy.delay(attempt, {}, rand=lambda: rand)
    assert delay is not None
    assert 0.0 <= delay <= cap


def test_timeouts_defaults_and_idle() -> None:
    assert Timeouts() == Timeouts(connect=10.0, read=600.0, stream_idle=None)
    assert Timeouts(read=30).idle == 30
    assert Timeouts(read=30, stream_idle=5).idle == 5


@pytest.mark.parametrize(
    "kwargs", [{"connect": 0}, {"read": -1}, {"stream_idle": 0}, {"read": "10"}, {"connect": float("inf")}]
)
def test_bad_timeouts_are_config_errors(kwargs: dict[str, object]) -> None:
    name = next(iter(kwargs))
    with pytest.raises(ConfigError, match=f"Timeouts.{name}: must be a positive number of seconds"):
        Timeouts(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [{"max_retries": -1}, {"max_retries": 1.5}, {"backoff_base": -0.1}, {"jitter": "x"}, {"max_retries": True}],
)
def test_bad_retry_policies_are_config_errors(kwargs: dict[str, object]) -> None:
    name = next(iter(kwargs))
    with pytest.raises(ConfigError, match=f"RetryPolicy.{name}: must be"):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
