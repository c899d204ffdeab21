"""chatpipe: OpenAI-style chat conversations to any vendor, through a configurable pipeline.

The names below are imported lazily, so ``import chatpipe`` costs almost nothing; the HTTP
library is imported only when the first request is sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._markers import hookimpl

__version__ = "0.1.0"

__all__ = [
    "ChatChunk",
    "ChatRequest",
    "ChatResponse",
    "ChatpipeError",
    "Message",
    "Pipeline",
    "Secret",
    "Tool",
    "__version__",
    "convert",
    "hookimpl",
]

_LAZY = {
    "Pipeline": "chatpipe.pipeline",
    "convert": "chatpipe._convert",
    "ChatpipeError": "chatpipe.errors",
    "Message": "chatpipe.models",
    "Tool": "chatpipe.models",
    "ChatRequest": "chatpipe.models",
    "ChatResponse": "chatpipe.models",
    "ChatChunk": "chatpipe.models",
    "Secret": "chatpipe.secrets",
}

if TYPE_CHECKING:
    from ._convert import convert
    from .errors import ChatpipeError
    from .models import ChatChunk, ChatRequest, ChatResponse, Message, Tool
    from .pipeline import Pipeline
    from .secrets import Secret


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'chatpipe' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
