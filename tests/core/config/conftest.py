"""Fixtures for the config tests: parse a YAML string, or capture the ConfigError it raises."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest
from chatpipe.config import Config, parse_config
from chatpipe.errors import ConfigError

Parse = Callable[..., Config]
Fail = Callable[..., ConfigError]


@pytest.fixture
def parse() -> Parse:
    """``parse(text, env={...})``: parse_config with an explicit (default empty) environment."""

    def run(text: str, env: Mapping[str, str] | None = None, source: str | None = None) -> Config:
        return parse_config(text, env=env or {}, source=source)

    return run


@pytest.fixture
def fail() -> Fail:
    """``fail(text, env={...})``: the ConfigError parse_config raises (fails the test if none)."""

    def run(text: str, env: Mapping[str, str] | None = None, source: str | None = None) -> ConfigError:
        with pytest.raises(ConfigError) as info:
            parse_config(text, env=env or {}, source=source)
        return info.value

    return run
