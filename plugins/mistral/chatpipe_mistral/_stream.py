"""Mistral's SSE stream: the OpenAI stream parser, fed with Mistral's chunk-list deltas resolved.

Each ``data:`` payload is decoded once here: list-valued ``delta.content`` is turned into text
and ``reasoning_content`` (:func:`._content.normalise_stream_payload`) before the OpenAI parser
sees it, and an error object inside the 200 stream (``{"object": "error", ...}`` or an
``event: error``) is raised as the typed API error with Mistral's message made readable.
Everything else — ``[DONE]``, usage in the last chunk, finish reasons, malformed JSON — is the
OpenAI parser's job.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs
from chatpipe.plugin import (
    APIStatusError,
    ChatChunk,
    ErrorDetails,
    MalformedPayload,
    OpenAIStreamParser,
    ProtocolError,
    SSEEvent,
    StreamParser,
    details_from_json,
    json_or_none,
)

from ._content import normalise_stream_payload
from ._errors import as_envelope, mistral_error_details

__all__ = ["MistralStreamParser"]


def _is_error(event: SSEEvent, decoded: Any) -> bool:
    if event.event == "error":
        return True
    if not isinstance(decoded, Mapping) or decoded.get("choices"):
        return False
    return "error" in decoded or str(decoded.get("object", "")).lower() == "error"


class MistralStreamParser(StreamParser):
    """Parses one Mistral chat stream by normalising each payload for an :class:`OpenAIStreamParser`.

    ``make_error(envelope)`` builds the typed error for an in-stream error (given an OpenAI
    envelope); ``make_protocol_error(problem, data)`` the error for malformed content chunks.
    """

    def __init__(
        self,
        inner: OpenAIStreamParser,
        *,
        make_error: Callable[[Mapping[str, Any]], APIStatusError],
        make_protocol_error: Callable[[str, str], ProtocolError],
    ) -> None:
        self.inner = inner
        self.done = False
        self._make_error = make_error
        self._make_protocol_error = make_protocol_error

    def feed(self, event: SSEEvent) -> Iterable[ChatChunk]:
        """The chunks one event yields; raises on error events and malformed data."""
        data = event.data.strip()
        if not self.inner.done and data and data != "[DONE]":
            decoded = json_or_none(data)  # not JSON (None): the inner parser reports it
            if _is_error(event, decoded):
                found = mistral_error_details(decoded) or details_from_json(decoded)
                raise self._make_error(as_envelope(found or ErrorDetails(message=data[:500] or "error event")))
            if isinstance(decoded, Mapping):
                try:
                    normalised = normalise_stream_payload(decoded)
                except MalformedPayload as exc:
                    raise self._make_protocol_error(str(exc), data) from None
                if normalised is not decoded:
                    event = attrs.evolve(event, data=json.dumps(normalised, ensure_ascii=False))
        chunks = self.inner.feed(event)
        self.done = self.inner.done
        return chunks

    def finish(self) -> Iterable[ChatChunk]:
        """The inner parser's pending chunks."""
        return self.inner.finish()
