"""The launcher process and ``chatpipe local serve``: READY line, clean exits, no orphans."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from chatpipe_local._launcher import API_KEY_ENV, READY_PREFIX
from chatpipe_local._settings import resolve_model_path

pytestmark = pytest.mark.local_server


def launch(*extra: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "chatpipe_local._launcher", "--model", resolve_model_path(None), "--ctx-size"]
    command += ["512", "--parallel", "1", *extra]
    return subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )


def finish(process: subprocess.Popen[str]) -> None:
    """Kill the process if it still runs, reap it and close its pipes."""
    process.kill()
    process.wait(timeout=10)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def ready_url(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line.startswith(READY_PREFIX), line
    return line[len(READY_PREFIX) :]


def get_json(url: str, key: str | None = None) -> object:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"} if key else {})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_ready_line_then_clean_exit_on_sigterm() -> None:
    process = launch("--alias", "tiny")
    try:
        url = ready_url(process)
        assert url.startswith("http://127.0.0.1:") and int(url.rsplit(":", 1)[1]) > 0
        models = get_json(url + "/v1/models")
        assert isinstance(models, dict) and [m["id"] for m in models["data"]] == ["tiny"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        finish(process)


def test_exits_when_stdin_closes_with_watch_stdin() -> None:
    process = launch("--watch-stdin")
    try:
        ready_url(process)
        assert process.stdin is not None
        process.stdin.close()  # what the OS does when the parent dies
        assert process.wait(timeout=10) == 0
    finally:
        finish(process)


def test_api_key_comes_from_the_environment_not_the_command_line() -> None:
    process = launch(env={**os.environ, API_KEY_ENV: "sk-launcher-key"})
    try:
        url = ready_url(process)
        with pytest.raises(urllib.error.HTTPError) as info:
            get_json(url + "/v1/models")
        assert info.value.code == 401
        assert isinstance(get_json(url + "/v1/models", key="sk-launcher-key"), dict)
        assert "sk-launcher-key" not in " ".join(process.args)  # type: ignore[arg-type]
    finally:
        finish(process)


def test_missing_xllamacpp_exits_with_status_2(tmp_path: Path) -> None:
    (tmp_path / "xllamacpp.py").write_text("raise ImportError('hidden for the test')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    result = subprocess.run(
        [sys.executable, "-m", "chatpipe_local._launcher", "--model", "x.gguf"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert result.returncode == 2
    assert "pip install xllamacpp" in result.stderr and result.stdout == ""


def test_chatpipe_local_serve_prints_the_url_and_stops_on_ctrl_c(
    wait_gone: Callable[..., bool],
) -> None:
    script = Path(sys.executable).with_name("chatpipe")
    if not script.exists():
        pytest.skip("the chatpipe console script is not installed next to this interpreter")
    process = subprocess.Popen(
        [str(script), "local", "serve", "--port", "0", "--ctx-size", "512", "--parallel", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        notice = process.stderr.readline()
        assert url in notice and "Ctrl-C" in notice
        pid = int(notice.split("(pid ")[1].split(")")[0])
        models = get_json(url + "/models")
        assert isinstance(models, dict) and models["data"][0]["id"] == "smollm2-135m-instruct"

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
        assert wait_gone(pid, timeout=2.0)
    finally:
        finish(process)
