"""Transport.stream against a fake server, on both HTTP backends."""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable
from typing import Any

import pytest
from chatpipe._transport import Transport
from chatpipe.errors import APIConnectionError, APITimeoutError
from chatpipe.http import HttpRequest, SSEEvent
from chatpipe.testing import FakeResponse, FakeServer

MakeTransport = Callable[..., Transport]
RETRYABLE = frozenset({429, 500, 502, 503, 504, 529})
PATH = "/v1/chat/completions"


def request(server: FakeServer) -> HttpRequest:
    return HttpRequest("POST", server.url + PATH, headers={"accept": "text/event-stream"}, json={"stream": True})


def test_events_arrive_incrementally(server: FakeServer, make_transport: MakeTransport) -> None:
    delay = 0.4
    server.enqueue(PATH, FakeResponse.sse([{"n": 1}, {"n": 2}, {"n": 3}], delay=delay, done=False))
    arrivals: list[float] = []
    events: list[SSEEvent] = []
    with make_transport().stream(request(server), retryable=RETRYABLE) as response:
        assert response.status == 200
        assert response.headers["content-type"] == "text/event-stream"
        start = time.monotonic()
        for event in response.events():
            arrivals.append(time.monotonic() - start)
            events.append(event)
    assert [event.data for event in events] == ['{"n": 1}', '{"n": 2}', '{"n": 3}']
    # The first event is readable while the server is still waiting to send the others.
    assert arrivals[0] < delay
    assert arrivals[2] - arrivals[0] >= 2 * delay * 0.9


def gzip_stream(body: bytes, coding: str = "gzip") -> FakeResponse:
    """A whole event-stream reply sent with ``content-encoding: coding`` (compressed when gzip)."""
    content = gzip.compress(body) if coding == "gzip" else body
    head = (
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
        f"content-encoding: {coding}\r\ncontent-length: {len(content)}\r\nconnection: close\r\n\r\n"
    )
    return FakeResponse.raw(head.encode() + content)


@pytest.mark.parametrize("coding", ["gzip", "identity"])
def test_a_content_coded_stream_is_decoded_before_its_events(
    server: FakeServer, make_transport: MakeTransport, coding: str
) -> None:
    # Without a content coding the events come from the raw bytes; with one, from the decoded bytes.
    server.enqueue(PATH, gzip_stream(b'data: {"n": 1}\n\nevent: e\ndata: h\xc3\xa9\n\n', coding))
    with make_transport().stream(request(server), retryable=RETRYABLE) as response:
        events = list(response.events())
    assert events == [SSEEvent(data='{"n": 1}'), SSEEvent(data="hé", event="e")]


def test_named_events_and_done(server: FakeServer, make_transport: MakeTransport) -> None:
    server.enqueue(PATH, FakeResponse.sse([("message_start", {"a": 1}), "plain text"]))
    with make_transport().stream(request(server), retryable=RETRYABLE) as response:
        events = list(response.events())
    assert events == [
        SSEEvent(data='{"a": 1}', event="message_start"),
        SSEEvent(data="plain text"),
        SSEEvent(data="[DONE]"),
    ]


def test_stream_ending_without_blank_line_still_yields_last_event(
    server: FakeServer, make_transport: MakeTransport
) -> None:
    server.enqueue(PATH, FakeResponse.sse([{"n": 1}, b'data: {"n": 2}'], done=False))
    with make_transport().stream(request(server), retryable=RETRYABLE) as response:
        assert [event.data for event in response.events()] == ['{"n": 1}', '{"n": 2}']


def test_cut_mid_stream_raises_after_delivered_events_and_is_not_retried(
    server: FakeServer, make_transport: MakeTransport, recorder: Any
) -> None:
    server.enqueue(PATH, FakeResponse.sse([{"n": 1}, {"n": 2}, {"n": 3}], cut_after=2), FakeResponse.sse([{"n": 9}]))
    received: list[str] = []
    transport = make_transport(max_retries=3)
    with (
        pytest.raises(APIConnectionError) as caught,
        transport.stream(request(server), retryable=RETRYABLE) as response,
    ):
        for event in response.events():
            received.append(event.data)
    assert received == ['{"n": 1}', '{"n": 2}']
    assert not isinstance(caught.value, APITimeoutError)
    assert "mid-stream after 2 events" in str(caught.value)
    assert caught.value.provider == "fake"
    assert len(server.requests) == 1
    assert len(recorder.sent) == 1
    assert recorder.sleeps == []


def test_stall_raises_timeout_within_stream_idle(server: FakeServer, make_transport: MakeTransport) -> None:
    server.enqueue(PATH, FakeResponse.sse([{"n": 1}, {"n": 2}], stall_after=1))
    received: list[str] = []
    start = time.monotonic()
    transport = make_transport(read=30.0, stream_idle=0.3)
    with (
        pytest.raises(APITimeoutError) as caught,
        transport.stream(request(server), retryable=RETRYABLE) as response,
    ):
        for event in response.events():
            received.append(event.data)
    elapsed = time.monotonic() - start
    assert received == ['{"n": 1}']
    assert 0.25 <= elapsed < 5.0
    assert "stream stalled" in str(caught.value)
    assert "Timeouts.stream_idle" in str(caught.value)
    assert len(server.requests) == 1
    assert server.wait_for(lambda: server.disconnects == 1)


def test_keep_alive_comments_reset_the_idle_timer(server: FakeServer, make_transport: MakeTransport) -> None:
    keep_alive = b": keep-alive\n\n"
    server.enqueue(PATH, FakeResponse.sse([{"n": 1}, keep_alive, keep_alive, keep_alive, {"n": 2}], delay=0.2))
    with make_transport(stream_idle=0.5).stream(request(server), retryable=RETRYABLE) as response:
        assert [event.data for event in response.events()] == ['{"n": 1}', '{"n": 2}', "[DONE]"]


def test_head_waits_for_read_not_stream_idle(server: FakeServer, make_transport: MakeTransport) -> None:
    # stream_idle bounds the silence between body bytes only; the head may take up to `read`.
    server.route(PATH, lambda r: FakeResponse.sse([{"n": 1}]))
    server.enqueue(PATH, FakeResponse.json({"slow": True}, delay=0.5))
    with make_transport(read=5.0, stream_idle=0.2).stream(request(server), retryable=RETRYABLE) as response:
        assert response.read().json() == {"slow": True}


def test_error_status_body_is_read(server: FakeServer, make_transport: MakeTransport, recorder: Any) -> None:
    server.enqueue(PATH, FakeResponse.json({"error": {"message": "bad model"}}, status=400))
    with make_transport().stream(request(server), retryable=RETRYABLE) as response:
        assert response.status == 400
        body = response.read()
    assert body.status == 400
    assert body.json() == {"error": {"message": "bad model"}}
    assert len(server.requests) == 1
    assert recorder.sleeps == []


def test_429_before_the_stream_is_retried(server: FakeServer, make_transport: MakeTransport, recorder: Any) -> None:
    server.enqueue(
        PATH,
        FakeResponse.json({"error": "rate"}, status=429, headers={"retry-after": "0"}),
        FakeResponse.sse([{"n": 1}]),
    )
    with make_transport().stream(request(server), retryable=RETRYABLE) as response:
        assert response.status == 200
        assert [event.data for event in response.events()] == ['{"n": 1}', "[DONE]"]
    assert len(server.requests) == 2
    assert recorder.sleeps == [0.0]


def test_exhausted_stream_retries_yield_the_last_error_response(
    server: FakeServer, make_transport: MakeTransport
) -> None:
    server.enqueue(PATH, *[FakeResponse.json({"attempt": n}, status=529) for n in range(2)])
    with make_transport(max_retries=1).stream(request(server), retryable=RETRYABLE) as response:
        assert response.status == 529
        assert response.read().json() == {"attempt": 1}


def test_connection_refused_before_the_stream_is_retried(
    make_transport: MakeTransport, recorder: Any, closed_port: int
) -> None:
    http = HttpRequest("POST", f"http://127.0.0.1:{closed_port}{PATH}", json={})
    with pytest.raises(APIConnectionError, match="could not connect"):  # noqa: SIM117
        with make_transport(max_retries=2).stream(http, retryable=RETRYABLE):
            pass
    assert len(recorder.sent) == 3


def test_reset_before_the_stream_is_retried(server: FakeServer, make_transport: MakeTransport) -> None:
    server.enqueue(PATH, FakeResponse.reset(), FakeResponse.sse([{"n": 1}], done=False))
    with make_transport().stream(request(server), retryable=RETRYABLE) as response:
        assert [event.data for event in response.events()] == ['{"n": 1}']
    assert len(server.requests) == 2


def test_read_timeout_waiting_for_the_stream_head_is_not_retried(
    server: FakeServer, make_transport: MakeTransport
) -> None:
    server.enqueue(PATH, FakeResponse.json({}, delay=5.0), FakeResponse.sse([]))
    with pytest.raises(APITimeoutError, match="read timeout"):  # noqa: SIM117
        with make_transport(read=0.2).stream(request(server), retryable=RETRYABLE):
            pass
    assert len(server.requests) == 1


def test_leaving_the_block_early_closes_the_connection(server: FakeServer, make_transport: MakeTransport) -> None:
    server.enqueue(PATH, FakeResponse.sse([{"n": 1}, {"n": 2}], stall_after=1))
    with make_transport().stream(request(server), retryable=RETRYABLE) as response:
        first = next(iter(response.events()))
    assert first.data == '{"n": 1}'
    assert server.wait_for(lambda: server.disconnects == 1 and server.open_connections == 0)


def test_connection_is_reused_after_a_complete_stream(server: FakeServer, make_transport: MakeTransport) -> None:
    server.enqueue(PATH, FakeResponse.sse([{"n": 1}]), FakeResponse.sse([{"n": 2}]))
    transport = make_transport()
    for _ in range(2):
        with transport.stream(request(server), retryable=RETRYABLE) as response:
            assert len(list(response.events())) == 2
    assert server.open_connections == 1


def test_finish_reads_the_end_of_a_stream_so_its_connection_is_reused(
    server: FakeServer, make_transport: MakeTransport
) -> None:
    server.enqueue(PATH, FakeResponse.sse([{"n": 1}]), FakeResponse.sse([{"n": 2}]))
    transport = make_transport()
    for _ in range(2):
        with transport.stream(request(server), retryable=RETRYABLE) as response:
            events = response.events()
            assert next(events).data.startswith('{"n"') and next(events).data == "[DONE]"
            response.finish()  # the caller stops at [DONE]; the chunked body's end is still unread
    assert server.open_connections == 1


def test_finish_gives_up_at_once_on_a_server_that_stalls_after_the_end(
    server: FakeServer, make_transport: MakeTransport
) -> None:
    server.enqueue(PATH, FakeResponse.sse([{"n": 1}], stall_after=2))  # [DONE], then silence
    with make_transport().stream(request(server), retryable=RETRYABLE) as response:
        events = response.events()
        next(events), next(events)
        started = time.monotonic()
        response.finish()
        assert time.monotonic() - started < 0.5
    assert server.wait_for(lambda: server.open_connections == 0)


def test_finish_reads_at_most_a_few_events_past_the_end(server: FakeServer, make_transport: MakeTransport) -> None:
    server.enqueue(PATH, FakeResponse.sse([{"n": i} for i in range(50)]))
    with make_transport().stream(request(server), retryable=RETRYABLE) as response:
        events = response.events()
        next(events)
        response.finish()
        assert response.events_received < 10
