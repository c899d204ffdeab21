"""The OpenAI-compatible adapter: a sans-IO base for every vendor speaking ``chat/completions``.

Public names:

* :class:`OpenAICompatibleProvider` — subclass it and declare only the vendor's differences
  (request body :mod:`._request`, replies :mod:`._response`, model lists :mod:`._models`);
* :class:`OpenAIStreamParser` — SSE events to chunks;
* :class:`OpenAIBatchAPI` — OpenAI's files + batches API (:mod:`._batch`), which a provider
  whose vendor has it returns from ``batch_api()``;
* :class:`ThinkStreamParser`, :class:`ThinkSplitter`, :func:`split_choice`, :func:`split_think`
  — move a leading ``<think>`` block to reasoning;
* :func:`audio_url_to_input_audio` — an ``audio_url`` data-URL part as ``input_audio``;
* :func:`is_text_completion_model`, :data:`TEXT_COMPLETION_MODELS` — the legacy models served
  by ``/completions`` only (:mod:`._completions`; a provider opts in with ``text_completion``).

What adapters of any API share (JSON decoding, error bodies, URLs, options, finish reasons)
is in :mod:`chatpipe.vendor`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes
from ._completions import TEXT_COMPLETION_MODELS, is_text_completion_model
from ._provider import OpenAICompatibleProvider
from ._request import audio_url_to_input_audio
from ._stream import OpenAIStreamParser

__all__ = [
    "TEXT_COMPLETION_MODELS",
    "OpenAIBatchAPI",
    "OpenAICompatibleProvider",
    "OpenAIStreamParser",
    "ThinkSplitter",
    "ThinkStreamParser",
    "audio_url_to_input_audio",
    "is_text_completion_model",
    "split_choice",
    "split_think",
]

if TYPE_CHECKING:
    from ._batch import OpenAIBatchAPI
    from ._think import ThinkSplitter, ThinkStreamParser, split_choice, split_think

# The batch API (files, JSONL, polling) loads when a batch is run, and the <think> splitting
# when an adapter that needs it is imported, not with every adapter.
_THINK = ("ThinkSplitter", "ThinkStreamParser", "split_choice", "split_think")
_LAZY = {
    "OpenAIBatchAPI": "chatpipe.openai_compat._batch:OpenAIBatchAPI",
    **{name: f"chatpipe.openai_compat._think:{name}" for name in _THINK},
}
if not TYPE_CHECKING:  # hidden from type checkers, which would otherwise accept any name from here
    __getattr__, __dir__ = lazy_attributes(globals(), _LAZY, __all__)
