"""Python function calls per operation: a load-independent measure of chatpipe's own work.

Usage (from the repository root, or any checkout's, with its venv)::

    .venv/bin/python benchmarks/call_counts.py

Counts, with ``sys.setprofile``, the Python-level calls of one ``complete()``, one
``acomplete()`` and one streamed chunk (the mean over a 200-chunk stream) against a local
fake server, after warm-up calls — with no observer, then with one observer implementing
every call hook with a no-op (the cost an observer plugin adds before its own work). Run it
in two checkouts to compare a change with the commit before it: wall-clock timings swing with
the load of a shared machine, call counts do not.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from chatpipe import Pipeline, hookimpl
from chatpipe.registry import Registry
from chatpipe.testing import FakeResponse, FakeServer

MESSAGES = [{"role": "user", "content": "Hi"}]
REPLY = {
    "id": "c",
    "object": "chat.completion",
    "model": "m",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
}
CHUNKS = 200


def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "c", "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


class Counter:
    """Counts Python-level calls while active (``with Counter() as c: ...``; then ``c.calls``)."""

    def __init__(self) -> None:
        self.calls = 0

    def _profile(self, frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            self.calls += 1

    def __enter__(self) -> Counter:
        sys.setprofile(self._profile)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(None)


class NoOpObserver:
    """Every call hook, doing nothing."""

    @hookimpl
    def chatpipe_call_started(self, call: Any) -> None: ...

    @hookimpl
    def chatpipe_call_retry(self, call: Any, attempt: int, reason: str, status: Any, wait: float) -> None: ...

    @hookimpl
    def chatpipe_first_token(self, call: Any, seconds: float) -> None: ...

    @hookimpl
    def chatpipe_call_finished(self, call: Any, response: Any, seconds: float) -> None: ...

    @hookimpl
    def chatpipe_call_failed(self, call: Any, error: Any, seconds: float) -> None: ...


def main() -> int:
    plain = counts(None)
    observed = counts(NoOpObserver())
    print(json.dumps({**plain, "with_one_noop_observer": observed}))
    return 0


def counts(observer: object | None) -> dict[str, float]:
    registry = Registry()
    if observer is not None:
        registry.register(observer, "noop-observer")
    options: dict[str, Any] = {"model": "m", "api_key": "sk-bench-0123456789", "registry": registry}
    with FakeServer() as server:
        server.route("POST /v1/chat/completions", lambda request: reply(request))
        pipe = Pipeline("openai", base_url=f"{server.url}/v1", **options)
        for _ in range(20):
            pipe.complete(MESSAGES)
            pipe.stream(MESSAGES).collect()
        with Counter() as sync:
            pipe.complete(MESSAGES)
        with Counter() as stream:
            pipe.stream(MESSAGES).collect()

        async def measure() -> int:
            async with Pipeline("openai", base_url=f"{server.url}/v1", **options) as ap:
                for _ in range(20):
                    await ap.acomplete(MESSAGES)
                with Counter() as counter:
                    await ap.acomplete(MESSAGES)
                return counter.calls

        async_calls = asyncio.run(measure())
    return {"complete": sync.calls, "acomplete": async_calls, "per_stream_chunk": round(stream.calls / CHUNKS, 2)}


def reply(request: Any) -> FakeResponse:
    if request.json.get("stream"):
        events = [chunk({"role": "assistant", "content": ""})]
        events += [chunk({"content": "x"}) for _ in range(CHUNKS - 2)]
        events.append(chunk({}, "stop"))
        return FakeResponse.sse(events)
    return FakeResponse.json(REPLY)


if __name__ == "__main__":
    sys.exit(main())
