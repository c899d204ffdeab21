"""Which target a routed call tries first, and then which next: the ``strategy``.

Each strategy turns the targets (in the order written) into the order one call tries them:

* ``fallback``: as written.
* ``weighted``: drawn one by one without replacement, each with a chance proportional to its
  weight among those left.
* ``least-busy``: by calls in flight, fewest first (a stable sort: ties keep the order written).
* ``latency``: targets without a measurement first (as written), then by recent latency,
  lowest first; with chance ``explore`` a random target is moved to the front, so a target
  that was slow once is measured again.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from typing import Protocol, TypeVar

__all__ = ["Latencies", "Weighted", "by_busy", "by_latency", "by_weight"]

SMOOTHING = 0.3
"""The weight of the newest measurement in a target's latency (an exponential moving average)."""


class Weighted(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def weight(self) -> float: ...


_T = TypeVar("_T", bound=Weighted)


def by_weight(targets: Sequence[_T], rng: random.Random) -> list[_T]:
    """``targets`` drawn without replacement, each draw weighted by ``weight``."""
    left, order = list(targets), []
    while left:
        pick = rng.random() * sum(t.weight for t in left)
        for i, target in enumerate(left):
            pick -= target.weight
            if pick < 0 or i == len(left) - 1:
                order.append(left.pop(i))
                break
    return order


def by_busy(targets: Sequence[_T], busy: Sequence[int]) -> list[_T]:
    """``targets`` by their ``busy`` count (same order), fewest first; ties as written."""
    ranked = sorted(range(len(targets)), key=busy.__getitem__)
    return [targets[i] for i in ranked]


class Latencies:
    """Recent latency per target name: an exponential moving average of its measurements (seconds).

    Kept in the process (thread-safe); a measurement is one call's time to answer (a stream's
    time to its first content).
    """

    def __init__(self) -> None:
        self._seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    def observe(self, name: str, seconds: float) -> None:
        with self._lock:
            known = self._seconds.get(name)
            self._seconds[name] = seconds if known is None else known + SMOOTHING * (seconds - known)

    def get(self, name: str) -> float | None:
        """The target's recent latency, ``None`` before its first measurement."""
        return self._seconds.get(name)


def by_latency(targets: Sequence[_T], latencies: Latencies, rng: random.Random, explore: float) -> list[_T]:
    """``targets`` unmeasured first, then by latency; with chance ``explore`` a random one first."""
    unmeasured = [t for t in targets if latencies.get(t.name) is None]
    measured = sorted(
        (t for t in targets if latencies.get(t.name) is not None), key=lambda t: latencies.get(t.name) or 0.0
    )
    order = unmeasured + measured
    if explore and len(order) > 1 and rng.random() < explore:
        order.insert(0, order.pop(rng.randrange(len(order))))
    return order
