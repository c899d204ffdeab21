"""Resolving and running a converter chain; shared by :func:`chatpipe.convert` and Pipeline."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .converter import DEFAULT_PLACEHOLDER, ConvertContext, Converter, Names
from .errors import InvalidRequestError
from .models import Message
from .registry import Registry

__all__ = ["Stage", "make_context", "normalise_names", "resolve_chain", "run_chain"]

Stage = tuple[str, tuple[Message, ...]]
"""A chain stage: the converter's name and the messages it produced."""


def normalise_names(names: str | Sequence[str] | None) -> list[str]:
    """A converter chain given as one name, a comma-separated string, or a list."""
    if names is None:
        return []
    if isinstance(names, str):
        return [n.strip() for n in names.split(",")] if names else ["none"]
    return [str(n) for n in names]


def resolve_chain(names: Sequence[str], registry: Registry) -> list[Converter]:
    """The converters for ``names``, in order (unknown names raise PluginNotFoundError)."""
    return [registry.converter(name) for name in names]


def make_context(placeholder: str | None = None, names: Names | Mapping[str, Any] | None = None) -> ConvertContext:
    """A ConvertContext from user-facing arguments; ``names`` keys are user, char and group."""
    if names is None:
        resolved = Names()
    elif isinstance(names, Names):
        resolved = names
    elif isinstance(names, Mapping):
        unknown = set(names) - {"user", "char", "group"}
        if unknown:
            raise InvalidRequestError(f"unknown key(s) {sorted(unknown)}; use user, char and group", where="names")
        raw_group = names.get("group") or ()
        group: tuple[str, ...] = (raw_group,) if isinstance(raw_group, str) else tuple(str(g) for g in raw_group)
        resolved = Names(user=str(names.get("user") or ""), char=str(names.get("char") or ""), group=group)
    else:
        raise InvalidRequestError("expected a mapping with user, char and group", where="names")
    return ConvertContext(placeholder=DEFAULT_PLACEHOLDER if placeholder is None else placeholder, names=resolved)


def run_chain(messages: tuple[Message, ...], chain: Sequence[Converter], context: ConvertContext) -> list[Stage]:
    """Run ``chain`` over ``messages``; returns every stage's output (input excluded)."""
    stages: list[Stage] = []
    current = messages
    for converter in chain:
        current = tuple(converter(current, context))
        stages.append((converter.name, current))
    return stages
