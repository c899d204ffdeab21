"""A fast fake chat vendor for benchmarks: a minimal asyncio HTTP/1.1 server (standard library only).

Every answer is pre-built bytes, so the server costs a few tens of microseconds of CPU per
request and is never what a client benchmark measures (``run.py`` checks this: it reports the
server's CPU per call next to each client's). Endpoints (any prefix, e.g. ``/v1``):

* ``POST .../chat/completions`` — OpenAI style. A body containing ``"stream": true`` gets an SSE
  stream of ``--chunks`` content chunks (plus a role chunk, a finish chunk, a usage chunk and
  ``data: [DONE]``), sent with chunked transfer encoding, one HTTP chunk per event as vendors
  flush them; otherwise one JSON completion.
* ``POST .../messages`` — Anthropic style: ``message_start``, ``content_block_start``,
  ``--chunks`` ``content_block_delta`` events, ``content_block_stop``, ``message_delta``,
  ``message_stop``; or one JSON message.
* ``GET .../models`` — a one-model list.
* ``GET /__stats`` — ``{"cpu": <server process CPU seconds>, "requests": <count>}``.

Run: ``python benchmarks/server.py [--port 0] [--chunks 2000]``; it prints ``READY <port>`` once
listening and serves until killed (or ``--max-seconds`` elapse, so it never outlives a run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time

MODEL = "bench-model"


def _response(status: str, content_type: str, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n"
        "x-request-id: req_bench\r\n\r\n"
    )
    return head.encode("ascii") + body


def _chunked(content_type: str, events: list[bytes]) -> bytes:
    head = (
        f"HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\n"
        "cache-control: no-cache\r\nx-request-id: req_bench\r\n\r\n"
    ).encode("ascii")
    parts = [head]
    for event in events:
        parts.append(b"%x\r\n%s\r\n" % (len(event), event))
    parts.append(b"0\r\n\r\n")
    return b"".join(parts)


def _sse(data: object, event: str | None = None) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    prefix = f"event: {event}\n" if event else ""
    return f"{prefix}data: {text}\n\n".encode()


def openai_json() -> bytes:
    """A typical non-streaming chat completion."""
    body = {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": MODEL,
        "system_fingerprint": "fp_bench",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello! How can I help you today?", "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 19, "completion_tokens": 9, "total_tokens": 28},
    }
    return _response("200 OK", "application/json", json.dumps(body).encode())


def openai_stream(chunks: int) -> bytes:
    """An OpenAI chat-completion stream with ``chunks`` content chunks."""
    base = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": MODEL,
        "system_fingerprint": "fp_bench",
    }

    def chunk(delta: dict[str, object], finish: str | None = None) -> bytes:
        return _sse({**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]})

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": f"w{i} "}) for i in range(chunks)]
    events.append(chunk({}, "stop"))
    events.append(
        _sse(
            {
                **base,
                "choices": [],
                "usage": {"prompt_tokens": 19, "completion_tokens": chunks, "total_tokens": 19 + chunks},
            }
        )
    )
    events.append(_sse("[DONE]"))
    return _chunked("text/event-stream", events)


def anthropic_json() -> bytes:
    """A typical non-streaming Anthropic message."""
    body = {
        "id": "msg_bench",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [{"type": "text", "text": "Hello! How can I help you today?"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 19, "output_tokens": 9},
    }
    return _response("200 OK", "application/json", json.dumps(body).encode())


def anthropic_stream(chunks: int) -> bytes:
    """An Anthropic messages stream with ``chunks`` text deltas."""
    message: dict[str, object] = {
        "id": "msg_bench",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 19, "output_tokens": 1},
    }
    events = [
        _sse({"type": "message_start", "message": message}, "message_start"),
        _sse(
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
            "content_block_start",
        ),
    ]
    events += [
        _sse(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": f"w{i} "}},
            "content_block_delta",
        )
        for i in range(chunks)
    ]
    events += [
        _sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
        _sse(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": chunks},
            },
            "message_delta",
        ),
        _sse({"type": "message_stop"}, "message_stop"),
    ]
    return _chunked("text/event-stream", events)


def models_json() -> bytes:
    """A model list with one model."""
    body = {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "bench"}]}
    return _response("200 OK", "application/json", json.dumps(body).encode())


NOT_FOUND = _response("404 Not Found", "application/json", b'{"error":{"message":"no such route","type":"bench"}}')
BAD_REQUEST = _response("400 Bad Request", "text/plain", b"malformed request")


class Answers:
    """The pre-built responses, by route and streaming flag."""

    def __init__(self, chunks: int) -> None:
        self.chat = openai_json()
        self.chat_stream = openai_stream(chunks)
        self.messages = anthropic_json()
        self.messages_stream = anthropic_stream(chunks)
        self.models = models_json()
        self.requests = 0

    def answer(self, method: bytes, path: bytes, body: bytes) -> bytes:
        """The bytes to send for one request."""
        self.requests += 1
        path = path.split(b"?", 1)[0]
        stream = b'"stream":true' in body or b'"stream": true' in body
        if path.endswith(b"/chat/completions"):
            return self.chat_stream if stream else self.chat
        if path.endswith(b"/messages"):
            return self.messages_stream if stream else self.messages
        if path.endswith(b"/models"):
            return self.models
        if path == b"/__stats":
            stats = {"cpu": time.process_time(), "requests": self.requests}
            return _response("200 OK", "application/json", json.dumps(stats).encode())
        return NOT_FOUND


class HttpProtocol(asyncio.Protocol):
    """HTTP/1.1 with keep-alive; request bodies by content-length or chunked encoding."""

    def __init__(self, answers: Answers) -> None:
        self.answers = answers
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            lines = head.split(b"\r\n")
            try:
                method, path, _ = lines[0].split(b" ", 2)
            except ValueError:
                self._fail()
                return
            length = 0
            chunked = close = False
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value.strip() or b"0")
                elif name == b"transfer-encoding" and b"chunked" in value.lower():
                    chunked = True
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            start = end + 4
            if chunked:
                parsed = _dechunk(self.buffer, start)
                if parsed is None:
                    return
                body, consumed = parsed
            else:
                if len(self.buffer) - start < length:
                    return
                body, consumed = self.buffer[start : start + length], start + length
            self.buffer = self.buffer[consumed:]
            self.transport.write(self.answers.answer(method, path, body))
            if close:
                self.transport.close()
                self.transport = None

    def _fail(self) -> None:
        if self.transport is not None:
            self.transport.write(BAD_REQUEST)
            self.transport.close()
            self.transport = None

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


def _dechunk(buffer: bytes, start: int) -> tuple[bytes, int] | None:
    """A chunked body starting at ``start``: (body, end offset), or None when incomplete."""
    parts: list[bytes] = []
    pos = start
    while True:
        line_end = buffer.find(b"\r\n", pos)
        if line_end < 0:
            return None
        size = int(buffer[pos:line_end].split(b";", 1)[0], 16)
        pos = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n", pos)
            return (b"".join(parts), trailer_end + 2) if trailer_end >= 0 else None
        if len(buffer) < pos + size + 2:
            return None
        parts.append(buffer[pos : pos + size])
        pos += size + 2


async def serve(port: int, chunks: int, max_seconds: float) -> None:
    """Listen on 127.0.0.1:``port`` and print ``READY <port>``; stop after ``max_seconds``."""
    answers = Answers(chunks)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: HttpProtocol(answers), "127.0.0.1", port, backlog=4096, reuse_address=True
    )
    actual = server.sockets[0].getsockname()[1]
    print(f"READY {actual}", flush=True)
    async with server:
        await asyncio.sleep(max_seconds)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--max-seconds", type=float, default=3600.0)
    args = parser.parse_args(argv)
    if sys.platform != "win32":
        try:
            import resource

            _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
        except (ImportError, ValueError, OSError):
            pass
    try:
        asyncio.run(serve(args.port, args.chunks, args.max_seconds))
    except KeyboardInterrupt:
        pass
    os._exit(0)


if __name__ == "__main__":
    main()
