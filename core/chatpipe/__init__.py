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
    "Tool",
    "__version__",
    "convert",
    "hookimpl",
]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        "Pipeline": ".pipeline",
        "convert": "._convert",
        "ChatpipeError": ".errors",
        "Message": ".models",
        "Tool": ".models",
        "ChatRequest": ".models",
        "ChatResponse": ".models",
        "ChatChunk": ".models",
    },
)

if TYPE_CHECKING:
    from ._convert import convert
    from .errors import ChatpipeError
    from .models import ChatChunk, ChatRequest, ChatResponse, Message, Tool
    from .pipeline import Pipeline
