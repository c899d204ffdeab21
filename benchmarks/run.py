"""The chatpipe benchmark harness: chatpipe next to bare httpx/httpx2 and other client libraries.

Usage (from the repository root)::

    bash benchmarks/setup.sh                 # once: benchmarks/.venv with openai, litellm, anthropic
    .venv/bin/python benchmarks/run.py       # full run (about 10-15 minutes on 2 cores)
    .venv/bin/python benchmarks/run.py --quick

It starts the fake vendor (``server.py``) in its own process, then runs every measurement in
a fresh subprocess (``workloads.py``), interleaving clients within each repetition (the order
rotates every repetition) and reporting medians. chatpipe, httpx and httpx2 run in the
project's virtualenv; openai, litellm and anthropic in ``benchmarks/.venv`` (skipped when it
is missing). It prints a table, the issue's targets marked met/missed, and writes
``benchmarks/results/<UTC timestamp>.json`` (or ``--out``). The run is bounded by
``--budget-minutes``: when the budget is spent it stops after the current measurement and
reports the repetitions it has. It never affects the test suite.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORKLOADS = HERE / "workloads.py"
SERVER = HERE / "server.py"
BENCH_PYTHON = HERE / ".venv" / "bin" / "python"
# Compiled bytecode for every measured library lives here (as an installed package would have
# it), even where the environment sets PYTHONDONTWRITEBYTECODE or the source tree is read-only.
PYCACHE = HERE / ".pycache"

MAIN_CLIENTS = ("chatpipe", "chatpipe-claude", "httpx2", "httpx2+json", "httpx")
# Clients measured in only some scenarios: bare httpx2 with JSON decoding differs from bare httpx2 only
# when streaming.
ONLY_SCENARIOS = {"httpx2+json": ("stream",)}
ANTHROPIC_ENDPOINT = ("chatpipe-claude", "anthropic")
OTHER_CLIENTS = ("openai", "anthropic", "litellm")
SCENARIOS = ("import", "sync", "async", "stream", "burst", "cli", "chain")
ONLY_CHATPIPE = ("cli", "chain")


def measured(client: str, scenario: str) -> bool:
    """Whether ``client`` is measured in ``scenario``."""
    if scenario in ONLY_CHATPIPE and client != "chatpipe":
        return False
    return scenario in ONLY_SCENARIOS.get(client, (scenario,))


RUN_TIMEOUT = 300.0

FULL = {"warmup": 50, "calls": 1000, "chunks": 2000, "streams": 5, "stream_warmup": 2, "burst": 500, "chain_reps": 200}
QUICK = {"warmup": 20, "calls": 200, "chunks": 2000, "streams": 3, "stream_warmup": 1, "burst": 500, "chain_reps": 50}
# Slow clients make fewer sequential calls so one measurement stays around a few seconds.
SLOW_CALLS = {"litellm": 0.3}


# --- processes ------------------------------------------------------------------------------


class Server:
    """The fake vendor in a child process, stopped when the block exits."""

    def __init__(self, python: str, chunks: int, max_seconds: float) -> None:
        self.args = [python, str(SERVER), "--port", "0", "--chunks", str(chunks), "--max-seconds", str(max_seconds)]
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().split()
        if len(line) != 2 or line[0] != "READY":
            self.process.kill()
            raise SystemExit(f"the benchmark server did not start (said {line!r})")
        self.url = f"http://127.0.0.1:{line[1]}"
        return self

    def stats(self) -> dict[str, float]:
        """The server's CPU seconds and request count so far."""
        with urllib.request.urlopen(self.url + "/__stats", timeout=10) as response:
            data: dict[str, float] = json.loads(response.read())
            return data

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def python_for(client: str) -> str | None:
    """The interpreter a client runs under (None when its environment is missing)."""
    if client in MAIN_CLIENTS:
        return sys.executable
    return str(BENCH_PYTHON) if BENCH_PYTHON.exists() else None


def run_worker(python: str, client: str, scenario: str, cfg: dict[str, Any]) -> dict[str, Any]:
    """One measurement in a fresh process; its JSON result, or ``{"error": ...}``."""
    env = dict(os.environ, LITELLM_LOCAL_MODEL_COST_MAP="True", PYTHONPYCACHEPREFIX=str(PYCACHE))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("CHATPIPE_HTTP_BACKEND", None)
    try:
        done = subprocess.run(
            [python, str(WORKLOADS), client, scenario, json.dumps(cfg)],
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            env=env,
            cwd=str(HERE),
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {RUN_TIMEOUT:.0f}s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"error": f"exit {done.returncode}: {tail[:300]}"}
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except ValueError:
        return {"error": f"unreadable output: {lines[-1][:200]}"}
    return result


def wall_ms(args: list[str]) -> float:
    """Wall time of one process run, in milliseconds."""
    env = dict(os.environ, PYTHONPYCACHEPREFIX=str(PYCACHE))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.perf_counter()
    subprocess.run(args, capture_output=True, timeout=60, cwd=str(HERE), check=False, env=env)
    return (time.perf_counter() - start) * 1e3


def run_cli_wall(python: str) -> dict[str, Any]:
    """``chatpipe --help`` as a user runs it (console script) and a bare interpreter start, in ms."""
    script = Path(python).with_name("chatpipe")
    if not script.exists():
        return {"error": f"no console script at {script}"}
    return {"help_wall_ms": wall_ms([str(script), "--help"]), "python_start_ms": wall_ms([python, "-c", "pass"])}


# --- the run --------------------------------------------------------------------------------


def rotate(items: list[str], by: int) -> list[str]:
    """``items`` rotated left by ``by`` (so every client takes every position in turn)."""
    if not items:
        return items
    by %= len(items)
    return items[by:] + items[:by]


def measure(args: argparse.Namespace, cfg: dict[str, Any], clients: list[str], scenarios: list[str]) -> dict[str, Any]:
    """Run every (repetition, scenario, client) measurement; the raw samples and metadata."""
    deadline = time.monotonic() + args.budget_minutes * 60
    samples: list[dict[str, Any]] = []
    skipped = {c: "benchmarks/.venv is missing: run bash benchmarks/setup.sh" for c in clients if not python_for(c)}
    active = [c for c in clients if c not in skipped]
    completed_reps = 0
    stopped_early = False
    with Server(sys.executable, cfg["chunks"], args.budget_minutes * 60 + 600) as server:
        # Warm-up (discarded): compiles every client's bytecode into PYCACHE and fills the OS file cache.
        for client in active:
            python = python_for(client)
            assert python is not None
            for scenario in ("import", "cli") if client == "chatpipe" else ("import",):
                run_worker(python, client, scenario, dict(cfg, url=server.url))
        if "cli" in scenarios and "chatpipe" in active:
            run_cli_wall(sys.executable)
        print("warm-up done; measuring", flush=True)
        for rep in range(args.reps):
            for scenario in scenarios:
                who = [c for c in active if measured(c, scenario)]
                for client in rotate(who, rep):
                    if time.monotonic() > deadline:
                        stopped_early = True
                        break
                    python = python_for(client)
                    assert python is not None
                    run_cfg = dict(cfg, url=server.url)
                    if client in SLOW_CALLS and scenario in ("sync", "async"):
                        run_cfg["calls"] = max(20, int(cfg["calls"] * SLOW_CALLS[client]))
                    before = server.stats()
                    result = run_worker(python, client, scenario, run_cfg)
                    after = server.stats()
                    if scenario == "cli" and "error" not in result:
                        result.update(run_cli_wall(python))
                    served = after["requests"] - before["requests"] - 1  # the stats request itself
                    if served > 0:
                        result["server_cpu_us_per_request"] = (after["cpu"] - before["cpu"]) / served * 1e6
                    samples.append({"rep": rep, "scenario": scenario, "client": client, **result})
                    mark = "!" if "error" in result else "."
                    print(mark, end="", flush=True)
                if stopped_early:
                    break
            if stopped_early:
                break
            completed_reps += 1
            print(f" rep {rep + 1}/{args.reps} done", flush=True)
    versions: dict[str, Any] = {}
    for python in {p for p in (python_for(c) for c in active) if p}:
        versions.update(run_worker(python, "chatpipe", "versions", {}).get("versions", {}))
    return {
        "samples": samples,
        "skipped": skipped,
        "completed_reps": completed_reps,
        "stopped_early": stopped_early,
        "versions": versions,
    }


def medians(samples: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Median of every numeric metric per client and scenario (errors counted, lists kept from the last run)."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for sample in samples:
        grouped.setdefault((sample["client"], sample["scenario"]), []).append(sample)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for (client, scenario), runs in grouped.items():
        good = [r for r in runs if "error" not in r]
        entry: dict[str, Any] = {"runs": len(good)}
        errors = [r["error"] for r in runs if "error" in r]
        if errors:
            entry["errors"] = errors
        for key in sorted({k for r in good for k in r}):
            values = [r[key] for r in good if key in r]
            if key in ("rep", "scenario", "client"):
                continue
            if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                entry[key] = statistics.median(values)
            else:
                entry[key] = values[-1]
        out.setdefault(client, {})[scenario] = entry
    return out


# --- report ---------------------------------------------------------------------------------


def _get(m: dict[str, Any], client: str, scenario: str, key: str) -> float | None:
    value = m.get(client, {}).get(scenario, {}).get(key)
    return float(value) if isinstance(value, (int, float)) else None


def _fmt(value: float | None, spec: str, ratio: float | None = None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = format(value, spec) + unit
    return f"{text} ({ratio:.2f}×)" if ratio is not None else text


def _ratio(value: float | None, base: float | None) -> float | None:
    return value / base if value is not None and base else None


def _line_floor(m: dict[str, Any]) -> float | None:
    """Bare line iteration's chunks/s (the better of httpx and httpx2), None when neither streamed."""
    return max((_get(m, c, "stream", "chunks_per_s") or 0.0) for c in ("httpx", "httpx2")) or None


def table(m: dict[str, Any], clients: list[str]) -> str:
    """The results as a Markdown table (ratios against bare httpx2; streaming against bare line
    iteration, best of httpx and httpx2, and against httpx2 line iteration with JSON decoding)."""
    floor = "httpx2"
    stream_floor = _line_floor(m)
    json_floor = _get(m, "httpx2+json", "stream", "chunks_per_s")
    head = (
        "| client | import + build | RSS after import | sync µs/call (× httpx2) | sync CPU µs/call "
        "| async µs/call (× httpx2) | async CPU µs/call | stream chunks/s (× bare lines) | stream × httpx2+json "
        "| 500 async: cold wall | warm wall (× httpx2) | warm CPU | peak RSS (× httpx2) |"
    )
    rows = [head, "|---|" + "---:|" * 12]
    for c in clients:
        if c not in m:
            continue
        sync = _get(m, c, "sync", "us_per_call")
        asyn = _get(m, c, "async", "us_per_call")
        stream = _get(m, c, "stream", "chunks_per_s")
        warm = _get(m, c, "burst", "warm_wall_s")
        peak = _get(m, c, "burst", "peak_rss_mb")
        name = c + (" (Anthropic endpoint)" if c in ANTHROPIC_ENDPOINT else "")
        rows.append(
            "| "
            + " | ".join(
                [
                    name,
                    _fmt(_get(m, c, "import", "import_ms"), ".0f", unit=" ms"),
                    _fmt(_get(m, c, "import", "rss_mb"), ".1f", unit=" MB"),
                    _fmt(sync, ",.0f", _ratio(sync, _get(m, floor, "sync", "us_per_call"))),
                    _fmt(_get(m, c, "sync", "cpu_us_per_call"), ",.0f"),
                    _fmt(asyn, ",.0f", _ratio(asyn, _get(m, floor, "async", "us_per_call"))),
                    _fmt(_get(m, c, "async", "cpu_us_per_call"), ",.0f"),
                    _fmt(stream, ",.0f", _ratio(stream, stream_floor)),
                    _fmt(_ratio(stream, json_floor), ".2f", unit="×"),
                    _fmt(_get(m, c, "burst", "cold_wall_s"), ".2f", unit=" s"),
                    _fmt(warm, ".2f", _ratio(warm, _get(m, floor, "burst", "warm_wall_s")), " s"),
                    _fmt(_get(m, c, "burst", "warm_cpu_s"), ".2f", unit=" s"),
                    _fmt(peak, ".1f", _ratio(peak, _get(m, floor, "burst", "peak_rss_mb")), " MB"),
                ]
            )
            + " |"
        )
    return "\n".join(rows)


def targets(m: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each with the measured value and met/missed (None when not measured)."""

    def check(
        name: str, value: float | None, limit: float, *, at_least: bool = False, unit: str = ""
    ) -> dict[str, Any]:
        met = None if value is None else (value >= limit if at_least else value <= limit)
        return {"target": name, "value": value, "limit": limit, "unit": unit, "met": met}

    stream_floor = _get(m, "httpx2+json", "stream", "chunks_per_s")
    cli = m.get("chatpipe", {}).get("cli", {})
    forbidden = cli.get("forbidden_modules")
    out = [
        check(
            "import chatpipe + build a pipeline (1 provider, 1 converter)",
            _get(m, "chatpipe", "import", "import_ms"),
            80.0,
            unit="ms",
        ),
        {
            "target": "chatpipe --help imports no provider and no HTTP library",
            "value": forbidden,
            "limit": [],
            "unit": "",
            "met": None if forbidden is None else not forbidden,
        },
        check(
            "sync per-call time vs bare httpx2",
            _ratio(_get(m, "chatpipe", "sync", "us_per_call"), _get(m, "httpx2", "sync", "us_per_call")),
            1.15,
            unit="×",
        ),
        check(
            "async per-call time vs bare httpx2",
            _ratio(_get(m, "chatpipe", "async", "us_per_call"), _get(m, "httpx2", "async", "us_per_call")),
            1.15,
            unit="×",
        ),
        check(
            "streaming chunks/s vs bare httpx2 line iteration with JSON decoding (httpx2+json)",
            _ratio(_get(m, "chatpipe", "stream", "chunks_per_s"), stream_floor),
            1.0,
            at_least=True,
            unit="×",
        ),
        check(
            "500 concurrent async calls, warm wall vs bare httpx2",
            _ratio(_get(m, "chatpipe", "burst", "warm_wall_s"), _get(m, "httpx2", "burst", "warm_wall_s")),
            1.2,
            unit="×",
        ),
        check(
            "500 concurrent async calls, peak RSS vs bare httpx2",
            _ratio(_get(m, "chatpipe", "burst", "peak_rss_mb"), _get(m, "httpx2", "burst", "peak_rss_mb")),
            1.2,
            unit="×",
        ),
        check(
            "converter chain on a 200-message conversation", _get(m, "chatpipe", "chain", "chain_ms"), 1.0, unit="ms"
        ),
    ]
    return out


def render_targets(items: list[dict[str, Any]]) -> str:
    """The targets as a Markdown table."""
    rows = ["| target | limit | measured | |", "|---|---:|---:|---|"]
    for t in items:
        value = t["value"]
        if isinstance(value, float):
            shown = f"{value:.2f} {t['unit']}".strip()
        elif isinstance(value, list):
            shown = ", ".join(value) or "none imported"
        else:
            shown = "not measured"
        limit = t["limit"]
        limit_text = (
            f"{'≥' if t['target'].startswith('streaming') else '≤'} {limit:g} {t['unit']}".strip()
            if isinstance(limit, float)
            else "none"
        )
        verdict = {True: "**met**", False: "**missed**", None: "—"}[t["met"]]
        rows.append(f"| {t['target']} | {limit_text} | {shown} | {verdict} |")
    return "\n".join(rows)


def extras(m: dict[str, Any]) -> str:
    """Secondary figures: the CLI, the converter chain, and the server-bound check."""
    lines = []
    cli = m.get("chatpipe", {}).get("cli", {})
    if cli:
        lines.append(
            f"* `chatpipe --help`: {_fmt(_get(m, 'chatpipe', 'cli', 'help_wall_ms'), '.0f')} ms as a process "
            f"(bare `python -c pass`: {_fmt(_get(m, 'chatpipe', 'cli', 'python_start_ms'), '.0f')} ms); "
            f"{_fmt(_get(m, 'chatpipe', 'cli', 'help_ms'), '.1f')} ms in-process; provider/HTTP modules imported: "
            f"{', '.join(cli.get('forbidden_modules') or []) or 'none'} (plugin packages imported for their "
            f"commands: {', '.join(cli.get('plugin_modules') or []) or 'none'})"
        )
    chain = m.get("chatpipe", {}).get("chain", {})
    if chain:
        lines.append(
            f"* converter chain {chain.get('converters')} over {chain.get('messages')} messages: "
            f"{_fmt(_get(m, 'chatpipe', 'chain', 'chain_ms'), '.3f')} ms; whole request build (dicts → models → "
            f"chain → body): {_fmt(_get(m, 'chatpipe', 'chain', 'build_ms'), '.3f')} ms"
        )
    server = _get(m, "httpx2", "sync", "server_cpu_us_per_request")
    client = _get(m, "httpx2", "sync", "us_per_call")
    if server is not None and client:
        lines.append(
            f"* server-bound check: the fake server spends {server:.0f} µs of CPU per request while bare httpx2 "
            f"takes {client:.0f} µs per call ({server / client:.0%} of it, on its own core): the clients, not the "
            "server, set the pace"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; exit status 0 unless nothing could be measured."""
    parser = argparse.ArgumentParser(description="chatpipe benchmark harness (see benchmarks/README.md)")
    parser.add_argument("--reps", type=int, default=5, help="interleaved repetitions (medians are reported)")
    parser.add_argument("--quick", action="store_true", help="1 repetition, fewer calls (a smoke run)")
    parser.add_argument("--clients", default=",".join(MAIN_CLIENTS + OTHER_CLIENTS))
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--budget-minutes", type=float, default=30.0, help="stop after this much time")
    parser.add_argument("--out", type=Path, default=None, help="JSON result path (default benchmarks/results/)")
    parser.add_argument("--no-save", action="store_true", help="print only, write no JSON")
    args = parser.parse_args(argv)
    cfg = dict(QUICK if args.quick else FULL)
    if args.quick:
        args.reps = 1
    clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [c for c in clients if c not in MAIN_CLIENTS + OTHER_CLIENTS] + [
        s for s in scenarios if s not in SCENARIOS
    ]
    if unknown:
        parser.error(f"unknown client or scenario: {', '.join(unknown)}")
    started = datetime.datetime.now(datetime.UTC)
    load_before = os.getloadavg()
    run = measure(args, cfg, clients, scenarios)
    m = medians(run["samples"])
    checked = targets(m)
    result = {
        "meta": {
            "started": started.isoformat(timespec="seconds"),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "loadavg_before": load_before,
            "loadavg_after": os.getloadavg(),
            "reps_requested": args.reps,
            "reps_completed": run["completed_reps"],
            "stopped_early": run["stopped_early"],
            "config": cfg,
            "versions": run["versions"],
            "skipped": run["skipped"],
        },
        "medians": m,
        "targets": checked,
        "samples": run["samples"],
    }
    print()
    print(table(m, clients))
    print()
    print(render_targets(checked))
    print()
    print(extras(m))
    versions = ", ".join(f"{k} {v}" for k, v in sorted(run["versions"].items()))
    print(
        f"\n{versions}; Python {platform.python_version()}; {os.cpu_count()} CPUs; "
        f"load {load_before[0]:.2f} → {os.getloadavg()[0]:.2f}; {run['completed_reps']} repetition(s)"
    )
    for client, why in run["skipped"].items():
        print(f"skipped {client}: {why}")
    for client, scenarios_done in m.items():
        for scenario, entry in scenarios_done.items():
            for error in entry.get("errors", []):
                print(f"error {client}/{scenario}: {error}")
    if not args.no_save:
        out = args.out or HERE / "results" / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0 if run["samples"] else 1


if __name__ == "__main__":
    sys.exit(main())
