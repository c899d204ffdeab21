#!/usr/bin/env python3
"""The gateway's own cost: ``chatpipe serve`` (1 and 2 workers) next to the vendor direct, the
library, and the LiteLLM proxy, all in front of one fast fake vendor on loopback.

    .venv/bin/python benchmarks/gateway.py                  # 3 interleaved repetitions, ~6 minutes
    .venv/bin/python benchmarks/gateway.py --quick          # 1 repetition, shorter runs (~1.5 minutes)
    .venv/bin/python benchmarks/gateway.py --targets serve-1,library --reps 5

Targets (each a separate process tree, started once and measured in turn, the order rotating
every repetition):

* ``direct`` — the load client talks to the fake vendor itself: the floor.
* ``library`` — ``Pipeline("openai").acomplete`` / ``astream`` in a process of its own, the same
  number of calls in flight: what a library call costs (CPU per call and per chunk).
* ``serve-1`` / ``serve-2`` — ``chatpipe serve --workers 1`` / ``2``, one profile at the vendor.
* ``before`` — with ``--before PATH``: the ``chatpipe`` executable at PATH (another checkout's
  virtualenv, e.g. the code before a change) serving with one worker, measured side by side.
* ``litellm`` — the LiteLLM proxy (``litellm --config``, one worker) from ``benchmarks/.venv``
  (``bash benchmarks/setup.sh 'litellm[proxy]'``); skipped when it is not installed.

Each target gets a non-streaming closed loop (``--concurrency`` connections for ``--seconds``),
a streaming one (streams of ``--chunks`` content chunks), and ``--ttfc`` streams one at a time
for the time to the first content chunk. CPU is the server processes' own (``/proc``: the
process and its children), per request and per streamed chunk (a stream's CPU over its
chunks). The gateway's resident memory is sampled after every repetition. The load client
(``load_client.py``) is a raw-asyncio HTTP client, so it costs little next to the servers.

Prints a Markdown table and the issue's targets, and writes ``results/gateway-<UTC>.json``.
``--baseline FILE`` (an earlier run's JSON) adds the throughput ratio against it. Bounded: every
subprocess has a timeout and the servers stop with the run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from gateway_load import free_port, process_tree, rss_mb
from run import Server, rotate

HERE = Path(__file__).resolve().parent
CLIENT = HERE / "load_client.py"
CHATPIPE = str(Path(sys.executable).with_name("chatpipe"))
LITELLM = HERE / ".venv" / "bin" / "litellm"
VENDOR_KEY = "sk-bench-vendor-0000"
# The LiteLLM proxy refuses to start without a master key (and a weak one); clients send this one.
CLIENT_KEY = "sk-bench-client-7f3a9c2e4b8d1f6a0c5e9b2d7a4f8c1e"
TARGETS = ("direct", "library", "serve-1", "serve-2", "before", "litellm")
_TICKS = os.sysconf("SC_CLK_TCK")


# --- processes ------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its descendants."""
    total = 0
    for one in process_tree(pid):
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / _TICKS


def _wait_http(url: str, process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args[0]} exited with {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"nothing answered {url} within {seconds:.0f} s")


class Vendor(Server):
    """benchmarks/server.py (``run.Server``): pre-built answers, a few tens of µs of CPU per request."""

    @property
    def api(self) -> str:
        """The OpenAI-style base URL the targets are pointed at."""
        return f"{self.url}/v1"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid


class Served:
    """A server under test (chatpipe serve or the LiteLLM proxy) as a process tree."""

    def __init__(self, name: str, args: list[str], url: str, health: str, log: Path, startup: float) -> None:
        self.name, self.url = name, url
        self.process = subprocess.Popen(args, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        _wait_http(health, self.process, startup)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_chatpipe(vendor: Vendor, workers: int, tmp: Path, executable: str = CHATPIPE, name: str = "") -> Served:
    name = name or f"serve-{workers}"
    config = tmp / f"{name}.yaml"
    config.write_text(
        "serve: {allow_unauthenticated: true}\n"
        "profiles:\n"
        f"  load: {{provider: openai, base_url: '{vendor.api}', api_key: {VENDOR_KEY}, model: m, max_retries: 0}}\n"
    )
    port = free_port()
    args = [executable, "serve", "--config", str(config), "--port", str(port), "--workers", str(workers)]
    args += ["--log-level", "warning"]
    url = f"http://127.0.0.1:{port}"
    return Served(name, args, f"{url}/v1", f"{url}/health", tmp / f"{name}.log", 60)


def start_litellm(vendor: Vendor, tmp: Path) -> Served | None:
    if not LITELLM.exists():
        return None
    config = tmp / "litellm.yaml"
    config.write_text(
        "model_list:\n"
        "  - model_name: load\n"
        f"    litellm_params: {{model: openai/m, api_base: '{vendor.api}', api_key: {VENDOR_KEY}}}\n"
        f"general_settings: {{master_key: {CLIENT_KEY}}}\n"
    )
    port = free_port()
    args = [str(LITELLM), "--config", str(config), "--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"]
    url = f"http://127.0.0.1:{port}"
    return Served("litellm", args, f"{url}/v1", f"{url}/health/liveliness", tmp / "litellm.log", 180)


# --- the library target (a process of its own) --------------------------------------------------


async def _library(url: str, kind: str, concurrency: int, amount: float) -> dict[str, Any]:
    from chatpipe import Pipeline

    pipeline = Pipeline("openai", model="m", base_url=url, api_key=VENDOR_KEY, max_retries=0)
    messages = [{"role": "user", "content": "Hello there, how are you?"}]

    async def one() -> None:
        if kind == "json":
            await pipeline.acomplete(messages)
        else:
            async with pipeline.astream(messages) as stream:
                async for _ in stream:
                    pass

    for _ in range(20):
        await one()
    done = 0
    stop_at = time.perf_counter() + amount

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop_at:
            await one()
            done += 1

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"requests": done, "errors": 0, "throughput": done / wall, "cpu": cpu}


# --- measurements ------------------------------------------------------------------------------------


def _run_json(args: list[str], timeout: float) -> dict[str, Any]:
    out = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{args[1]} failed: {out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def measure(target: str, served: Served | None, vendor: Vendor, kind: str, opts: argparse.Namespace) -> dict[str, Any]:
    """One measurement of ``target``: ``kind`` is json, stream or ttfc."""
    amount = opts.ttfc if kind == "ttfc" else opts.seconds
    concurrency = 1 if kind == "ttfc" else opts.concurrency
    timeout = amount * 5 + 60
    if target == "library":
        if kind == "ttfc":
            return {}
        args = [sys.executable, __file__, "--library", vendor.api, kind, str(concurrency), str(amount)]
        return _run_json(args, timeout)
    url = vendor.api if served is None else served.url
    pid = vendor.pid if served is None else served.process.pid
    args = [sys.executable, str(CLIENT), url, kind, str(concurrency), str(amount), "--key", CLIENT_KEY]
    args += ["--model", "m" if served is None else "load"]
    before = cpu_seconds(pid)
    result = _run_json(args, timeout)
    result["cpu"] = cpu_seconds(pid) - before
    return result


def _per(result: dict[str, Any], divisor: float) -> float | None:
    if not result.get("requests"):
        return None
    return float(result["cpu"]) / (result["requests"] * divisor) * 1e6


Samples = dict[str, dict[str, list[dict[str, Any]]]]
"""target → kind (json, stream, ttfc) → one result per repetition."""


def summarize(samples: Samples, chunks: int) -> dict[str, dict[str, Any]]:
    """Medians per target: throughput, latency, TTFC, CPU per request / chunk (µs)."""

    def median(values: list[float | None]) -> float | None:
        kept = [v for v in values if v is not None]
        return statistics.median(kept) if kept else None

    rows: dict[str, dict[str, Any]] = {}
    for target, kinds in samples.items():
        json_runs, stream_runs, ttfc_runs = kinds.get("json", []), kinds.get("stream", []), kinds.get("ttfc", [])
        rows[target] = {
            "rps": median([r.get("throughput") for r in json_runs]),
            "p50_ms": median([r.get("p50_ms") for r in json_runs]),
            "p99_ms": median([r.get("p99_ms") for r in json_runs]),
            "cpu_us_per_request": median([_per(r, 1) for r in json_runs]),
            "streams_per_s": median([r.get("throughput") for r in stream_runs]),
            "chunks_per_s": median([(r.get("throughput") or 0) * chunks for r in stream_runs]) or None,
            "stream_p50_ms": median([r.get("p50_ms") for r in stream_runs]),
            "cpu_us_per_chunk": median([_per(r, chunks) for r in stream_runs]),
            "ttfc_ms": median([r.get("ttfc_ms") for r in ttfc_runs]),
            "errors": sum(r.get("errors", 0) for runs in kinds.values() for r in runs),
        }
    return rows


def _fmt(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def table(rows: dict[str, dict[str, Any]]) -> str:
    head = (
        "| target | req/s | p50 ms | p99 ms | CPU µs/request | streams/s | chunks/s | CPU µs/chunk "
        "| first chunk ms (c=1) | errors |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [head]
    for name, r in rows.items():
        lines.append(
            f"| {name} | {_fmt(r['rps'])} | {_fmt(r['p50_ms'], 2)} | {_fmt(r['p99_ms'], 2)} "
            f"| {_fmt(r['cpu_us_per_request'])} | {_fmt(r['streams_per_s'])} | {_fmt(r['chunks_per_s'])} "
            f"| {_fmt(r['cpu_us_per_chunk'], 1)} | {_fmt(r['ttfc_ms'], 2)} | {r['errors']} |"
        )
    return "\n".join(lines)


def targets_report(rows: dict[str, dict[str, Any]], baseline: dict[str, Any] | None) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for the issue's goals that this run's rows can decide."""
    out: list[tuple[str, str, bool]] = []
    one, lib, direct = rows.get("serve-1"), rows.get("library"), rows.get("direct")
    if one and lib and one["cpu_us_per_request"] and lib["cpu_us_per_request"]:
        added = (one["cpu_us_per_request"] - lib["cpu_us_per_request"]) / 1000
        out.append(("gateway CPU per request over the library call ≤ 0.6 ms", f"{added:.2f} ms", added <= 0.6))
    before = rows.get("before")
    if one and before and before["rps"] and one["rps"]:
        ratio = one["rps"] / before["rps"]
        out.append(("one worker's throughput ≥ 3× the code before (side by side)", f"{ratio:.2f}×", ratio >= 3))
    if one and baseline and baseline.get("serve-1", {}).get("rps") and one["rps"]:
        ratio = one["rps"] / baseline["serve-1"]["rps"]
        out.append(("one worker's throughput ≥ 3× the baseline run", f"{ratio:.2f}×", ratio >= 3))
    two = rows.get("serve-2")
    if one and two and one["rps"] and two["rps"]:
        ratio = two["rps"] / one["rps"]
        out.append(("--workers 2 throughput ≥ 1.8× one worker", f"{ratio:.2f}×", ratio >= 1.8))
    if one and lib and one["cpu_us_per_chunk"] and lib["cpu_us_per_chunk"]:
        ratio = one["cpu_us_per_chunk"] / lib["cpu_us_per_chunk"]
        out.append(("gateway CPU per chunk ≤ 1.3× the library's", f"{ratio:.2f}×", ratio <= 1.3))
    if one and direct and one["ttfc_ms"] is not None and direct["ttfc_ms"] is not None:
        added = one["ttfc_ms"] - direct["ttfc_ms"]
        out.append(("time to first chunk added by the gateway ≤ 1 ms (c=1)", f"{added:.2f} ms", added <= 1.0))
    return out


def run_all(opts: argparse.Namespace, wanted: list[str], vendor: Vendor) -> tuple[Samples, dict[str, list[float]]]:
    """Start the servers of ``wanted``, measure each in turn for every repetition, stop them.

    Returns the samples (target → kind → results) and each server's memory after each repetition.
    """
    tmp = Path(tempfile.mkdtemp(prefix="chatpipe-gateway-bench-"))
    servers: dict[str, Served | None] = {"direct": None, "library": None}
    try:
        if "serve-1" in wanted:
            servers["serve-1"] = start_chatpipe(vendor, 1, tmp)
        if "serve-2" in wanted:
            servers["serve-2"] = start_chatpipe(vendor, 2, tmp)
        if "before" in wanted:
            if opts.before is None:
                print("before: no --before PATH given; skipped")
                wanted.remove("before")
            else:
                servers["before"] = start_chatpipe(vendor, 1, tmp, str(opts.before), "before")
        if "litellm" in wanted:
            proxy = start_litellm(vendor, tmp)
            if proxy is None:
                print("litellm: not installed in benchmarks/.venv (bash benchmarks/setup.sh 'litellm[proxy]'); skipped")
                wanted.remove("litellm")
            else:
                servers["litellm"] = proxy
        samples: Samples = {t: {} for t in wanted}
        memory: dict[str, list[float]] = {t: [] for t in wanted if servers.get(t)}
        for target in wanted:  # warm-up: pools, first imports
            measure(target, servers.get(target), vendor, "json", argparse.Namespace(**{**vars(opts), "seconds": 1.0}))
        for rep in range(opts.reps):
            for target in rotate(wanted, rep):
                for kind in ("json", "stream", "ttfc"):
                    result = measure(target, servers.get(target), vendor, kind, opts)
                    if result:
                        samples[target].setdefault(kind, []).append(result)
                served = servers.get(target)
                if served is not None:
                    memory[target].append(rss_mb(served.process.pid))
            print(f"repetition {rep + 1}/{opts.reps} done (load {os.getloadavg()[0]:.1f})", flush=True)
    finally:
        for served in servers.values():
            if served is not None:
                served.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return samples, memory


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each closed loop")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--chunks", type=int, default=64, help="content chunks per stream")
    parser.add_argument("--ttfc", type=int, default=100, help="streams timed one at a time")
    parser.add_argument("--quick", action="store_true", help="1 repetition of 3-second loops")
    parser.add_argument("--before", type=Path, help="another chatpipe executable: target 'before' (1 worker)")
    parser.add_argument("--baseline", type=Path, help="an earlier run's JSON: throughput ratios against it")
    parser.add_argument("--out", type=Path)
    opts = parser.parse_args()
    if opts.quick:
        opts.reps, opts.seconds, opts.ttfc = 1, 3.0, 40
    wanted = [t for t in opts.targets.split(",") if t]
    unknown = set(wanted) - set(TARGETS)
    if unknown:
        raise SystemExit(f"unknown target(s) {sorted(unknown)}; choose from {', '.join(TARGETS)}")

    with Vendor(sys.executable, opts.chunks, 3600) as vendor:
        samples, memory = run_all(opts, wanted, vendor)
    rows = summarize(samples, opts.chunks)
    baseline = json.loads(opts.baseline.read_text())["rows"] if opts.baseline else None
    print(table(rows))
    print("\nGateway memory (MiB, after each repetition): " + "; ".join(f"{t} {m}" for t, m in memory.items()))
    print("\n| target | measured | |\n|---|---:|---|")
    goals = targets_report(rows, baseline)
    for goal, measured, met in goals:
        print(f"| {goal} | {measured} | {'**met**' if met else 'missed'} |")
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = opts.out or HERE / "results" / f"gateway-{stamp}.json"
    out.parent.mkdir(exist_ok=True)
    record = {
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(opts).items()},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load": os.getloadavg()},
        "rows": rows,
        "memory_mb": memory,
        "goals": goals,
        "samples": samples,
    }
    out.write_text(json.dumps(record, indent=1))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--library":
        url, kind, concurrency, amount = sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
        print(json.dumps(asyncio.run(_library(url, kind, concurrency, amount))))
    else:
        main()
