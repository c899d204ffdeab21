"""Fixtures for the cohere plugin's tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture(scope="session")
def cohere_spec(vendor_spec: Callable[[str], Any]) -> Any:
    """Cohere's spec (``specs/cohere.yaml``) as a SpecValidator; skips when absent."""
    return vendor_spec("cohere")
