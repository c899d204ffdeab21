"""Validation of provider ``options`` against a declared table of names and types."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError

__all__ = ["check_options"]


def check_options(provider: str, options: Mapping[str, Any], known: Mapping[str, type | tuple[type, ...]]) -> None:
    """Raise :class:`~chatpipe.errors.ConfigError` for an unknown option or a value of the wrong type.

    ``known`` maps each option name to the accepted type(s); the message lists what is accepted.
    """
    unknown = sorted(set(options) - set(known))
    if unknown:
        accepted = ", ".join(sorted(known)) or "none"
        raise ConfigError(
            f"unknown option(s) {unknown} for provider {provider!r}; it accepts: {accepted}", path="options"
        )
    for name, value in options.items():
        expected = known[name]
        bad_bool = isinstance(value, bool) and bool not in (expected if isinstance(expected, tuple) else (expected,))
        if not isinstance(value, expected) or bad_bool:
            names = expected.__name__ if isinstance(expected, type) else " or ".join(t.__name__ for t in expected)
            raise ConfigError(
                f"option {name!r} of provider {provider!r} must be a {names}, got {type(value).__name__}",
                path=f"options.{name}",
            )
