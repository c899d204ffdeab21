"""The OpenAI-compatible adapter: a sans-IO base for every vendor speaking ``chat/completions``.

Public names:

* :class:`OpenAICompatibleProvider` — subclass it and declare only the vendor's differences;
* :class:`OpenAIStreamParser` — SSE events to chunks;
* :class:`StreamAccumulator` — chunks to a complete reply (provider-neutral; also used by the
  pipeline for every provider);
* :class:`ThinkStreamParser`, :func:`split_choice` — move a leading ``<think>`` block to reasoning;
* :func:`check_options` — validate a provider's ``options`` against a table of names and types;
* error bodies for every OpenAI-like envelope: :func:`error_details`, :func:`details_from_json`,
  :func:`make_error`, :func:`retry_after`, :func:`truncate`, :class:`ErrorDetails`;
  body decoding: :func:`decode_json` (raises :class:`MalformedBody`/:class:`ErrorInBody`) —
  reused by the native adapters (Claude, Cohere, Mistral);
* :func:`normalise_finish_reason`, :data:`FINISH_REASONS`, :func:`join_url`,
  :func:`normalise_base_url`, :func:`audio_url_to_input_audio`.
"""

from __future__ import annotations

from .._accumulate import StreamAccumulator
from ._errors import MAX_BODY, ErrorDetails, details_from_json, error_details, make_error, retry_after, truncate
from ._finish import FINISH_REASONS, normalise_finish_reason
from ._options import check_options
from ._provider import OpenAICompatibleProvider
from ._request import audio_url_to_input_audio
from ._response import ErrorInBody, MalformedBody, decode_json
from ._stream import OpenAIStreamParser
from ._think import ThinkSplitter, ThinkStreamParser, split_choice, split_think
from ._urls import has_version_segment, join_url, normalise_base_url

__all__ = [
    "FINISH_REASONS",
    "MAX_BODY",
    "ErrorDetails",
    "ErrorInBody",
    "MalformedBody",
    "OpenAICompatibleProvider",
    "OpenAIStreamParser",
    "StreamAccumulator",
    "ThinkSplitter",
    "ThinkStreamParser",
    "audio_url_to_input_audio",
    "check_options",
    "decode_json",
    "details_from_json",
    "error_details",
    "has_version_segment",
    "join_url",
    "make_error",
    "normalise_base_url",
    "normalise_finish_reason",
    "retry_after",
    "split_choice",
    "split_think",
    "truncate",
]
