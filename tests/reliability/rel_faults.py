"""The fault catalogue: each fault, the outcome chatpipe promises, and the check proving it.

Data, not tests: ``test_fault_matrix.py`` runs every :class:`Fault` for every family and
mode, and ``rel_report.py`` renders the same catalogue into ``docs/reliability.md``. A check
gets a :class:`Case` (family, mode, a fresh fake server, recorded sleeps) and asserts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from chatpipe.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ChatpipeError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    ProviderError,
    RateLimitError,
    ServerError,
)
from chatpipe.http import SSEDecoder
from chatpipe.models import ChatResponse
from chatpipe.testing import FakeResponse, FakeServer
from rel_harness import KEY, MODES, TEXT, Family, Sleeps, call, make_pipeline, parse_events

STREAM_MODES = ("sync-stream", "async-stream")


@dataclasses.dataclass
class Case:
    """One cell of the matrix: what a check needs."""

    family: Family
    mode: str
    server: FakeServer
    sleeps: Sleeps
    extra: dict[str, Any]

    @property
    def streaming(self) -> bool:
        return self.mode in STREAM_MODES

    def pipeline(self, base: str | None = None, **kwargs: Any) -> Any:
        return make_pipeline(self.family, base or self.server.url, sleeps=self.sleeps, **kwargs)

    def enqueue(self, *responses: FakeResponse) -> None:
        self.server.enqueue(self.family.route, *responses)

    def run(self, pipe: Any) -> tuple[ChatResponse | None, BaseException | None]:
        """Call in this case's mode; return (reply, None) or (None, the exception)."""
        try:
            return call(pipe, self.mode), None
        except Exception as exc:  # checked by the caller: it must be a typed chatpipe error
            return None, exc

    @property
    def requests(self) -> int:
        return len(self.server.requests)


@dataclasses.dataclass(frozen=True)
class Fault:
    """A fault: ``id`` (test id), what is injected, the promised outcome, the check."""

    id: str
    injected: str
    expected: str
    check: Callable[[Case], None]
    modes: tuple[str, ...] = MODES


FAULTS: list[Fault] = []


def fault(fault_id: str, injected: str, expected: str, modes: tuple[str, ...] = MODES) -> Callable[..., Any]:
    """Register the decorated check as a fault of the catalogue."""

    def register(check: Callable[[Case], None]) -> Callable[[Case], None]:
        FAULTS.append(Fault(fault_id, injected, expected, check, modes))
        return check

    return register


# --- shared assertions ------------------------------------------------------------------------


def typed(case: Case, error: BaseException | None, cls: type[ChatpipeError]) -> Any:
    """``error`` is a ``cls`` carrying the provider, and neither its text nor repr holds the key."""
    assert error is not None, "expected an error, the call succeeded"
    assert isinstance(error, cls), f"expected {cls.__name__}, got {type(error).__name__}: {error}"
    if isinstance(error, ProviderError):
        assert error.provider == case.family.provider
        assert KEY not in (error.body or "")
    assert KEY not in str(error) and KEY not in repr(error)
    assert str(error).strip()
    return error


def succeeded(response: ChatResponse | None, error: BaseException | None, text: str = TEXT) -> None:
    assert error is None, f"expected success, got {type(error).__name__}: {error}"
    assert response is not None and response.text == text


def partial_prefix(error: ProviderError, *, required: bool = True) -> None:
    """What the stream delivered is kept on the error, and is a prefix of the real reply."""
    assert TEXT.startswith(error.partial_text), error.partial_text
    if required:
        assert error.partial_text, "the text received before the failure was lost"


def with_chunks(response: FakeResponse, chunks: list[bytes], **changes: Any) -> FakeResponse:
    return dataclasses.replace(response, chunks=tuple(chunks), **changes)


def offline(family: Family, chunks: list[bytes]) -> tuple[str | None, type[BaseException] | None]:
    """What the adapter alone makes of ``chunks`` (no network): (text, None) or (None, error type)."""
    pipe = make_pipeline(family, "http://127.0.0.1:9")
    decoder = SSEDecoder()
    try:
        events = [e for c in chunks for e in decoder.feed(c)] + list(decoder.flush())
        return parse_events(pipe.adapter, events, family.provider).text, None
    except ChatpipeError as exc:
        return None, type(exc)


# --- connection faults ------------------------------------------------------------------------


@fault(
    "connection-refused",
    "nothing listens on the port",
    "APIConnectionError after max_retries retries (each waited for)",
)
def _refused(case: Case) -> None:
    pipe = case.pipeline(f"http://127.0.0.1:{case.extra['closed_port']}")
    _, error = case.run(pipe)
    typed(case, error, APIConnectionError)
    assert len(case.sleeps.waits) == 2


@fault(
    "connect-timeout",
    "the server never accepts the connection",
    "APITimeoutError naming the connect timeout, retried as configured",
)
def _connect_timeout(case: Case) -> None:
    pipe = case.pipeline(f"http://127.0.0.1:{case.extra['unresponsive_port']}", connect=0.2, max_retries=1)
    _, error = case.run(pipe)
    assert "connect timeout" in str(typed(case, error, APITimeoutError))
    assert len(case.sleeps.waits) == 1


@fault("reset-before-headers", "TCP reset before the response head, then a good reply", "retried: the reply arrives")
def _reset_then_ok(case: Case) -> None:
    case.enqueue(FakeResponse.reset(), case.family.ok_for(case.mode))
    response, error = case.run(case.pipeline())
    succeeded(response, error)
    assert case.requests == 2


@fault("reset-every-attempt", "TCP reset before the head on every attempt", "APIConnectionError after 1 + max_retries")
def _reset_always(case: Case) -> None:
    case.enqueue(*[FakeResponse.reset()] * 3)
    _, error = case.run(case.pipeline())
    typed(case, error, APIConnectionError)
    assert case.requests == 3


def _cut_body(case: Case) -> FakeResponse:
    body = case.family.ok().body
    head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
    return FakeResponse.raw(head.encode() + body[: len(body) // 2])


@fault(
    "reset-mid-body",
    "the connection closes halfway through a JSON body",
    "non-stream: retried (nothing reached the caller); stream: APIConnectionError, not retried",
)
def _reset_mid_body(case: Case) -> None:
    case.enqueue(_cut_body(case), case.family.ok_for(case.mode))
    response, error = case.run(case.pipeline())
    if case.streaming:
        typed(case, error, ChatpipeError)
        assert isinstance(error, (APIConnectionError, ProtocolError))
        assert case.requests == 1
    else:
        succeeded(response, error)
        assert case.requests == 2


@fault(
    "reset-mid-stream",
    "the connection closes after a few stream events",
    "APIConnectionError with the text received so far; never retried",
    STREAM_MODES,
)
def _reset_mid_stream(case: Case) -> None:
    good = case.family.ok_stream()
    case.enqueue(dataclasses.replace(good, cut_after=case.family.first_text_event(good) + 1), good)
    _, error = case.run(case.pipeline())
    partial_prefix(typed(case, error, APIConnectionError))
    assert case.requests == 1


# --- statuses ---------------------------------------------------------------------------------

RETRY_HINTS: list[tuple[str, dict[str, str], float]] = [
    ("no-hint", {}, 0.5),
    ("retry-after", {"Retry-After": "1"}, 1.0),
    ("retry-after-ms", {"retry-after-ms": "1500"}, 1.5),
]


def _status_fault(status: int, hint: str, headers: dict[str, str], wait: float) -> None:
    @fault(
        f"status-{status}-{hint}",
        f"HTTP {status}" + (f" with {next(iter(headers))}" if headers else " without a retry hint") + ", then a reply",
        f"retried after {wait:g}s when {status} is retryable for the provider, else a typed error at once",
    )
    def check(case: Case) -> None:
        case.enqueue(case.family.error(status, headers), case.family.ok_for(case.mode))
        pipe = case.pipeline()
        response, error = case.run(pipe)
        if status in pipe.provider_class.info.retryable_statuses:
            succeeded(response, error)
            assert case.sleeps.waits == [wait]
            assert case.requests == 2
        else:
            expected = ServerError if status >= 500 else RateLimitError if status == 429 else APIStatusError
            assert typed(case, error, expected).status == status
            assert case.requests == 1


for _status in (408, 409, 429, 500, 502, 503, 504, 529):
    for _hint, _headers, _wait in RETRY_HINTS if _status in (429, 503, 529) else RETRY_HINTS[:1]:
        _status_fault(_status, _hint, _headers, _wait)


@fault("status-503-exhausted", "HTTP 503 on every attempt", "ServerError with status 503 after 1 + max_retries")
def _exhausted(case: Case) -> None:
    case.enqueue(*[case.family.error(503, {"Retry-After": "0"})] * 3)
    _, error = case.run(case.pipeline())
    assert typed(case, error, ServerError).status == 503
    assert case.requests == 3


@fault("status-429-too-long", "HTTP 429 asking to wait 3600s", "RateLimitError at once (retry_after kept), no wait")
def _too_long(case: Case) -> None:
    case.enqueue(case.family.error(429, {"Retry-After": "3600"}))
    _, error = case.run(case.pipeline())
    assert typed(case, error, RateLimitError).retry_after == 3600
    assert case.requests == 1 and case.sleeps.waits == []


CLIENT_ERRORS: dict[int, type[ChatpipeError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: BadRequestError,
    422: BadRequestError,
}


def _client_fault(status: int, cls: type[ChatpipeError]) -> None:
    @fault(f"status-{status}", f"HTTP {status}", f"{cls.__name__} with status {status}, not retried")
    def check(case: Case) -> None:
        case.enqueue(case.family.error(status))
        _, error = case.run(case.pipeline())
        assert typed(case, error, cls).status == status
        assert case.requests == 1


for _status, _cls in CLIENT_ERRORS.items():
    _client_fault(_status, _cls)


# --- slow and stalled -------------------------------------------------------------------------


@fault(
    "read-timeout",
    "the server answers after 2s; read timeout 0.3s",
    "APITimeoutError; non-stream retried as configured, a stream's head wait is not retried",
)
def _read_timeout(case: Case) -> None:
    case.enqueue(*[dataclasses.replace(case.family.ok(), delay=2.0)] * 2)
    _, error = case.run(case.pipeline(read=0.3, max_retries=1))
    assert "timeout" in str(typed(case, error, APITimeoutError))
    assert case.requests == (1 if case.streaming else 2)


@fault(
    "stalled-stream",
    "the stream goes silent after a few events (connection kept open)",
    "APITimeoutError ('stream stalled') with the text so far; never retried",
    STREAM_MODES,
)
def _stalled(case: Case) -> None:
    good = case.family.ok_stream()
    case.enqueue(dataclasses.replace(good, stall_after=case.family.first_text_event(good) + 1), good)
    _, error = case.run(case.pipeline(read=0.4))
    partial_prefix(typed(case, error, APITimeoutError))
    assert "stalled" in str(error)
    assert case.requests == 1


# --- malformed replies ------------------------------------------------------------------------


@fault("truncated-json", "a 200 whose JSON (or one stream event) is cut in half", "ProtocolError, not retried")
def _truncated(case: Case) -> None:
    if case.streaming:
        good = case.family.ok_stream()
        chunks = list(good.chunks)
        chunks[2] = chunks[2].rstrip(b"\n")[: len(chunks[2]) // 2] + b"\n\n"
        case.enqueue(with_chunks(good, chunks))
    else:
        body = case.family.ok().body
        case.enqueue(FakeResponse.text(body[: len(body) // 2].decode(), content_type="application/json"))
    _, error = case.run(case.pipeline())
    partial_prefix(typed(case, error, ProtocolError), required=False)
    assert case.requests == 1


@fault("non-json-body", "a 200 text/plain body that is not JSON or SSE", "ProtocolError quoting the body, not retried")
def _non_json(case: Case) -> None:
    case.enqueue(FakeResponse.text("Hello from a misconfigured server"))
    _, error = case.run(case.pipeline())
    assert "misconfigured" in (typed(case, error, ProtocolError).body or "")
    assert case.requests == 1


PROXY_PAGE = "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>nginx</body></html>"


@fault(
    "html-proxy-error",
    "HTTP 502 with an HTML page from a proxy",
    "ServerError with status 502, retried when 502 is retryable",
)
def _html_error(case: Case) -> None:
    case.enqueue(*[FakeResponse.text(PROXY_PAGE, status=502, content_type="text/html")] * 3)
    pipe = case.pipeline()
    _, error = case.run(pipe)
    assert typed(case, error, ServerError).status == 502
    assert case.requests == (3 if 502 in pipe.provider_class.info.retryable_statuses else 1)


@fault("html-proxy-200", "HTTP 200 with an HTML page (captive portal, wrong URL)", "ProtocolError, not retried")
def _html_ok(case: Case) -> None:
    case.enqueue(FakeResponse.text(PROXY_PAGE, content_type="text/html"))
    _, error = case.run(case.pipeline())
    typed(case, error, ProtocolError)
    assert case.requests == 1


@fault(
    "stream-without-terminator",
    "the stream ends cleanly but without its end event ([DONE], message_stop...)",
    "the full reply when the family allows it (OpenAI-compatible), else ProtocolError with the text so far",
    STREAM_MODES,
)
def _no_done(case: Case) -> None:
    good = case.family.ok_stream()
    end = next(i for i, chunk in enumerate(good.chunks) if case.family.terminator in chunk)
    case.enqueue(with_chunks(good, list(good.chunks[:end])))
    response, error = case.run(case.pipeline())
    if case.family.terminator_required:
        partial_prefix(typed(case, error, ProviderError))
    else:
        succeeded(response, error)


def _reordered(name: str, injected: str, transform: Callable[[list[bytes]], list[bytes]]) -> None:
    @fault(
        name,
        injected,
        "exactly what the adapter makes of those events offline (nothing lost or added), or a typed error",
        STREAM_MODES,
    )
    def check(case: Case) -> None:
        good = case.family.ok_stream()
        chunks = transform(list(good.chunks))
        case.enqueue(with_chunks(good, chunks))
        response, error = case.run(case.pipeline())
        text, error_type = offline(case.family, chunks)
        if error_type is not None:
            assert isinstance(error, error_type)
            typed(case, error, ChatpipeError)
        else:
            assert error is None, f"{type(error).__name__}: {error}"
            assert response is not None and response.text == text
        assert case.requests == 1


_reordered("duplicated-events", "every stream event is sent twice", lambda c: [x for x in c for _ in (0, 1)])
_reordered("out-of-order-events", "the stream events between the first and last arrive reversed",
           lambda c: [c[0], *reversed(c[1:-1]), c[-1]])  # fmt: skip


GIANT = ("All work and no play makes a long reply. " * 200_000)[:8_000_000]


@fault("gigantic-response", "an 8 MB reply", "delivered intact (every character), no hang")
def _giant(case: Case) -> None:
    case.enqueue(case.family.ok_for(case.mode, GIANT))
    response, error = case.run(case.pipeline(read=30.0))
    succeeded(response, error, GIANT)


def params(families: list[Family]) -> list[Any]:
    """pytest params for every (fault, family, mode) cell."""
    return [pytest.param(f, fam, m, id=f"{f.id}-{fam.name}-{m}") for f in FAULTS for fam in families for m in f.modes]
