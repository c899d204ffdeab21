"""chatpipe.testing is a pytest plugin registered by the core's pytest11 entry point."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest
from chatpipe.testing import AnthropicEvents, FakeServer, MockTransport


def test_the_entry_point_names_the_plugin_module() -> None:
    (entry,) = [e for e in importlib.metadata.entry_points(group="pytest11") if e.name == "chatpipe"]
    assert entry.value == "chatpipe.testing.pytest_plugin"


def test_the_plugin_is_loaded(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.has_plugin("chatpipe")


def test_fixtures(
    fake_server: FakeServer, mock_transport: MockTransport, anthropic_events: AnthropicEvents, sse_recording: Path
) -> None:
    assert fake_server.url.startswith("http://127.0.0.1:")
    assert mock_transport.requests == []
    assert anthropic_events.blocks == []
    assert sse_recording.parent.is_dir() and not sse_recording.exists()
