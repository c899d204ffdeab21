"""The transport: the only part of chatpipe that does network I/O (private package).

:class:`Transport` sends :class:`~chatpipe.http.HttpRequest` objects over pooled
httpx2/httpx clients with timeouts (:class:`Timeouts`), retries (:class:`RetryPolicy`) and SSE
decoding (:class:`StreamResponse` / :class:`AsyncStreamResponse`). Importing this package does
not import the HTTP library; the first request does.
"""

from __future__ import annotations

from ._backend import ENV_VAR, load_backend
from ._client import Transport
from ._policy import Limits, RetryPolicy, Timeouts
from ._response import AsyncStreamResponse, StreamResponse

__all__ = [
    "ENV_VAR",
    "AsyncStreamResponse",
    "Limits",
    "RetryPolicy",
    "StreamResponse",
    "Timeouts",
    "Transport",
    "load_backend",
]
