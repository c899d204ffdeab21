"""What ``config show`` prints and ``config init`` writes: the config file, redacted; a starter one.

:func:`redacted` is the file as written (``${VAR}`` references shown as they are, since they
hold no secret) with every literal secret replaced by ``***``: ``api_key``, header values,
gateway ``keys`` and ``metrics_keys``, the password of a URL (``base_url``, ``state.url``).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["STARTER", "redacted"]

_SECRET_KEYS = frozenset({"api_key", "keys", "metrics_keys"})
_REFERENCE = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}$")

STARTER = """\
# chatpipe config (docs/configuration.md). Keys: chatpipe keys set NAME, or the env vars below.
default: openai

profiles:
  openai:
    provider: openai            # pip install chatpipe-openai
    model: gpt-4o-mini
    api_key: ${OPENAI_API_KEY:-}
  claude:
    provider: claude            # pip install chatpipe-claude
    model: claude-sonnet-4-5
    api_key: ${ANTHROPIC_API_KEY:-}
    converters: [merge]
  local-server:
    provider: custom            # any OpenAI-compatible server (LM Studio, llama.cpp, LiteLLM...)
    base_url: http://127.0.0.1:1234/v1
    model: local-model
"""
"""The file ``chatpipe config init`` writes."""


def _hidden(value: Any) -> Any:
    if isinstance(value, str):
        return value if _REFERENCE.match(value.strip()) else "***"
    if isinstance(value, list):
        return [_hidden(item) for item in value]
    if isinstance(value, dict):
        return {key: _hidden(item) for key, item in value.items()}
    return "***"


def redacted(data: Any, key: str | None = None) -> Any:
    """``data`` (the parsed YAML) with its secrets replaced (see the module docstring)."""
    from ..http import safe_url

    if key in _SECRET_KEYS or key == "headers":
        return _hidden(data)
    if isinstance(data, dict):
        return {k: redacted(v, str(k)) for k, v in data.items()}
    if isinstance(data, list):
        return [redacted(item) for item in data]
    if isinstance(data, str) and key in ("base_url", "url") and "@" in data:
        return safe_url(data)
    return data
