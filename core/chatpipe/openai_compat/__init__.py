"""The OpenAI-compatible adapter: a sans-IO base for every vendor speaking ``chat/completions``.

Public names:

* :class:`OpenAICompatibleProvider` — subclass it and declare only the vendor's differences
  (request body :mod:`._request`, replies :mod:`._response`, model lists :mod:`._models`);
* :class:`OpenAIStreamParser` — SSE events to chunks;
* :class:`ThinkStreamParser`, :class:`ThinkSplitter`, :func:`split_choice`, :func:`split_think`
  — move a leading ``<think>`` block to reasoning;
* :func:`audio_url_to_input_audio` — an ``audio_url`` data-URL part as ``input_audio``.

What adapters of any API share (JSON decoding, error bodies, URLs, options, finish reasons)
is in :mod:`chatpipe.vendor`.
"""

from __future__ import annotations

from ._provider import OpenAICompatibleProvider
from ._request import audio_url_to_input_audio
from ._stream import OpenAIStreamParser
from ._think import ThinkSplitter, ThinkStreamParser, split_choice, split_think

__all__ = [
    "OpenAICompatibleProvider",
    "OpenAIStreamParser",
    "ThinkSplitter",
    "ThinkStreamParser",
    "audio_url_to_input_audio",
    "split_choice",
    "split_think",
]
