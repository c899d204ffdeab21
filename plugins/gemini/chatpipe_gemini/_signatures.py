"""Thought signatures: where a reply keeps them and how they go back on the same parts (pure).

Gemini signs its reasoning: a part of a reply may carry ``thoughtSignature``, an opaque string
the model needs back, on the same part, when the conversation is sent again (Gemini 3 refuses
a function-calling turn whose signature is missing). chatpipe keeps them on the assistant
message, in ``message.extra["thought_signatures"]``: a list, in reply order, of records

* ``{"part": "function_call", "tool_call_id": ID, "signature": S}`` — on the functionCall
  part of tool call ``ID``;
* ``{"part": "text", "signature": S}`` — on the turn's text part (an empty text part is sent
  for it when the message has no text, as Gemini itself returns one);
* ``{"part": "thought", "text": T, "signature": S}`` — a signed thought part, sent back as
  ``{"text": T, "thought": true, "thoughtSignature": S}`` at the start of the turn.

A conversation from elsewhere (another model, an edited history) has no signatures, which
Gemini 3 refuses for function calls. For those models (``fill_missing``), an assistant turn
whose tool calls carry no signature gets :data:`SKIP_VALIDATOR` on its first functionCall part:
the value Google documents for histories that were not produced by Gemini.

A message returned by chatpipe carries these records; sending it back unchanged (as
``wire.message_to_dict`` and the pipeline do) replays them. Unsigned thoughts are not sent
back (Gemini does not need them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chatpipe.plugin import InvalidRequestError

__all__ = ["SIGNATURES", "SKIP_VALIDATOR", "read_signatures", "signature_record"]

SIGNATURES = "thought_signatures"
"""The assistant message ``extra`` key holding the records."""

SKIP_VALIDATOR = "skip_thought_signature_validator"
"""The signature Gemini accepts on a function call it did not sign itself."""

_KINDS = frozenset({"function_call", "text", "thought"})


def signature_record(part: Mapping[str, Any], *, tool_call_id: str | None = None) -> dict[str, Any] | None:
    """The record for a reply ``part`` that carries a signature, or ``None`` when it carries none."""
    signature = part.get("thoughtSignature")
    if not isinstance(signature, str) or not signature:
        return None
    if tool_call_id is not None:
        return {"part": "function_call", "tool_call_id": tool_call_id, "signature": signature}
    if part.get("thought") is True:
        text = part.get("text")
        return {"part": "thought", "text": text if isinstance(text, str) else "", "signature": signature}
    return {"part": "text", "signature": signature}


def read_signatures(extra: Mapping[str, Any], where: str) -> list[Mapping[str, Any]]:
    """The records of an assistant message's ``extra`` (none when absent); malformed ones are an error."""
    stored = extra.get(SIGNATURES)
    if stored is None:
        return []
    if isinstance(stored, (str, bytes)) or not isinstance(stored, Sequence):
        raise InvalidRequestError(
            "must be the list chatpipe returned with the reply; send it back unchanged", where=f"{where}.{SIGNATURES}"
        )
    for i, record in enumerate(stored):
        if (
            not isinstance(record, Mapping)
            or record.get("part") not in _KINDS
            or not isinstance(record.get("signature"), str)
        ):
            raise InvalidRequestError(
                "each record needs 'part' (function_call, text or thought) and a string 'signature'",
                where=f"{where}.{SIGNATURES}[{i}]",
            )
    return list(stored)
