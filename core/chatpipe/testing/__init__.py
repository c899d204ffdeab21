"""Test helpers for chatpipe and its plugins.

:class:`FakeServer` is a scriptable HTTP server on ``127.0.0.1`` that answers with queued
:class:`FakeResponse` values (JSON, text, server-sent events, raw bytes, connection resets,
cut or stalled streams) and records every :class:`RecordedRequest`. Standard library only.
"""

from __future__ import annotations

from .fake_server import FakeResponse, FakeServer, RecordedRequest, SSEItem

__all__ = ["FakeResponse", "FakeServer", "RecordedRequest", "SSEItem"]
