"""The first call of a process: chatpipe against bare httpx2, over http and https.

Usage (from the repository root, with its venv; https needs trustme, a dev dependency)::

    .venv/bin/python benchmarks/first_call.py [--runs N]

Each measurement is a fresh Python process that imports the library, then makes one chat
request to a loopback fake vendor (started before the clock): bare httpx2 is ``httpx2.post``,
chatpipe is ``Pipeline(...).complete`` (building the pipeline included). Printed: the median of
``--runs`` processes (default 7) for the import plus the first call, and for the first call
alone. Over https the fake's certificate comes from a local authority trusted through
``SSL_CERT_FILE`` (read by both libraries' default TLS context). Byte-compiled modules are
written and used (``PYTHONDONTWRITEBYTECODE`` is unset for the children, after a warm-up run),
as in an installed package.
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
    from chatpipe.testing import FakeServer
    from chatpipe.testing.conformance import OpenAISimulator, Reply

    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 7
    simulator = OpenAISimulator(provider="openai")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    rows: list[tuple[str, str, dict[str, float]]] = []
    with FakeServer() as plain:
        plain.route("POST /v1/chat/completions", lambda _: simulator.reply(Reply(text="hi")))
        for kind in ("httpx2", "chatpipe"):
            rows.append(("http", kind, measure(f"{plain.url}/v1", kind, runs, env)))
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
            for kind in ("httpx2", "chatpipe"):
                rows.append(
                    ("https", kind, measure(f"{secure.url}/v1", kind, runs, {**env, "SSL_CERT_FILE": pem.name}))
                )
    print(f"{'':6} {'client':9} {'import + first call':>20} {'first call':>11}")
    for scheme, kind, result in rows:
        print(f"{scheme:6} {kind:9} {result['total_ms']:>17.1f} ms {result['call_ms']:>8.1f} ms")
    for scheme in ("http", "https"):
        pair = {kind: result for s, kind, result in rows if s == scheme}
        if len(pair) == 2:
            ratio = pair["chatpipe"]["total_ms"] / pair["httpx2"]["total_ms"]
            print(f"{scheme}: chatpipe / httpx2, import + first call = {ratio:.2f}")


if __name__ == "__main__":
    main()
