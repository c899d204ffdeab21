#!/usr/bin/env python3
"""Bounded loopback load test of ``chatpipe serve`` (not part of the test suite).

    .venv/bin/python benchmarks/gateway_load.py                       # 2,000 requests x 3 rounds, 200 at once
    .venv/bin/python benchmarks/gateway_load.py --requests 500 --rounds 2 --workers 2

Three processes on 127.0.0.1: a fake OpenAI-style vendor (chatpipe.testing.FakeServer in a
child process), the gateway (``chatpipe serve`` as a subprocess) and this client (httpx2,
asyncio). Each round sends ``--requests`` non-streaming requests, then as many streaming
ones, ``--concurrency`` at a time, and checks every answer: status 200, the exact expected
text, and for streams every chunk in order, the usage chunk and the final ``data: [DONE]``.
The gateway's resident memory (VmRSS of its processes) is sampled after each round; memory
is "flat" when the last round grew it by less than ``--max-growth-mb``.

Bounded: the whole run stops after ``--deadline`` seconds whatever happens. Exit status 0
when there were zero errors, every stream was complete and memory was flat; 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

CHATPIPE = str(Path(sys.executable).with_name("chatpipe"))
WORDS = [f"token{i} " for i in range(16)]
EXPECTED = "".join(WORDS)


# --- the fake vendor (child process) ------------------------------------------------------------


def _vendor(port_out: Any, stop: Any) -> None:
    from chatpipe.testing import FakeResponse, FakeServer

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return {"id": "chatcmpl-load", "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    usage = {"prompt_tokens": 12, "completion_tokens": len(WORDS), "total_tokens": 12 + len(WORDS)}
    stream_events = [chunk({"role": "assistant", "content": ""})]
    stream_events += [chunk({"content": word}) for word in WORDS]
    stream_events += [chunk({}, "stop"), {"id": "chatcmpl-load", "model": "m", "choices": [], "usage": usage}]
    reply = {
        "id": "chatcmpl-load",
        "object": "chat.completion",
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": EXPECTED}, "finish_reason": "stop"}],
        "usage": usage,
    }

    def answer(request: Any) -> Any:
        if request.json.get("stream"):
            return FakeResponse.sse(stream_events)
        return FakeResponse.json(reply)

    with FakeServer() as server:
        server.route("POST /v1/chat/completions", answer)
        port_out.put(server.port)
        stop.wait()


# --- the gateway (subprocess) ---------------------------------------------------------------------


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (Linux /proc)."""
    found, todo = [], [pid]
    while todo:
        one = todo.pop()
        found.append(one)
        try:
            for task in Path(f"/proc/{one}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and its descendants (the gateway's workers), in MiB (Linux /proc)."""
    total = 0
    for one in process_tree(pid):
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def _start_gateway(vendor_port: int, workers: int, tmp: Path) -> tuple[subprocess.Popen[bytes], int]:
    config = tmp / "chatpipe.yaml"
    config.write_text(
        "profiles:\n"
        f"  load: {{provider: openai, base_url: 'http://127.0.0.1:{vendor_port}/v1', api_key: sk-load-0000,"
        " model: load-model, max_retries: 0}\n"
    )
    port = free_port()
    process = subprocess.Popen(
        [
            CHATPIPE,
            "serve",
            "--config",
            str(config),
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        stdout=(tmp / "gateway.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the gateway did not start; see " + str(tmp / "gateway.log"))


# --- the client -----------------------------------------------------------------------------------


class Tally:
    """Outcomes of one batch."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.incomplete_streams = 0

    def fail(self, reason: str) -> None:
        if len(self.errors) < 10:
            self.errors.append(reason)
        else:
            self.errors.append("")


async def _one(client: Any, url: str, stream: bool, tally: Tally) -> None:
    body = {"model": "load", "messages": [{"role": "user", "content": "Hi"}]}
    started = time.perf_counter()
    try:
        if not stream:
            response = await client.post(url, json=body)
            if response.status_code != 200:
                tally.fail(f"HTTP {response.status_code}: {response.text[:200]}")
                return
            if response.json()["choices"][0]["message"]["content"] != EXPECTED:
                tally.fail("wrong text")
                return
        else:
            body.update(stream=True, stream_options={"include_usage": True})
            async with client.stream("POST", url, json=body) as response:
                if response.status_code != 200:
                    tally.fail(f"HTTP {response.status_code}")
                    return
                lines = [line async for line in response.aiter_lines() if line]
            if not lines or lines[-1] != "data: [DONE]":
                tally.incomplete_streams += 1
                tally.fail("stream did not end with [DONE]")
                return
            chunks = [json.loads(line[6:]) for line in lines[:-1]]
            text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
            if text != EXPECTED or not chunks[-1].get("usage"):
                tally.incomplete_streams += 1
                tally.fail("stream text or usage incomplete")
                return
    except Exception as exc:  # every failure is counted, never hidden
        tally.fail(f"{type(exc).__name__}: {exc}")
        return
    tally.latencies.append(time.perf_counter() - started)


async def _batch(port: int, total: int, concurrency: int, stream: bool) -> tuple[Tally, float]:
    import httpx2

    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    tally = Tally()
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(limits=limits, timeout=60) as client:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(total):
            queue.put_nowait(i)

        async def worker() -> None:
            while not queue.empty():
                queue.get_nowait()
                await _one(client, url, stream, tally)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return tally, elapsed


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _report(kind: str, total: int, tally: Tally, elapsed: float) -> dict[str, Any]:
    row = {
        "kind": kind,
        "requests": total,
        "ok": len(tally.latencies),
        "errors": len(tally.errors),
        "incomplete_streams": tally.incomplete_streams,
        "seconds": round(elapsed, 2),
        "req_per_s": round(total / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(_percentile(tally.latencies, 0.50) * 1000, 1),
        "p95_ms": round(_percentile(tally.latencies, 0.95) * 1000, 1),
        "p99_ms": round(_percentile(tally.latencies, 0.99) * 1000, 1),
        "mean_ms": round(statistics.fmean(tally.latencies) * 1000, 1) if tally.latencies else None,
    }
    print(json.dumps(row), flush=True)
    for reason in [e for e in tally.errors if e][:5]:
        print(f"  error: {reason}", flush=True)
    return row


async def _run(args: argparse.Namespace, port: int, gateway_pid: int) -> bool:
    await _batch(port, min(200, args.requests), args.concurrency, stream=False)  # warm-up (pools, imports)
    await _batch(port, min(200, args.requests), args.concurrency, stream=True)
    rss = [rss_mb(gateway_pid)]
    print(f"gateway RSS after warm-up: {rss[0]:.1f} MiB", flush=True)
    clean = True
    for round_no in range(1, args.rounds + 1):
        for stream in (False, True):
            tally, elapsed = await _batch(port, args.requests, args.concurrency, stream)
            row = _report("stream" if stream else "json", args.requests, tally, elapsed)
            clean = clean and row["errors"] == 0 and row["incomplete_streams"] == 0
        rss.append(rss_mb(gateway_pid))
        print(f"round {round_no}: gateway RSS {rss[-1]:.1f} MiB", flush=True)
    growth = rss[-1] - rss[-2] if len(rss) > 2 else rss[-1] - rss[0]
    flat = growth < args.max_growth_mb
    print(
        json.dumps({"rss_mb": [round(r, 1) for r in rss], "last_round_growth_mb": round(growth, 1), "flat": flat}),
        flush=True,
    )
    return clean and flat


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000, help="requests per kind per round (default 2000)")
    parser.add_argument("--concurrency", type=int, default=200, help="requests in flight (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, for the memory trend (default 3)")
    parser.add_argument("--workers", type=int, default=1, help="gateway worker processes (default 1)")
    parser.add_argument("--max-growth-mb", type=float, default=10.0, help="allowed RSS growth in the last round")
    parser.add_argument("--deadline", type=float, default=600.0, help="stop after this many seconds (default 600)")
    args = parser.parse_args()

    context = multiprocessing.get_context("spawn")
    ports: Any = context.Queue()
    stop = context.Event()
    vendor = context.Process(target=_vendor, args=(ports, stop), daemon=True)
    vendor.start()
    vendor_port = ports.get(timeout=30)
    with tempfile.TemporaryDirectory() as tmp:
        gateway, port = _start_gateway(vendor_port, args.workers, Path(tmp))
        print(
            f"gateway pid {gateway.pid} on :{port} ({args.workers} worker(s)), vendor on :{vendor_port}, "
            f"{args.requests} requests x 2 kinds x {args.rounds} rounds at {args.concurrency} concurrent",
            flush=True,
        )
        try:
            ok = asyncio.run(asyncio.wait_for(_run(args, port, gateway.pid), timeout=args.deadline))
        except TimeoutError:
            print(f"stopped: the run exceeded --deadline {args.deadline}s", flush=True)
            ok = False
        finally:
            gateway.send_signal(signal.SIGTERM)
            try:
                gateway.wait(30)
            except subprocess.TimeoutExpired:
                gateway.kill()
            stop.set()
            vendor.join(10)
            if vendor.is_alive():
                vendor.kill()
    print("PASS" if ok else "FAIL", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
