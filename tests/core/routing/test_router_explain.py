"""Router.explain / explain_targets: every target's request in the order a call would try them, nothing sent."""

from __future__ import annotations

import random
from typing import Any

import pytest
from chatpipe import Pipeline
from chatpipe.config import parse_config
from chatpipe.routing import Router
from chatpipe.state import Breaker

KEY = "sk-explain-PLANTED-123456"
HI = [{"role": "user", "content": "Hi"}]
DEAD = "http://127.0.0.1:9/v1"  # nothing listens: any request sent would fail the test's call


def pipe(name: str, **kwargs: Any) -> Pipeline:
    return Pipeline("openai", model=f"model-{name}", base_url=DEAD, api_key=KEY, profile=name, max_retries=0, **kwargs)


def test_fallback_explains_every_target_in_written_order_with_keys_redacted():
    router = Router([pipe("a"), pipe("b")], profile="smart")
    explained = router.explain_targets(HI)
    assert [name for name, _ in explained] == ["a", "b"]
    assert [e.request["json"]["model"] for _, e in explained] == ["model-a", "model-b"]
    assert all(e.request["headers"]["Authorization"] == "***" for _, e in explained)
    assert KEY not in repr(explained)
    first, second = (e.notes[0] for _, e in explained)
    assert first.startswith("router 'smart' (fallback) tries target 1 of 2 here: a, b")
    assert "target 2 of 2" in second


def test_explain_is_the_first_target_with_router_notes():
    router = Router([pipe("a"), pipe("b")], profile="smart", cooldown=Breaker(2, 10, 5))
    explanation = router.explain(HI, stream=True)
    assert explanation.model == "model-a" and explanation.request["json"]["stream"] is True
    assert explanation.notes[0].startswith("router 'smart' (fallback) tries target 1 of 2")
    assert any("cooling down (after 2 failures within 10 s)" in note for note in explanation.notes)


def test_weighted_order_is_drawn_like_a_call_and_says_so():
    heavy, light = pipe("heavy"), pipe("light")
    router = Router([heavy, light], "weighted", weights=[1000, 0.001], rng=random.Random(7), profile="pool")
    explained = router.explain_targets(HI)
    assert [name for name, _ in explained] == ["heavy", "light"]
    assert "another call may draw another order" in explained[0][1].notes[0]
    light_first = Router([heavy, light], "weighted", weights=[0.001, 1000], rng=random.Random(7), profile="pool")
    assert [name for name, _ in light_first.explain_targets(HI)] == ["light", "heavy"]


def test_least_busy_order_follows_the_in_flight_counts_now():
    router = Router([pipe("a"), pipe("b")], "least-busy", profile="lb")
    lease = router._enter(router.targets[0])  # one call in flight on a
    try:
        explained = router.explain_targets(HI)
    finally:
        router._leave(router.targets[0], lease)
    assert [name for name, _ in explained] == ["b", "a"]
    assert "now: a 1, b 0" in explained[0][1].notes[0]
    assert [name for name, _ in router.explain_targets(HI)] == ["a", "b"]  # nothing in flight: written order


def test_a_nested_router_is_opened_and_context_fallbacks_are_named(tmp_path):
    config = parse_config(
        f"""
profiles:
  a: {{provider: openai, base_url: '{DEAD}', api_key: {KEY}, model: model-a}}
  b: {{provider: openai, base_url: '{DEAD}', api_key: {KEY}, model: model-b}}
  big: {{provider: openai, base_url: '{DEAD}', api_key: {KEY}, model: model-big}}
  inner: {{route: {{targets: [b, a]}}}}
  outer: {{route: {{targets: [a, inner], context_fallbacks: [big]}}}}
""",
        env={},
    )
    router = Router.from_config("outer", config=config)
    explained = router.explain_targets(HI)
    assert [name for name, _ in explained] == ["a", "b", "a"]  # what a call would try, in order
    nested = explained[1][1].notes
    assert nested[0].startswith("router 'outer' (fallback) tries target 2 of 2 here: a, inner")
    assert nested[1].startswith("router 'inner' (fallback) tries target 1 of 2 here: b, a")
    assert any("context_fallbacks: big" in note for note in explained[0][1].notes)


@pytest.mark.parametrize("strategy", ["fallback", "weighted", "least-busy", "latency"])
def test_every_strategy_explains_every_target_once(strategy):
    router = Router([pipe("a"), pipe("b"), pipe("c")], strategy, profile="r")
    assert sorted(name for name, _ in router.explain_targets(HI)) == ["a", "b", "c"]
