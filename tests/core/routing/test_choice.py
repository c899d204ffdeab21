"""The strategies' orders (chatpipe.routing._choice), and the latency strategy through a router."""

from __future__ import annotations

import random

import attrs
from chatpipe.routing import Router
from chatpipe.routing._choice import Latencies, by_busy, by_latency, by_weight
from fake_vendors import HI, answer, pipe


@attrs.frozen
class T:
    name: str
    weight: float = 1.0


A, B, C = T("a", 3), T("b", 1), T("c", 1)


def test_by_busy_is_fewest_first_and_stable():
    assert by_busy([A, B, C], [2, 0, 0]) == [B, C, A]


def test_by_weight_draws_every_target_once():
    rng = random.Random(3)
    orders = [by_weight([A, B, C], rng) for _ in range(3000)]
    assert all(sorted(t.name for t in order) == ["a", "b", "c"] for order in orders)
    first = sum(order[0] is A for order in orders) / len(orders)
    assert abs(first - 0.6) < 0.03


def test_by_latency_tries_unmeasured_targets_first_then_the_fastest():
    latencies = Latencies()
    latencies.observe("a", 0.5)
    assert by_latency([A, B, C], latencies, random.Random(1), explore=0) == [B, C, A]
    latencies.observe("b", 0.9)
    latencies.observe("c", 0.1)
    assert by_latency([A, B, C], latencies, random.Random(1), explore=0) == [C, A, B]


def test_latency_is_a_moving_average():
    latencies = Latencies()
    latencies.observe("a", 1.0)
    latencies.observe("a", 0.0)
    assert latencies.get("a") == 0.7


def test_exploration_moves_a_random_target_first_at_its_rate():
    latencies = Latencies()
    for target, seconds in (("a", 0.1), ("b", 0.2), ("c", 0.3)):
        latencies.observe(target, seconds)
    rng = random.Random(7)
    firsts = [by_latency([A, B, C], latencies, rng, explore=0.3)[0].name for _ in range(3000)]
    not_fastest = sum(name != "a" for name in firsts) / len(firsts)
    assert abs(not_fastest - 0.3 * 2 / 3) < 0.04  # an explored pick is the fastest a third of the time


def test_the_latency_strategy_settles_on_the_fastest_target(vendors):
    slow, fast, _ = vendors
    answer(slow, "slow", 0.15)
    answer(fast, "fast", 0.0)
    router = Router([pipe(slow, "slow"), pipe(fast, "fast")], "latency", explore=0, rng=random.Random(2))
    routes = [router.complete(HI).route for _ in range(6)]
    assert routes[:2] == ["slow", "fast"]  # each measured once, in the order written
    assert routes[2:] == ["fast"] * 4
