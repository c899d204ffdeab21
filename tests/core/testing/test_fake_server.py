"""The fake server itself, checked with the standard library's HTTP client and raw sockets."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from chatpipe.errors import InvalidRequestError
from chatpipe.testing import FakeResponse, FakeServer, RecordedRequest, SSEItem

_OPEN: list[http.client.HTTPConnection] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as fake:
        yield fake


def connect(server: FakeServer) -> http.client.HTTPConnection:
    """A stdlib client connection to ``server``, closed after the test."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    _OPEN.append(conn)
    return conn


def raw_exchange(server: FakeServer, request: bytes, *, timeout: float = 5.0) -> bytes:
    """Send raw bytes and read until the server closes or goes quiet."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(request)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except TimeoutError:
            pass
        return received


def test_url_and_json_response(server: FakeServer) -> None:
    assert server.url == f"http://127.0.0.1:{server.port}"
    server.enqueue("POST /v1/x", FakeResponse.json({"a": 1}, status=201, headers={"X-Request-Id": "r9"}))
    conn = connect(server)
    conn.request(
        "POST", "/v1/x?page=2", body=b'{"q": "\xc3\xa9"}', headers={"Content-Type": "application/json", "X-Key": "v"}
    )
    response = conn.getresponse()
    assert response.status == 201
    assert response.getheader("content-type") == "application/json"
    assert response.getheader("x-request-id") == "r9"
    assert json.loads(response.read()) == {"a": 1}
    conn.close()
    (seen,) = server.requests
    assert seen == RecordedRequest(method="POST", path="/v1/x?page=2", headers=seen.headers, body=b'{"q": "\xc3\xa9"}')
    assert seen.route == "/v1/x"
    assert seen.headers["x-key"] == "v"
    assert seen.json == {"q": "é"}


def test_head_gets_headers_without_a_body(server: FakeServer) -> None:
    server.enqueue("HEAD /h", FakeResponse.text("hello"))
    server.enqueue("GET /h", FakeResponse.text("after"))
    conn = connect(server)
    conn.request("HEAD", "/h")
    response = conn.getresponse()
    assert (response.getheader("content-length"), response.read()) == ("5", b"")
    conn.request("GET", "/h")  # the connection is still usable
    assert conn.getresponse().read() == b"after"


def test_text_response_with_content_type(server: FakeServer) -> None:
    server.enqueue("/t", FakeResponse.text("<h1>hi</h1>", status=502, content_type="text/html"))
    conn = connect(server)
    conn.request("GET", "/t")
    response = conn.getresponse()
    assert (response.status, response.getheader("content-type"), response.read()) == (502, "text/html", b"<h1>hi</h1>")


def test_queue_is_fifo_and_method_specific_beats_path(server: FakeServer) -> None:
    server.enqueue("/r", FakeResponse.text("any-1"), FakeResponse.text("any-2"))
    server.enqueue("get /r", FakeResponse.text("get"))
    conn = connect(server)
    bodies = []
    for method in ("GET", "GET", "POST"):
        conn.request(method, "/r")
        bodies.append(conn.getresponse().read().decode())
    assert bodies == ["get", "any-1", "any-2"]


def test_empty_queue_answers_599_with_an_explanation(server: FakeServer) -> None:
    server.enqueue("/once", FakeResponse.text("ok"))
    conn = connect(server)
    conn.request("GET", "/once")
    assert conn.getresponse().read() == b"ok"
    conn.request("GET", "/once")
    response = conn.getresponse()
    assert response.status == 599
    assert b"ran dry" in response.read()
    conn.request("GET", "/never")
    response = conn.getresponse()
    assert response.status == 599
    assert b"nothing scripted for GET /never" in response.read()


def test_route_handler_after_queue(server: FakeServer) -> None:
    server.enqueue("/h", FakeResponse.text("queued"))
    server.route("/h", lambda request: FakeResponse.json({"echo": request.json}))
    conn = connect(server)
    answers = []
    for n in range(3):
        conn.request("POST", "/h", body=json.dumps(n))
        answers.append(conn.getresponse().read())
    assert answers == [b"queued", b'{"echo": 1}', b'{"echo": 2}']


def test_failing_or_wrong_route_handler_answers_599(server: FakeServer) -> None:
    def broken(request: RecordedRequest) -> FakeResponse:
        raise RuntimeError("boom")

    server.route("/broken", broken)
    server.route("/wrong", lambda request: "not a response")  # type: ignore[arg-type, return-value]
    conn = connect(server)
    conn.request("GET", "/broken")
    response = conn.getresponse()
    assert (response.status, b"boom" in response.read()) == (599, True)
    conn.request("GET", "/wrong")
    response = conn.getresponse()
    assert (response.status, b"not a FakeResponse" in response.read()) == (599, True)


def test_keep_alive_serves_many_requests_on_one_connection(server: FakeServer) -> None:
    server.route("/k", lambda request: FakeResponse.text("k"))
    conn = connect(server)
    for _ in range(3):
        conn.request("GET", "/k")
        assert conn.getresponse().read() == b"k"
        assert server.open_connections == 1
    conn.close()
    assert server.wait_for(lambda: server.open_connections == 0)


def test_replies_leave_without_waiting_for_the_clients_ack(server: FakeServer) -> None:
    # Head and body are two writes: with Nagle's algorithm the body of every reply on a reused
    # connection would wait ~40 ms for the client's delayed ACK of the head.
    server.route("/k", lambda request: FakeResponse.text("k"))
    conn = connect(server)
    conn.request("GET", "/k")
    assert conn.getresponse().read() == b"k"
    (accepted,) = server._connections
    assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


def test_chunked_request_body_is_read(server: FakeServer) -> None:
    server.route("/c", lambda request: FakeResponse.json({"len": len(request.body)}))
    conn = connect(server)
    conn.request(
        "POST", "/c", body=iter([b"abc", b"defg"]), encode_chunked=True, headers={"Transfer-Encoding": "chunked"}
    )
    assert json.loads(conn.getresponse().read()) == {"len": 7}
    assert server.requests[0].body == b"abcdefg"


def test_sse_wire_format(server: FakeServer) -> None:
    events: list[SSEItem] = [{"a": 1}, "two\nlines", ("named", {"b": 2}), ("plain", "x"), b": raw comment\n\n"]
    server.enqueue("/s", FakeResponse.sse(events, comments=["keep-alive"]))
    conn = connect(server)
    conn.request("POST", "/s")
    response = conn.getresponse()
    assert response.getheader("transfer-encoding") == "chunked"
    assert response.getheader("content-type") == "text/event-stream"
    assert response.read().decode() == (
        ": keep-alive\n\n"
        'data: {"a": 1}\n\n'
        "data: two\ndata: lines\n\n"
        'event: named\ndata: {"b": 2}\n\n'
        "event: plain\ndata: x\n\n"
        ": raw comment\n\n"
        "data: [DONE]\n\n"
    )


def test_sse_without_done(server: FakeServer) -> None:
    server.enqueue("/s", FakeResponse.sse(["x"], done=False))
    conn = connect(server)
    conn.request("GET", "/s")
    assert conn.getresponse().read() == b"data: x\n\n"


def test_sse_delay_spaces_events(server: FakeServer) -> None:
    server.enqueue("/s", FakeResponse.sse(["a", "b", "c"], delay=0.2, done=False))
    conn = connect(server)
    start = time.monotonic()
    conn.request("GET", "/s")
    conn.getresponse().read()
    assert time.monotonic() - start >= 0.38


def test_cut_after_omits_the_terminating_chunk(server: FakeServer) -> None:
    server.enqueue("/cut", FakeResponse.sse(["a", "b", "c"], cut_after=1))
    received = raw_exchange(server, b"GET /cut HTTP/1.1\r\nHost: x\r\n\r\n")
    assert b"data: a" in received
    assert b"data: b" not in received
    assert not received.endswith(b"0\r\n\r\n")
    conn = connect(server)
    server.enqueue("/cut", FakeResponse.sse(["a"], cut_after=1))
    conn.request("GET", "/cut")
    with pytest.raises(http.client.IncompleteRead):
        conn.getresponse().read()


def test_stall_keeps_the_connection_until_the_client_leaves(server: FakeServer) -> None:
    server.enqueue("/stall", FakeResponse.sse(["a", "b"], stall_after=1))
    with socket.create_connection(("127.0.0.1", server.port), timeout=0.5) as sock:
        sock.sendall(b"GET /stall HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        with pytest.raises(TimeoutError):
            while chunk := sock.recv(65536):
                received += chunk
        assert b"data: a" in received
        assert b"data: b" not in received
        assert server.open_connections == 1
        assert server.disconnects == 0
    assert server.wait_for(lambda: server.disconnects == 1 and server.open_connections == 0)


def test_close_ends_stalled_and_delayed_responses_promptly() -> None:
    baseline = threading.active_count()
    server = FakeServer()
    server.enqueue("/stall", FakeResponse.sse(["a"], stall_after=0))
    server.enqueue("/slow", FakeResponse.json({}, delay=60))
    sockets = []
    for path in ("/stall", "/slow"):
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        sockets.append(sock)
    idle = connect(server)  # an idle keep-alive connection must not block close() either
    idle.request("GET", "/none")
    idle.getresponse().read()
    assert server.wait_for(lambda: len(server.requests) == 3)
    start = time.monotonic()
    server.close()
    assert time.monotonic() - start < 2.0
    assert server.open_connections == 0
    assert threading.active_count() == baseline
    server.close()  # idempotent
    for sock in sockets:
        sock.close()
    idle.close()


def test_delayed_json_response(server: FakeServer) -> None:
    server.enqueue("/d", FakeResponse.json({"late": True}, delay=0.3))
    conn = connect(server)
    start = time.monotonic()
    conn.request("GET", "/d")
    assert json.loads(conn.getresponse().read()) == {"late": True}
    assert time.monotonic() - start >= 0.28


def test_raw_bytes_are_written_verbatim(server: FakeServer) -> None:
    server.enqueue("/raw", FakeResponse.raw(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi"))
    conn = connect(server)
    conn.request("GET", "/raw")
    assert conn.getresponse().read() == b"hi"
    server.enqueue("/bad", FakeResponse.raw(b"garbage\r\n\r\n"))
    assert raw_exchange(server, b"GET /bad HTTP/1.1\r\nHost: x\r\n\r\n") == b"garbage\r\n\r\n"


def test_reset_closes_without_answering(server: FakeServer) -> None:
    server.enqueue("/reset", FakeResponse.reset())
    conn = connect(server)
    conn.request("GET", "/reset")
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
        conn.getresponse()
    assert len(server.requests) == 1


def test_reset_forgets_everything(server: FakeServer) -> None:
    server.enqueue("/a", FakeResponse.text("a"))
    server.route("/b", lambda request: FakeResponse.text("b"))
    conn = connect(server)
    conn.request("GET", "/x")
    conn.getresponse().read()
    server.reset()
    assert server.requests == []
    for path in ("/a", "/b"):
        conn.request("GET", path)
        response = conn.getresponse()
        assert (response.status, b"nothing scripted" in response.read()) == (599, True)


def test_requests_from_many_threads_are_all_recorded(server: FakeServer) -> None:
    server.route("/p", lambda request: FakeResponse.text(request.body.decode()))
    results: list[bytes] = []
    lock = threading.Lock()

    def call(n: int) -> None:
        conn = connect(server)
        conn.request("POST", "/p", body=str(n).encode())
        body = conn.getresponse().read()
        conn.close()
        with lock:
            results.append(body)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(int(body) for body in results) == list(range(30))
    assert sorted(int(r.body) for r in server.requests) == list(range(30))


@pytest.mark.parametrize(
    "build",
    [
        lambda: FakeResponse.json({}, status=42),
        lambda: FakeResponse.text("x", delay=-1),
        lambda: FakeResponse.sse([object()]),  # type: ignore[list-item]
        lambda: FakeResponse.sse([("name",)]),  # type: ignore[list-item]
        lambda: FakeResponse.sse([], cut_after=-1),
        lambda: FakeResponse.raw("text"),  # type: ignore[arg-type]
    ],
)
def test_bad_responses_are_rejected(build: object) -> None:
    with pytest.raises(InvalidRequestError):
        build()  # type: ignore[operator]


def test_bad_targets_are_rejected(server: FakeServer) -> None:
    for target in ("", "v1/x", "POST v1/x"):
        with pytest.raises(InvalidRequestError, match="route"):
            server.enqueue(target, FakeResponse.text("x"))
    with pytest.raises(InvalidRequestError, match="FakeResponse"):
        server.enqueue("/x", "not a response")  # type: ignore[arg-type]
    with pytest.raises(InvalidRequestError, match="callable"):
        server.route("/x", "not callable")  # type: ignore[arg-type]


def test_recorded_body_that_is_not_json() -> None:
    with pytest.raises(InvalidRequestError, match="not JSON"):
        _ = RecordedRequest("POST", "/x", {}, b"not json").json
