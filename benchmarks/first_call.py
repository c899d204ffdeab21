"""The first call of a process: chatpipe against bare httpx2, over http and https.

Usage (from the repository root, with its venv; https needs trustme, a dev dependency)::

    .venv/bin/python benchmarks/first_call.py [--runs N] [--against REV]

Each measurement is a fresh Python process that imports the library, then makes one chat
request to a loopback fake vendor (started before the clock): bare httpx2 is ``httpx2.post``,
chatpipe is ``Pipeline(...).complete`` (building the pipeline included). Printed: the median of
``--runs`` processes (default 7) for the import plus the first call, and for the first call
alone. Over https the fake's certificate comes from a local authority trusted through
``SSL_CERT_FILE`` (read by both libraries' default TLS context). Byte-compiled modules are
written and used (``PYTHONDONTWRITEBYTECODE`` is unset for the children, after a warm-up run),
as in an installed package.

``--against REV`` also measures chatpipe as of git revision ``REV`` (its ``core`` and
``plugins`` exported to a temporary directory and put first on ``PYTHONPATH``), and runs the
clients interleaved, one process of each in turn with the order rotating, so a change in the
machine's load falls on all of them alike.
"""

from __future__ import annotations

import json
import os
import ssl
import statistics
import subprocess
import sys
import tempfile

CHILD = r"""
import json, sys, time
url, kind = sys.argv[1], sys.argv[2]
body = {"model": "m", "messages": [{"role": "user", "content": "Hi"}]}
started = time.perf_counter()
if kind == "httpx2":
    import httpx2
    imported = time.perf_counter()
    httpx2.post(url + "/chat/completions", json=body, headers={"Authorization": "Bearer sk-bench-0123456789"}).json()
else:
    from chatpipe import Pipeline
    imported = time.perf_counter()
    Pipeline("openai", "m", base_url=url, api_key="sk-bench-0123456789").complete(body["messages"])
done = time.perf_counter()
print(json.dumps({"total_ms": (done - started) * 1e3, "call_ms": (done - imported) * 1e3}))
"""


def measure_interleaved(
    url: str, kinds: dict[str, tuple[str, dict[str, str]]], runs: int
) -> dict[str, dict[str, float]]:
    """Median milliseconds per label of ``kinds`` (label -> (client, env)), processes interleaved."""
    labels = list(kinds)
    results: dict[str, list[dict[str, float]]] = {label: [] for label in labels}
    for turn in range(runs + 1):  # the first turn only writes bytecode
        for label in labels[turn % len(labels) :] + labels[: turn % len(labels)]:
            kind, env = kinds[label]
            out = subprocess.run([sys.executable, "-c", CHILD, url, kind], env=env, capture_output=True, text=True)
            if out.returncode != 0:
                raise SystemExit(f"{label} at {url} failed:\n{out.stderr}")
            if turn:
                results[label].append(json.loads(out.stdout))
    return {
        label: {key: round(statistics.median(r[key] for r in rows), 1) for key in ("total_ms", "call_ms")}
        for label, rows in results.items()
    }


def export(revision: str, into: str) -> str:
    """``PYTHONPATH`` entries for chatpipe's ``core`` and ``plugins/*`` as of ``revision``, exported into ``into``."""
    root = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=True)
    archive = subprocess.run(
        ["git", "-C", root.stdout.strip(), "archive", revision, "core", "plugins"], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", into], input=archive.stdout, check=True)
    plugins = sorted(os.path.join(into, "plugins", name) for name in os.listdir(os.path.join(into, "plugins")))
    return os.pathsep.join([os.path.join(into, "core"), *plugins])


def measure(url: str, kind: str, runs: int, env: dict[str, str]) -> dict[str, float]:
    """Median milliseconds of ``runs`` fresh processes (after one warm-up that writes bytecode)."""
    results = []
    for _ in range(runs + 1):
        out = subprocess.run([sys.executable, "-c", CHILD, url, kind], env=env, capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"{kind} at {url} failed:\n{out.stderr}")
        results.append(json.loads(out.stdout))
    results = results[1:]
    return {key: round(statistics.median(r[key] for r in results), 1) for key in ("total_ms", "call_ms")}


def main() -> None:
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 7
    against = sys.argv[sys.argv.index("--against") + 1] if "--against" in sys.argv else None
    with tempfile.TemporaryDirectory() as old:
        run(runs, against, export(against, old) if against else None)


def run(runs: int, against: str | None, old_path: str | None) -> None:
    """Measure over http, then https, and print the table (``against``: also chatpipe from ``old_path``)."""
    from chatpipe.testing import FakeServer
    from chatpipe.testing.conformance import OpenAISimulator, Reply

    simulator = OpenAISimulator(provider="openai")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    rows: list[tuple[str, str, dict[str, float]]] = []

    def series(scheme: str, url: str, extra: dict[str, str]) -> None:
        if old_path is None:
            for kind in ("httpx2", "chatpipe"):
                rows.append((scheme, kind, measure(url, kind, runs, {**env, **extra})))
            return
        kinds = {
            "httpx2": ("httpx2", {**env, **extra}),
            "chatpipe": ("chatpipe", {**env, **extra}),
            f"@{against}": ("chatpipe", {**env, **extra, "PYTHONPATH": old_path}),
        }
        rows.extend((scheme, label, result) for label, result in measure_interleaved(url, kinds, runs).items())

    with FakeServer() as plain:
        plain.route("POST /v1/chat/completions", lambda _: simulator.reply(Reply(text="hi")))
        series("http", f"{plain.url}/v1", {})
    try:
        import trustme
    except ImportError:
        print("(https skipped: pip install trustme)")
    else:
        ca = trustme.CA()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        with tempfile.NamedTemporaryFile(suffix=".pem") as pem, FakeServer(tls=context) as secure:
            ca.cert_pem.write_to_path(pem.name)
            secure.route("POST /v1/chat/completions", lambda _: simulator.reply(Reply(text="hi")))
            series("https", f"{secure.url}/v1", {"SSL_CERT_FILE": pem.name})
    print(f"{'':6} {'client':12} {'import + first call':>20} {'first call':>11}")
    for scheme, kind, result in rows:
        print(f"{scheme:6} {kind:12} {result['total_ms']:>17.1f} ms {result['call_ms']:>8.1f} ms")
    for scheme in ("http", "https"):
        measured = {kind: result for s, kind, result in rows if s == scheme}
        for kind, result in measured.items():
            if kind != "httpx2" and "httpx2" in measured:
                ratio = result["total_ms"] / measured["httpx2"]["total_ms"]
                print(f"{scheme}: {kind} / httpx2, import + first call = {ratio:.2f}")


if __name__ == "__main__":
    main()
