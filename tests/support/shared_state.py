"""Helpers for the tests of state shared between processes (rate limits, cooldowns in Redis).

* :class:`TimedVendor`: an OpenAI-style :class:`~chatpipe.testing.FakeServer` that records the
  arrival time (this process's monotonic clock) of every chat request, holds each one
  ``hold`` seconds, answers (streamed when asked), and tracks how many it holds at once
  (:attr:`TimedVendor.max_in_flight`).
* :func:`max_in_window`: the most arrivals within any window of a given width.
* :class:`DeadTarget`: a listening socket that accepts each connection and closes it at once
  (a vendor that is down), counting the connections.
* :class:`Workers`: several ``state_worker.py`` processes on one config, driven in lockstep.
"""

from __future__ import annotations

import bisect
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from chatpipe.testing import FakeResponse, FakeServer, RecordedRequest
from chatpipe.testing.conformance import OpenAISimulator, Reply

WORKER = Path(__file__).resolve().with_name("state_worker.py")
ROUTE = "POST /v1/chat/completions"
KEY = "sk-shared-state-test-1234"
SIM = OpenAISimulator(provider="openai")


class TimedVendor:
    """A fake vendor recording arrival times and calls in flight (see the module docs)."""

    def __init__(self, hold: float = 0.0, text: str = "ok") -> None:
        self.hold = hold
        self._text = text
        self._lock = threading.Lock()
        self.arrivals: list[float] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.server = FakeServer()
        self.server.route(ROUTE, self._answer)

    @property
    def base_url(self) -> str:
        return f"{self.server.url}/v1"

    def _answer(self, request: RecordedRequest) -> FakeResponse:
        with self._lock:
            self.arrivals.append(time.monotonic())
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.hold:
                time.sleep(self.hold)
            reply = Reply(text=self._text)
            return SIM.stream(reply) if request.json.get("stream") else SIM.reply(reply)
        finally:
            # counted down before the reply is written: the vendor's count never exceeds the client's leases
            with self._lock:
                self.in_flight -= 1

    def forget(self) -> None:
        """Forget the arrivals and the peak in flight so far (after a warm-up)."""
        with self._lock:
            self.arrivals.clear()
            self.max_in_flight = self.in_flight

    def times(self) -> list[float]:
        with self._lock:
            return sorted(self.arrivals)

    def close(self) -> None:
        self.server.close()

    def __enter__(self) -> TimedVendor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Admissions:
    """The admissions a Redis store records for a rate-limit ``key``, collected while in use.

    The store keeps each admitted call in a sorted set (lease -> the Redis server's time of
    admission, ms) for a whole window; polling it more often than that sees every admission,
    on the one clock that decided it. :attr:`times` (seconds, sorted) once stopped.
    """

    def __init__(self, url: str, key: str, every: float = 0.05) -> None:
        import redis

        self._client = redis.Redis.from_url(url)
        self._name, self._every = f"chatpipe:{{{key}}}:c", every
        self._seen: dict[bytes, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            self._seen.update(self._client.zrange(self._name, 0, -1, withscores=True))
            self._stop.wait(self._every)

    def __enter__(self) -> Admissions:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._seen.update(self._client.zrange(self._name, 0, -1, withscores=True))
        self._client.close()

    @property
    def times(self) -> list[float]:
        return sorted(score / 1000 for score in self._seen.values())


def max_in_window(times: list[float], width: float) -> int:
    """The most of the sorted ``times`` within any half-open window ``[t, t + width)``."""
    return max((bisect.bisect_left(times, t + width) - i for i, t in enumerate(times)), default=0)


class DeadTarget:
    """A port that accepts connections and closes them unanswered, counting them (:attr:`accepted`)."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(128)
        self._socket.settimeout(0.05)
        self.port: int = self._socket.getsockname()[1]
        self._lock = threading.Lock()
        self._accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def accepted(self) -> int:
        with self._lock:
            return self._accepted

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._accepted += 1
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()

    def __enter__(self) -> DeadTarget:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Workers:
    """``count`` worker processes of ``profile`` in the config file ``config`` (see state_worker.py).

    :meth:`start` waits until every worker has built its pipeline; :meth:`send` gives each
    worker a command at (nearly) the same instant and returns their JSON answers; :meth:`close`
    ends them (killing any that does not quit within a few seconds).
    """

    def __init__(self, config: Path, profile: str, count: int, *, timeout: float = 30.0) -> None:
        self.config, self.profile, self.count, self.timeout = config, profile, count, timeout
        self.processes: list[subprocess.Popen[str]] = []

    def start(self) -> Workers:
        for _ in range(self.count):
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, str(WORKER), str(self.config), self.profile],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=None,  # a worker's traceback shows in the test's captured output
                    text=True,
                )
            )
        for process in self.processes:
            self._expect(process, "ready")
        return self

    def _line(self, process: subprocess.Popen[str]) -> str:
        assert process.stdout is not None
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(self.timeout)
        if not result or not result[0]:
            raise AssertionError(
                f"worker {process.pid} gave no answer within {self.timeout} s (exit code {process.poll()})"
            )
        return result[0].strip()

    def _expect(self, process: subprocess.Popen[str], line: str) -> None:
        got = self._line(process)
        if got != line:
            raise AssertionError(f"worker {process.pid} said {got!r}, expected {line!r}")

    def send(self, command: str, workers: list[int] | None = None) -> list[dict[str, Any]]:
        """Send ``command`` to the workers numbered ``workers`` (default all); their answers, in order."""
        chosen = [self.processes[i] for i in (workers if workers is not None else range(self.count))]
        for process in chosen:
            assert process.stdin is not None
            process.stdin.write(command + "\n")
            process.stdin.flush()
        return [json.loads(self._line(process)) for process in chosen]

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None and process.stdin is not None:
                try:
                    process.stdin.write("quit\n")
                    process.stdin.close()
                except OSError:
                    pass
        for process in self.processes:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()

    def __enter__(self) -> Workers:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc: object) -> None:
        self.close()


def total(results: list[dict[str, Any]], field: str) -> int:
    """The sum of ``field`` over workers' answers."""
    return sum(int(result[field]) for result in results)


def errors(results: list[dict[str, Any]]) -> dict[str, int]:
    """Every worker's failures other than LimitExceededError, by exception type, summed."""
    merged: dict[str, int] = {}
    for result in results:
        for name, count in result["errors"].items():
            merged[name] = merged.get(name, 0) + count
    return merged
