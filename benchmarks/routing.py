"""A router hop's own cost, and the rate limiter's: a direct Pipeline next to Routers and limited pipelines.

Usage (from the repository root)::

    .venv/bin/python benchmarks/routing.py            # ~30 s on 2 cores
    .venv/bin/python benchmarks/routing.py --quick    # ~5 s, a smoke run
    .venv/bin/python benchmarks/routing.py --profile  # and where a hop's cost goes (+~20 s)

Every variant talks to the same fake vendor (``server.py``, in its own process: it answers
with pre-built bytes, so it neither shares this process's GIL nor adds to its CPU time, as the
in-process ``chatpipe.testing.FakeServer`` would). The variants are

* ``direct``: ``Pipeline("openai", base_url=..., api_key=...)``;
* ``direct again``: a second such pipeline, the control: its "overhead" is the measurement's
  own bias and noise (it should read about 0 %);
* ``fallback``, ``weighted`` (weights 3:1) and ``least-busy``: a ``Router`` over two such
  pipelines, every target healthy, so each call takes exactly one hop;
* ``rpm, in-process`` / ``rpm, Redis``: a direct pipeline with ``limits: {rpm: 10_000_000}``
  (never refused: what is timed is the limiter's own work, a lease taken and given back per
  call), its state in this process or in a Redis server; ``concurrency, in-process`` /
  ``concurrency, Redis``: the same with ``limits: {concurrency: 1000}``. The Redis server is
  started on a free port for the run (``redis_launcher.py``); without a ``redis-server``
  binary the Redis rows are skipped, with a message saying so.

Sync ``complete()`` and async ``acomplete()`` calls are timed in blocks (wall and CPU), and
sync streams likewise; the variants take turns block by block, in an order that rotates every
round, so a slow phase of the machine hits them all alike. Per variant: the median block's
µs per call; against ``direct``: the median over rounds of each round's router/direct block
ratio (a paired comparison), and the µs it adds per call (the median over rounds of each
round's variant − direct block, per call). The Python calls a router hop adds (``sys.setprofile``, as in
``call_counts.py``; the fewest of several calls) do not depend on the machine's load. Prints
a Markdown table and the target "router hop < 5 %" (the fallback router's sync and async
wall and CPU per call), and writes ``benchmarks/results/routing-<UTC timestamp>.json``
(unless ``--no-save``). Bounded: fixed numbers of calls, and the fake vendor stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import datetime
import functools
import json
import os
import platform
import pstats
import random
import statistics
import sys
import time
import timeit
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from call_counts import Counter
from chatpipe import Pipeline
from chatpipe.routing import Router
from chatpipe.state import RedisStore
from redis_launcher import RedisLauncher, RedisMissing
from run import HERE, ROOT, Server, rotate

KEY = "sk-bench"
MESSAGES = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": "Hello! Say something nice."},
]
LOCAL_LIMITS = ("rpm, in-process", "concurrency, in-process")
REDIS_LIMITS = ("rpm, Redis", "concurrency, Redis")
LIMITS = {"rpm": {"rpm": 10_000_000}, "concurrency": {"concurrency": 1000}}
"""Rate limits high enough never to refuse (or wait) in a run: the limiter's cost, not its waits."""
TARGET = 5.0
"""The issue's limit: a router hop costs under this many percent of a direct call."""

FULL = {"warmup": 50, "rounds": 50, "calls": 100, "streams": 5, "chunks": 200, "count_reps": 9}
QUICK = {"warmup": 20, "rounds": 10, "calls": 50, "streams": 2, "chunks": 200, "count_reps": 5}
SERVER_SECONDS = 600.0
"""The fake vendor stops by itself after this long, whatever happens to this process."""


def build(url: str, redis_url: str | None = None) -> tuple[dict[str, Pipeline], list[RedisStore]]:
    """The variants (see the module docs), each with its own pipelines (and so its own connection
    pools), the Redis rows only with ``redis_url``; and the Redis stores they use (to close)."""

    def pipe(**kwargs: Any) -> Pipeline:
        return Pipeline("openai", base_url=url + "/v1", api_key=KEY, **kwargs)

    pipes = {
        "direct": pipe(),
        "direct again": pipe(),
        "fallback": Router([pipe(), pipe()], strategy="fallback"),
        "weighted": Router([pipe(), pipe()], strategy="weighted", weights=[3, 1], rng=random.Random(0)),
        "least-busy": Router([pipe(), pipe()], strategy="least-busy"),
    }
    for name in LOCAL_LIMITS:
        pipes[name] = pipe(limits=LIMITS[name.split(",")[0]])
    stores = []
    if redis_url is not None:
        for name in REDIS_LIMITS:
            stores.append(store := RedisStore(redis_url))
            pipes[name] = pipe(limits=LIMITS[name.split(",")[0]], state=store)
    return pipes, stores


def consume(pipe: Pipeline, chunks: int) -> None:
    """One sync stream, read to the end; fails unless it delivered ``chunks`` content chunks."""
    seen = sum(1 for chunk in pipe.stream(MESSAGES) if chunk.text)
    if seen != chunks:
        raise SystemExit(f"a stream delivered {seen} content chunks, expected {chunks}")


Block = tuple[float, float]
"""Wall and CPU seconds of one block."""


def time_sync(
    pipes: dict[str, Pipeline], rounds: int, per_block: int, op: Callable[[Pipeline], object]
) -> dict[str, list[Block]]:
    """``rounds`` rounds; in each, one block of ``per_block`` ``op`` calls per variant (rotating order)."""
    blocks: dict[str, list[Block]] = {name: [] for name in pipes}
    for n in range(rounds):
        for name in rotate(list(pipes), n):
            pipe = pipes[name]
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(per_block):
                op(pipe)
            blocks[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    return blocks


async def time_async(
    pipes: dict[str, Pipeline], rounds: int, per_block: int, op: Callable[[Pipeline], Awaitable[object]]
) -> dict[str, list[Block]]:
    """Async twin of :func:`time_sync` (one event loop for every variant)."""
    blocks: dict[str, list[Block]] = {name: [] for name in pipes}
    for n in range(rounds):
        for name in rotate(list(pipes), n):
            pipe = pipes[name]
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(per_block):
                await op(pipe)
            blocks[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    return blocks


def summarize(blocks: dict[str, list[Block]], per_block: int) -> dict[str, dict[str, float]]:
    """Per variant: median-block wall/CPU µs per operation and, against direct, the paired
    overhead in % and in µs per operation."""
    base = blocks["direct"]
    out: dict[str, dict[str, float]] = {}
    for name, times in blocks.items():
        entry = {
            "us": statistics.median(w for w, _ in times) / per_block * 1e6,
            "cpu_us": statistics.median(c for _, c in times) / per_block * 1e6,
        }
        if name != "direct":
            entry["wall_pct"] = (
                statistics.median(w / bw for (w, _), (bw, _) in zip(times, base, strict=True)) - 1
            ) * 100
            entry["cpu_pct"] = (
                statistics.median(c / bc for (_, c), (_, bc) in zip(times, base, strict=True)) - 1
            ) * 100
            entry["wall_us_added"] = (
                statistics.median(w - bw for (w, _), (bw, _) in zip(times, base, strict=True)) / per_block * 1e6
            )
            entry["cpu_us_added"] = (
                statistics.median(c - bc for (_, c), (_, bc) in zip(times, base, strict=True)) / per_block * 1e6
            )
        out[name] = entry
    return out


def count_sync(pipes: dict[str, Pipeline], cfg: dict[str, Any]) -> dict[str, dict[str, list[int]]]:
    """Python calls of one ``complete()`` and of one stream, per variant, ``count_reps`` times each."""
    counts: dict[str, dict[str, list[int]]] = {}
    for name, pipe in pipes.items():
        counts[name] = {"complete": [], "stream": []}
        for _ in range(cfg["count_reps"]):
            with Counter() as counter:
                pipe.complete(MESSAGES)
            counts[name]["complete"].append(counter.calls)
        for _ in range(cfg["count_reps"]):
            with Counter() as counter:
                consume(pipe, cfg["chunks"])
            counts[name]["stream"].append(counter.calls)
    return counts


async def count_async(pipes: dict[str, Pipeline], cfg: dict[str, Any]) -> dict[str, list[int]]:
    """Python calls of one ``acomplete()`` per variant, ``count_reps`` times each."""
    counts: dict[str, list[int]] = {}
    for name, pipe in pipes.items():
        counts[name] = []
        for _ in range(cfg["count_reps"]):
            with Counter() as counter:
                await pipe.acomplete(MESSAGES)
            counts[name].append(counter.calls)
    return counts


def measure(pipes: dict[str, Pipeline], cfg: dict[str, Any], stores: list[RedisStore]) -> dict[str, Any]:
    """Warm up every variant, count its calls, then time sync calls, streams and async calls
    (``stores``: the Redis stores the variants use, closed at the end)."""
    rounds, per_block, streams = cfg["rounds"], cfg["calls"], cfg["streams"]
    for pipe in pipes.values():
        for _ in range(cfg["warmup"]):
            pipe.complete(MESSAGES)
        for _ in range(3):
            consume(pipe, cfg["chunks"])
    samples = count_sync(pipes, cfg)
    sync = time_sync(pipes, rounds, per_block, lambda p: p.complete(MESSAGES))
    stream = time_sync(pipes, rounds, streams, lambda p: consume(p, cfg["chunks"]))

    async def run_async() -> dict[str, list[Block]]:
        for pipe in pipes.values():
            for _ in range(cfg["warmup"]):
                await pipe.acomplete(MESSAGES)
        for name, seen in (await count_async(pipes, cfg)).items():
            samples[name]["acomplete"] = seen
        blocks = await time_async(pipes, rounds, per_block, lambda p: p.acomplete(MESSAGES))
        for pipe in pipes.values():
            await pipe.aclose()
        for store in stores:
            await store.aclose()  # its async client belongs to this loop
        return blocks

    async_blocks = asyncio.run(run_async())
    # Some samples carry extra work that is not the path's own: a stream's bytes arriving in more
    # socket reads (~17 calls per read), the event loop's callbacks, a first call's set-up. The
    # fewest is the path itself.
    counts = {name: {op: min(seen) for op, seen in ops.items()} for name, ops in samples.items()}
    return {
        "sync": summarize(sync, per_block),
        "async": summarize(async_blocks, per_block),
        "stream": summarize(stream, streams),
        "calls": counts,
        "call_samples": samples,
        "blocks": {"sync": sync, "async": async_blocks, "stream": stream},
    }


def _cell(entry: dict[str, float], key: str, pct: str) -> str:
    value = f"{entry[key]:,.0f}"
    return f"{value} ({entry[pct]:+.1f} %)" if pct in entry else value


def table(m: dict[str, Any], chunks: int) -> str:
    """The results as a Markdown table; router rows carry their overhead against ``direct``."""
    lines = [
        f"| variant | sync µs/call | sync CPU µs/call | async µs/call | async CPU µs/call "
        f"| stream µs ({chunks} chunks) | stream CPU µs | extra Python calls: complete / acomplete / stream |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    direct = m["calls"]["direct"]
    for name in m["sync"]:
        calls = m["calls"][name]
        if name == "direct":
            extra = f"{direct['complete']} / {direct['acomplete']} / {direct['stream']:,} (the base)"
        else:
            per_chunk = (calls["stream"] - direct["stream"]) / chunks
            extra = (
                f"{calls['complete'] - direct['complete']:+} / {calls['acomplete'] - direct['acomplete']:+} / "
                f"{calls['stream'] - direct['stream']:+,} ({per_chunk:+.2f} per chunk)"
            )
        cells = [
            _cell(m["sync"][name], "us", "wall_pct"),
            _cell(m["sync"][name], "cpu_us", "cpu_pct"),
            _cell(m["async"][name], "us", "wall_pct"),
            _cell(m["async"][name], "cpu_us", "cpu_pct"),
            _cell(m["stream"][name], "us", "wall_pct"),
            _cell(m["stream"][name], "cpu_us", "cpu_pct"),
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {extra} |")
    return "\n".join(lines)


def added_table(m: dict[str, Any], names: tuple[str, ...], chunks: int) -> str:
    """The µs per call each of ``names`` adds to a direct call (the paired median difference)."""
    lines = [
        f"| variant | sync µs added | sync CPU µs added | async µs added | async CPU µs added "
        f"| stream µs added ({chunks} chunks) | stream CPU µs added |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in names:
        cells = [
            f"{m[mode][name][key]:+,.1f}"
            for mode in ("sync", "async", "stream")
            for key in ("wall_us_added", "cpu_us_added")
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def target(m: dict[str, Any]) -> dict[str, Any]:
    """The issue's target on the fallback router: sync and async, wall and CPU, each under TARGET %."""
    figures = {
        f"{mode} {kind}": m[mode]["fallback"][key]
        for mode in ("sync", "async")
        for kind, key in (("wall", "wall_pct"), ("CPU", "cpu_pct"))
    }
    return {"limit_pct": TARGET, "figures": figures, "met": all(v < TARGET for v in figures.values())}


def _us(op: Callable[[], object], n: int) -> float:
    """Best of 5 runs of ``n`` calls of ``op``: µs per call (no network: low noise)."""
    best = min(timeit.repeat(op, number=n, repeat=5))
    return best / n * 1e6


def _stub(url: str) -> Pipeline:
    """A real pipeline whose calls return one canned reply (fetched once) at once."""
    stub = Pipeline("openai", base_url=url + "/v1", api_key=KEY)
    reply = stub.complete(MESSAGES)
    stub.close()
    stub.complete = lambda *args, **kwargs: reply  # type: ignore[method-assign]
    stub._complete_within = lambda *args, **kwargs: reply  # type: ignore[method-assign]
    return stub


def isolate(url: str, n: int) -> dict[str, float]:
    """A hop's own cost without the network: routers over a target that answers at once.

    Both targets are one real pipeline whose calls return a canned reply, so what is timed is
    the router's own code; then the pieces of a fallback hop one by one.
    """
    stub = _stub(url)
    reply = stub.complete(MESSAGES)
    out = {"stub complete()": _us(lambda: stub.complete(MESSAGES), n)}
    routers = {s: Router([stub, stub], strategy=s) for s in ("fallback", "weighted", "least-busy", "latency")}
    for strategy, router in routers.items():
        hop = _us(functools.partial(router.complete, MESSAGES), n)
        out[f"{strategy} router complete() hop"] = hop - out["stub complete()"]
    out["fallback router without cooldown: hop"] = (
        _us(functools.partial(Router([stub, stub], cooldown=None).complete, MESSAGES), n) - out["stub complete()"]
    )
    router = routers["fallback"]
    target = router.targets[0]
    call: dict[str, Any] = {"tools": None, "tool_choice": None, "deadline": None, "params": {}}
    out["_hops(call).next(): the plan"] = _us(lambda: router._hops(call, None).next(), n)
    out["_admit(target): the cooldown check"] = _us(lambda: router._admit(target), n)
    admission = router._admit(target)
    out["_record(target, healthy, None)"] = _us(lambda: router._record(target, admission, None), n)
    out["_answered(): attrs.evolve(reply, route=...)"] = _us(lambda: router._answered(reply, target, 0.0), n)
    return out


def round_trip(url: str, n: int = 1000) -> dict[str, float]:
    """References for the limiter rows, in hot loops (µs per call, best of 5): a redis-py PING
    round trip, sync and async (the floor of shared state), and one store's acquire + release
    (what a limited call asks of its store), in-process and in Redis."""
    import redis
    import redis.asyncio
    from chatpipe.state import LocalStore, Quota

    client = redis.Redis.from_url(url)
    sync_us = _us(client.ping, n)
    client.close()
    quota = Quota(calls=LIMITS["rpm"]["rpm"])
    leases: dict[str, float] = {}
    for name, store in (("in-process", LocalStore()), ("Redis", RedisStore(url))):

        def lease(store: Any = store) -> None:
            store.release("limit:bench", quota, store.acquire("limit:bench", quota, 10, 600.0).lease, None)

        leases[f"{name} acquire + release"] = _us(lease, n)
        store.close()

    async def pings() -> float:
        aclient = redis.asyncio.Redis.from_url(url)
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(n):
                await aclient.ping()
            best = min(best, time.perf_counter() - started)
        await aclient.aclose()
        return best / n * 1e6

    return {"PING sync": sync_us, "PING async": asyncio.run(pings()), **leases}


def _own_times(op: Callable[[], object], calls: int) -> dict[Any, tuple[int, float]]:
    """cProfile of ``calls`` calls of ``op`` (after 50 unprofiled): per function, (calls, own seconds)."""
    for _ in range(50):
        op()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        op()
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    return {func: (ncalls, tottime) for func, (_, ncalls, tottime, _, _) in stats.items()}


def profile(url: str, calls: int) -> str:
    """cProfile of ``calls`` real ``complete()`` calls, direct and through a fallback router: the difference.

    Lists the functions whose call count differs (the calls the hop adds) with the extra own
    time each took per call, next to the own time per call of the same function in a fallback
    router over a target that answers at once (hot caches: no network wait in between).
    """
    pipes, _ = build(url)
    # functools.partial, not lambdas: the same caller in every run, so no frame differs but the hop's.
    direct = _own_times(functools.partial(pipes["direct"].complete, MESSAGES), calls)
    routed = _own_times(functools.partial(pipes["fallback"].complete, MESSAGES), calls)
    stub = _stub(url)
    hot_router = Router([stub, stub])
    hot = _own_times(functools.partial(hot_router.complete, MESSAGES), calls)
    rows = []
    for func, (ncalls, tottime) in routed.items():
        base_calls, base_time = direct.get(func, (0, 0.0))
        extra = ncalls - base_calls
        if extra > 0:
            hot_calls, hot_time = hot.get(func, (0, 0.0))
            hot_us = f"{hot_time / calls * 1e6:.2f}" if hot_calls else "—"
            rows.append((extra / calls, (tottime - base_time) / calls * 1e6, hot_us, func))
    rows.sort(key=lambda row: (-row[0], -row[1]))
    lines = [
        "| extra calls per complete() | extra own µs per call, real calls | own µs per call, hot | function |",
        "|---:|---:|---:|---|",
    ]
    for per_call, us, hot_us, (path, line, name) in rows:
        where = f"{Path(path).name}:{line}({name})" if line else name
        lines.append(f"| {per_call:g} | {us:.2f} | {hot_us} | `{where}` |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and calls (a smoke run)")
    parser.add_argument("--profile", action="store_true", help="also show where a hop's cost goes (timings, cProfile)")
    parser.add_argument("--no-save", action="store_true", help="print only, write no JSON")
    args = parser.parse_args(argv)
    cfg = dict(QUICK if args.quick else FULL)
    started = datetime.datetime.now(datetime.UTC)
    load_before = os.getloadavg()
    with contextlib.ExitStack() as running:
        server = running.enter_context(Server(sys.executable, cfg["chunks"], SERVER_SECONDS))
        try:
            redis_url: str | None = running.enter_context(RedisLauncher()).url
            redis_note = f"redis-server {redis_url} (started for the run)"
        except RedisMissing as missing:
            redis_url, redis_note = None, f"Redis rows skipped: {missing}"
        print(redis_note, file=sys.stderr)
        pipes, stores = build(server.url, redis_url)
        before = server.stats()
        m = measure(pipes, cfg, stores)
        after = server.stats()
        trip = round_trip(redis_url) if redis_url is not None else {}
        isolated = isolate(server.url, 20_000) if args.profile else {}
        profiled = profile(server.url, 2000 if not args.quick else 500) if args.profile else ""
    load_after = os.getloadavg()
    checked = target(m)
    requests = after["requests"] - before["requests"] - 1  # the /__stats request itself
    server_cpu_us = (after["cpu"] - before["cpu"]) / max(requests, 1) * 1e6

    print(table(m, cfg["chunks"]))
    print(
        "\n(µs: the median block's; %: the median over rounds of (variant block / direct block of the "
        "same round) − 1; 'direct again' is the control, a second plain pipeline)\n"
    )
    figures = ", ".join(f"{k} {v:+.1f} %" for k, v in checked["figures"].items())
    print(f"router hop < {TARGET:g} %: {'met' if checked['met'] else 'missed'} (fallback router: {figures})")
    limited = tuple(name for name in (*LOCAL_LIMITS, *REDIS_LIMITS) if name in m["sync"])
    print(
        "\nThe rate limiter's cost per call (µs added to a direct call; median over rounds of the paired difference):\n"
    )
    print(added_table(m, limited, cfg["chunks"]))
    if trip:
        print("\nReferences in hot loops (µs per call, best of 5; a limited call makes one acquire + release):\n")
        print("| what | µs |\n|---|---:|")
        for what, us in trip.items():
            print(f"| {what} | {us:.1f} |")
    print(f"\n{redis_note}")
    print(
        f"\nPython {platform.python_version()}; {os.cpu_count()} CPUs; "
        f"load {load_before[0]:.2f} → {load_after[0]:.2f}; "
        f"{cfg['rounds']} rounds of {cfg['calls']} calls / {cfg['streams']} streams per variant; "
        f"server CPU {server_cpu_us:.0f} µs per request"
    )
    if args.profile:
        print("\nA hop without the network (a target that answers at once; best of 5, µs per call):\n")
        print("| what | µs |\n|---|---:|")
        for what, us in isolated.items():
            print(f"| {what} | {us:.2f} |")
        print("\ncProfile, 'fallback' minus 'direct' (profiling inflates every call's time):\n")
        print(profiled)
    if not args.no_save:
        result = {
            "meta": {
                "started": started.isoformat(timespec="seconds"),
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "loadavg_before": load_before,
                "loadavg_after": load_after,
                "config": cfg,
                "server_cpu_us_per_request": server_cpu_us,
                "redis": redis_note,
                "redis_round_trip_us": trip,
            },
            "results": {k: m[k] for k in ("sync", "async", "stream", "calls", "call_samples")},
            "target": checked,
            "blocks": m["blocks"],
        }
        if args.profile:
            result["profile"] = {"isolated_us": isolated, "cprofile_diff": profiled}
        out = HERE / "results" / f"routing-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
