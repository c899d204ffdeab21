"""The per-request cost of the gateway's Prometheus metrics (``serve.metrics``).

Usage (from the repository root, with its venv)::

    .venv/bin/python benchmarks/gateway_metrics.py [--quick]

Two measurements, each in a fresh process:

* **record** — the metrics' own work for one request: :meth:`GatewayMetrics.request` plus the
  token counters of ``chatpipe_call_finished``, in-process registry and multiprocess mode
  (``PROMETHEUS_MULTIPROC_DIR``: values in memory-mapped files), best of 5 runs;
* **call** — ``complete()`` of a pipeline on a :class:`~chatpipe.testing.MockTransport` (no
  sockets), in a registry without observers and in one the gateway's metrics observe, as the
  gateway's pipelines are (the hooks' dispatch and the metrics' work), and the same with a
  reply of a model of the price data (whose cost the metrics then compute), interleaved in
  blocks: µs per call of the median block, and the differences. The request record itself
  (:meth:`GatewayMetrics.request`) is the first measurement's other half.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from types import SimpleNamespace


def record(multiprocess: bool, calls: int) -> float:
    """µs per request of the metrics' own recording."""
    if multiprocess:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="chatpipe-bench-")
    from chatpipe.gateway._metrics import GatewayMetrics
    from chatpipe.models import Usage
    from chatpipe.plugin import CallInfo

    metrics = GatewayMetrics()
    call = CallInfo("1", "openai", "gpt-x", "gpt", None, False)
    response: object = SimpleNamespace(model="gpt-x", usage=Usage(prompt_tokens=11, completion_tokens=7), cost=None)

    def one() -> None:
        metrics.request("gpt", "team-a", 200, None, 0.12, stream=False)
        metrics.chatpipe_call_finished(call, response, 0.1)  # type: ignore[arg-type]

    return min(timeit.repeat(one, number=calls, repeat=5)) / calls * 1e6


def calls(blocks: int, per_block: int) -> dict[str, float]:
    """µs per ``complete()`` of a pipeline, unobserved and observed by the gateway's metrics (median block)."""
    from chatpipe import Pipeline
    from chatpipe.gateway._metrics import GatewayMetrics
    from chatpipe.registry import Registry
    from chatpipe.testing import FakeResponse, MockTransport

    reply = {
        "id": "c",
        "object": "chat.completion",
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    }
    priced = {**reply, "model": "gpt-4o-mini"}  # a model of the price data: the metrics read its cost
    pipelines = {}
    for label in ("off", "on", "priced"):
        registry = Registry()
        if label != "off":
            registry.register(GatewayMetrics(), name="chatpipe-gateway-metrics")
        body = priced if label == "priced" else reply
        transport = MockTransport(lambda request, body=body: FakeResponse.json(body))
        pipelines[label] = Pipeline(
            "openai", "m", api_key="sk-bench-000000000000", registry=registry, transport=transport, profile="gpt"
        )
    messages = [{"role": "user", "content": "Hi"}]
    times: dict[str, list[float]] = {label: [] for label in pipelines}
    for pipeline in pipelines.values():
        for _ in range(200):
            pipeline.complete(messages)
    labels = list(pipelines)
    for block in range(blocks):
        for label in labels if block % 2 == 0 else labels[::-1]:
            started = time.perf_counter()
            for _ in range(per_block):
                pipelines[label].complete(messages)
            times[label].append((time.perf_counter() - started) / per_block * 1e6)
    off, on, with_cost = (statistics.median(times[label]) for label in labels)
    return {
        "off_us": round(off, 1),
        "on_us": round(on, 1),
        "added_us": round(on - off, 1),
        "priced_us": round(with_cost, 1),
        "priced_added_us": round(with_cost - off, 1),
    }


def main() -> None:
    quick = "--quick" in sys.argv
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        kind = sys.argv[2]
        if kind == "call":
            print(json.dumps(calls(6 if quick else 20, 200 if quick else 1000)))
        else:
            print(json.dumps({"us": round(record(kind == "multiprocess", 5_000 if quick else 20_000), 2)}))
        return
    results = {}
    for kind in ("in-process", "multiprocess", "call"):
        args = [sys.executable, __file__, "--child", kind, *(["--quick"] if quick else [])]
        results[kind] = json.loads(subprocess.run(args, check=True, capture_output=True, text=True).stdout)
    print(f"record, in-process registry: {results['in-process']['us']} µs per request")
    print(f"record, multiprocess mode:   {results['multiprocess']['us']} µs per request")
    r = results["call"]
    print(f"complete() on MockTransport: {r['off_us']} µs unobserved, {r['on_us']} µs observed, {r['added_us']:+} µs")
    print(f"  observed, a priced model:   {r['priced_us']} µs, {r['priced_added_us']:+} µs (its cost read too)")


if __name__ == "__main__":
    main()
