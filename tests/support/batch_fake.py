"""A fast loopback fake of an OpenAI chat endpoint for batch tests (asyncio, in its own thread).

``chatpipe.testing.FakeServer`` serves each request from a thread and records everything,
which is right for scripted tests but too slow for thousands of calls; this one answers a
keep-alive HTTP/1.1 ``POST .../chat/completions`` in tens of microseconds.

The conversation's last message's content is the item's key (e.g. ``"q17"``); the answer
depends on it through :func:`planned`: most get 200, some a 503 or 429 (``retry-after: 0``)
the first time and 200 on the retry, some a 400 every time. The fake counts, per key, every
call (``calls``), the ``models`` asked for, the most requests it held at once
(``max_in_flight``), and every final answer — a 200 or a 400, after which the client does not
retry — (``finals``): a key with two finals was run twice.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import zlib
from collections import Counter
from typing import Any

__all__ = ["BatchFake", "planned"]


def planned(key: str) -> str:
    """What the fake does with ``key``: ``"ok"``, ``"503"`` / ``"429"`` (then ok) or ``"400"`` (~5 % fail)."""
    bucket = zlib.crc32(key.encode()) % 100
    return {0: "503", 1: "503", 2: "429", 3: "400", 4: "400"}.get(bucket, "ok")


def _response(status: str, body: bytes, extra: str = "") -> bytes:
    head = f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n{extra}\r\n"
    return head.encode("ascii") + body


_BAD = _response(
    "400 Bad Request",
    json.dumps({"error": {"message": "this one is refused", "type": "invalid_request_error"}}).encode(),
)


def _busy(status: str) -> bytes:
    body = json.dumps({"error": {"message": "busy, retry", "type": "server_error"}}).encode()
    return _response(status, body, "retry-after: 0\r\n")


def _ok(key: str) -> bytes:
    body = {
        "id": f"chatcmpl-{key}",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "fake-model",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": f"answer {key}"}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }
    return _response("200 OK", json.dumps(body).encode())


class BatchFake:
    """The fake, serving on ``127.0.0.1`` from a daemon thread; ``base_url`` ends in ``/v1``.

    ``delay`` (seconds) holds every answer back that long (to keep calls in flight).
    Use as a context manager.
    """

    def __init__(self, *, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls: Counter[str] = Counter()
        self.finals: Counter[str] = Counter()
        self.models: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="BatchFake", daemon=True)
        self.port = 0
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the batch fake did not start")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._server = server
        self._ready.set()
        self._loop.run_forever()
        server.close()
        tasks = asyncio.all_tasks(self._loop)
        for task in tasks:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        self._loop.run_until_complete(server.wait_closed())
        self._loop.close()

    def _answer(self, body: bytes) -> bytes:
        request: Any = json.loads(body)
        key = str(request["messages"][-1]["content"])
        with self._lock:
            self.models[str(request.get("model"))] += 1
            self.calls[key] += 1
            first = self.calls[key] == 1
            plan = planned(key)
            if plan in ("503", "429") and first:
                return _busy("503 Service Unavailable" if plan == "503" else "429 Too Many Requests")
            self.finals[key] += 1
        return _BAD if plan == "400" else _ok(key)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                self.in_flight += 1  # the fake's own loop is the only writer of these two
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
                if self.delay:
                    await asyncio.sleep(self.delay)
                self.in_flight -= 1
                writer.write(self._answer(body))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    def duplicates(self) -> list[str]:
        """Keys answered finally more than once (each was run twice)."""
        with self._lock:
            return [key for key, count in self.finals.items() if count > 1]

    def wait_for_finals(self, count: int, timeout: float = 30.0) -> bool:
        """Wait until at least ``count`` final answers were sent."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if sum(self.finals.values()) >= count:
                    return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> BatchFake:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
