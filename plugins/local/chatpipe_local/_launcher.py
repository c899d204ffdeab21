"""Process entry that runs llama.cpp's HTTP server (embedded in ``xllamacpp``) until told to stop.

Usage::

    python -m chatpipe_local._launcher --model FILE.gguf [--port 0] [--threads 1] [--parallel 2]
        [--ctx-size 4096] [--alias NAME] [--chat-template-file FILE] [--watch-stdin]

Contract:

* once the model is loaded and the socket listens, prints exactly one line to stdout,
  ``READY http://127.0.0.1:PORT`` (the bound address; ``--port 0`` picks a free port), and
  nothing else on stdout; llama.cpp's own log goes to stderr;
* the API key, if any, is read from the environment variable ``CHATPIPE_LOCAL_API_KEY``
  (never from the command line, where ``ps`` would show it);
* exits with status 0 on SIGTERM or SIGINT, after the server has shut down (a signal that
  arrives while the model loads takes effect once it is loaded; a shutdown that hangs is cut
  short after a few seconds);
* exits when its parent dies, so no orphan survives it: with ``--watch-stdin`` when stdin
  reaches EOF (the parent holds the other end of a pipe, which the OS closes when the parent
  dies, however it dies), and always when the parent process id changes;
* exits with status 1 when the server cannot start (bad model file, port taken: the reason is
  in llama.cpp's log on stderr) and 2 when ``xllamacpp`` is not installed.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["API_KEY_ENV", "READY_PREFIX", "main", "parse_args"]

READY_PREFIX = "READY "
API_KEY_ENV = "CHATPIPE_LOCAL_API_KEY"
_PARENT_POLL_SECONDS = 0.5
_SHUTDOWN_GRACE_SECONDS = 3.0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The launcher's command-line arguments (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m chatpipe_local._launcher", description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="GGUF model file")
    parser.add_argument("--alias", default="smollm2-135m-instruct", help="model id the server reports")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--ctx-size", type=int, default=4096, help="total context, split across slots")
    parser.add_argument("--parallel", type=int, default=2, help="request slots (continuous batching)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (keep 1 on small machines)")
    parser.add_argument("--chat-template-file", default=None, help="Jinja chat template replacing the model's")
    parser.add_argument("--watch-stdin", action="store_true", help="exit when stdin reaches EOF (parent died)")
    return parser.parse_args(argv)


def _params(args: argparse.Namespace, xlc: Any) -> Any:
    params = xlc.CommonParams()
    params.model.path = args.model
    params.model_alias = {args.alias}
    params.hostnames = [args.host]
    params.port = args.port
    params.n_ctx = args.ctx_size
    params.n_parallel = args.parallel
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.ui = False  # no web UI
    params.offline = True  # never download anything
    if args.chat_template_file:
        with open(args.chat_template_file, encoding="utf-8") as handle:
            params.chat_template = handle.read()
    key = os.environ.get(API_KEY_ENV)
    if key:
        params.api_keys = [key]
    return params


def _watch_parent(stop: threading.Event, watch_stdin: bool) -> None:
    """Set ``stop`` when the parent dies (stdin EOF, or a new parent process id)."""
    parent = os.getppid()

    def poll_parent() -> None:
        while not stop.wait(_PARENT_POLL_SECONDS):
            if os.getppid() != parent:
                stop.set()

    def read_stdin() -> None:
        # os.read on the raw descriptor, not sys.stdin: a daemon thread blocked inside a buffered
        # reader holds its lock, and Python aborts (SIGABRT) when it finalizes such a reader.
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        stop.set()

    threading.Thread(target=poll_parent, name="parent-poll", daemon=True).start()
    if watch_stdin:
        threading.Thread(target=read_stdin, name="stdin-eof", daemon=True).start()


def main(argv: list[str] | None = None) -> int:
    """Run the server until SIGTERM/SIGINT or the parent's death; return the exit status."""
    args = parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        xlc = importlib.import_module("xllamacpp")  # untyped extension module: treated as Any
    except ImportError:
        print("chatpipe-local: xllamacpp is not installed; run 'pip install xllamacpp'", file=sys.stderr, flush=True)
        return 2
    _watch_parent(stop, args.watch_stdin)
    params = _params(args, xlc)
    # A SIGTERM that lands while llama.cpp loads the model makes its shutdown hang ("waiting for
    # main loop exit"), so signals are held back until the server is up, then handled normally.
    with _signals_blocked():
        try:
            server = xlc.Server(params)  # returns once the model is loaded and the socket listens
        except (RuntimeError, OSError) as exc:
            print(f"chatpipe-local: the server did not start: {exc}", file=sys.stderr, flush=True)
            return 1
    if not stop.is_set():
        print(f"{READY_PREFIX}{server.listening_address}", flush=True)
    while not stop.wait(3600):
        pass
    _exit_if_stuck(_SHUTDOWN_GRACE_SECONDS)
    del server  # shuts the HTTP server and the model down ("~Server: main loop exited")
    return 0


@contextlib.contextmanager
def _signals_blocked() -> Iterator[None]:
    """Hold SIGTERM/SIGINT back (POSIX) for the duration; pending ones are delivered on exit."""
    held = {signal.SIGTERM, signal.SIGINT}
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _exit_if_stuck(seconds: float) -> None:
    """Leave with status 0 even if llama.cpp's shutdown hangs for longer than ``seconds``."""
    timer = threading.Timer(seconds, os._exit, args=(0,))
    timer.daemon = True
    timer.start()


if __name__ == "__main__":
    sys.exit(main())
