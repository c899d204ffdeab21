"""The local server's lifecycle against the real llama.cpp server: start, reuse, concurrency, stop, exit.

All tests use one thread per server and a few tokens per request so the file stays fast on
two cores.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from chatpipe import Pipeline
from chatpipe_local import LocalProvider, LocalServer, get_server
from chatpipe_local._server import running_servers

pytestmark = pytest.mark.local_server

HELLO = [{"role": "user", "content": "Hello"}]


def server_of(pipe: Pipeline) -> LocalServer:
    """The local server behind a ``local`` pipeline."""
    adapter = pipe.adapter
    assert isinstance(adapter, LocalProvider)
    return adapter.server


def test_first_use_starts_a_ready_server(fresh_settings: Callable[..., Any]) -> None:
    settings = fresh_settings()
    server = get_server(settings)
    assert not server.running and server.pid is None

    url = server.ensure()

    assert server.running and server.pid is not None
    assert url == f"http://127.0.0.1:{server.port}/v1"
    with urllib.request.urlopen(url + "/models", timeout=5) as response:
        assert response.status == 200
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/health", timeout=5) as response:
        assert response.status == 200
    assert server in running_servers()
    assert server.supports_tools is False  # SmolLM2's own template renders no tools


def test_pipeline_reuses_one_server_across_calls_and_pipelines(fresh_settings: Callable[..., Any]) -> None:
    ctx = fresh_settings().ctx_size
    first = Pipeline("local", options={"ctx_size": ctx}, temperature=0, max_tokens=4)
    second = Pipeline("local", options={"ctx_size": ctx}, temperature=0, max_tokens=4)

    reply_one = first.complete(HELLO)
    pid, port = server_of(first).pid, server_of(first).port
    reply_two = first.complete(HELLO)
    reply_three = second.complete(HELLO)

    assert server_of(second) is server_of(first)
    assert (server_of(second).pid, server_of(second).port) == (pid, port)
    for reply in (reply_one, reply_two, reply_three):
        assert reply.text and reply.usage is not None and reply.usage.completion_tokens == 4
    assert reply_one.model == "smollm2-135m-instruct"


def test_concurrent_first_use_starts_one_server(
    fresh_settings: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = fresh_settings()
    starts: list[int] = []
    original = LocalServer._start

    def counting_start(self: LocalServer) -> None:
        starts.append(1)
        original(self)

    monkeypatch.setattr(LocalServer, "_start", counting_start)
    barrier = threading.Barrier(4)
    urls: list[str] = []
    errors: list[BaseException] = []

    def first_use() -> None:
        try:
            barrier.wait(timeout=10)
            urls.append(get_server(settings).ensure())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first_use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(starts) == 1
    assert len(urls) == 4 and len(set(urls)) == 1


def test_concurrent_requests_are_all_answered(fresh_settings: Callable[..., Any]) -> None:
    ctx = fresh_settings(parallel=2).ctx_size
    pipe = Pipeline("local", options={"ctx_size": ctx, "parallel": 2}, temperature=0, max_tokens=8)
    server_of(pipe).ensure()
    results: dict[int, Any] = {}

    def ask(index: int) -> None:
        try:
            results[index] = pipe.complete([{"role": "user", "content": f"Count to {index + 3}."}])
        except BaseException as exc:
            results[index] = exc

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(results) == [0, 1, 2]
    for reply in results.values():
        assert not isinstance(reply, BaseException), reply
        assert reply.text and reply.usage.completion_tokens == 8


def test_streaming_through_the_local_provider(fresh_settings: Callable[..., Any]) -> None:
    pipe = Pipeline("local", options={"ctx_size": fresh_settings().ctx_size}, temperature=0, max_tokens=6)
    stream = pipe.stream(HELLO)
    texts = [chunk.text for chunk in stream if chunk.text]

    assert len(texts) >= 2
    assert stream.response.text == "".join(texts)
    assert stream.response.usage is not None and stream.response.usage.completion_tokens == 6


def test_explicit_stop_and_restart_after_a_crash(
    fresh_settings: Callable[..., Any], wait_gone: Callable[..., bool]
) -> None:
    server = get_server(fresh_settings())
    server.ensure()
    first_pid = server.pid
    assert first_pid is not None

    os.kill(first_pid, signal.SIGKILL)  # the server dies behind our back
    deadline = time.monotonic() + 5
    while server.running and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not server.running
    server.ensure()  # ...and the next use starts a new one
    second_pid = server.pid
    assert second_pid is not None and second_pid != first_pid and server.running

    server.stop()
    assert not server.running
    assert wait_gone(second_pid, timeout=1.0)
    server.stop()  # idempotent


def _run_child(code: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


CHILD = """
import sys
from chatpipe import Pipeline
pipe = Pipeline("local", options={"ctx_size": %d}, max_tokens=2)
pipe.complete([{"role": "user", "content": "Hi"}])
print(pipe.adapter.server.pid, flush=True)
%s
"""


def test_server_stops_when_the_process_exits(
    fresh_settings: Callable[..., Any], process_alive: Callable[[int], bool], wait_gone: Callable[..., bool]
) -> None:
    child = _run_child(CHILD % (fresh_settings().ctx_size, ""))
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    pid = int(out.split()[0])

    assert wait_gone(pid, timeout=3.0), f"server {pid} survived its parent (orphan)"
    assert not process_alive(pid)


def test_server_stops_when_the_process_is_killed(
    fresh_settings: Callable[..., Any], wait_gone: Callable[..., bool]
) -> None:
    # SIGKILL skips atexit: the launcher must notice that its stdin pipe closed.
    child = _run_child(CHILD % (fresh_settings().ctx_size, "import time; time.sleep(60)"))
    try:
        assert child.stdout is not None
        pid = int(child.stdout.readline().split()[0])
        child.kill()
        child.wait(timeout=10)
    finally:
        child.kill()
        child.communicate()

    assert wait_gone(pid, timeout=5.0), f"server {pid} survived its killed parent (orphan)"
