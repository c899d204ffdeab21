"""Hypothesis strategies for chat messages, and the built-in converters to run them through.

The generic message strategies live in :mod:`chatpipe.testing.strategies` (shipped for
plugin authors); this module re-exports them and adds the table of built-in converters.
It is not on ``sys.path``, so ``tests/core/postprocess/conftest.py`` loads it by path as
``chatpipe_postprocess_strategies``.
"""

from __future__ import annotations

import importlib

from chatpipe.converter import Converter
from chatpipe.testing.strategies import ROLES, contexts, message_lists, messages, names, parts, tool_calls

__all__ = [
    "CONVERTER_MODULES",
    "ROLES",
    "contexts",
    "message_lists",
    "messages",
    "names",
    "parts",
    "plugin_converters",
    "tool_calls",
]

CONVERTER_MODULES = (
    "chatpipe_none",
    "chatpipe_merge",
    "chatpipe_semi_strict",
    "chatpipe_strict",
    "chatpipe_single_user",
)
"""The plugin modules holding the built-in post-processing converters."""


def plugin_converters() -> dict[str, Converter]:
    """Every built-in post-processing converter, keyed by name and by each alias.

    Collected the way the registry does: each plugin module's hookimpl is called with a
    ``list.append`` register.
    """
    collected: list[Converter] = []
    for module_name in CONVERTER_MODULES:
        importlib.import_module(module_name).chatpipe_register_converters(register=collected.append)
    table: dict[str, Converter] = {}
    for converter in collected:
        for key in (converter.name, *converter.aliases):
            assert key not in table, f"converter name {key!r} registered twice"
            table[key] = converter
    return table
