"""Test helpers for chatpipe and its plugins (also a pytest plugin: ``chatpipe.testing.pytest_plugin``).

* :class:`FakeServer` — a scriptable HTTP server on ``127.0.0.1`` answering queued
  :class:`FakeResponse` values (JSON, text, server-sent events, raw bytes, connection
  resets, cut or stalled streams) and recording every :class:`RecordedRequest`;
* :class:`MockTransport` — the same answers without sockets, for
  ``Pipeline(..., transport=MockTransport())``;
* :class:`AnthropicEvents` — Anthropic Messages replies, streamed or not;
* :class:`RecordingProxy` / :func:`replay_sse` — record a real stream's bytes, replay them;
* :mod:`chatpipe.testing.conformance` — the provider and converter conformance suites
  (imports pytest); :mod:`chatpipe.testing.strategies` — hypothesis strategies for messages
  (imports hypothesis).

Standard library only (plus chatpipe) at import time.
"""

from __future__ import annotations

from .anthropic import AnthropicEvents
from .fake_server import FakeResponse, FakeServer, RecordedRequest, SSEItem
from .mock_transport import MockAsyncStreamResponse, MockStreamResponse, MockTransport
from .recording import RecordingProxy, replay_sse, split_sse

__all__ = [
    "AnthropicEvents",
    "FakeResponse",
    "FakeServer",
    "MockAsyncStreamResponse",
    "MockStreamResponse",
    "MockTransport",
    "RecordedRequest",
    "RecordingProxy",
    "SSEItem",
    "replay_sse",
    "split_sse",
]
