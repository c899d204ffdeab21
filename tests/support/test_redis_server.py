"""The real-Redis test support (tests/support/redis_server.py): the server, its lifecycle, the fixtures."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import redis
from redis_server import (
    ENV_VAR,
    RedisServer,
    RedisServerError,
    RedisServerMissing,
    binary_or_skip,
    find_redis_server,
)

SUPPORT = Path(__file__).resolve().parent


def gone(pid: int, timeout: float = 5.0) -> bool:
    """Whether process ``pid`` has exited within ``timeout`` s (a zombie counts as exited)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            os.kill(pid, 0)
            with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
                if handle.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return True
        except (ProcessLookupError, FileNotFoundError):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def test_the_shared_server_answers_on_its_url(redis_url: str, redis_server: RedisServer) -> None:
    assert redis_url == f"redis://127.0.0.1:{redis_server.port}/0" and redis_server.port != 6379
    with redis.Redis.from_url(redis_url) as connection:
        assert connection.ping() is True


def test_a_key_set_by_one_client_is_seen_by_another(redis_url: str) -> None:
    with redis.Redis.from_url(redis_url) as writer, redis.Redis.from_url(redis_url) as reader:
        writer.set("cooldown:openai", "30")
        assert reader.get("cooldown:openai") == b"30"


@pytest.mark.parametrize("run", [1, 2])
def test_each_test_starts_with_an_empty_database(redis_url: str, run: int) -> None:
    # Whichever of the two runs goes second finds the key of the first unless redis_url flushed it.
    other_db = redis_url.rsplit("/", 1)[0] + "/1"
    with redis.Redis.from_url(redis_url) as connection, redis.Redis.from_url(other_db) as other:
        assert connection.keys() == [] and other.keys() == []
        connection.set("left-by-an-earlier-test", run)
        other.set("left-in-another-database", run)


def test_stop_makes_connections_fail_fast_and_start_brings_the_server_back(own_redis_server: RedisServer) -> None:
    server = own_redis_server
    url, pid = server.url, server.pid
    assert pid is not None
    with server.client() as connection:
        connection.set("k", "v")

        server.stop()
        assert not server.running and server.pid is None
        assert gone(pid), f"redis-server pid {pid} still runs after stop()"
        began = time.monotonic()
        with pytest.raises(redis.ConnectionError):
            connection.ping()
        assert time.monotonic() - began < 2.0

        server.start()
        assert server.url == url and server.running and server.pid != pid
        assert connection.ping() is True  # the same client reconnects to the same address
        assert connection.get("k") is None  # no persistence: a restarted server is empty


def test_stop_is_idempotent_and_close_removes_the_working_directory() -> None:
    server = RedisServer(binary_or_skip()).start()
    workdir = Path(server._workdir)
    assert "Ready to accept connections" in server.output()
    server.stop()
    server.stop()
    assert workdir.is_dir()
    server.close()
    assert not workdir.exists()


def test_starting_a_running_server_is_an_error(own_redis_server: RedisServer) -> None:
    with pytest.raises(RedisServerError, match="already running"):
        own_redis_server.start()


def test_the_context_manager_stops_the_process() -> None:
    with RedisServer(binary_or_skip()) as server:
        pid = server.pid
        assert pid is not None and server.client().ping() is True
    assert pid is not None and gone(pid)


def test_a_server_that_exits_at_startup_reports_its_log(tmp_path: Path) -> None:
    fake = tmp_path / "redis-server"
    fake.write_text("#!/bin/sh\necho 'FATAL CONFIG FILE ERROR: bad option' >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(RedisServerError, match=r"exited with code 1 .*\n.*FATAL CONFIG FILE ERROR: bad option"):
        RedisServer(str(fake)).start()


def test_a_server_that_never_answers_is_killed_after_the_startup_timeout(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    fake = tmp_path / "redis-server"
    fake.write_text(f"#!/bin/sh\necho $$ > {pid_file}\necho 'stuck loading'\nexec sleep 60\n")
    fake.chmod(0o755)
    server = RedisServer(str(fake), startup_timeout=0.5)
    began = time.monotonic()
    with pytest.raises(RedisServerError, match=r"did not answer PING .* within 0\.5 s; its log:\nstuck loading"):
        server.start()
    assert time.monotonic() - began < 5.0
    assert not server.running and gone(int(pid_file.read_text()))
    server.close()


def test_stop_kills_a_server_that_ignores_sigterm(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    fake = tmp_path / "redis-server"
    # An ignored signal stays ignored across exec, so sleep ignores SIGTERM too.
    fake.write_text(f"#!/bin/sh\ntrap '' TERM\necho $$ > {pid_file}\nexec sleep 60\n")
    fake.chmod(0o755)
    server = RedisServer(str(fake))
    server._spawn()  # started without waiting for a PING it would never answer
    deadline = time.monotonic() + 5.0
    while not (pid_file.is_file() and pid_file.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.02)
    began = time.monotonic()
    server.stop(timeout=0.5)
    assert 0.5 <= time.monotonic() - began < 3.0  # waited for SIGTERM in vain, then killed
    assert gone(int(pid_file.read_text()))
    server.close()


def test_the_binary_comes_from_the_environment_variable_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = binary_or_skip()
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH: the variable alone must find it
    monkeypatch.setenv(ENV_VAR, real)
    assert find_redis_server() == real


def test_a_bad_environment_variable_names_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    not_executable = tmp_path / "redis-server"
    not_executable.write_text("")
    monkeypatch.setenv(ENV_VAR, str(not_executable))
    with pytest.raises(RedisServerMissing, match=rf"{ENV_VAR}=.* is not an executable file: install it \(apt-get"):
        find_redis_server()


def test_a_missing_binary_names_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(
        RedisServerMissing, match=rf"not found on PATH: install it \(apt-get install redis-server\) or set {ENV_VAR}"
    ):
        find_redis_server()


@pytest.mark.parametrize(
    ("ci", "outcome"), [("", pytest.skip.Exception), ("false", pytest.skip.Exception), ("true", pytest.fail.Exception)]
)
def test_a_missing_binary_skips_the_test_outside_ci_and_fails_it_in_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match=r"apt-get install redis-server"):
        binary_or_skip()


def test_importing_the_support_module_imports_no_redis_client() -> None:
    code = f"import sys; sys.path.insert(0, {str(SUPPORT)!r}); import redis_server; print('redis' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("ending", ["exit", "kill"])
def test_the_server_does_not_outlive_the_process_that_started_it(ending: str) -> None:
    # "exit": a normal exit without close() (atexit kills it); "kill": SIGKILL, no atexit (the kernel kills it).
    if ending == "kill" and sys.platform != "linux":
        pytest.skip("PR_SET_PDEATHSIG is Linux-only")
    binary_or_skip()
    code = textwrap.dedent(
        f"""
        import os, signal, sys
        sys.path.insert(0, {str(SUPPORT)!r})
        from redis_server import RedisServer
        server = RedisServer().start()
        print(server.pid, flush=True)
        if {ending!r} == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().isdigit(), result.stderr
    pid = int(result.stdout)
    assert gone(pid), f"redis-server pid {pid} outlived its parent ({ending})"
