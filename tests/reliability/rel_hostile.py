"""The hostile-server catalogue (issue 13): every byte chosen by the server, every fault bounded.

Data, not tests: ``test_hostile.py`` runs every :class:`~rel_faults.Fault` here for every
family and mode, and ``rel_report.py`` renders the catalogue into ``docs/reliability.md``
beside the fault matrix. The server side is :meth:`chatpipe.testing.FakeResponse.script`:
exact bytes (status line, headers, body) with waits between them, repeated keep-alives, and
connections kept open after a malformed answer.

Every check also proves that the call ended in bounded time and that nothing reachable from
the error (its chain, arguments, attributes) holds the planted key (:func:`hostile`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from typing import Any

from chatpipe.errors import APIStatusError, APITimeoutError, ChatpipeError, ProtocolError, ProviderError
from chatpipe.models import ChatResponse
from chatpipe.testing import FakeResponse
from rel_faults import STREAM_MODES, Case, Fault, partial_prefix, succeeded, typed
from rel_harness import CONVERSATION, KEY, MODES, TEXT, call, reachable

NON_STREAM_MODES = ("sync", "async")
HOSTILE: list[Fault] = []
BOUND = 6.0
"""Seconds any hostile cell may take: every limit below is 1 s, so this is the slack of a loaded machine."""
DEEP = b"[" * 100_000


def hostile(fault_id: str, injected: str, expected: str, modes: tuple[str, ...] = MODES) -> Callable[..., Any]:
    """Register the decorated check as a hostile fault."""

    def register(check: Callable[[Case], None]) -> Callable[[Case], None]:
        HOSTILE.append(Fault(fault_id, injected, expected, check, modes))
        return check

    return register


def ended(case: Case, error: BaseException | None, cls: type[ChatpipeError], started: float) -> Any:
    """``error`` is a typed ``cls`` (see :func:`~rel_faults.typed`), came within :data:`BOUND`, and hides the key."""
    elapsed = time.monotonic() - started
    assert elapsed < BOUND, f"the call took {elapsed:.1f}s"
    typed(case, error, cls)
    assert error is not None
    assert KEY not in reachable(error), "the key is reachable from the error"
    return error


def timed(case: Case, pipe: Any, **params: Any) -> tuple[ChatResponse | None, BaseException | None, float]:
    """One call in the case's mode: (reply, error, the moment it started)."""
    started = time.monotonic()
    try:
        return call(pipe, case.mode, **params), None, started
    except Exception as exc:  # checked by the caller: it must be a typed chatpipe error
        return None, exc, started


# --- raw HTTP -------------------------------------------------------------------------------


def head(status: int = 200, content_type: str = "application/json", **headers: str | int) -> bytes:
    """A response head; header names are given with ``_`` for ``-`` (``content_length=12``)."""
    lines = [f"HTTP/1.1 {status} X", f"content-type: {content_type}"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def reply_bytes(case: Case, text: str = TEXT) -> tuple[bytes, str]:
    """The body of a good reply in the case's mode, and its content type."""
    good = case.family.ok_for(case.mode, text)
    if case.streaming:
        return b"".join(good.chunks), "text/event-stream"
    return good.body, "application/json"


def until_text(case: Case) -> list[bytes]:
    """The stream's events up to and including its first text event (no finish, no end event)."""
    good = case.family.ok_stream()
    return list(good.chunks[: case.family.first_text_event(good) + 1])


# --- 1. a stream cut at an event boundary ------------------------------------------------------


@hostile(
    "cut-stream-clean-end",
    "a few content events, then the chunked body ends cleanly: no finish reason, no end event",
    "ProtocolError with the text received (every family: a finish reason or [DONE] makes a stream complete)",
    STREAM_MODES,
)
def _cut_chunked(case: Case) -> None:
    good = case.family.ok_stream()
    case.enqueue(dataclasses.replace(good, chunks=tuple(until_text(case))))
    _, error, started = timed(case, case.pipeline(max_retries=0))
    partial_prefix(ended(case, error, ProtocolError, started))
    assert case.requests == 1


@hostile(
    "cut-stream-content-length",
    "the same events in a body whose Content-Length ends at an event boundary",
    "ProtocolError with the text received",
    STREAM_MODES,
)
def _cut_length(case: Case) -> None:
    body = b"".join(until_text(case))
    case.enqueue(FakeResponse.script(head(content_type="text/event-stream", content_length=len(body)) + body))
    _, error, started = timed(case, case.pipeline(max_retries=0))
    partial_prefix(ended(case, error, ProtocolError, started))


@hostile(
    "cut-stream-close-delimited",
    "the same events in a close-delimited body (no length, the server closes)",
    "ProtocolError with the text received",
    STREAM_MODES,
)
def _cut_close(case: Case) -> None:
    body = b"".join(until_text(case))
    case.enqueue(FakeResponse.script(head(content_type="text/event-stream", connection="close") + body))
    _, error, started = timed(case, case.pipeline(max_retries=0))
    partial_prefix(ended(case, error, ProtocolError, started))


# --- 2. deadlines -------------------------------------------------------------------------------


def _trickle(data: bytes, every: float = 0.05) -> list[bytes | float]:
    steps: list[bytes | float] = []
    for byte in data:
        steps += [bytes([byte]), every]
    return steps


@hostile(
    "trickle-body",
    "the head at once, then the body one byte every 50 ms (each read within the read timeout)",
    "APITimeoutError naming the deadline after 1 s (deadline=1: timeout.deadline / deadline=), text so far kept",
)
def _trickle_body(case: Case) -> None:
    body, kind = reply_bytes(case)
    if case.streaming:
        first = b"".join(until_text(case))
        start = head(content_type=kind, connection="close") + first
        steps: list[bytes | float] = [start, *_trickle(body[len(first) :])]
        pipe, params = case.pipeline(), {"deadline": 1.0}
    else:
        steps = [head(content_type=kind, content_length=len(body)), *_trickle(body)]
        pipe, params = case.pipeline(timeout={"connect": 5, "read": 10, "deadline": 1.0}), {}
    case.enqueue(FakeResponse.script(*steps))
    _, error, started = timed(case, pipe, **params)
    error = ended(case, error, APITimeoutError, started)
    assert "deadline" in str(error)
    if case.streaming:
        partial_prefix(error)
    assert case.requests == 1


@hostile(
    "trickle-head",
    "the status line and headers one byte every 50 ms, never finished",
    "APITimeoutError naming the deadline after 1 s; the head is not retried past it",
)
def _trickle_head(case: Case) -> None:
    case.enqueue(*[FakeResponse.script(*_trickle(head() + b"x" * 4000))] * 3)
    if case.streaming:
        pipe, params = case.pipeline(), {"deadline": 1.0}
    else:
        pipe, params = case.pipeline(timeout={"connect": 5, "read": 10, "deadline": 1.0}), {}
    _, error, started = timed(case, pipe, **params)
    assert "deadline" in str(ended(case, error, APITimeoutError, started))


def _forever(fault_id: str, what: str, beat: bytes) -> None:
    @hostile(
        fault_id,
        f"the first content event, then {what} every 100 ms forever",
        "APITimeoutError ('no progress') after stream_progress=1 s, with the text received",
        STREAM_MODES,
    )
    def check(case: Case) -> None:
        first = b"".join(until_text(case))
        case.enqueue(FakeResponse.script(head(content_type="text/event-stream") + first, repeat=beat, every=0.1))
        pipe = case.pipeline(timeout={"connect": 5, "read": 10, "stream_progress": 1.0})
        _, error, started = timed(case, pipe)
        error = ended(case, error, APITimeoutError, started)
        assert "no progress" in str(error) and "stream_progress" in str(error)
        partial_prefix(error)


_forever("keep-alive-comments-forever", "an SSE comment (': keep-alive')", b": keep-alive\n\n")
_forever("blank-lines-forever", "a blank line", b"\n")
_forever("pings-forever", "an 'event: ping' keep-alive", b'event: ping\ndata: {"type": "ping"}\n\n')


# --- 3. deeply nested JSON ----------------------------------------------------------------------


@hostile(
    "deep-json-reply",
    "a 200 body (or one stream event) of 100,000 nested '['",
    "ProtocolError (never RecursionError), not retried; a stream keeps the text before it",
)
def _deep_reply(case: Case) -> None:
    if case.streaming:
        good = case.family.ok_stream()
        case.enqueue(dataclasses.replace(good, chunks=(*until_text(case), b"data: " + DEEP + b"\n\n")))
    else:
        case.enqueue(FakeResponse.script(head(content_length=len(DEEP)) + DEEP))
    _, error, started = timed(case, case.pipeline())
    error = ended(case, error, ProtocolError, started)
    if case.streaming:
        partial_prefix(error)
    assert case.requests == 1


@hostile(
    "deep-json-error",
    "a 400 whose body is 100,000 nested '['",
    "the status's typed error (BadRequestError, status 400), never RecursionError",
)
def _deep_error(case: Case) -> None:
    case.enqueue(FakeResponse.script(head(400, content_length=len(DEEP)) + DEEP))
    _, error, started = timed(case, case.pipeline(max_retries=0))
    assert ended(case, error, APIStatusError, started).status == 400


# --- 7. surplus bytes after Content-Length ------------------------------------------------------


def _twice(case: Case, pipe: Any) -> list[ChatResponse]:
    """Two calls on one pipeline (one event loop for the async modes), so the second may reuse the pool."""
    if case.mode == "sync":
        return [pipe.complete(CONVERSATION) for _ in range(2)]
    if case.mode == "sync-stream":
        return [pipe.stream(CONVERSATION).collect() for _ in range(2)]

    async def run() -> list[ChatResponse]:
        try:
            if case.mode == "async":
                return [await pipe.acomplete(CONVERSATION) for _ in range(2)]
            return [await pipe.astream(CONVERSATION).collect() for _ in range(2)]
        finally:
            await pipe.aclose()

    return asyncio.run(run())


@hostile(
    "surplus-bytes",
    "a good reply whose Content-Length is shorter than what is sent; the connection is kept open",
    "the reply per Content-Length; the connection is dropped, so the next call (max_retries=0) succeeds",
)
def _surplus(case: Case) -> None:
    body, kind = reply_bytes(case)
    surplus = b"HTTP/1.1 200 OK\r\ncontent-length: 7\r\n\r\nGARBAGE"
    case.enqueue(
        FakeResponse.script(head(content_type=kind, content_length=len(body)) + body + surplus, keep_open=True),
        case.family.ok_for(case.mode),
    )
    replies = _twice(case, case.pipeline(max_retries=0))
    for reply in replies:
        succeeded(reply, None)
    assert case.requests == 2


# --- 8. size limits -----------------------------------------------------------------------------


@hostile(
    "huge-content-length",
    "a head declaring a 2 GB body (a 200, or a 500 to a stream), then 1 MB sent and silence",
    "ProtocolError naming limits.max_body_bytes at once, before the body is read",
)
def _huge_length(case: Case) -> None:
    status = 500 if case.streaming else 200
    start = head(status, content_length=2_000_000_000) + b" " * 1_000_000
    case.enqueue(FakeResponse.script(start, 30.0))
    _, error, started = timed(case, case.pipeline(max_retries=0))
    assert "limits.max_body_bytes" in str(ended(case, error, ProtocolError, started))


@hostile(
    "oversized-body",
    "a 100 KB reply with limits.max_body_bytes 4096",
    "ProtocolError naming limits.max_body_bytes",
    NON_STREAM_MODES,
)
def _oversized_body(case: Case) -> None:
    case.enqueue(case.family.ok("x" * 100_000))
    _, error, started = timed(case, case.pipeline(limits={"max_body_bytes": 4096}))
    assert "limits.max_body_bytes" in str(ended(case, error, ProtocolError, started))


@hostile(
    "oversized-event",
    "one 100 KB stream event (a single line) with limits.max_event_bytes 4096",
    "ProtocolError naming limits.max_event_bytes, with the text received before it",
    STREAM_MODES,
)
def _oversized_event(case: Case) -> None:
    good = case.family.ok_stream()
    case.enqueue(dataclasses.replace(good, chunks=(*until_text(case), b"data: " + b"y" * 100_000 + b"\n\n")))
    _, error, started = timed(case, case.pipeline(limits={"max_event_bytes": 4096}))
    error = ended(case, error, ProtocolError, started)
    assert "limits.max_event_bytes" in str(error)
    partial_prefix(error)


# --- 6. the key in an error envelope ------------------------------------------------------------


@hostile(
    "key-echoed-in-a-200-error",
    "a 200 whose body (or stream event) is an error envelope quoting the API key",
    "the typed API error, scrubbed; no object reachable from it (chain, args, attributes) holds the key",
)
def _echoed(case: Case) -> None:
    envelope = {"error": {"message": f"invalid api key {KEY}", "type": "invalid_request_error"}, "type": "error"}
    if case.streaming:
        case.enqueue(FakeResponse.sse([("error", envelope)], done=False))
    else:
        case.enqueue(FakeResponse.json(envelope))
    _, error, started = timed(case, case.pipeline(max_retries=0))
    ended(case, error, ProviderError, started)


@hostile(
    "key-echoed-in-a-broken-200",
    "a 200 whose body (or stream event) is invalid JSON quoting the API key",
    "ProtocolError, scrubbed; no object reachable from it holds the key",
)
def _echoed_broken(case: Case) -> None:
    broken = f'{{"id": "x", "note": "key {KEY}", '
    if case.streaming:
        good = case.family.ok_stream()
        case.enqueue(dataclasses.replace(good, chunks=(*until_text(case), f"data: {broken}\n\n".encode())))
    else:
        case.enqueue(FakeResponse.text(broken, content_type="application/json"))
    _, error, started = timed(case, case.pipeline(max_retries=0))
    ended(case, error, ProtocolError, started)
