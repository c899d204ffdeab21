"""Gemini's ``streamGenerateContent?alt=sse`` events -> :class:`~chatpipe.models.ChatChunk` (pure).

Every SSE ``data:`` line is a whole ``GenerateContentResponse`` holding the next piece of each
candidate, read as :mod:`chatpipe_gemini._response` reads a reply:

* text → chunk ``text``; thought parts → chunk ``reasoning``; each ``functionCall`` part (Gemini
  sends calls whole) → one :class:`~chatpipe.models.ToolCallDelta` with id, name and all the
  arguments, at the candidate's next tool-call index;
* signatures → ``message_extra["thought_signatures"]`` (the candidate's records so far: the
  assembled reply holds them all); other parts → ``message_extra["vendor_parts"]``;
* ``finishReason`` (mapped; ``STOP`` after a function call → ``tool_calls``), ``usageMetadata``
  (cumulative: the last one is the reply's), ``logprobsResult``, ``modelVersion`` and
  ``responseId`` ride on the chunks.

Errors: an event holding ``{"error": {...}}`` raises the typed error (the pipeline keeps the
text received before it on the error); a blocked prompt raises
:class:`~chatpipe.errors.ContentFilterError` through the adapter; malformed data raises
:class:`~chatpipe.errors.ProtocolError`, and so does a stream that ends before any candidate
gave a ``finishReason`` (the reply would be silently incomplete). Gemini ends the stream by
closing it (there is no ``[DONE]``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs
from chatpipe.plugin import (
    APIStatusError,
    ChatChunk,
    ErrorInBody,
    MalformedPayload,
    ProtocolError,
    SSEEvent,
    StreamParser,
    ToolCallDelta,
    loads_json,
)

from ._response import PromptBlocked, check_envelope, finish_reason, parse_logprobs, parse_usage, read_candidate
from ._signatures import SIGNATURES

__all__ = ["GeminiStreamParser"]

ErrorFactory = Callable[[Mapping[str, Any]], APIStatusError]
BlockedFactory = Callable[[PromptBlocked, str], APIStatusError]
ProtocolFactory = Callable[[str, str], ProtocolError]


class _Candidate:
    def __init__(self) -> None:
        self.calls = 0
        self.signatures: list[dict[str, Any]] = []
        self.vendor_parts: list[dict[str, Any]] = []
        self.finished = False


class GeminiStreamParser(StreamParser):
    """Parses one Gemini SSE stream (see the module docstring).

    ``make_error(payload)`` builds the typed error of an error event, ``make_blocked(blocked,
    data)`` the error of a blocked prompt, ``make_protocol_error(problem, data)`` the error for
    malformed data; all come from the adapter (provider name, scrubbed bodies).
    """

    def __init__(
        self, *, make_error: ErrorFactory, make_blocked: BlockedFactory, make_protocol_error: ProtocolFactory
    ) -> None:
        self.done = False
        self._make_error = make_error
        self._make_blocked = make_blocked
        self._protocol = make_protocol_error
        self._candidates: dict[int, _Candidate] = {}
        self._role_sent: set[int] = set()

    def feed(self, event: SSEEvent) -> Iterable[ChatChunk]:
        """The chunks one event yields; raises on error events and malformed data."""
        data = event.data.strip()
        if not data:
            return ()
        try:
            payload: Any = loads_json(data)
        except ValueError:
            raise self._protocol("a stream event is not valid JSON", data) from None
        try:
            return self._chunks(check_envelope(payload))
        except ErrorInBody as exc:
            raise self._make_error(exc.data) from None
        except PromptBlocked as exc:
            raise self._make_blocked(exc, data) from None
        except MalformedPayload as exc:
            raise self._protocol(str(exc), data) from None

    def finish(self) -> Iterable[ChatChunk]:
        """The byte stream ended: fine once a candidate finished, a ProtocolError before."""
        if not any(c.finished for c in self._candidates.values()):
            what = "before any finishReason" if self._candidates else "without any candidate"
            raise self._protocol(f"the stream ended {what}; the reply is incomplete", "")
        return ()

    def _chunks(self, data: Mapping[str, Any]) -> list[ChatChunk]:
        candidates = data.get("candidates", [])
        if not isinstance(candidates, list):
            raise MalformedPayload("'candidates' should be a list")
        usage = parse_usage(data.get("usageMetadata"))
        ident = data.get("responseId") if isinstance(data.get("responseId"), str) else None
        model = data.get("modelVersion") if isinstance(data.get("modelVersion"), str) else None
        chunks = [self._candidate_chunk(c, position) for position, c in enumerate(candidates)]
        if not chunks and usage is not None:
            chunks.append(ChatChunk())
        if chunks:
            chunks[-1] = attrs.evolve(chunks[-1], usage=usage, id=ident, model=model)
        return chunks

    def _candidate_chunk(self, candidate: Any, position: int) -> ChatChunk:
        where = f"candidates[{position}]"
        if not isinstance(candidate, Mapping):
            raise MalformedPayload(f"{where} should be an object")
        index = candidate.get("index", position)
        index = index if isinstance(index, int) and not isinstance(index, bool) else position
        state = self._candidates.setdefault(index, _Candidate())
        parts = read_candidate(candidate, index=index, first_call=state.calls, where=where)
        deltas = tuple(
            ToolCallDelta(state.calls + i, id=call.id, name=call.function.name, arguments=call.function.arguments)
            for i, call in enumerate(parts.calls)
        )
        state.calls += len(parts.calls)
        message_extra: dict[str, Any] = {}
        if parts.signatures:
            state.signatures += parts.signatures
            message_extra[SIGNATURES] = list(state.signatures)
        if parts.vendor_parts:
            state.vendor_parts += parts.vendor_parts
            message_extra["vendor_parts"] = list(state.vendor_parts)
        finish, raw = finish_reason(candidate.get("finishReason"), called=state.calls > 0)
        if raw is not None:
            state.finished = True
        role = None if index in self._role_sent else "assistant"
        self._role_sent.add(index)
        return ChatChunk(
            index=index,
            role=role,
            text=parts.text,
            reasoning=parts.reasoning,
            tool_calls=deltas,
            finish_reason=finish,
            raw_finish_reason=raw,
            logprobs=parse_logprobs(candidate.get("logprobsResult")),
            message_extra=message_extra,
        )
