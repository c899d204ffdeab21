"""Config keys of issue 15: state, rate limits, cooldowns, explore — values and errors with key paths."""

from __future__ import annotations

import pytest
from chatpipe.config import CooldownConfig, parse_config
from chatpipe.errors import ConfigError

OPENAI = "{provider: openai}"


def test_defaults():
    config = parse_config(f"profiles: {{a: {OPENAI}, r: {{route: {{targets: [a]}}}}}}")
    assert config.state.backend == "local" and config.state.on_state_error == "open"
    assert (config.limits.rpm, config.limits.window, config.limits.max_wait) == (None, 60.0, 30.0)
    route = config.profiles["r"].route
    assert route is not None and route.cooldown == CooldownConfig(3, 60.0, 30.0) and route.explore == 0.1


def test_values_are_read():
    config = parse_config(
        "state: {backend: redis, url: 'redis://:pw@127.0.0.1:6390/2', prefix: blue, timeout: 0.5,"
        " on_state_error: closed}\n"
        "profiles:\n  a: {provider: openai, limits: {rpm: 600, tpm: 9000, concurrency: 4, window: 2, max_wait: 0}}\n"
        "  r: {route: {strategy: latency, targets: [a], cooldown: null, explore: 0.5}}\n"
    )
    assert (config.state.prefix, config.state.timeout, config.state.on_state_error) == ("blue", 0.5, "closed")
    assert "pw" not in repr(config.state)
    limits = config.profiles["a"].limits
    assert limits is not None and (limits.rpm, limits.tpm, limits.concurrency, limits.window, limits.max_wait) == (
        600,
        9000,
        4,
        2.0,
        0.0,
    )
    route = config.profiles["r"].route
    assert route is not None and route.cooldown is None and route.strategy == "latency"


@pytest.mark.parametrize(
    ("text", "path", "words"),
    [
        ("state: {backend: redis}", "state.url", "needs a url"),
        ("state: {backend: redis, url: 'http://x'}", "state.url", "Redis URL"),
        ("state: {backend: memcached}", "state.backend", "valid: local, redis"),
        ("state: {on_state_error: maybe}", "state.on_state_error", "open, closed"),
        ("limits: {rpm: 0}", "limits.rpm", "1 or more"),
        ("limits: {rpm: 30, window: 1}", "limits.rpm", "lengthen limits.window"),
        ("limits: {max_wait: -1}", "limits.max_wait", "0 or more"),
    ],
)
def test_bad_values_name_the_key(text: str, path: str, words: str):
    with pytest.raises(ConfigError) as caught:
        parse_config(f"{text}\nprofiles: {{a: {OPENAI}}}")
    assert caught.value.path == path and words in str(caught.value)


@pytest.mark.parametrize(
    ("route", "path"),
    [
        ("{targets: [a], cooldown: {failures: 0}}", "profiles.r.route.cooldown.failures"),
        ("{targets: [a], cooldown: {duration: -1}}", "profiles.r.route.cooldown.duration"),
        ("{targets: [a], explore: 2}", "profiles.r.route.explore"),
        ("{targets: [a], strategy: fastest}", "profiles.r.route.strategy"),
    ],
)
def test_bad_route_values_name_the_key(route: str, path: str):
    with pytest.raises(ConfigError) as caught:
        parse_config(f"profiles: {{a: {OPENAI}, r: {{route: {route}}}}}")
    assert caught.value.path == path
