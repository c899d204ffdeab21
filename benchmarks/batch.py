"""Batch throughput against the fake vendor's own capacity, and RSS over a 1,000,000-line input.

Usage (from the repository root)::

    .venv/bin/python benchmarks/batch.py                  # ~15 minutes on 2 cores (the RSS run is most of it)
    .venv/bin/python benchmarks/batch.py --quick          # ~1 minute: fewer rows, 100,000-line RSS run
    .venv/bin/python benchmarks/batch.py --rss-lines 0    # throughput only

The fake vendor is ``server.py`` in its own process (pre-built answers: a few tens of µs of
CPU per request). Every measurement runs in a fresh process of this script (``--worker``):

* ``capacity C``: what the server can serve to a trivial client — bare ``httpx2.AsyncClient``
  posting the same request body with ``C`` requests in flight (``C`` = 64, 256), and doing
  nothing with the answers but ``raise_for_status()`` and ``.json()``;
* ``batch C``: ``chatpipe.batch.run_batch`` with ``concurrency=C`` over a generated input of
  ``--rows`` lines to a fresh output file: reading and parsing lines, the pipeline (converters,
  adapter, pooled async transport), and writing one flushed row per reply;
* ``rss``: ``run_batch`` (concurrency 64) over a ``--rss-lines`` input generated in a temporary
  directory; the process's RSS is sampled every 10,000 rows. Growth is the peak minus the RSS
  at 20,000 rows (after warm-up: pool, caches, allocator arenas).

Capacity and batch runs are interleaved over ``--reps`` repetitions (order rotating); the
medians are reported, and batch as a fraction of the server's capacity, paired: in each
repetition batch over the better capacity run of that repetition, the median over
repetitions (the target: at least 80 %).
Prints a Markdown table and writes ``benchmarks/results/batch-<UTC timestamp>.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from run import HERE, Server, rotate

KEY = "sk-bench"
MESSAGES = [{"role": "user", "content": "Hello! Say something nice."}]
CONCURRENCIES = (64, 256)
SERVER_SECONDS = 3600.0
FULL = {"rows": 20_000, "reps": 3, "rss_lines": 1_000_000}
QUICK = {"rows": 4_000, "reps": 1, "rss_lines": 100_000}


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def write_input(path: Path, rows: int) -> None:
    """``rows`` chatpipe-format lines, each its own id."""
    with path.open("w", encoding="utf-8") as out:
        for i in range(rows):
            out.write(json.dumps({"id": f"row-{i}", "messages": MESSAGES}) + "\n")


# --- workers (each in a fresh process) ---------------------------------------------------------


def worker_capacity(url: str, rows: int, concurrency: int) -> dict[str, Any]:
    """Bare httpx2 at ``concurrency`` requests in flight: requests per second."""
    import httpx2

    body = {"model": "bench-model", "messages": MESSAGES}

    async def main() -> float:
        limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx2.AsyncClient(limits=limits, timeout=60) as client:
            headers = {"authorization": f"Bearer {KEY}"}
            left = rows

            async def one_worker() -> None:
                nonlocal left
                while left > 0:
                    left -= 1
                    response = await client.post(url + "/v1/chat/completions", json=body, headers=headers)
                    response.raise_for_status()
                    response.json()

            started = time.perf_counter()
            await asyncio.gather(*(one_worker() for _ in range(concurrency)))
            return time.perf_counter() - started

    cpu = time.process_time()
    seconds = asyncio.run(main())
    cpu = time.process_time() - cpu
    return {"rows": rows, "seconds": seconds, "per_second": rows / seconds, "cpu_us_per_row": cpu / rows * 1e6}


def worker_batch(url: str, rows: int, concurrency: int) -> dict[str, Any]:
    """run_batch at ``concurrency``: rows per second (input generation not timed)."""
    from chatpipe import Pipeline
    from chatpipe.batch import run_batch

    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        write_input(source, rows)
        pipe = Pipeline("openai", model="bench-model", base_url=url + "/v1", api_key=KEY)
        started = time.perf_counter()
        cpu = time.process_time()
        summary = run_batch(pipe, source, target, concurrency=concurrency)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        assert summary.ok == rows, summary
    return {"rows": rows, "seconds": seconds, "per_second": rows / seconds, "cpu_us_per_row": cpu / rows * 1e6}


def worker_rss(url: str, rows: int, concurrency: int) -> dict[str, Any]:
    """run_batch over ``rows`` lines, RSS sampled every 10,000 rows."""
    from chatpipe import Pipeline
    from chatpipe.batch import Progress, run_batch

    samples: list[tuple[int, float]] = []

    class Sampler(Progress):
        def update(self, done: int, errors: int, tokens: int, *, force: bool = False) -> None:
            if done % 10_000 == 0 or force:
                samples.append((done, round(_rss_mb(), 1)))

    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        write_input(source, rows)
        pipe = Pipeline("openai", model="bench-model", base_url=url + "/v1", api_key=KEY)
        before = _rss_mb()
        started = time.perf_counter()
        summary = run_batch(pipe, source, target, concurrency=concurrency, progress=Sampler(rows, enabled=False))
        seconds = time.perf_counter() - started
        assert summary.ok == rows, summary
        input_mb = source.stat().st_size / 1e6
        output_mb = target.stat().st_size / 1e6
    baseline = next((rss for done, rss in samples if done >= min(20_000, rows // 5)), samples[0][1])
    peak = max(rss for _, rss in samples)
    return {
        "rows": rows,
        "seconds": seconds,
        "per_second": rows / seconds,
        "rss_before_mb": round(before, 1),
        "rss_baseline_mb": baseline,
        "rss_peak_mb": peak,
        "rss_end_mb": samples[-1][1],
        "growth_mb": round(peak - baseline, 1),
        "input_mb": round(input_mb, 1),
        "output_mb": round(output_mb, 1),
        "samples": samples[:: max(1, len(samples) // 50)],
    }


WORKERS = {"capacity": worker_capacity, "batch": worker_batch, "rss": worker_rss}


def run_worker(kind: str, url: str, rows: int, concurrency: int) -> dict[str, Any]:
    """One measurement in a fresh process."""
    command = [sys.executable, str(Path(__file__)), "--worker", kind, url, str(rows), str(concurrency)]
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=HERE)
    if result.returncode != 0:
        raise SystemExit(f"worker {kind} failed:\n{result.stderr}")
    data: dict[str, Any] = json.loads(result.stdout)
    return data


# --- the harness -------------------------------------------------------------------------------


def measure(url: str, rows: int, reps: int) -> dict[str, list[dict[str, Any]]]:
    """Capacity and batch at each concurrency, interleaved over ``reps`` repetitions."""
    names = [f"{kind} {c}" for kind in ("capacity", "batch") for c in CONCURRENCIES]
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    for rep in range(reps):
        for name in rotate(names, rep):
            kind, concurrency = name.split()
            samples[name].append(run_worker(kind, url, rows, int(concurrency)))
            print(f"  rep {rep + 1}: {name}: {samples[name][-1]['per_second']:,.0f}/s", file=sys.stderr)
    return samples


def report(samples: dict[str, list[dict[str, Any]]], rss: dict[str, Any] | None) -> str:
    """The Markdown table and the targets.

    The share of capacity is paired: in each repetition, batch C over the better of that
    repetition's two capacity runs; the median over repetitions is reported (a slow phase of a
    shared machine then hits both sides of a ratio alike).
    """
    median = {name: statistics.median(s["per_second"] for s in runs) for name, runs in samples.items()}
    cpu = {name: statistics.median(s["cpu_us_per_row"] for s in runs) for name, runs in samples.items()}
    reps = len(samples[f"capacity {CONCURRENCIES[0]}"])
    best = [max(samples[f"capacity {c}"][rep]["per_second"] for c in CONCURRENCIES) for rep in range(reps)]
    share = {
        name: statistics.median(runs[rep]["per_second"] / best[rep] for rep in range(reps))
        for name, runs in samples.items()
    }
    lines = [
        "| run | rows/s (median) | CPU µs/row (median) | of the server's capacity (paired median) |",
        "|---|---:|---:|---:|",
    ]
    for name, value in median.items():
        lines.append(f"| {name} | {value:,.0f} | {cpu[name]:,.0f} | {share[name]:.0%} |")
    for c in CONCURRENCIES:
        verdict = "met" if share[f"batch {c}"] >= 0.8 else "missed"
        lines.append(f"\ntarget batch at concurrency {c} >= 80 % of capacity: {share[f'batch {c}']:.0%} ({verdict})")
    if rss is not None:
        verdict = "met" if rss["growth_mb"] < 50 else "missed"
        lines.append(
            f"\nRSS over {rss['rows']:,} lines ({rss['input_mb']:,.0f} MB in, {rss['output_mb']:,.0f} MB out, "
            f"{rss['per_second']:,.0f} rows/s): {rss['rss_baseline_mb']} MB at warm-up, peak {rss['rss_peak_mb']} MB, "
            f"end {rss['rss_end_mb']} MB; growth {rss['growth_mb']} MB (target < 50 MB: {verdict})"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        kind, url, rows, concurrency = argv[1], argv[2], int(argv[3]), int(argv[4])
        print(json.dumps(WORKERS[kind](url, rows, concurrency)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rows, one repetition, a 100,000-line RSS run")
    parser.add_argument("--rows", type=int, help="rows per throughput run")
    parser.add_argument("--reps", type=int, help="repetitions")
    parser.add_argument("--rss-lines", type=int, help="lines of the RSS run (0: skip it)")
    parser.add_argument("--no-save", action="store_true", help="print only, write no JSON")
    args = parser.parse_args(argv)
    cfg = dict(QUICK if args.quick else FULL)
    for key in ("rows", "reps", "rss_lines"):
        if getattr(args, key) is not None:
            cfg[key] = getattr(args, key)
    started = datetime.datetime.now(datetime.UTC)
    load_before = os.getloadavg()
    with Server(sys.executable, 10, SERVER_SECONDS) as server:
        before = server.stats()
        samples = measure(server.url, cfg["rows"], cfg["reps"])
        after = server.stats()
        rss = run_worker("rss", server.url, cfg["rss_lines"], 64) if cfg["rss_lines"] else None
    server_us = (after["cpu"] - before["cpu"]) / max(after["requests"] - before["requests"], 1) * 1e6
    text = report(samples, rss)
    print(text)
    print(f"\nserver CPU per request: {server_us:.0f} µs; load average before: {load_before[0]:.2f}")
    if not args.no_save:
        out = HERE / "results" / f"batch-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
        out.parent.mkdir(exist_ok=True)
        document = {
            "started": started.isoformat(),
            "config": cfg,
            "python": platform.python_version(),
            "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
            "load_before": load_before,
            "load_after": os.getloadavg(),
            "server_cpu_us_per_request": server_us,
            "samples": samples,
            "rss": rss,
        }
        out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        print(f"saved {out.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
