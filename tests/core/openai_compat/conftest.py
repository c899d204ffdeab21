"""Fixtures for the OpenAI-compatible adapter tests: a concrete adapter, a planted key, the spec."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from chatpipe.openai_compat import OpenAICompatibleProvider
from chatpipe.provider import ProviderInfo, ProviderSettings
from chatpipe.secrets import Secret

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the spec helper lives beside this conftest
    sys.path.insert(0, str(HERE))

PLANTED_KEY = "sk-test-PLANTED-9f8e7d6c5b4a39281706"


class ExampleProvider(OpenAICompatibleProvider):
    """A vendor that declares nothing beyond the base: exercises the adapter's defaults."""

    info = ProviderInfo(
        name="example",
        package="chatpipe-example",
        display_name="Example",
        default_base_url="https://api.example.test/v1",
        api_key_env=("EXAMPLE_API_KEY",),
    )


@pytest.fixture
def planted_key() -> str:
    """A recognisable fake key that must never appear in any error text or repr."""
    return PLANTED_KEY


@pytest.fixture
def make_provider() -> Callable[..., ExampleProvider]:
    """Build an :class:`ExampleProvider`; keyword arguments become :class:`ProviderSettings` fields."""

    def make(
        base_url: str = "https://api.example.test/v1", key: str | None = PLANTED_KEY, **kwargs: Any
    ) -> ExampleProvider:
        return ExampleProvider(ProviderSettings(base_url=base_url, api_key=Secret(key) if key else None, **kwargs))

    return make


@pytest.fixture
def provider(make_provider: Callable[..., ExampleProvider]) -> ExampleProvider:
    """An adapter with the planted key and default settings."""
    return make_provider()
