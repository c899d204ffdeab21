"""The lifecycle of local llama.cpp server processes: start on first use, share, stop at exit.

* :class:`LocalServer` runs ``python -m chatpipe_local._launcher`` for one
  :class:`~chatpipe_local._settings.ServerSettings` on 127.0.0.1. :meth:`LocalServer.ensure`
  starts it if it is not running (again, if it died) and returns its OpenAI base URL; it is
  ready when ``GET /v1/models`` answers 200 (``/health`` answers 503 while the model loads).
* :func:`get_server` is the process-wide registry: equal settings give the same
  :class:`LocalServer`, so every pipeline and call in a process shares one server per
  configuration. Its lock and each server's lock make concurrent first calls start ONE process.
* Every server started is stopped at interpreter exit (``atexit``: SIGTERM, then SIGKILL after
  a timeout). If this process dies without running ``atexit`` (SIGKILL, ``os._exit``), the
  launcher notices that its stdin pipe closed and exits by itself.

HTTP here uses :mod:`urllib` from the standard library, so starting a server never imports
the HTTP library the transport uses.
"""

from __future__ import annotations

import atexit
import collections
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import IO, Any

from chatpipe.plugin import ChatpipeError, ConfigError, scrub

from ._launcher import API_KEY_ENV, READY_PREFIX
from ._settings import (
    ServerSettings,
    require_xllamacpp,
    resolve_chat_template,
    resolve_model_path,
)

__all__ = ["LocalServer", "LocalServerError", "get_server", "running_servers", "stop_all"]

HOST = "127.0.0.1"
_STDERR_LINES = 200
_TAIL_CHARS = 2000
_STOP_TIMEOUT = 5.0
_POLL_SECONDS = 0.05


class LocalServerError(ChatpipeError):
    """The local llama.cpp server failed to start or died; ``stderr_tail`` holds the end of its log."""

    def __init__(self, message: str, *, stderr_tail: str = "", returncode: int | None = None) -> None:
        self.stderr_tail = stderr_tail
        self.returncode = returncode
        text = message
        if stderr_tail:
            text += "\n--- end of the server's log ---\n" + stderr_tail
        super().__init__(text)


class _Output:
    """Drains a child's stdout (for the READY line) and stderr (kept as a bounded tail) in threads."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self._tail: collections.deque[str] = collections.deque(maxlen=_STDERR_LINES)
        assert process.stdout is not None and process.stderr is not None
        self._threads = [
            threading.Thread(target=self._read_stdout, args=(process.stdout,), name="local-llm-stdout", daemon=True),
            threading.Thread(target=self._read_stderr, args=(process.stderr,), name="local-llm-stderr", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _read_stdout(self, stream: IO[bytes]) -> None:
        with stream:
            for raw in iter(stream.readline, b""):
                self.lines.put(raw.decode("utf-8", errors="replace").strip())
        self.lines.put(None)

    def _read_stderr(self, stream: IO[bytes]) -> None:
        with stream:
            for raw in iter(stream.readline, b""):
                self._tail.append(raw.decode("utf-8", errors="replace").rstrip())

    def tail(self, wait: float = 0.0) -> str:
        """The last lines of stderr (after waiting up to ``wait`` s for the stream to close)."""
        self._threads[1].join(wait)
        text = "\n".join(self._tail)
        return text[-_TAIL_CHARS:]


class LocalServer:
    """One llama.cpp server process for one :class:`ServerSettings`; thread-safe.

    Use :meth:`ensure` (start if needed, return the base URL) and :meth:`stop`. Attributes
    valid while running: :attr:`base_url` (``http://127.0.0.1:PORT/v1``), :attr:`port`,
    :attr:`pid`, :attr:`supports_tools` (from ``/props``; ``None`` if unknown).
    """

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self._lock = threading.RLock()
        self._process: subprocess.Popen[bytes] | None = None
        self._output: _Output | None = None
        self.base_url: str | None = None
        self.port: int | None = None
        self.supports_tools: bool | None = None
        self._owner_pid = os.getpid()

    def __repr__(self) -> str:
        state = f"running at {self.base_url} (pid {self.pid})" if self.running else "stopped"
        return f"<LocalServer {self.settings.alias} {state}>"

    @property
    def pid(self) -> int | None:
        """The server process id, or ``None`` when it was never started or was stopped."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        """Whether the process was started and has not exited."""
        return self._process is not None and self._process.poll() is None and self.base_url is not None

    def ensure(self) -> str:
        """Start the server unless it is running; return its OpenAI base URL (ending in ``/v1``).

        Raises :class:`~chatpipe.errors.ConfigError` for a missing model, template, wheel or
        a port in use, and :class:`LocalServerError` when the process dies or is not ready
        within ``settings.startup_timeout`` seconds.
        """
        with self._lock:
            if self.running:
                assert self.base_url is not None
                return self.base_url
            self._start()
            assert self.base_url is not None
            return self.base_url

    def __enter__(self) -> LocalServer:
        self.ensure()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- starting -----------------------------------------------------------------------

    def _command(self) -> list[str]:
        s = self.settings
        require_xllamacpp()
        command = [
            sys.executable,
            "-m",
            "chatpipe_local._launcher",
            "--model",
            resolve_model_path(s.model_path),
            "--alias",
            s.alias,
            "--host",
            HOST,
            "--port",
            str(s.port),
            "--ctx-size",
            str(s.ctx_size),
            "--parallel",
            str(s.parallel),
            "--threads",
            str(s.threads),
            "--watch-stdin",
        ]
        template = resolve_chat_template(s.chat_template)
        if template is not None:
            command += ["--chat-template-file", template]
        return command

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop(API_KEY_ENV, None)
        if self.settings.api_key:
            env[API_KEY_ENV] = self.settings.api_key.reveal()
        # With more than one thread, spinning OpenMP workers collapse under CPU contention.
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        return env

    def _start(self) -> None:
        command = self._command()
        if self.settings.port:
            _check_port_free(self.settings.port)
        self._stop_process()
        popen_extra: dict[str, Any] = {}
        if os.name == "posix":
            popen_extra["start_new_session"] = True  # a terminal's Ctrl-C must not kill a shared server
        else:  # pragma: no cover - Windows
            popen_extra["creationflags"] = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self._environment(),
            **popen_extra,
        )
        self._process = process
        self._owner_pid = os.getpid()
        self._output = _Output(process)
        _register_for_exit(self)
        deadline = time.monotonic() + self.settings.startup_timeout
        try:
            address = self._wait_ready_line(deadline)
            base_url = address.rstrip("/") + "/v1"
            self._wait_models_200(base_url, deadline)
        except BaseException:
            self._stop_process()
            raise
        self.base_url = base_url
        self.port = int(address.rsplit(":", 1)[1])
        self.supports_tools = self._fetch_supports_tools(address)

    def _wait_ready_line(self, deadline: float) -> str:
        assert self._output is not None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._timeout_error()
            try:
                line = self._output.lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if line is None:
                raise self._died_error()
            if line.startswith(READY_PREFIX):
                return line[len(READY_PREFIX) :].strip()

    def _wait_models_200(self, base_url: str, deadline: float) -> None:
        while True:
            status = self._get_status(base_url + "/models")
            if status == 200:
                return
            if self._process is not None and self._process.poll() is not None:
                raise self._died_error()
            if status == 401:
                raise LocalServerError(
                    "the local server rejected its own API key while starting; is another server on this port?"
                )
            if time.monotonic() >= deadline:
                raise self._timeout_error()
            time.sleep(_POLL_SECONDS)

    def _request(self, url: str) -> urllib.request.Request:
        request = urllib.request.Request(url, method="GET")
        if self.settings.api_key:
            request.add_header("Authorization", f"Bearer {self.settings.api_key.reveal()}")
        return request

    def _get_status(self, url: str) -> int | None:
        try:
            with urllib.request.urlopen(self._request(url), timeout=5) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)
        except (OSError, ValueError):
            return None

    def _fetch_supports_tools(self, address: str) -> bool | None:
        import json

        try:
            with urllib.request.urlopen(self._request(address.rstrip("/") + "/props"), timeout=5) as response:
                caps = json.loads(response.read()).get("chat_template_caps", {})
        except (OSError, ValueError, AttributeError):
            return None
        value = caps.get("supports_tools") if isinstance(caps, dict) else None
        return value if isinstance(value, bool) else None

    # --- failures -----------------------------------------------------------------------

    def log_tail(self) -> str:
        """The end of the server's stderr log (llama.cpp's messages), with the API key scrubbed."""
        return self._tail(0.5)

    def _tail(self, wait: float = 1.0) -> str:
        if self._output is None:
            return ""
        secret = (self.settings.api_key,) if self.settings.api_key else ()
        return scrub(self._output.tail(wait), secret)

    def _died_error(self) -> ChatpipeError:
        assert self._process is not None
        try:
            code = self._process.wait(timeout=_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            code = None
        tail = self._tail()
        port = self.settings.port
        if port and "couldn't bind" in tail:
            return ConfigError(
                f"port {port} on {HOST} is already in use; choose another port, or 0 for any free port",
                path="options.port",
            )
        model = self.settings.model_path or "the default SmolLM2 model"
        if "failed to load model" in tail or "error loading model" in tail:
            reason = f"llama.cpp could not load the model file {model!r}: is it a valid, complete GGUF file?"
        elif code == 2 and "xllamacpp is not installed" in tail:
            reason = "the server process cannot import xllamacpp: run 'pip install xllamacpp'"
        else:
            reason = f"the local llama.cpp server exited while starting (exit status {code})"
        return LocalServerError(reason, stderr_tail=tail, returncode=code)

    def _timeout_error(self) -> LocalServerError:
        timeout = self.settings.startup_timeout
        return LocalServerError(
            f"the local llama.cpp server was not ready within {timeout:g} s; raise the option startup_timeout "
            "if the machine is busy or the model is large",
            stderr_tail=self._tail(0.0),
        )

    # --- stopping -----------------------------------------------------------------------

    def stop(self, timeout: float = _STOP_TIMEOUT) -> None:
        """Stop the server (SIGTERM, then SIGKILL after ``timeout`` s). Safe to call repeatedly."""
        with self._lock:
            self._stop_process(timeout)

    def _stop_process(self, timeout: float = _STOP_TIMEOUT) -> None:
        process, self._process = self._process, None
        self.base_url = self.port = self.supports_tools = None
        if process is None:
            return
        _terminate(process, timeout)

    def _terminate_nowait(self) -> subprocess.Popen[bytes] | None:
        """Send SIGTERM without waiting (for a fast stop of many servers at exit)."""
        process = self._process
        if process is not None and process.poll() is None and self._owner_pid == os.getpid():
            process.terminate()
            return process
        return None


def _terminate(process: subprocess.Popen[bytes], timeout: float) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
    if process.stdin is not None:  # stdout and stderr are closed by their reader threads at EOF
        try:
            process.stdin.close()
        except OSError:
            pass


def _check_port_free(port: int) -> None:
    """Raise :class:`ConfigError` naming ``port`` when something already listens on it."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        probe.bind((HOST, port))
    except OSError:
        raise ConfigError(
            f"port {port} on {HOST} is already in use; choose another port, or 0 for any free port",
            path="options.port",
        ) from None
    finally:
        probe.close()


# --- the process-wide registry --------------------------------------------------------------

_registry: dict[ServerSettings, LocalServer] = {}
_registry_lock = threading.Lock()
_started: list[LocalServer] = []
_atexit_registered = False


def get_server(settings: ServerSettings) -> LocalServer:
    """The process-wide :class:`LocalServer` for ``settings`` (created, not started, on first request)."""
    with _registry_lock:
        server = _registry.get(settings)
        if server is None:
            server = _registry[settings] = LocalServer(settings)
        return server


def running_servers() -> list[LocalServer]:
    """The servers this process started that are still running."""
    with _registry_lock:
        return [s for s in _started if s.running]


def _register_for_exit(server: LocalServer) -> None:
    global _atexit_registered
    with _registry_lock:
        if server not in _started:
            _started.append(server)
        if not _atexit_registered:
            atexit.register(stop_all)
            _atexit_registered = True


def stop_all(timeout: float = _STOP_TIMEOUT) -> None:
    """Stop every server this process started (runs at interpreter exit).

    A forked child never stops its parent's servers: only the process that started a server
    stops it.
    """
    with _registry_lock:
        servers = list(_started)
    # SIGTERM all first, then wait: servers shut down in parallel. No server lock is taken, so
    # a daemon thread caught mid-start cannot block the interpreter's exit.
    pending = [s._terminate_nowait() for s in servers]
    for process in pending:
        if process is not None:
            _terminate(process, timeout)
