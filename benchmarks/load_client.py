"""A light HTTP/1.1 load client for the gateway benchmark (standard library only).

    python load_client.py URL_PATH_PREFIX json|stream CONCURRENCY SECONDS [--model M] [--key K]
    python load_client.py URL_PATH_PREFIX ttfc 1 COUNT

``CONCURRENCY`` keep-alive connections each send one pre-built request after another (a closed
loop) for ``SECONDS``; every answer is checked (status 200; a stream must end with
``data: [DONE]``). ``ttfc`` sends ``COUNT`` streams one at a time and times the first content
chunk of each. Prints one JSON object: requests, errors, throughput, latency p50/p99 (ms),
time to first chunk p50 (ms), and the client's own CPU seconds.

It is written on raw asyncio protocols so that the client costs a few tens of microseconds per
request and the server under test, not the client, sets the pace on a 2-core machine.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from urllib.parse import urlsplit

_END_CHUNKED = b"\r\n0\r\n\r\n"


def build_request(host: str, path: str, model: str, key: str, stream: bool) -> bytes:
    """The one request this client sends, as bytes."""
    body = json.dumps(
        {"model": model, "messages": [{"role": "user", "content": "Hello there, how are you?"}], "stream": stream},
        separators=(",", ":"),
    ).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n"
        f"authorization: Bearer {key}\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


class Connection(asyncio.Protocol):
    """One keep-alive connection; :meth:`exchange` sends the request and waits for its whole answer."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.done: asyncio.Future[bytes] | None = None
        self.first_chunk_at: float | None = None
        self.length: int | None = None
        self.body_start = 0
        self.chunked = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.first_chunk_at is None and b'"content":"w' in data:
            self.first_chunk_at = time.perf_counter()
        if self.length is None and not self.chunked:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            self.body_start = end + 4
            if b"transfer-encoding: chunked" in head:
                self.chunked = True
            else:
                marker = head.find(b"content-length:")
                self.length = int(head[marker + 15 :].split(b"\r\n", 1)[0]) if marker >= 0 else 0
        complete = (
            self.buffer.endswith(_END_CHUNKED)
            if self.chunked
            else self.length is not None and len(self.buffer) >= self.body_start + self.length
        )
        if complete and self.done is not None and not self.done.done():
            self.done.set_result(bytes(self.buffer))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_exception(ConnectionError(f"connection closed: {exc}"))

    async def exchange(self, request: bytes) -> bytes:
        """Send ``request``; the whole answer (head and body)."""
        assert self.transport is not None
        self.buffer.clear()
        self.length, self.chunked, self.first_chunk_at = None, False, None
        self.done = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.done


def ok(answer: bytes, stream: bool) -> bool:
    """Status 200, and a stream that ended with ``[DONE]``."""
    return answer.startswith(b"HTTP/1.1 200") and (not stream or b"data: [DONE]" in answer[-64:])


async def closed_loop(host: str, port: int, request: bytes, stream: bool, concurrency: int, seconds: float) -> dict:
    """``concurrency`` connections sending back to back for ``seconds``."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        _, conn = await loop.create_connection(Connection, host, port)
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            try:
                answer = await asyncio.wait_for(conn.exchange(request), 30)
            except (TimeoutError, OSError):
                errors += 1
                _, conn = await loop.create_connection(Connection, host, port)
                continue
            if ok(answer, stream):
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1
        assert conn.transport is not None
        conn.transport.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - started
    latencies.sort()
    count = len(latencies)
    return {
        "requests": count,
        "errors": errors,
        "seconds": wall,
        "throughput": count / wall,
        "p50_ms": latencies[count // 2] * 1e3 if count else None,
        "p99_ms": latencies[min(count - 1, int(count * 0.99))] * 1e3 if count else None,
    }


async def first_chunks(host: str, port: int, request: bytes, count: int) -> dict:
    """``count`` streams one after another: the time to each one's first content chunk."""
    loop = asyncio.get_running_loop()
    _, conn = await loop.create_connection(Connection, host, port)
    times: list[float] = []
    errors = 0
    for _ in range(count):
        started = time.perf_counter()
        answer = await conn.exchange(request)
        if ok(answer, True) and conn.first_chunk_at is not None:
            times.append(conn.first_chunk_at - started)
        else:
            errors += 1
    assert conn.transport is not None
    conn.transport.close()
    return {"requests": len(times), "errors": errors, "ttfc_ms": statistics.median(times) * 1e3 if times else None}


def main(argv: list[str]) -> None:
    """Command-line entry point: see the module docstring."""
    url, kind, concurrency, amount = argv[0], argv[1], int(argv[2]), float(argv[3])
    model = argv[argv.index("--model") + 1] if "--model" in argv else "load"
    key = argv[argv.index("--key") + 1] if "--key" in argv else "sk-bench-0000"
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = build_request(f"{host}:{port}", f"{parts.path.rstrip('/')}/chat/completions", model, key, kind != "json")
    cpu = time.process_time()
    if kind == "ttfc":
        result = asyncio.run(first_chunks(host, port, request, int(amount)))
    else:
        result = asyncio.run(closed_loop(host, port, request, kind == "stream", concurrency, amount))
    result["client_cpu"] = time.process_time() - cpu
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
