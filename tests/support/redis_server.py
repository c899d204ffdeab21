"""A real ``redis-server`` for the tests, and the pytest fixtures that start it.

Registered for the whole suite by ``tests/conftest.py`` (``pytest_plugins``); importing it
imports neither ``redis`` nor starts anything: a server starts only when a test asks for it.

* :class:`RedisServer` runs ``redis-server`` (``$CHATPIPE_REDIS_SERVER``, else the one on
  PATH) on a free 127.0.0.1 port with no persistence and a private working directory, not
  daemonized. :meth:`~RedisServer.start` returns once the server answers PING;
  :meth:`~RedisServer.stop` ends the process (SIGTERM, SIGKILL after a timeout) and keeps the
  port, so :meth:`~RedisServer.start` brings the same server address back. Every server still
  running is killed at interpreter exit, and on Linux the kernel kills it if this process dies
  without running ``atexit`` (``PR_SET_PDEATHSIG``).
* Fixtures: ``redis_server`` (session scope: one server the whole run shares), ``redis_url``
  (each test: the shared server's URL, its data flushed first) and ``own_redis_server`` (each
  test: a private server the test may stop and start, stopped after it).

Port 6379 is never used (a system Redis may run there). When no redis-server binary is found
the fixtures skip the test with the install command as the reason; with ``CI`` set they fail
it instead, so CI never passes by skipping the Redis tests.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import redis

ENV_VAR = "CHATPIPE_REDIS_SERVER"
INSTALL_HINT = f"install it (apt-get install redis-server) or set {ENV_VAR} to a redis-server binary"
HOST = "127.0.0.1"


class RedisServerError(RuntimeError):
    """redis-server is missing, did not start, or was used in the wrong state."""


class RedisServerMissing(RedisServerError):
    """No usable redis-server binary (the message names how to get one)."""


def find_redis_server() -> str:
    """The redis-server binary: ``$CHATPIPE_REDIS_SERVER`` when set (it must be an executable
    file), else ``redis-server`` on PATH. Raises :class:`RedisServerMissing` naming the fix."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        if os.path.isfile(configured) and os.access(configured, os.X_OK):
            return configured
        raise RedisServerMissing(f"{ENV_VAR}={configured!r} is not an executable file: {INSTALL_HINT}")
    found = shutil.which("redis-server")
    if found is None:
        raise RedisServerMissing(f"redis-server not found on PATH: {INSTALL_HINT}")
    return found


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (chosen by the kernel, so never 6379 unless free and picked)."""
    while True:
        with socket.socket() as sock:
            sock.bind((HOST, 0))
            port: int = sock.getsockname()[1]
        if port != 6379:
            return port


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


_running: set[RedisServer] = set()


@atexit.register
def _kill_all() -> None:
    for server in list(_running):
        server.stop(timeout=2.0)


class RedisServer:
    """One redis-server process on ``127.0.0.1:port`` (see the module docstring).

    ``binary`` defaults to :func:`find_redis_server` (raising :class:`RedisServerMissing`);
    ``port`` to a free port, chosen once and kept across restarts. Nothing runs until
    :meth:`start` (or ``with``); :meth:`close` (or leaving ``with``) stops the server and
    removes its working directory.
    """

    def __init__(self, binary: str | None = None, *, port: int | None = None, startup_timeout: float = 10.0) -> None:
        self.binary = binary if binary is not None else find_redis_server()
        self._chosen_port = port is None
        self.port = port if port is not None else free_port()
        self.startup_timeout = startup_timeout
        self._workdir = Path(tempfile.mkdtemp(prefix="chatpipe-redis-"))
        self._log: IO[bytes] | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://{HOST}:{self.port}/0"

    @property
    def pid(self) -> int | None:
        """The process id while a process was started and not stopped, else None."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        """Whether the process started by :meth:`start` is still running."""
        return self._process is not None and self._process.poll() is None

    def output(self) -> str:
        """What redis-server wrote to stdout/stderr (its log), across every start."""
        log = self._workdir / "redis.log"
        return log.read_text(errors="replace") if log.is_file() else ""

    def client(self, **kwargs: Any) -> redis.Redis:
        """A ``redis.Redis`` for this server; fails fast (1 s timeouts, no retries) unless told otherwise."""
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        kwargs.setdefault("socket_connect_timeout", 1.0)
        kwargs.setdefault("socket_timeout", 1.0)
        kwargs.setdefault("retry", Retry(NoBackoff(), 0))
        return redis.Redis(host=HOST, port=self.port, db=0, **kwargs)

    def flushall(self) -> None:
        """Remove every key of every database (the fixtures do this before each test)."""
        if not self.running:
            raise RedisServerError(f"redis-server on port {self.port} is not running; call start() first")
        with self.client() as connection:
            connection.flushall()

    def start(self) -> RedisServer:
        """Start the server (again, after :meth:`stop`, on the same port) and wait until it answers PING.

        Raises :class:`RedisServerError` with the server's log when it exits or does not
        answer within ``startup_timeout`` seconds (the process is killed first), and when it
        is already running.
        """
        if self.running:
            raise RedisServerError(f"redis-server on port {self.port} is already running")
        attempts = 3 if self._chosen_port and self._process is None else 1
        for attempt in range(attempts):
            try:
                self._spawn()
                self._wait_ready()
                return self
            except RedisServerError:
                in_use = "Address already in use" in self.output()
                if not in_use or attempt == attempts - 1:
                    raise
                self.port = free_port()  # another process took the port between choosing and binding
        raise AssertionError("unreachable")  # pragma: no cover

    def _command(self) -> list[str]:
        return [
            self.binary,
            "--port", str(self.port),
            "--bind", HOST,
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self._workdir),
            "--protected-mode", "yes",
            "--daemonize", "no",
        ]  # fmt: skip

    def _spawn(self) -> None:
        self._close_log()
        self._log = open(self._workdir / "redis.log", "ab")  # noqa: SIM115 (open for the process's lifetime)
        extra: dict[str, Any] = {"start_new_session": True}  # a terminal's Ctrl-C reaches pytest, which stops it
        if sys.platform == "linux":
            extra["preexec_fn"] = _die_with_parent
        self._process = subprocess.Popen(
            self._command(), stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT, **extra
        )
        _running.add(self)

    def _wait_ready(self) -> None:
        import redis

        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        with self.client(socket_connect_timeout=0.5, socket_timeout=0.5) as connection:
            while True:
                code = self._process.poll()
                if code is not None:
                    self.stop()
                    raise RedisServerError(
                        f"redis-server ({self.binary}) exited with code {code} before answering PING "
                        f"on port {self.port}; its log:\n{self.output()}"
                    )
                try:
                    if connection.ping():
                        return
                except redis.ConnectionError:  # not listening yet, or still loading
                    pass
                if time.monotonic() >= deadline:
                    self.stop()
                    raise RedisServerError(
                        f"redis-server ({self.binary}) did not answer PING on port {self.port} within "
                        f"{self.startup_timeout:g} s; its log:\n{self.output()}"
                    )
                time.sleep(0.02)

    def stop(self, timeout: float = 5.0) -> None:
        """End the process: SIGTERM (no data is saved), SIGKILL if it is still running after
        ``timeout`` s, then reap it. Connections fail from then on. Does nothing if not running."""
        process, self._process = self._process, None
        _running.discard(self)
        if process is not None and process.poll() is None:  # poll() also reaps one that exited by itself
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._close_log()

    def close(self) -> None:
        """:meth:`stop`, then remove the working directory (the log goes with it)."""
        self.stop()
        shutil.rmtree(self._workdir, ignore_errors=True)

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running else "stopped"
        return f"RedisServer({self.url}, {state})"


def in_ci() -> bool:
    """Whether ``CI`` is set to something other than empty, ``0`` or ``false`` (as scripts/dev.py reads it)."""
    return os.environ.get("CI", "").lower() not in {"", "0", "false"}


def binary_or_skip() -> str:
    """The redis-server binary; when there is none, skip the test (fail it under CI) naming the fix."""
    try:
        return find_redis_server()
    except RedisServerMissing as exc:
        problem = str(exc)
    # Outside the except block: the report shows the reason, not a chained traceback.
    if in_ci():
        pytest.fail(f"{problem} (CI is set: the Redis tests must run there, not skip)", pytrace=False)
    pytest.skip(problem)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One redis-server shared by the whole session (tests use :func:`redis_url`; never stop it)."""
    with RedisServer(binary_or_skip()) as server:
        yield server


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """``redis://127.0.0.1:<port>/0`` of the shared server, with every key flushed before the test."""
    if not redis_server.running:
        raise RedisServerError(
            "the shared redis_server was stopped by a test: tests that stop Redis use own_redis_server"
        )
    redis_server.flushall()
    return redis_server.url


@pytest.fixture
def own_redis_server() -> Iterator[RedisServer]:
    """A private, running redis-server for this test, which may ``stop()`` and ``start()`` it; closed after."""
    with RedisServer(binary_or_skip()) as server:
        yield server
