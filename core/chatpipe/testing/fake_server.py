"""A scriptable HTTP server for tests: answers exactly what the test queued, and records requests.

Standard library only. The server listens on ``127.0.0.1`` on a free port, speaks HTTP/1.1
with keep-alive, serves each connection on its own thread, and shuts down cleanly (every
thread joined, every connection closed) when the ``with`` block ends::

    from chatpipe.testing import FakeResponse, FakeServer

    with FakeServer() as server:
        server.enqueue("POST /v1/chat/completions",
                       FakeResponse.json({"error": "busy"}, status=429, headers={"Retry-After": "0"}),
                       FakeResponse.sse([{"choices": [...]}, {"choices": [...]}]))
        ...  # point the code under test at server.url + "/v1"
        assert len(server.requests) == 2
        assert server.requests[0].json["model"] == "m"

Responses are matched by ``"METHOD /path"`` first, then by ``"/path"`` (any method); the
query string is ignored for matching. Queued responses are served first-in first-out; a
handler registered with :meth:`FakeServer.route` answers when no queued response is left.
A request that nothing answers gets status **599** with a text body saying why, so a test
that forgot to script a response fails loudly instead of hanging.

Failure modes for transport tests: :meth:`FakeResponse.sse` with ``cut_after`` (the
connection is closed mid-stream, without the terminating chunk), ``stall_after`` (the server
goes silent but keeps the connection open), ``delay`` (between events); ``delay`` on
:meth:`FakeResponse.json` / :meth:`FakeResponse.text` (wait before answering, for read
timeouts); :meth:`FakeResponse.raw` (arbitrary bytes, e.g. a malformed status line) and
:meth:`FakeResponse.reset` (the connection is reset without an answer).

Hostile servers, byte by byte: :meth:`FakeResponse.script` writes a sequence of exact byte
strings with waits between them (a trickle, a head that never ends), may then repeat one
piece forever (keep-alives every half second), and may keep the connection open for the next
request (bytes beyond ``Content-Length`` then sit in front of the next answer).
"""

from __future__ import annotations

import json as _json
import select
import socket
import ssl
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ..errors import InvalidRequestError

__all__ = ["FakeResponse", "FakeServer", "RecordedRequest", "SSEItem"]

SSEItem = Mapping[str, Any] | list[Any] | str | bytes | tuple[str, Any]
"""One event for :meth:`FakeResponse.sse`: a dict/list (sent as ``data: <json>``), a string
(sent as ``data:`` lines, one per line of the string), a ``(event_name, data)`` tuple (data a
string or JSON value), or bytes (written exactly as given, e.g. ``b": keep-alive\\n\\n"``)."""

_WAIT_SLICE = 0.05  # how often a waiting handler checks whether the client left


@dataclass(frozen=True)
class RecordedRequest:
    """A request the server received: ``method``, ``path`` (with any query string),
    ``headers`` (lower-cased names) and the raw ``body`` bytes."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def route(self) -> str:
        """The path without its query string (what responses are matched on)."""
        return self.path.split("?", 1)[0]

    @property
    def json(self) -> Any:
        """The body parsed as JSON; raises InvalidRequestError when it is not JSON."""
        try:
            return _json.loads(self.body)
        except ValueError as exc:
            raise InvalidRequestError(
                f"the recorded {self.method} {self.path} body is not JSON ({exc}); use .body for raw bytes"
            ) from None


@dataclass(frozen=True)
class FakeResponse:
    """What the server sends for one request. Build it with the class methods, not directly.

    ``kind`` is ``"body"``, ``"sse"``, ``"raw"``, ``"script"`` or ``"reset"``; ``chunks`` are
    the encoded SSE events (``prelude`` goes before them), ``delay`` waits before a body/raw
    answer or between SSE events; ``steps``, ``repeat``, ``every`` and ``keep_open`` are a
    script's (see :meth:`script`).
    """

    kind: str
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    chunks: tuple[bytes, ...] = ()
    prelude: tuple[bytes, ...] = ()
    delay: float = 0.0
    cut_after: int | None = None
    stall_after: int | None = None
    steps: tuple[bytes | float, ...] = ()
    repeat: bytes = b""
    every: float = 0.0
    keep_open: bool = False

    @classmethod
    def json(
        cls, obj: Any, status: int = 200, headers: Mapping[str, str] | None = None, *, delay: float = 0.0
    ) -> FakeResponse:
        """A JSON body (``application/json``), sent after ``delay`` seconds."""
        body = _json.dumps(obj).encode("utf-8")
        return cls._body(body, status, headers, "application/json", delay)

    @classmethod
    def text(
        cls,
        text: str,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        content_type: str = "text/plain; charset=utf-8",
        *,
        delay: float = 0.0,
    ) -> FakeResponse:
        """A text body (UTF-8) with the given content type, sent after ``delay`` seconds."""
        return cls._body(text.encode("utf-8"), status, headers, content_type, delay)

    @classmethod
    def _body(
        cls, body: bytes, status: int, headers: Mapping[str, str] | None, content_type: str, delay: float
    ) -> FakeResponse:
        merged = _merge_headers({"content-type": content_type}, headers)
        return cls(kind="body", status=_status(status), headers=merged, body=body, delay=_seconds(delay))

    @classmethod
    def sse(
        cls,
        events: Iterable[SSEItem],
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        delay: float = 0.0,
        done: bool = True,
        *,
        cut_after: int | None = None,
        stall_after: int | None = None,
        comments: Sequence[str] = (),
    ) -> FakeResponse:
        """A ``text/event-stream`` body sent with chunked encoding, one chunk per event.

        ``events`` are :data:`SSEItem` values; ``data: [DONE]`` is appended when ``done``.
        ``delay`` seconds pass between events (the first goes out with the headers).
        ``comments`` are sent first as ``: <comment>`` lines (keep-alives). ``cut_after=N``
        closes the connection abruptly after N events (no terminating chunk);
        ``stall_after=N`` stops after N events but keeps the connection open until the
        client leaves or the server closes. Both count the ``[DONE]`` event.
        """
        chunks = [_encode_event(item) for item in events]
        if done:
            chunks.append(b"data: [DONE]\n\n")
        for name, value in (("cut_after", cut_after), ("stall_after", stall_after)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise InvalidRequestError(f"{name} must be a whole number >= 0 or None, got {value!r}")
        merged = _merge_headers({"content-type": "text/event-stream", "cache-control": "no-cache"}, headers)
        return cls(
            kind="sse",
            status=_status(status),
            headers=merged,
            chunks=tuple(chunks),
            prelude=tuple(f": {comment}\n\n".encode() for comment in comments),
            delay=_seconds(delay),
            cut_after=cut_after,
            stall_after=stall_after,
        )

    @classmethod
    def raw(cls, data: bytes, *, delay: float = 0.0) -> FakeResponse:
        """Write ``data`` exactly as given (status line, headers and all), then close the connection."""
        if not isinstance(data, bytes):
            raise InvalidRequestError(f"FakeResponse.raw needs bytes, got {type(data).__name__}")
        return cls(kind="raw", body=data, delay=_seconds(delay))

    @classmethod
    def script(
        cls,
        *steps: bytes | float,
        repeat: bytes = b"",
        every: float = 0.5,
        keep_open: bool = False,
    ) -> FakeResponse:
        """Write each bytes step exactly as given, waiting each number step (seconds) between them.

        Then, with ``repeat``, write it every ``every`` seconds until the client leaves or the
        server closes. The connection is closed after the script, unless ``keep_open`` (the
        next request on it is then answered as usual, after whatever bytes the script left).
        """
        for step in steps:
            if isinstance(step, bytes):
                continue
            _seconds(step)
        if repeat and every <= 0:
            raise InvalidRequestError(f"every must be a number of seconds > 0, got {every!r}")
        return cls(kind="script", steps=tuple(steps), repeat=repeat, every=_seconds(every), keep_open=keep_open)

    @classmethod
    def reset(cls) -> FakeResponse:
        """Reset the connection (TCP RST) without answering."""
        return cls(kind="reset")


def _status(status: int) -> int:
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 999:
        raise InvalidRequestError(f"an HTTP status must be a whole number from 100 to 999, got {status!r}")
    return status


def _seconds(value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise InvalidRequestError(f"a delay must be a number of seconds >= 0, got {value!r}")
    return float(value)


def _merge_headers(defaults: dict[str, str], extra: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    merged = dict(defaults)
    for name, value in (extra or {}).items():
        merged[str(name).lower()] = str(value)
    return tuple(merged.items())


def _data_lines(data: Any) -> str:
    text = data if isinstance(data, str) else _json.dumps(data)
    return "".join(f"data: {line}\n" for line in text.split("\n"))


def _encode_event(item: SSEItem) -> bytes:
    if isinstance(item, bytes):
        return item
    if isinstance(item, tuple):
        if len(item) != 2 or not isinstance(item[0], str):
            raise InvalidRequestError(f"an SSE event tuple must be (event_name, data), got {item!r}")
        return f"event: {item[0]}\n{_data_lines(item[1])}\n".encode()
    if isinstance(item, (str, Mapping, list)):
        return f"{_data_lines(item)}\n".encode()
    raise InvalidRequestError(
        f"an SSE event must be a dict, list, str, bytes or (name, data) tuple, got {type(item).__name__}"
    )


def _route_key(target: str) -> str:
    if not isinstance(target, str) or not target.strip():
        raise InvalidRequestError(f"a route is 'METHOD /path' or '/path', got {target!r}")
    method, _, path = target.strip().rpartition(" ")
    if not path.startswith("/"):
        raise InvalidRequestError(f"a route path must start with '/', got {target!r}")
    path = path.split("?", 1)[0]
    return f"{method.strip().upper()} {path}" if method.strip() else path


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # never keeps the interpreter alive...
    request_queue_size = 1024
    fake: FakeServer

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self.workers: list[threading.Thread] = []  # ...but close() joins every connection thread
        self.workers_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the connection on a new daemon thread, remembered so close() can join it."""
        thread = threading.Thread(
            target=self.process_request_thread,
            args=(request, client_address),
            name=f"FakeServer:{self.server_address[1]}:conn",
            daemon=True,
        )
        with self.workers_lock:
            self.workers = [worker for worker in self.workers if worker.is_alive()]
            self.workers.append(thread)
        thread.start()

    def join_workers(self, timeout: float) -> None:
        """Wait (up to ``timeout`` seconds in all) for every connection thread to end."""
        deadline = time.monotonic() + timeout
        with self.workers_lock:
            workers, self.workers = self.workers, []
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connection errors on the server side are part of the tests; stay silent."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # a reply is written as head, then body: with Nagle's algorithm the body would wait for the
    # client's delayed ACK of the head (~40 ms) on every reused connection
    disable_nagle_algorithm = True
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.fake._connection_opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.fake._connection_closed(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        """No access log."""

    def _serve(self) -> None:
        fake = self.server.fake
        request = RecordedRequest(
            method=self.command,
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self._read_body(),
        )
        response = fake._answer(request)
        try:
            if response.kind == "reset":
                self._reset()
            elif response.kind == "raw":
                self._send_raw(response)
            elif response.kind == "script":
                self._send_script(response)
            elif response.kind == "sse":
                self._send_sse(response)
            else:
                self._send_body(response)
        except OSError:
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length else b""

    def _wait(self, seconds: float) -> str:
        """Wait ``seconds``; returns ``"elapsed"``, ``"gone"`` (client left) or ``"stopping"``."""
        stopping = self.server.fake._stopping
        deadline = time.monotonic() + seconds
        while True:
            if stopping.is_set():
                return "stopping"
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return "elapsed"
            slice_ = min(remaining, _WAIT_SLICE)
            try:
                readable, _, _ = select.select([self.connection], [], [], slice_)
                if readable and not self.connection.recv(1, socket.MSG_PEEK):
                    return "gone"
            except OSError:
                return "gone"
            if readable:  # the client sent more data (not a close): just sleep this slice
                stopping.wait(slice_)

    def _reset(self) -> None:
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()  # the descriptor closes (with RST) when the handler's files close

    def _send_raw(self, response: FakeResponse) -> None:
        self.close_connection = True
        if response.delay and self._wait(response.delay) != "elapsed":
            return
        self.wfile.write(response.body)
        self.wfile.flush()

    def _send_script(self, response: FakeResponse) -> None:
        self.close_connection = not response.keep_open
        for step in response.steps:
            if isinstance(step, bytes):
                self.wfile.write(step)
                self.wfile.flush()
            elif self._wait(step) != "elapsed":
                self.close_connection = True
                return
        while response.repeat:
            if self._wait(response.every) != "elapsed":
                self.close_connection = True
                return
            self.wfile.write(response.repeat)
            self.wfile.flush()

    def _send_head(self, response: FakeResponse, extra: Sequence[tuple[str, str]]) -> None:
        self.send_response(response.status)
        for name, value in (*response.headers, *extra):
            self.send_header(name, value)
        self.end_headers()

    def _send_body(self, response: FakeResponse) -> None:
        if response.delay and self._wait(response.delay) != "elapsed":
            self.close_connection = True
            return
        self._send_head(response, [("content-length", str(len(response.body)))])
        if self.command != "HEAD":
            self.wfile.write(response.body)
        self.wfile.flush()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _send_sse(self, response: FakeResponse) -> None:
        fake = self.server.fake
        self._send_head(response, [("transfer-encoding", "chunked")])
        try:
            for comment in response.prelude:
                self._chunk(comment)
            for index in range(len(response.chunks) + 1):
                if response.cut_after is not None and index >= response.cut_after:
                    self.close_connection = True  # no terminating chunk: the client sees a cut stream
                    return
                if response.stall_after is not None and index >= response.stall_after:
                    self.close_connection = True
                    while (outcome := self._wait(3600.0)) == "elapsed":
                        pass
                    if outcome == "gone":
                        fake._count_disconnect()
                    return
                if index == len(response.chunks):
                    break
                if index and response.delay:
                    outcome = self._wait(response.delay)
                    if outcome != "elapsed":
                        self.close_connection = True
                        if outcome == "gone":
                            fake._count_disconnect()
                        return
                self._chunk(response.chunks[index])
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            self.close_connection = True
            fake._count_disconnect()


class FakeServer:
    """A scriptable HTTP/1.1 server on ``127.0.0.1`` (a free port), for tests. Thread-safe.

    Use it as a context manager (or call :meth:`close`). Script answers with :meth:`enqueue`
    and :meth:`route`; inspect :attr:`requests`, :attr:`open_connections` and
    :attr:`disconnects`. :meth:`close` ends stalled and delayed responses at once, closes
    every connection and joins every thread.

    ``tls`` (a server-side :class:`ssl.SSLContext` holding the server's certificate) makes it
    an https server; each connection's handshake happens on its own thread.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, tls: ssl.SSLContext | None = None) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, deque[FakeResponse]] = {}
        self._routes: dict[str, Callable[[RecordedRequest], FakeResponse]] = {}
        self._requests: list[RecordedRequest] = []
        self._connections: set[socket.socket] = set()
        self._disconnects = 0
        self._stopping = threading.Event()
        self._closed = False
        self._server = _HTTPServer((host, port))
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True, do_handshake_on_connect=False)
        self._scheme = "http" if tls is None else "https"
        self._server.fake = self
        self.host = host
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _WAIT_SLICE},
            name=f"FakeServer:{self.port}",
            daemon=True,
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """The base URL, e.g. ``"http://127.0.0.1:54321"`` (no trailing slash; ``https`` with ``tls``)."""
        return f"{self._scheme}://{self.host}:{self.port}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def open_connections(self) -> int:
        """How many client connections are open right now."""
        with self._lock:
            return len(self._connections)

    @property
    def disconnects(self) -> int:
        """How many times a client went away in the middle of a streamed response."""
        with self._lock:
            return self._disconnects

    def enqueue(self, target: str, *responses: FakeResponse) -> None:
        """Queue ``responses`` (served in order) for ``target``: ``"POST /v1/x"`` or ``"/v1/x"`` (any method).

        When a target's queue runs dry the server answers 599 with an explanation.
        """
        key = _route_key(target)
        for response in responses:
            if not isinstance(response, FakeResponse):
                raise InvalidRequestError(f"enqueue() takes FakeResponse values, got {type(response).__name__}")
        with self._lock:
            self._queues.setdefault(key, deque()).extend(responses)

    def route(self, target: str, handler: Callable[[RecordedRequest], FakeResponse]) -> None:
        """Answer ``target`` with ``handler(request)`` whenever no queued response is left for it.

        If the handler raises or returns something else than a FakeResponse, the client gets
        599 with the reason in the body.
        """
        if not callable(handler):
            raise InvalidRequestError(f"route() needs a callable handler, got {type(handler).__name__}")
        key = _route_key(target)
        with self._lock:
            self._routes[key] = handler

    def reset(self) -> None:
        """Forget queued responses, routes, recorded requests and the disconnect count."""
        with self._lock:
            self._queues.clear()
            self._routes.clear()
            self._requests.clear()
            self._disconnects = 0

    def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Poll ``condition`` until it is true or ``timeout`` seconds pass; returns its last value."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() >= deadline:
                return condition()
            time.sleep(0.01)
        return True

    def close(self) -> None:
        """Stop serving: end waiting responses, close all connections, join all threads (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stopping.set()
            connections = list(self._connections)
        self._server.shutdown()
        for connection in connections:
            _shutdown(connection)
        self._server.server_close()
        self._thread.join()
        self._server.join_workers(timeout=10.0)

    def __enter__(self) -> FakeServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"FakeServer({self.url}, {len(self.requests)} requests)"

    # --- called by the handler threads -----------------------------------------------------

    def _connection_opened(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)
            stopping = self._stopping.is_set()
        if stopping:
            _shutdown(connection)

    def _connection_closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def _count_disconnect(self) -> None:
        with self._lock:
            self._disconnects += 1

    def _answer(self, request: RecordedRequest) -> FakeResponse:
        keys = (f"{request.method} {request.route}", request.route)
        with self._lock:
            self._requests.append(request)
            for key in keys:
                queue = self._queues.get(key)
                if queue:
                    return queue.popleft()
            handler = next((self._routes[key] for key in keys if key in self._routes), None)
            scripted = next((key for key in keys if key in self._queues), None)
        if handler is not None:
            try:
                response = handler(request)
            except Exception as exc:
                return FakeResponse.text(f"fake server: the route handler for {keys[0]} raised {exc!r}", status=599)
            if isinstance(response, FakeResponse):
                return response
            return FakeResponse.text(
                f"fake server: the route handler for {keys[0]} returned {type(response).__name__}, not a FakeResponse",
                status=599,
            )
        if scripted is not None:
            return FakeResponse.text(
                f"fake server: the queue for {scripted!r} ran dry at request {keys[0]}; enqueue more responses",
                status=599,
            )
        return FakeResponse.text(
            f"fake server: nothing scripted for {keys[0]}; call server.enqueue({keys[0]!r}, ...) or server.route(...)",
            status=599,
        )


def _shutdown(connection: socket.socket) -> None:
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
