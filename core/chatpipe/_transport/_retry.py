"""The retry loop of one call, as a sans-IO state machine: outcomes in, verdicts out.

The transport's four drivers (``send``, ``stream``, ``asend``, ``astream``) do the I/O; this
decides. A driver sends attempt :attr:`Retry.attempt`, reports its outcome and obeys::

    retry = Retry(policy, retryable, veto, stream=...)
    while True:
        send the request
        a response head  -> verdict = retry.answered(status, headers[, whole response])
        a transport error -> verdict = retry.failed(mapped error, read_timeout=...)
        READ   -> read the error body, then verdict = retry.read(whole response)
        RETURN -> hand the response back (it may carry an error status)
        RAISE  -> raise the mapped error
        WAIT   -> wait retry.wait seconds, then send again

Extending it touches no driver: every attempt's outcome arrives through :meth:`Retry.answered`,
:meth:`Retry.failed` or :meth:`Retry.read` (where a per-attempt observer belongs), and every
retry granted passes through ``Retry._again`` (which refuses a wait that would end past the
call's :class:`~._deadline.Deadline`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping

from ..errors import APIConnectionError, ChatpipeError
from ..http import HttpResponse
from ._deadline import Deadline
from ._policy import RetryPolicy

__all__ = ["Retry", "Verdict"]


class Verdict(enum.Enum):
    """What the driver does after reporting an attempt's outcome."""

    RETURN = "return"
    """Hand the response back, error status or not."""
    RAISE = "raise"
    """Raise the attempt's (mapped) error."""
    READ = "read"
    """Read the error response's whole body and report it to :meth:`Retry.read` (the veto needs it)."""
    WAIT = "wait"
    """Wait :attr:`Retry.wait` seconds, then send attempt :attr:`Retry.attempt`."""


RETURN = Verdict.RETURN
RAISE = Verdict.RAISE
READ = Verdict.READ
WAIT = Verdict.WAIT


class Retry:
    """The retry decisions for one request, however many attempts it takes.

    ``policy`` bounds the retries and computes each wait (backoff with jitter, or the vendor's
    ``Retry-After``); ``retryable`` are the statuses worth another attempt; ``veto`` (the
    provider's ``should_retry``) sees a retryable error response whole and may refuse the retry;
    ``stream`` says the attempts open a stream (only its head is ever retried); ``deadline``
    refuses every retry whose wait would end past it (the error response is then returned, the
    error raised).

    Rules: a response below 400 is returned; an error response is retried when its status is in
    ``retryable`` — unless its ``x-should-retry`` header says ``false`` (``true`` makes any error
    status retryable), its ``Retry-After`` asks for longer than ``policy.max_retry_after``, or
    the veto refuses — and returned once retries are exhausted. Only connection-level errors
    (:class:`~chatpipe.errors.APIConnectionError` and its timeout subclass) are retried, except a
    read timeout waiting for a stream's head (the server may be busy with the request).
    """

    __slots__ = ("_deadline", "_policy", "_retryable", "_veto", "attempt", "reason", "status", "stream", "wait")

    def __init__(
        self,
        policy: RetryPolicy,
        retryable: frozenset[int],
        veto: Callable[[HttpResponse], bool] | None = None,
        *,
        stream: bool = False,
        deadline: Deadline | None = None,
    ) -> None:
        self._deadline = deadline
        self._policy = policy
        self._retryable = retryable
        self._veto = veto
        self.stream = stream
        """Whether the attempts open a stream."""
        self.attempt = 0
        """The number of the attempt to send next (0: the first)."""
        self.wait = 0.0
        """Seconds to wait before the next attempt (set with a WAIT or READ verdict)."""
        self.reason = ""
        """Why the next attempt is made (``"status 503"``, ``"APITimeoutError"``), for logs."""
        self.status: int | None = None
        """The error status that caused the next attempt (``None``: a connection-level failure)."""

    def answered(self, status: int, headers: Mapping[str, str], response: HttpResponse | None = None) -> Verdict:
        """The verdict on a response head (``headers`` with lower-cased names).

        ``response`` is the whole response when its body has been read (a complete send);
        without it, a retry that the veto might refuse is answered READ. Returns RETURN,
        WAIT or READ.
        """
        if status < 400 or self.attempt >= self._policy.max_retries:
            return RETURN
        flag = headers.get("x-should-retry", "").strip().lower()
        if flag == "false" or (flag != "true" and status not in self._retryable):
            return RETURN
        wait = self._policy.delay(self.attempt, headers)
        if wait is None:  # the vendor asked for a longer wait than we accept
            return RETURN
        self.wait, self.reason, self.status = wait, f"status {status}", status
        if self._veto is None:
            return self._again(RETURN)
        return READ if response is None else self.read(response)

    def read(self, response: HttpResponse) -> Verdict:
        """The verdict on the whole response that was answered READ: RETURN if vetoed, else WAIT."""
        return self._again(RETURN) if self._veto is None or self._veto(response) else RETURN

    def failed(self, error: ChatpipeError, *, read_timeout: bool = False) -> Verdict:
        """The verdict on an attempt that got no response: WAIT or RAISE.

        ``error`` is the mapped error; ``read_timeout`` says it was the read timeout expiring.
        """
        if (
            self.attempt >= self._policy.max_retries
            or not isinstance(error, APIConnectionError)
            or (read_timeout and self.stream)
        ):
            return RAISE
        wait = self._policy.delay(self.attempt)
        if wait is None:  # only a Retry-After header refuses; there is none here
            return RAISE
        self.wait, self.reason, self.status = wait, type(error).__name__, None
        return self._again(RAISE)

    def _again(self, refused: Verdict) -> Verdict:
        """WAIT for the next attempt, or ``refused`` when the wait would end past the deadline."""
        if self._deadline is not None and self.wait >= self._deadline.left():
            return refused
        self.attempt += 1
        return WAIT
