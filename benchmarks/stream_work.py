"""A streamed chunk's own work, without the network: chatpipe next to bare httpx2's line iteration.

Usage (from the repository root, or any checkout's, with its venv)::

    .venv/bin/python benchmarks/stream_work.py [--rounds 30]

Feeds the fake vendor's 2,000-chunk OpenAI stream (``server.openai_stream``, one event per
HTTP chunk as the server sends it) from memory, so the HTTP stack's own per-chunk cost — the
same for every client — is left out. Prints µs per chunk, best of ``--rounds`` interleaved
rounds, for: the SSE decoder alone; decoder + ``OpenAIStreamParser``; the whole chatpipe path
(decoder, parser, accumulator, the transport's and the stream's generator steps, the reply
assembled at the end); and bare httpx2's text and line decoders plus ``json.loads`` of every
``data:`` line (what ``httpx2+json`` does in ``run.py`` on top of the same HTTP stack).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import server
from chatpipe._accumulate import StreamAccumulator
from chatpipe._transport._deadline import KEEP_ALIVE_EVENTS
from chatpipe.http import SSEDecoder, SSEEvent
from chatpipe.openai_compat._stream import OpenAIStreamParser
from httpx2._decoders import LineDecoder, TextDecoder

CHUNKS = 2000


def http_chunks() -> list[bytes]:
    """The stream's body, one item per HTTP chunk (the chunked transfer encoding undone)."""
    rest = server.openai_stream(CHUNKS).split(b"\r\n\r\n", 1)[1]
    chunks = []
    while True:
        size, rest = rest.split(b"\r\n", 1)
        length = int(size, 16)
        if not length:
            return chunks
        chunks.append(rest[:length])
        rest = rest[length + 2 :]


BODY = http_chunks()


def source() -> Iterator[bytes]:
    yield from BODY


def parser() -> OpenAIStreamParser:
    def fail(*args: object) -> Exception:
        raise AssertionError(args)

    return OpenAIStreamParser(make_error=fail, make_protocol_error=fail)  # type: ignore[arg-type]


def sse_only() -> None:
    feed = SSEDecoder(1 << 24).feed
    for chunk in source():
        feed(chunk)


def sse_and_parser() -> None:
    feed, parse = SSEDecoder(1 << 24).feed, parser().feed
    for chunk in source():
        for event in feed(chunk):
            parse(event)


def chatpipe() -> None:
    decoder, stream_parser, accumulator = SSEDecoder(1 << 24), parser(), StreamAccumulator(provider="bench")

    def events() -> Iterator[SSEEvent]:  # the transport's loop (its deadline step is a clock read)
        for chunk in source():
            batch = decoder.feed(chunk)
            if batch:
                yield from batch
                if batch[-1].event not in KEEP_ALIVE_EVENTS:
                    time.monotonic()

    def chunks() -> Iterator[object]:  # the stream's loop
        add = accumulator.add
        for event in events():
            for chunk in stream_parser.feed(event):
                add(chunk)
                yield chunk
            if stream_parser.done:
                break
        accumulator.response()

    count = sum(1 for chunk in chunks() if chunk.text)  # type: ignore[attr-defined]
    assert count == CHUNKS, count


def bare_httpx2_json() -> None:
    def text() -> Iterator[str]:
        decoder = TextDecoder("utf-8")
        for chunk in source():
            yield decoder.decode(chunk)

    def lines() -> Iterator[str]:
        decoder = LineDecoder()
        for piece in text():
            yield from decoder.decode(piece)

    loads = json.loads
    for line in lines():
        if line.startswith("data: ") and line != "data: [DONE]":
            loads(line[6:])


WORKLOADS: dict[str, Callable[[], None]] = {
    "SSE decoder": sse_only,
    "decoder + parser": sse_and_parser,
    "chatpipe, whole path": chatpipe,
    "bare httpx2 lines + json.loads": bare_httpx2_json,
}


def main() -> int:
    parser_ = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser_.add_argument("--rounds", type=int, default=30)
    args = parser_.parse_args()
    best = dict.fromkeys(WORKLOADS, float("inf"))
    for _ in range(args.rounds):
        for name, workload in WORKLOADS.items():
            start = time.perf_counter()
            workload()
            best[name] = min(best[name], (time.perf_counter() - start) / CHUNKS * 1e6)
    print("| work per chunk | µs |")
    print("|---|---:|")
    for name, value in best.items():
        print(f"| {name} | {value:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
