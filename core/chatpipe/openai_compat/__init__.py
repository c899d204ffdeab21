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
from ._think import ThinkSplitter, ThinkStreamParser, split_choice, split_think

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

# the batch API (files, JSONL, polling) loads when a batch is run, not with every adapter
__getattr__, __dir__ = lazy_attributes(
    globals(), {"OpenAIBatchAPI": "chatpipe.openai_compat._batch:OpenAIBatchAPI"}, __all__
)
