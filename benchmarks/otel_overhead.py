"""The cost per call of the chatpipe-otel observer: call counts and microseconds.

Usage (from the repository root, with its venv)::

    .venv/bin/python benchmarks/otel_overhead.py

Three setups: no observer; the otel observer with only the OpenTelemetry API (no SDK tracer
provider set: the API's no-op spans, what an application that installs chatpipe-otel but
configures no tracing pays); the otel observer with an SDK ``TracerProvider`` that has no span
processor (spans are built and recorded, then dropped: the observer's own work without an
exporter's). For each: Python calls of one ``complete()`` and of one 200-chunk stream (per
chunk) against a local fake server (``call_counts.py``'s counter; the fewest of 5 calls), and
microseconds of the observer alone — its hooks of one streamed call (started, first_token,
finished) called directly, the best of 5 rounds of 20,000 — so the fake server's round trip does not drown it.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from chatpipe import Pipeline
from chatpipe.models import ChatResponse, Choice, Message, Usage
from chatpipe.plugin import CallInfo
from chatpipe.registry import Registry
from chatpipe.testing import FakeServer
from chatpipe_otel import OtelObserver
from opentelemetry.sdk.trace import TracerProvider

sys.path.insert(0, str(Path(__file__).parent))
from call_counts import CHUNKS, MESSAGES, Counter, reply

ROUNDS, CALLS = 5, 20_000
RESPONSE = ChatResponse(
    id="c",
    model="m",
    choices=(Choice(index=0, message=Message(role="assistant", content="Hello!"), finish_reason="stop"),),
    usage=Usage(prompt_tokens=1, completion_tokens=2, total_tokens=3),
)


def main() -> int:
    setups: dict[str, OtelObserver | None] = {
        "none": None,
        "otel_api_only": OtelObserver(),
        "otel_sdk_no_exporter": OtelObserver(tracer_provider=TracerProvider()),
    }
    out = {name: {**counts(observer), **hook_micros(observer)} for name, observer in setups.items()}
    print(json.dumps(out, indent=2))
    return 0


def counts(observer: OtelObserver | None) -> dict[str, float]:
    registry = Registry()
    if observer is not None:
        registry.register(observer, "otel-bench")
    with FakeServer() as server:
        server.route("POST /v1/chat/completions", lambda request: reply(request))
        pipe = Pipeline("openai", "m", base_url=f"{server.url}/v1", api_key="sk-bench-0123456789", registry=registry)
        for _ in range(20):
            pipe.complete(MESSAGES)
            pipe.stream(MESSAGES).collect()
        sync, stream = [], []
        for _ in range(5):  # the fewest of 5: some calls count ~27 more, not reproducibly
            with Counter() as counter:
                pipe.complete(MESSAGES)
            sync.append(counter.calls)
            with Counter() as counter:
                pipe.stream(MESSAGES).collect()
            stream.append(counter.calls)
    return {"complete_calls": min(sync), "per_stream_chunk_calls": round(min(stream) / CHUNKS, 2)}


def hook_micros(observer: OtelObserver | None) -> dict[str, Any]:
    if observer is None:
        return {}
    call = CallInfo("bench-1", "openai", "m", None, None, True, "127.0.0.1", 8080)
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(CALLS):
            observer.chatpipe_call_started(call)
            observer.chatpipe_first_token(call, 0.01)
            observer.chatpipe_call_finished(call, RESPONSE, 0.02)
        best = min(best, time.perf_counter() - start)
    return {"observer_us_per_call": round(best / CALLS * 1e6, 2)}


if __name__ == "__main__":
    sys.exit(main())
