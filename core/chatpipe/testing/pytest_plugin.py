"""The ``chatpipe`` pytest plugin: fixtures for testing chatpipe plugins and applications.

Installed with chatpipe (entry point ``pytest11``), so any project with chatpipe installed
gets these fixtures without a conftest:

* ``fake_server`` — a :class:`~chatpipe.testing.FakeServer` on 127.0.0.1, closed after the test;
* ``mock_transport`` — a fresh :class:`~chatpipe.testing.MockTransport` (no sockets) for
  ``Pipeline(..., transport=mock_transport)``;
* ``anthropic_events`` — a fresh :class:`~chatpipe.testing.AnthropicEvents` reply builder;
* ``sse_recording`` — a path in the test's temporary directory for a
  :class:`~chatpipe.testing.RecordingProxy` recording.

The conformance suites (:mod:`chatpipe.testing.conformance`) are classes to subclass, not
fixtures; their assertions are rewritten by pytest for readable failures. Importing this
plugin imports nothing heavy: each fixture imports what it needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .anthropic import AnthropicEvents
    from .fake_server import FakeServer
    from .mock_transport import MockTransport

pytest.register_assert_rewrite("chatpipe.testing.conformance", "chatpipe.testing.converter_conformance")


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    """A scriptable HTTP server on 127.0.0.1 (see :mod:`chatpipe.testing.fake_server`)."""
    from .fake_server import FakeServer

    with FakeServer() as server:
        yield server


@pytest.fixture
def mock_transport() -> MockTransport:
    """A MockTransport with an empty queue: ``mock_transport.enqueue(FakeResponse...)``."""
    from .mock_transport import MockTransport

    return MockTransport()


@pytest.fixture
def anthropic_events() -> AnthropicEvents:
    """An empty Anthropic Messages reply builder: ``anthropic_events.text("Hi").sse()``."""
    from .anthropic import AnthropicEvents

    return AnthropicEvents()


@pytest.fixture
def sse_recording(tmp_path: Path) -> Path:
    """Where to record a stream in this test (``<tmp_path>/recording.sse``; not created yet)."""
    return tmp_path / "recording.sse"
