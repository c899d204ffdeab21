"""``chatpipe.convert``: run converters over OpenAI-format dicts (dry runs, tests, tools)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._chain import make_context, normalise_names, resolve_chain, run_chain
from .registry import Registry, default_registry
from .wire import messages_from_dicts, messages_to_dicts

__all__ = ["convert"]


def convert(
    messages: list[dict[str, Any]],
    converters: str | list[str],
    *,
    placeholder: str | None = None,
    names: Mapping[str, Any] | None = None,
    registry: Registry | None = None,
) -> list[dict[str, Any]]:
    """Apply converters to ``messages`` and return new dicts; the input is never mutated.

    ``converters`` is one name (``"strict"``), a comma-separated string or a list, applied in
    order. ``placeholder`` is the user turn strict modes insert (default ``"[Start a new chat]"``);
    ``names`` has the keys ``user``, ``char`` and ``group`` (a list of group member names).
    Raises PluginNotFoundError for an unknown converter and InvalidRequestError for bad input.
    """
    structured = messages_from_dicts(messages)
    chain = resolve_chain(normalise_names(converters), registry or default_registry())
    stages = run_chain(structured, chain, make_context(placeholder, names))
    return messages_to_dicts(stages[-1][1] if stages else structured)
