"""Problems found in a config: a key path plus a message, and how they become a ConfigError.

A *key path* is a tuple of mapping keys (``str``) and list indexes (``int``), rendered as
``profiles.local.converters[1]``. Every validation step reports :class:`Problem` objects; the
loader turns them into one :class:`~chatpipe.errors.ConfigError` whose ``path`` is the first
problem's key path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from ..errors import ConfigError

__all__ = ["EnvStr", "Invalid", "Problem", "Problems", "describe", "format_path", "raise_problems"]

PathPart = str | int
KeyPath = tuple[PathPart, ...]

_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")
_MAX_SHOWN = 5


class EnvStr(str):
    """A string that came out of ``${ENV}`` interpolation.

    Its value is never echoed in an error message (it may be a secret), and numeric and
    boolean settings accept it when it spells a number or a boolean.
    """

    __slots__ = ()


@attrs.frozen
class Problem:
    """One thing wrong with the config, at ``path`` (relative to where it was found)."""

    path: KeyPath
    message: str

    def under(self, prefix: KeyPath) -> Problem:
        """The same problem with ``prefix`` put in front of its path."""
        return Problem(prefix + self.path, self.message)


class Problems(Exception):
    """One or more problems; raised by validation hooks and collected by the loader."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{format_path(p.path) or 'top level'}: {p.message}" for p in self.problems))


class Invalid(Problems):
    """A single problem at ``at`` (relative to the value being structured)."""

    def __init__(self, message: str, *, at: KeyPath = ()) -> None:
        super().__init__([Problem(at, message)])


def format_path(path: KeyPath) -> str:
    """``("profiles", "a b", "converters", 1)`` → ``profiles['a b'].converters[1]``."""
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _PLAIN_KEY.fullmatch(part):
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{part!r}]")
    return "".join(out)


def describe(value: Any) -> str:
    """A short description of ``value`` for "expected X, got Y" messages.

    Strings from environment variables are described, never shown; long strings are cut.
    """
    if isinstance(value, EnvStr):
        return "a string from an environment variable (value not shown)"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({'true' if value else 'false'})"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:37] + "...")
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def describe_type(value: Any) -> str:
    """Like :func:`describe`, but never shows the value itself (used for secrets)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    return describe(value) if isinstance(value, (Mapping, list, tuple)) else f"a {type(value).__name__}"


def raise_problems(problems: Sequence[Problem], *, file: str | None = None) -> None:
    """Raise one :class:`ConfigError` for ``problems`` (no-op when empty).

    The error's ``path`` is the first problem's; further problems are appended to the message
    (at most five of them) and all of them are in its ``problems``.
    """
    if not problems:
        return
    every = [(format_path(p.path) or None, p.message) for p in problems]
    first, *rest = problems
    message = first.message
    if rest:
        shown = "; ".join(f"{format_path(p.path) or 'top level'}: {p.message}" for p in rest[:_MAX_SHOWN])
        more = len(rest) - _MAX_SHOWN
        message += f" (also: {shown}{f'; and {more} more' if more > 0 else ''})"
    raise ConfigError(message, path=format_path(first.path) or None, file=file, problems=every)
