"""Loopback fake vendors and pipelines for the router tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from chatpipe.testing import FakeServer


@pytest.fixture
def vendors() -> Iterator[tuple[FakeServer, FakeServer, FakeServer]]:
    with FakeServer() as a, FakeServer() as b, FakeServer() as c:
        yield a, b, c
