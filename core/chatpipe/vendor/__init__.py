"""Helpers every vendor adapter shares, whatever API it speaks (pure, no I/O).

* JSON bodies: :func:`decode_json`; :func:`loads_json` (``json.loads`` whose every failure is a
  ``ValueError``, too-deep nesting included); :class:`MalformedPayload`, the one signal a parser raises
  for a body or event of the wrong shape, and :class:`ErrorInBody`, for a 2xx body that is an
  error envelope (the adapter turns each into its error);
* errors: :class:`ErrorDetails` read from a body by :func:`error_details` (any response) or
  :func:`details_from_json` (a decoded body); :func:`make_error`, the typed, scrubbed
  :class:`~chatpipe.errors.APIStatusError` for them; :func:`protocol_error` for a reply that
  breaks the contract; :func:`auth_hint`, the fix named with a 401; :func:`retry_after`
  (``Retry-After`` / ``retry-after-ms``); :func:`truncate` and :data:`MAX_BODY`;
* URLs: :func:`normalise_base_url`, :func:`join_url`, :func:`has_version_segment`;
* provider ``options``: :func:`check_options`;
* structured output for JSON-mode-only vendors: :func:`json_schema_as_message` (with
  :data:`SCHEMA_MESSAGE_PREFIX`);
* finish reasons: :func:`normalise_finish_reason` with a table (:data:`FINISH_REASONS`, the
  default).
"""

from __future__ import annotations

from ._arguments import arguments_object
from ._errors import (
    MAX_BODY,
    ErrorDetails,
    auth_hint,
    details_from_json,
    error_details,
    make_error,
    protocol_error,
    truncate,
)
from ._finish import FINISH_REASONS, normalise_finish_reason
from ._json import ErrorInBody, MalformedPayload, decode_json, json_or_none, loads_json
from ._options import check_options
from ._retry_after import retry_after
from ._schema import SCHEMA_MESSAGE_PREFIX, json_schema_as_message
from ._urls import has_version_segment, join_url, normalise_base_url

__all__ = [
    "FINISH_REASONS",
    "MAX_BODY",
    "SCHEMA_MESSAGE_PREFIX",
    "ErrorDetails",
    "ErrorInBody",
    "MalformedPayload",
    "arguments_object",
    "auth_hint",
    "check_options",
    "decode_json",
    "details_from_json",
    "error_details",
    "has_version_segment",
    "join_url",
    "json_or_none",
    "json_schema_as_message",
    "loads_json",
    "make_error",
    "normalise_base_url",
    "normalise_finish_reason",
    "protocol_error",
    "retry_after",
    "truncate",
]
