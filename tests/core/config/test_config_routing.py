"""Router profiles in the config: their shape, and the errors for each way to get them wrong."""

from __future__ import annotations

import pytest
from chatpipe.config import RouteConfig, RouteTarget

BASE = "profiles:\n  a: {provider: openai}\n  b: {provider: claude}\n"


def test_router_profiles_are_read(parse):
    config = parse(
        BASE
        + "  smart: {route: {strategy: fallback, targets: [a, b], context_fallbacks: big}}\n"
        + "  pool: {route: {strategy: weighted, targets: [{profile: a, weight: 3}, {profile: b, weight: 0.5}],"
        + " fallback_on: [server, auth]}}\n"
        + "  busy: {route: {strategy: least-busy, targets: [pool, a]}}\n"
        + "  big: {provider: openai, model: gpt-4.1}\n"
    )
    smart, pool, busy = (config.profiles[n] for n in ("smart", "pool", "busy"))
    assert smart.provider == "" and config.profiles["a"].route is None
    assert smart.route == RouteConfig(
        targets=(RouteTarget("a"), RouteTarget("b")),
        strategy="fallback",
        fallback_on=("connection", "timeout", "server", "rate_limit"),
        context_fallbacks=("big",),
    )
    assert pool.route == RouteConfig(
        targets=(RouteTarget("a", 3.0), RouteTarget("b", 0.5)), strategy="weighted", fallback_on=("server", "auth")
    )
    assert busy.route is not None and busy.route.strategy == "least-busy"
    assert config.profile("smart") == ("smart", smart)  # Config.profile() works for routers too


@pytest.mark.parametrize(
    ("profile", "path", "message"),
    [
        (
            "{provider: openai, route: {targets: [a]}}",
            "profiles.r.route",
            "a profile has either 'provider' or 'route', not both",
        ),
        ("{model: m}", "profiles.r.provider", "required key is missing; every profile needs one"),
        ("{route: {targets: [a]}, model: m}", "profiles.r.model", "not used by a router profile"),
        ("{route: {targets: [a, c]}}", "profiles.r.route.targets[1]", "no profile named 'c'"),
        ("{route: {targets: [a, bb]}}", "profiles.r.route.targets[1]", "no profile named 'bb'; did you mean 'b'?"),
        (
            "{route: {targets: [a], context_fallbacks: [aa]}}",
            "profiles.r.route.context_fallbacks[0]",
            "no profile named 'aa'; did you mean 'a'?",
        ),
        ("{route: {targets: [r]}}", "profiles.r.route", "a routing loop: r -> r"),
        ("{route: {targets: []}}", "profiles.r.route.targets", "expected a non-empty list of profile names"),
        ("{route: {strategy: a}}", "profiles.r.route.targets", "required key is missing; a router needs targets"),
        ("{route: {targets: [a, a]}}", "profiles.r.route.targets[1]", "'a' is already a target of this router"),
        (
            "{route: {strategy: wieghted, targets: [a]}}",
            "profiles.r.route.strategy",
            "unknown strategy 'wieghted'; did you mean 'weighted'?",
        ),
        (
            "{route: {targets: [{profile: a, weight: 0}]}}",
            "profiles.r.route.targets[0].weight",
            "a weight is a positive number, got 0",
        ),
        (
            "{route: {targets: [{profile: a, weight: -2}]}}",
            "profiles.r.route.targets[0].weight",
            "a weight is a positive number",
        ),
        ("{route: {targets: [{weight: 2}]}}", "profiles.r.route.targets[0].profile", "name the target profile"),
        (
            "{route: {targets: [{profile: a, wieght: 2}]}}",
            "profiles.r.route.targets[0].wieght",
            "did you mean 'weight'",
        ),
        (
            "{route: {targets: [a], fallback_on: [conection]}}",
            "profiles.r.route.fallback_on[0]",
            "unknown failure name 'conection'; did you mean 'connection'?",
        ),
        ("{route: [a, b]}", "profiles.r.route", "expected a mapping {strategy, targets"),
    ],
)
def test_router_profile_errors(fail, profile, path, message):
    error = fail(BASE + f"  r: {profile}\n")
    assert error.path == path
    assert message in str(error)


def test_a_loop_through_other_routers_is_named(fail):
    error = fail(
        BASE
        + "  r1: {route: {targets: [a, r2]}}\n"
        + "  r2: {route: {targets: [r3], context_fallbacks: [b]}}\n"
        + "  r3: {route: {targets: [b], context_fallbacks: [r1]}}\n"
    )
    assert error.path == "profiles.r1.route"
    assert "a routing loop: r1 -> r2 -> r3 -> r1" in str(error)
    assert str(error).count("routing loop") == 1  # one loop, reported once


def test_a_router_may_share_targets_with_another(parse):
    config = parse(BASE + "  r1: {route: {targets: [a, b]}}\n  r2: {route: {targets: [r1, a]}}\n")
    assert config.profiles["r2"].route is not None
