"""Mistral reply content: a string or a list of chunks, with ``thinking`` chunks (pure).

Mistral's reasoning models answer with ``content`` as a list such as
``[{"type": "thinking", "thinking": [{"type": "text", "text": "..."}]}, {"type": "text",
"text": "..."}]``, in replies and in stream deltas alike (a delta's content may also be a plain
string). The rules, the same for both:

* ``text`` chunks are concatenated into the reply text;
* the text of each ``thinking`` chunk's inner chunks (a list of ``text`` chunks, or a plain
  string) is concatenated into the reasoning; inner chunks of other types (tool references)
  carry no text and are skipped;
* any other chunk type (``reference``, ``image_url``...) is kept as a part in a non-streamed
  reply's content; in a stream there is no place for it and it is skipped.

A chunk that is not an object, a ``text`` chunk without string ``text`` or a ``thinking``
chunk whose ``thinking`` is neither a list nor a string raises
:class:`~chatpipe.vendor.MalformedPayload`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from chatpipe.plugin import Choice, MalformedPayload, Part, TextPart, wire

__all__ = ["SplitContent", "normalise_stream_payload", "split_choice_content", "split_chunks"]


@attrs.frozen
class SplitContent:
    """A chunk list taken apart: concatenated ``text`` and ``reasoning``, and the other chunks."""

    text: str
    reasoning: str
    others: tuple[Mapping[str, Any], ...] = ()


def _thinking_text(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        raise MalformedPayload(f"{where}.thinking should be a list of chunks, got {type(value).__name__}")
    return "".join(item["text"] for item in value if isinstance(item, Mapping) and isinstance(item.get("text"), str))


def split_chunks(chunks: Sequence[Any], where: str = "content") -> SplitContent:
    """Take a content chunk list apart (see the module docstring); ``where`` names it in errors."""
    text: list[str] = []
    reasoning: list[str] = []
    others: list[Mapping[str, Any]] = []
    for i, chunk in enumerate(chunks):
        at = f"{where}[{i}]"
        if not isinstance(chunk, Mapping):
            raise MalformedPayload(f"{at} should be a content chunk object, got {type(chunk).__name__}")
        kind = chunk.get("type")
        if kind == "text":
            if not isinstance(chunk.get("text"), str):
                raise MalformedPayload(f"{at}.text should be a string, got {type(chunk.get('text')).__name__}")
            text.append(chunk["text"])
        elif kind == "thinking":
            reasoning.append(_thinking_text(chunk.get("thinking"), at))
        else:
            others.append(chunk)
    return SplitContent("".join(text), "".join(reasoning), tuple(others))


def split_choice_content(choice: Choice, position: int = 0) -> Choice:
    """``choice`` with chunk-list content resolved: text as the content, thinking as ``reasoning``.

    Content without other chunk types becomes a plain string (``None`` when it is empty and the
    message carries tool calls); otherwise the non-thinking parts are kept in order. String
    content is returned unchanged.
    """
    message = choice.message
    if not isinstance(message.content, tuple):
        return choice
    split = split_chunks([wire.part_to_dict(p) for p in message.content], f"choices[{position}].message.content")
    content: str | tuple[Part, ...] | None
    if split.others:
        content = tuple(p for p in message.content if isinstance(p, TextPart) or p.type != "thinking")
    elif split.text or not message.tool_calls:
        content = split.text
    else:
        content = None
    reasoning = "\n\n".join(r for r in (choice.reasoning, split.reasoning) if r) or None
    return attrs.evolve(choice, message=attrs.evolve(message, content=content), reasoning=reasoning)


def normalise_stream_payload(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """A decoded stream chunk whose list-valued ``delta.content`` values are resolved.

    Each such delta gets ``content`` = the concatenated text and ``reasoning_content`` = the
    thinking text (appended to any it had), so the OpenAI stream parser reads both. Payloads
    without list content are returned as they are.
    """
    choices = data.get("choices")
    if not isinstance(choices, list):
        return data
    changed = False
    out = []
    for i, choice in enumerate(choices):
        delta = choice.get("delta") if isinstance(choice, Mapping) else None
        if not isinstance(delta, Mapping) or not isinstance(delta.get("content"), list):
            out.append(choice)
            continue
        split = split_chunks(delta["content"], f"choices[{i}].delta.content")
        new_delta: dict[str, Any] = {**delta, "content": split.text}
        if split.reasoning:
            earlier = delta.get("reasoning_content")
            new_delta["reasoning_content"] = (earlier if isinstance(earlier, str) else "") + split.reasoning
        out.append({**choice, "delta": new_delta})
        changed = True
    return {**data, "choices": out} if changed else data
