"""Fixtures shared by the whole suite.

Every test runs hermetically: the config/key directory is a fresh temporary directory, and
no vendor API-key variable or CHATPIPE_* setting from the developer's shell leaks in.

``fake_server`` (and ``mock_transport``, ``anthropic_events``, ``sse_recording``) come from
chatpipe's pytest plugin, ``chatpipe.testing.pytest_plugin``, registered by the core's
``pytest11`` entry point. ``redis_server``, ``redis_url`` and ``own_redis_server`` (a real
redis-server on a free loopback port, started only when a test asks) come from
``tests/support/redis_server.py``, registered below for every test directory.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

SUPPORT = Path(__file__).resolve().parent / "support"
if str(SUPPORT) not in sys.path:  # test-only helpers importable by name (tests run with --import-mode=importlib)
    sys.path.insert(0, str(SUPPORT))

pytest_plugins = ["redis_server"]


def _vendor_key_vars() -> tuple[str, ...]:
    """Every installed provider's API-key variables, from its own declaration (``ProviderInfo``)."""
    from chatpipe.registry import Registry

    return tuple(sorted({name for info in Registry().provider_infos() for name in info.api_key_env}))


VENDOR_KEY_VARS = _vendor_key_vars()


@pytest.fixture(autouse=True)
def hermetic_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private config dir and data dir (the CLI's conversation log) per test; vendor key
    variables and chatpipe settings removed; the in-process state (rate windows, cooldowns) empty."""
    state = sys.modules.get("chatpipe.state._open")
    if state is not None:
        state.local_store().clear()
    config_dir = tmp_path_factory.mktemp("chatpipe-config")
    monkeypatch.setenv("CHATPIPE_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("CHATPIPE_DATA_DIR", str(tmp_path_factory.mktemp("chatpipe-data")))
    for name in (*VENDOR_KEY_VARS, "CHATPIPE_CONFIG", "CHATPIPE_HTTP_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    return config_dir


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared reference directory (vendor specs); tests using it skip when it is absent."""
    import os

    candidate = Path(os.environ.get("CHATPIPE_SHARED_DIR") or Path(__file__).resolve().parents[1].parent / "shared")
    if not (candidate / "specs").is_dir():
        pytest.skip(f"vendor specs not found at {candidate}/specs (set CHATPIPE_SHARED_DIR)")
    return candidate


@pytest.fixture(scope="session")
def vendor_spec(shared_dir: Path) -> Callable[[str], object]:
    """``vendor_spec("openai")``: a SpecValidator for ``specs/<name>.yaml`` (skips if absent)."""
    from chatpipe.testing.openapi import SpecValidator

    validators: dict[str, SpecValidator] = {}

    def get(name: str) -> SpecValidator:
        path = shared_dir / "specs" / f"{name}.yaml"
        if not path.is_file():
            pytest.skip(f"vendor spec not found at {path} (set CHATPIPE_SHARED_DIR)")
        if name not in validators:
            validators[name] = SpecValidator(path)
        return validators[name]

    return get


@pytest.fixture(scope="session")
def openai_spec(vendor_spec: Callable[[str], object]) -> object:
    """The validator for the OpenAI spec (the baseline for every OpenAI-compatible vendor)."""
    return vendor_spec("openai")
