"""Fixtures for the post-processing tests: the plugin converters and a dict-level runner.

Also loads ``strategies.py`` as the module ``chatpipe_postprocess_strategies`` so the test
modules here can import it (it is not on ``sys.path``).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from chatpipe.converter import ConvertContext, Converter, Names
from chatpipe.wire import messages_from_dicts, messages_to_dicts

STRATEGIES_MODULE = "chatpipe_postprocess_strategies"


def _load_strategies() -> Any:
    if STRATEGIES_MODULE in sys.modules:
        return sys.modules[STRATEGIES_MODULE]
    spec = importlib.util.spec_from_file_location(STRATEGIES_MODULE, Path(__file__).with_name("strategies.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[STRATEGIES_MODULE] = module
    spec.loader.exec_module(module)
    return module


strategies = _load_strategies()

Runner = Callable[..., list[dict[str, Any]]]


@pytest.fixture(scope="session")
def converters() -> dict[str, Converter]:
    """The built-in converters keyed by name and alias (collected through their hookimpls)."""
    return dict(strategies.plugin_converters())


@pytest.fixture(scope="session")
def run(converters: Mapping[str, Converter]) -> Runner:
    """``run(mode, dicts, placeholder=..., user=..., char=..., group=...)`` -> output dicts."""

    def _run(
        mode: str,
        dicts: list[dict[str, Any]],
        *,
        placeholder: str = "[Start a new chat]",
        user: str = "",
        char: str = "",
        group: tuple[str, ...] = (),
    ) -> list[dict[str, Any]]:
        context = ConvertContext(placeholder=placeholder, names=Names(user=user, char=char, group=group))
        return messages_to_dicts(converters[mode](messages_from_dicts(dicts), context))

    return _run
