"""A throwaway ``redis-server`` for a benchmark: a free 127.0.0.1 port, no persistence, stopped on exit.

::

    with RedisLauncher() as redis:   # raises RedisMissing when there is no redis-server
        url = redis.url               # redis://127.0.0.1:<port>/0

The binary is ``$CHATPIPE_REDIS_SERVER``, else ``redis-server`` on PATH. The server runs in its
own working directory (removed afterwards) and, on Linux, dies with this process even if the
benchmark is killed (``PR_SET_PDEATHSIG``). Standalone: the benchmarks do not import the tests.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["RedisLauncher", "RedisMissing"]

ENV_VAR = "CHATPIPE_REDIS_SERVER"
HOST = "127.0.0.1"


class RedisMissing(RuntimeError):
    """No redis-server binary (the message says how to get one)."""


def find_binary() -> str:
    """``$CHATPIPE_REDIS_SERVER`` (an executable file), else ``redis-server`` on PATH."""
    hint = f"install it (apt-get install redis-server) or set {ENV_VAR} to a redis-server binary"
    configured = os.environ.get(ENV_VAR)
    if configured:
        if os.path.isfile(configured) and os.access(configured, os.X_OK):
            return configured
        raise RedisMissing(f"{ENV_VAR}={configured!r} is not an executable file: {hint}")
    found = shutil.which("redis-server")
    if found is None:
        raise RedisMissing(f"redis-server not found on PATH: {hint}")
    return found


def _free_port() -> int:
    while True:
        with socket.socket() as sock:
            sock.bind((HOST, 0))
            port: int = sock.getsockname()[1]
        if port != 6379:  # a system Redis may run there
            return port


def _die_with_parent() -> None:  # runs in the child between fork and exec
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class RedisLauncher:
    """A ``redis-server`` child process, ready (it answered PING) inside the ``with`` block."""

    def __init__(self, startup_timeout: float = 10.0) -> None:
        self.binary = find_binary()
        self.port = _free_port()
        self.startup_timeout = startup_timeout
        self._workdir = Path(tempfile.mkdtemp(prefix="chatpipe-bench-redis-"))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://{HOST}:{self.port}/0"

    def __enter__(self) -> RedisLauncher:
        extra: dict[str, Any] = {"start_new_session": True}
        if sys.platform == "linux":
            extra["preexec_fn"] = _die_with_parent
        command = [self.binary, "--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no"]
        command += ["--dir", str(self._workdir), "--daemonize", "no"]
        with open(self._workdir / "redis.log", "wb") as log:  # the child has its own copy of the file
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, **extra
            )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self._process.poll() is not None or time.monotonic() >= deadline:
                output = (self._workdir / "redis.log").read_text(errors="replace")
                self.__exit__()
                raise SystemExit(f"redis-server did not answer PING on port {self.port}; its log:\n{output}")
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:  # not listening yet
                pass
            time.sleep(0.02)

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        shutil.rmtree(self._workdir, ignore_errors=True)
