"""A load-generating process for the shared-state tests: ``python state_worker.py CONFIG PROFILE``.

Builds ``Pipeline.from_config(PROFILE, CONFIG)`` (a pipeline or a router), prints ``ready``
and then answers one command per stdin line with one JSON line on stdout:

* ``run THREADS SECONDS PAUSE``: ``THREADS`` threads call ``complete`` as fast as they can
  for ``SECONDS`` seconds; after a refusal (``LimitExceededError``) a thread sleeps ``PAUSE``
  seconds before its next attempt (a client backing off a little, so refused attempts do not
  spin a core).
* ``calls N``: ``N`` calls one after the other.
* ``quit``: exit.

The answer counts ``attempts``, ``ok``, ``limited`` (``LimitExceededError``), ``errors`` (by
exception type), ``routes`` (``response.route`` of routed replies) and the longest single
call in seconds (``longest``). The parent (:class:`shared_state.Workers`) drives it.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from typing import Any

HI = [{"role": "user", "content": "Hi"}]


class Tally:
    """The outcomes of the calls of one command (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.outcomes: Counter[str] = Counter()
        self.routes: Counter[str] = Counter()
        self.longest = 0.0

    def add(self, outcome: str, seconds: float, route: str | None = None) -> None:
        with self._lock:
            self.outcomes[outcome] += 1
            if route is not None:
                self.routes[route] += 1
            self.longest = max(self.longest, seconds)

    def report(self) -> dict[str, Any]:
        errors = {k: v for k, v in self.outcomes.items() if k not in ("ok", "limited")}
        return {
            "attempts": sum(self.outcomes.values()),
            "ok": self.outcomes["ok"],
            "limited": self.outcomes["limited"],
            "errors": errors,
            "routes": dict(self.routes),
            "longest": self.longest,
        }


def call(pipe: Any, tally: Tally) -> str:
    """One ``complete`` call, its outcome added to ``tally``; returns the outcome."""
    from chatpipe.errors import LimitExceededError

    started = time.monotonic()
    try:
        reply = pipe.complete(HI)
    except LimitExceededError:
        outcome, route = "limited", None
    except Exception as error:  # every other failure is counted by type, for the test to assert on
        outcome, route = type(error).__name__, None
    else:
        outcome, route = "ok", getattr(reply, "route", None)
    tally.add(outcome, time.monotonic() - started, route)
    return outcome


def run(pipe: Any, threads: int, seconds: float, pause: float) -> dict[str, Any]:
    tally = Tally()
    deadline = time.monotonic() + seconds

    def loop() -> None:
        while time.monotonic() < deadline:
            if call(pipe, tally) == "limited":
                time.sleep(pause)

    workers = [threading.Thread(target=loop, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return tally.report()


def main(config: str, profile: str) -> None:
    import logging

    from chatpipe import Pipeline

    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="worker %(process)d: %(name)s: %(message)s")

    pipe = Pipeline.from_config(profile, config)
    print("ready", flush=True)
    for line in sys.stdin:
        command, *args = line.split()
        if command == "quit":
            return
        if command == "run":
            result = run(pipe, int(args[0]), float(args[1]), float(args[2]))
        elif command == "calls":
            tally = Tally()
            for _ in range(int(args[0])):
                call(pipe, tally)
            result = tally.report()
        else:
            result = {"failure": f"unknown command {command!r}"}
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
