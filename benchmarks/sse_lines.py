"""SSE decoding cost: one very long line (linear, issue 13) and a vendor-like stream of small events.

Usage (from the repository root)::

    .venv/bin/python benchmarks/sse_lines.py                  # this checkout's decoder
    .venv/bin/python benchmarks/sse_lines.py --against 883a070 # and the decoder of an older commit, for comparison

Prints a Markdown table: seconds to decode one ``data:`` line of 8, 16 and 32 MB fed in 64 KiB
chunks (what the socket delivers), and microseconds per event for 20,000 small events fed one
per chunk. Best of 3 runs each; run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHUNK = 64 * 1024
SMALL = b'data: {"choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}\n\n'


def long_line(decoder_class: Any, megabytes: int) -> float:
    piece = b"x" * CHUNK
    decoder = decoder_class()
    start = time.perf_counter()
    decoder.feed(b"data: ")
    for _ in range(megabytes * 1024 * 1024 // CHUNK):
        decoder.feed(piece)
    events = decoder.feed(b"\n\n")
    elapsed = time.perf_counter() - start
    assert len(events) == 1 and len(events[0].data) == megabytes * 1024 * 1024
    return elapsed


def small_events(decoder_class: Any, count: int = 20_000) -> float:
    decoder = decoder_class()
    start = time.perf_counter()
    for _ in range(count):
        decoder.feed(SMALL)
    return (time.perf_counter() - start) / count * 1e6


def old_decoder(revision: str) -> ModuleType:
    """The SSE decoder module of ``revision``, loaded beside this checkout's message classes."""
    source = subprocess.run(
        ["git", "show", f"{revision}:core/chatpipe/http/_sse.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "old_sse.py"
    path.write_text(source.replace("from ._messages import", "from chatpipe.http._messages import"))
    spec = importlib.util.spec_from_file_location("old_sse", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def best(function: Any, *args: Any) -> float:
    return min(function(*args) for _ in range(3))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", help="a git revision whose decoder to measure too")
    args = parser.parse_args()
    from chatpipe.http import SSEDecoder

    decoders: list[tuple[str, Any]] = [("this checkout", SSEDecoder)]
    if args.against:
        decoders.append((args.against, old_decoder(args.against).SSEDecoder))
    print("| decoder | 8 MB line (s) | 16 MB line (s) | 32 MB line (s) | small event (µs) |")
    print("|---|---|---|---|---|")
    for name, decoder in decoders:
        lines = [f"{best(long_line, decoder, mb):.3f}" for mb in (8, 16, 32)]
        print(f"| {name} | " + " | ".join(lines) + f" | {best(small_events, decoder):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
