"""The retry state machine (``_transport._retry.Retry``) on its own: outcomes in, verdicts out, no sockets."""

from __future__ import annotations

import pytest
from chatpipe._transport import RetryPolicy
from chatpipe._transport._retry import Retry, Verdict
from chatpipe.errors import (
    APIConnectionError,
    APITimeoutError,
    ChatpipeError,
    InvalidRequestError,
    ProtocolError,
)
from chatpipe.http import HttpResponse

RETRYABLE = frozenset({429, 503})
POLICY = RetryPolicy(max_retries=2, jitter=0.0)  # waits 0.5, 1.0, 2.0...


def machine(
    policy: RetryPolicy = POLICY, veto: object = None, *, stream: bool = False, retryable: frozenset[int] = RETRYABLE
) -> Retry:
    return Retry(policy, retryable, veto, stream=stream)  # type: ignore[arg-type]


def test_a_success_is_returned_at_once() -> None:
    retry = machine()
    assert retry.answered(200, {}) is Verdict.RETURN
    assert retry.attempt == 0


def test_a_retryable_status_waits_with_backoff_until_exhausted() -> None:
    retry = machine()
    assert retry.answered(503, {}) is Verdict.WAIT
    assert (retry.attempt, retry.wait, retry.reason) == (1, 0.5, "status 503")
    assert retry.answered(503, {}) is Verdict.WAIT
    assert (retry.attempt, retry.wait) == (2, 1.0)
    assert retry.answered(503, {}) is Verdict.RETURN  # exhausted: the last error response is handed back
    assert retry.attempt == 2


def test_no_retries_at_all_when_max_retries_is_zero() -> None:
    retry = machine(RetryPolicy(max_retries=0))
    assert retry.answered(503, {}) is Verdict.RETURN
    assert retry.failed(APIConnectionError("refused")) is Verdict.RAISE


def test_a_status_outside_the_retryable_set_is_returned() -> None:
    assert machine().answered(400, {}) is Verdict.RETURN
    assert machine().answered(500, {}) is Verdict.RETURN


def test_retry_after_is_the_wait_and_an_absurd_one_is_refused() -> None:
    retry = machine()
    assert retry.answered(429, {"retry-after": "7"}) is Verdict.WAIT
    assert retry.wait == 7.0
    assert machine().answered(429, {"retry-after": "3600"}) is Verdict.RETURN  # over max_retry_after


@pytest.mark.parametrize(
    ("status", "flag", "verdict"),
    [
        (503, "false", Verdict.RETURN),
        (503, " FALSE ", Verdict.RETURN),
        (500, "true", Verdict.WAIT),  # "true" makes any error status retryable
        (400, "true", Verdict.WAIT),
        (503, "maybe", Verdict.WAIT),  # anything else: the retryable set decides
        (500, "maybe", Verdict.RETURN),
        (200, "true", Verdict.RETURN),  # never for a success
    ],
)
def test_x_should_retry(status: int, flag: str, verdict: Verdict) -> None:
    assert machine().answered(status, {"x-should-retry": flag}) is verdict


def test_the_veto_sees_the_whole_response() -> None:
    seen: list[HttpResponse] = []

    def veto(response: HttpResponse) -> bool:
        seen.append(response)
        return b"quota" not in response.content

    exhausted = HttpResponse(429, {}, b'{"error": "quota exhausted"}')
    assert machine(veto=veto).answered(429, {}, exhausted) is Verdict.RETURN
    busy = HttpResponse(429, {}, b'{"error": "busy"}')
    retry = machine(veto=veto)
    assert retry.answered(429, {}, busy) is Verdict.WAIT
    assert retry.attempt == 1
    assert seen == [exhausted, busy]


def test_without_the_body_the_veto_asks_for_it() -> None:
    retry = machine(veto=lambda response: response.content != b"no")
    assert retry.answered(503, {"retry-after": "2"}) is Verdict.READ
    assert (retry.attempt, retry.wait) == (0, 2.0)  # decided, not yet granted
    assert retry.read(HttpResponse(503, {}, b"no")) is Verdict.RETURN
    assert retry.attempt == 0
    assert retry.answered(503, {"retry-after": "2"}) is Verdict.READ
    assert retry.read(HttpResponse(503, {}, b"yes")) is Verdict.WAIT
    assert (retry.attempt, retry.wait) == (1, 2.0)


def test_the_veto_is_not_asked_when_the_status_is_not_retried() -> None:
    def veto(response: HttpResponse) -> bool:
        raise AssertionError("not asked")

    assert machine(veto=veto).answered(400, {}) is Verdict.RETURN
    assert machine(veto=veto).answered(200, {}) is Verdict.RETURN
    assert machine(veto=veto).answered(503, {"retry-after": "3600"}) is Verdict.RETURN


@pytest.mark.parametrize(
    ("error", "verdict"),
    [
        (APIConnectionError("refused"), Verdict.WAIT),
        (APITimeoutError("connect timeout"), Verdict.WAIT),
        (InvalidRequestError("bad header"), Verdict.RAISE),
        (ProtocolError("undecodable"), Verdict.RAISE),
    ],
)
def test_only_connection_errors_are_retried(error: ChatpipeError, verdict: Verdict) -> None:
    retry = machine()
    assert retry.failed(error) is verdict
    if verdict is Verdict.WAIT:
        assert (retry.attempt, retry.wait, retry.reason) == (1, 0.5, type(error).__name__)


def test_connection_errors_are_raised_once_retries_are_exhausted() -> None:
    retry = machine()
    assert [retry.failed(APIConnectionError("reset")) for _ in range(3)] == [Verdict.WAIT, Verdict.WAIT, Verdict.RAISE]
    assert retry.wait == 1.0  # the second wait, doubled


def test_a_read_timeout_is_retried_for_a_send_but_not_for_a_stream_head() -> None:
    timeout = APITimeoutError("read timeout")
    assert machine().failed(timeout, read_timeout=True) is Verdict.WAIT
    assert machine(stream=True).failed(timeout, read_timeout=True) is Verdict.RAISE
    assert machine(stream=True).failed(timeout) is Verdict.WAIT  # a connect timeout


def test_responses_and_failures_share_one_attempt_count() -> None:
    retry = machine()
    assert retry.failed(APIConnectionError("refused")) is Verdict.WAIT
    assert retry.answered(503, {}) is Verdict.WAIT
    assert retry.failed(APIConnectionError("refused")) is Verdict.RAISE
    assert retry.attempt == 2


def test_jitter_comes_from_the_policy() -> None:
    retry = machine(RetryPolicy(backoff_base=1.0, jitter=0.5))
    assert retry.answered(503, {}) is Verdict.WAIT
    assert 0.5 <= retry.wait <= 1.5


def test_a_retry_whose_wait_would_end_past_the_deadline_is_refused() -> None:
    from chatpipe._transport._deadline import Deadline

    retry = Retry(POLICY, RETRYABLE, deadline=Deadline(0.3))  # the first wait is 0.5 s
    assert retry.answered(503, {}) is Verdict.RETURN  # the error response is handed back
    assert retry.failed(APIConnectionError("refused")) is Verdict.RAISE
    assert retry.attempt == 0
    roomy = Retry(POLICY, RETRYABLE, deadline=Deadline(60.0))
    assert roomy.answered(503, {}) is Verdict.WAIT
