"""Gemini ``GenerateContentResponse`` -> :class:`~chatpipe.models.ChatResponse` (pure).

Shared with the stream parser (each streamed event is a ``GenerateContentResponse`` too):

* Each candidate is a choice (its ``index``, else its position). Its parts, in order:
  ``thought: true`` parts are reasoning (``Choice.reasoning``, streamed as reasoning deltas);
  other ``text`` parts are the message text; ``functionCall`` parts are tool calls
  (``arguments`` = ``json.dumps(args)``, id = Gemini's ``id`` when it sends one, else
  ``call_`` + a digest of the candidate, the call's position, name and arguments, so a reply
  and its stream give the same id). Signatures go to ``message.extra["thought_signatures"]``
  (:mod:`chatpipe_gemini._signatures`). Other parts (``executableCode``, ...) are kept in
  ``message.extra["vendor_parts"]``.
* Finish reasons (:data:`FINISH_REASONS`): ``STOP`` → ``stop`` (``tool_calls`` when the
  candidate called a function), ``MAX_TOKENS`` → ``length``, the safety family → ``content_filter``,
  ``MALFORMED_FUNCTION_CALL`` and the other failures → ``error``; unknown values → ``None``;
  the raw value is kept.
* Usage (:func:`parse_usage`): prompt = ``promptTokenCount`` (cached tokens included, OpenAI's
  meaning), completion = ``candidatesTokenCount`` + ``thoughtsTokenCount`` (OpenAI counts
  reasoning in the completion), reasoning = ``thoughtsTokenCount``, cached =
  ``cachedContentTokenCount``, total = ``totalTokenCount``; ``extra`` keeps the whole object.
* Logprobs: a candidate's ``logprobsResult`` becomes OpenAI's ``{"content": [{token, logprob,
  bytes: null, top_logprobs}]}``.
* A prompt refused by Gemini (``promptFeedback.blockReason`` with no candidate) raises
  :class:`PromptBlocked`; the adapter turns it into a
  :class:`~chatpipe.errors.ContentFilterError` (a reply cannot be made of nothing).
* A body holding ``error`` raises :class:`~chatpipe.vendor.ErrorInBody`; other malformed data
  :class:`~chatpipe.vendor.MalformedPayload`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import attrs
from chatpipe.plugin import (
    ChatResponse,
    Choice,
    ErrorInBody,
    FinishReason,
    FunctionCall,
    MalformedPayload,
    Message,
    ToolCall,
    Usage,
    wire,
)

from ._signatures import SIGNATURES, signature_record

__all__ = [
    "FINISH_REASONS",
    "CandidateParts",
    "PromptBlocked",
    "check_envelope",
    "finish_reason",
    "parse_logprobs",
    "parse_response",
    "parse_usage",
    "read_candidate",
]

FINISH_REASONS: Mapping[str, FinishReason] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "IMAGE_PROHIBITED_CONTENT": "content_filter",
    "IMAGE_RECITATION": "content_filter",
    "LANGUAGE": "error",
    "OTHER": "error",
    "MALFORMED_FUNCTION_CALL": "error",
    "UNEXPECTED_TOOL_CALL": "error",
    "TOO_MANY_TOOL_CALLS": "error",
    "NO_IMAGE": "error",
    "IMAGE_OTHER": "error",
}
"""Gemini ``finishReason`` → chatpipe finish reason (``STOP`` with a function call → ``tool_calls``)."""


class PromptBlocked(Exception):
    """Gemini refused the prompt itself (``promptFeedback.blockReason``)."""

    def __init__(self, reason: str, feedback: Mapping[str, Any]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.feedback = feedback


def finish_reason(raw: Any, *, called: bool) -> tuple[FinishReason | None, str | None]:
    """``(normalised, raw)`` for a ``finishReason``; ``called``: the candidate made tool calls."""
    if raw is None:
        return None, None
    text = raw if isinstance(raw, str) else str(raw)
    normal = FINISH_REASONS.get(text)
    return ("tool_calls" if called and normal == "stop" else normal), text


def parse_usage(data: Any) -> Usage | None:
    """chatpipe usage for a ``usageMetadata`` object (``None`` when it is not one)."""
    if not isinstance(data, Mapping):
        return None
    candidates = wire.token_count(data.get("candidatesTokenCount"))
    thoughts = wire.token_count(data.get("thoughtsTokenCount"))
    completion = None if candidates is None and thoughts is None else (candidates or 0) + (thoughts or 0)
    return Usage(
        prompt_tokens=wire.token_count(data.get("promptTokenCount")),
        completion_tokens=completion,
        total_tokens=wire.token_count(data.get("totalTokenCount")),
        cached_tokens=wire.token_count(data.get("cachedContentTokenCount")),
        reasoning_tokens=thoughts,
        extra=dict(data),
    )


def _entry(item: Any) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        return {"token": "", "logprob": None, "bytes": None}
    return {"token": item.get("token", ""), "logprob": item.get("logProbability"), "bytes": None}


def parse_logprobs(data: Any) -> dict[str, Any] | None:
    """OpenAI-shaped logprobs for a candidate's ``logprobsResult`` (``None`` when absent)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("chosenCandidates"), list):
        return None
    given = data.get("topCandidates")
    tops: list[Any] = given if isinstance(given, list) else []
    content = []
    for i, chosen in enumerate(data["chosenCandidates"]):
        entry = _entry(chosen)
        top = tops[i].get("candidates") if i < len(tops) and isinstance(tops[i], Mapping) else None
        entry["top_logprobs"] = [_entry(t) for t in top] if isinstance(top, list) else []
        content.append(entry)
    return {"content": content}


@attrs.define
class CandidateParts:
    """What one candidate (or one streamed piece of it) holds, part by part."""

    text: str = ""
    reasoning: str = ""
    calls: list[ToolCall] = attrs.field(factory=list)
    signatures: list[dict[str, Any]] = attrs.field(factory=list)
    vendor_parts: list[dict[str, Any]] = attrs.field(factory=list)


def _call_id(candidate: int, position: int, name: str, args: Mapping[str, Any]) -> str:
    text = json.dumps([candidate, position, name, args], sort_keys=True, ensure_ascii=False)
    return "call_" + hashlib.sha256(text.encode()).hexdigest()[:24]


def read_candidate(candidate: Mapping[str, Any], *, index: int, first_call: int, where: str) -> CandidateParts:
    """The parts of ``candidate`` (choice ``index``); ``first_call`` numbers its tool calls
    (a stream passes how many calls earlier events gave)."""
    out = CandidateParts()
    content = candidate.get("content")
    if content is None:
        return out
    if not isinstance(content, Mapping):
        raise MalformedPayload(f"{where}.content should be an object")
    parts = content.get("parts", [])
    if not isinstance(parts, list):
        raise MalformedPayload(f"{where}.content.parts should be a list")
    for i, part in enumerate(parts):
        at = f"{where}.content.parts[{i}]"
        if not isinstance(part, Mapping):
            raise MalformedPayload(f"{at} should be an object")
        call = part.get("functionCall")
        if call is not None:
            if not isinstance(call, Mapping) or not isinstance(call.get("name"), str):
                raise MalformedPayload(f"{at}.functionCall needs a string 'name'")
            args = call.get("args", {})
            if not isinstance(args, Mapping):
                raise MalformedPayload(f"{at}.functionCall.args should be an object")
            given = call.get("id")
            position = first_call + len(out.calls)
            ident = given if isinstance(given, str) and given else _call_id(index, position, call["name"], args)
            out.calls.append(ToolCall(ident, FunctionCall(call["name"], json.dumps(args, ensure_ascii=False))))
            record = signature_record(part, tool_call_id=ident)
        elif "text" in part:
            text = part["text"]
            if not isinstance(text, str):
                raise MalformedPayload(f"{at}.text should be a string")
            if part.get("thought") is True:
                out.reasoning += text
            else:
                out.text += text
            record = signature_record(part)
        else:
            out.vendor_parts.append(dict(part))
            record = None
        if record is not None:
            out.signatures.append(record)
    return out


def _candidates(data: Mapping[str, Any]) -> list[Any]:
    candidates = data.get("candidates", [])
    if not isinstance(candidates, list):
        raise MalformedPayload("'candidates' should be a list")
    return candidates


def check_envelope(data: Any) -> Mapping[str, Any]:
    """``data`` as a response object; an error envelope raises ErrorInBody, a blocked prompt PromptBlocked."""
    if not isinstance(data, Mapping):
        raise MalformedPayload("a Gemini reply should be a JSON object (a GenerateContentResponse)")
    if "error" in data:
        raise ErrorInBody(data)
    feedback = data.get("promptFeedback")
    if isinstance(feedback, Mapping) and feedback.get("blockReason") and not data.get("candidates"):
        raise PromptBlocked(str(feedback["blockReason"]), feedback)
    return data


def parse_response(data: Any, *, provider: str) -> ChatResponse:
    """The :class:`ChatResponse` for a decoded ``GenerateContentResponse``."""
    body = check_envelope(data)
    candidates = _candidates(body)
    if not candidates:
        raise MalformedPayload("a Gemini reply should have at least one candidate")
    choices = []
    for position, candidate in enumerate(candidates):
        where = f"candidates[{position}]"
        if not isinstance(candidate, Mapping):
            raise MalformedPayload(f"{where} should be an object")
        index = candidate.get("index", position)
        index = index if isinstance(index, int) and not isinstance(index, bool) else position
        parts = read_candidate(candidate, index=index, first_call=0, where=where)
        extra: dict[str, Any] = {}
        if parts.signatures:
            extra[SIGNATURES] = parts.signatures
        if parts.vendor_parts:
            extra["vendor_parts"] = parts.vendor_parts
        message = Message(
            "assistant",
            parts.text if parts.text or not parts.calls else None,
            tool_calls=tuple(parts.calls) or None,
            extra=extra,
        )
        finish, raw = finish_reason(candidate.get("finishReason"), called=bool(parts.calls))
        choices.append(
            Choice(
                index,
                message,
                finish_reason=finish,
                raw_finish_reason=raw,
                reasoning=parts.reasoning or None,
                logprobs=parse_logprobs(candidate.get("logprobsResult")),
            )
        )
    modelled = {"candidates", "usageMetadata", "modelVersion", "responseId"}
    return ChatResponse(
        id=body["responseId"] if isinstance(body.get("responseId"), str) else None,
        model=body["modelVersion"] if isinstance(body.get("modelVersion"), str) else None,
        choices=tuple(choices),
        usage=parse_usage(body.get("usageMetadata")),
        provider=provider,
        extra={k: v for k, v in body.items() if k not in modelled},
        raw=data,
    )
