"""chatpipe: OpenAI-style chat conversations to any vendor, through a configurable pipeline.

The names below are imported lazily, so ``import chatpipe`` costs almost nothing; the HTTP
library is imported only when the first request is sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_attributes
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
    "Pipeline": "chatpipe.pipeline:Pipeline",
    "convert": "chatpipe._convert:convert",
    "ChatpipeError": "chatpipe.errors:ChatpipeError",
    "Message": "chatpipe.models:Message",
    "Tool": "chatpipe.models:Tool",
    "ChatRequest": "chatpipe.models:ChatRequest",
    "ChatResponse": "chatpipe.models:ChatResponse",
    "ChatChunk": "chatpipe.models:ChatChunk",
    "Secret": "chatpipe.secrets:Secret",
}

if TYPE_CHECKING:
    from ._convert import convert
    from .errors import ChatpipeError
    from .models import ChatChunk, ChatRequest, ChatResponse, Message, Tool
    from .pipeline import Pipeline
    from .secrets import Secret


__getattr__, __dir__ = lazy_attributes(globals(), _LAZY, __all__)
