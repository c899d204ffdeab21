"""Record a real server-sent-event stream's raw bytes to a file, and replay it in tests.

Recording puts a :class:`RecordingProxy` (a :class:`~chatpipe.testing.FakeServer` that
forwards one route upstream) between a pipeline and the vendor; every answer body on that
route is saved byte for byte::

    from chatpipe import Pipeline
    from chatpipe.testing import RecordingProxy, replay_sse

    with RecordingProxy("https://api.openai.com", "POST /v1/chat/completions", "hello.sse") as proxy:
        pipe = Pipeline("openai", model="gpt-4o-mini", base_url=proxy.url + "/v1")
        pipe.stream([{"role": "user", "content": "Hi"}]).collect()

    # later, in a test, without network: through FakeServer or MockTransport
    server.enqueue("POST /v1/chat/completions", replay_sse("hello.sse"))

A recording holds only the response body (never request headers, so never an API key).
Replay sends it again as ``text/event-stream``, one chunk per recorded event, so a parser
sees the events arrive one by one as they did. The proxy forwards with the standard library
(``urllib``) and buffers each answer before passing it on.
"""

from __future__ import annotations

import os
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from ..errors import InvalidRequestError
from .fake_server import FakeResponse, FakeServer, RecordedRequest

__all__ = ["RecordingProxy", "replay_sse", "split_sse"]

_EVENT_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")
# Hop-by-hop headers and those the proxy must recompute; never forwarded in either direction.
_HOP = {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "accept-encoding"}


def split_sse(data: bytes) -> list[bytes]:
    """``data`` cut after each event's terminating blank line (joined again, it is ``data``)."""
    if not isinstance(data, bytes):
        raise InvalidRequestError(f"split_sse needs the raw bytes of a stream, got {type(data).__name__}")
    pieces: list[bytes] = []
    start = 0
    for match in _EVENT_END.finditer(data):
        pieces.append(data[start : match.end()])
        start = match.end()
    if start < len(data):
        pieces.append(data[start:])
    return pieces


def replay_sse(path: str | os.PathLike[str], *, status: int = 200, delay: float = 0.0) -> FakeResponse:
    """A :class:`FakeResponse` that sends the recording at ``path`` again, byte for byte.

    One chunk per recorded event, ``delay`` seconds apart; nothing is added (a recorded
    ``data: [DONE]`` is replayed, none is appended). Serve it with FakeServer or MockTransport.
    """
    file = Path(path)
    if not file.is_file():
        raise InvalidRequestError(f"no SSE recording at {file}; record one with RecordingProxy first")
    return FakeResponse.sse(split_sse(file.read_bytes()), status=status, delay=delay, done=False)


class RecordingProxy:
    """A local server that forwards ``route`` to ``upstream`` and saves each answer body to ``path``.

    ``upstream`` is the vendor's origin (``https://api.example.com``), ``route`` is
    ``"METHOD /path"`` as the pipeline sends it (point the pipeline at :attr:`url` with the
    same path prefix). Each answer overwrites ``path``; :attr:`recordings` keeps all of them.
    Use as a context manager.
    """

    def __init__(self, upstream: str, route: str, path: str | os.PathLike[str], *, timeout: float = 120.0) -> None:
        if not isinstance(upstream, str) or not upstream.startswith(("http://", "https://")):
            raise InvalidRequestError(f"upstream must be an http:// or https:// origin, got {upstream!r}")
        self.upstream = upstream.rstrip("/")
        self.path = Path(path)
        self.timeout = timeout
        self.recordings: list[bytes] = []
        self.server = FakeServer()
        self.server.route(route, self._forward)

    @property
    def url(self) -> str:
        """The proxy's origin, e.g. ``http://127.0.0.1:54321``."""
        return self.server.url

    def _forward(self, request: RecordedRequest) -> FakeResponse:
        headers = {name: value for name, value in request.headers.items() if name not in _HOP}
        outgoing = urllib.request.Request(
            self.upstream + request.path, data=request.body or None, headers=headers, method=request.method
        )
        try:
            with urllib.request.urlopen(outgoing, timeout=self.timeout) as answer:
                status, reply_headers, body = answer.status, dict(answer.headers.items()), answer.read()
        except urllib.error.HTTPError as error:
            status, reply_headers, body = error.code, dict(error.headers.items()), error.read()
        self.recordings.append(body)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_bytes(body)
        kept = {k: v for k, v in reply_headers.items() if k.lower() not in _HOP}
        if "event-stream" in kept.get("Content-Type", kept.get("content-type", "")):
            return FakeResponse.sse(split_sse(body), status=status, headers=kept, done=False)
        return FakeResponse(
            kind="body", status=status, headers=tuple((k.lower(), v) for k, v in kept.items()), body=body
        )

    def close(self) -> None:
        """Stop the proxy (idempotent)."""
        self.server.close()

    def __enter__(self) -> RecordingProxy:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RecordingProxy({self.url} -> {self.upstream}, {len(self.recordings)} recorded)"
