"""The Claude forced conversion: OpenAI messages -> ``system`` blocks + Claude ``messages`` (pure).

This is the reference's *convertClaudeMessages* (docs/vendors/claude.md) with chatpipe's
decisions. It runs inside request building, after the user's converter chain. Steps:

0. **Example-prefixing** (docs/post-processing.md rule 1, as the Mistral, Cohere and AI21 conversions
   do): a ``system`` message named ``example_user`` gets the user's ``"Name: "`` prefix, one
   named ``example_assistant`` the character's (only if missing; the character's also not when
   the text starts with a group member's prefix), from the profile's speaker ``names``; without
   names nothing is added. The example name is then dropped.
1. **System.** With ``use_system`` (default), the leading run of ``system``/``developer``
   messages becomes the ``system`` field, one text block per text (a message's own
   ``cache_control`` lands on its last block). Media parts of those messages cannot go into
   ``system``: they become a user turn at that place (never lost). Other names on system
   messages are dropped.
2. **Each message becomes a turn.**

   * ``user`` (and any unknown role) → ``user``; a later ``system``/``developer`` message →
     ``user`` without its name.
   * A named message gets ``"Name: "`` in front of its content **unless it already starts with
     it** (the reference doubles it: ``"Rook: Rook: Yo."``). A leading image gets a separate
     ``"Name: "`` text block, so the image survives. Content that is only blank text gets no
     prefix (no empty ``"Name: "`` block, e.g. before a ``tool_use``).
   * ``assistant``: first the signed ``thinking``/``redacted_thinking`` blocks kept in
     ``extra["thinking_blocks"]`` (sent back unchanged, as Claude requires in tool loops), then
     unmodelled vendor blocks kept in ``extra["vendor_blocks"]``, then the text, then one
     ``tool_use`` block per tool call (``input`` = the parsed ``arguments``). The text is
     **kept** (difference 1; the reference replaces it with the tool calls).
   * ``tool`` → ``user`` with one ``tool_result`` block ``{tool_use_id, content, is_error}``;
     ``is_error`` comes from the tool message's extra key of that name.
   * Without tools in the request (Claude rejects tool blocks then), a tool call becomes the
     text ``[Tool call name({...})]`` (the name is kept; the reference keeps only the JSON),
     folded before the name prefix as the converters do, and a tool result becomes its text.
   * A message's ``cache_control`` extra key lands on its last block. Other extra keys
     (``reasoning_content``, ``prefix``...) are not Claude fields and are not sent.
3. **Assistant media** (images, documents) move to the end of the next user turn, as in the
   reference: after its text (``[user "draw", assistant [text, image], user "thanks"]`` sends
   ``["thanks", image]``), or after the tool results when a tool turn comes next. This runs
   before merging, on the turns as the messages gave them. When only assistant turns follow, a
   user turn is added after them (the reference inserts it right after the first assistant and
   moves the image on into the second, leaving an empty user turn between the two).
4. **Merge**: consecutive same-role turns become one turn, block lists concatenated.
5. **Tool results first**: in each user turn, ``tool_result`` blocks are moved before the
   other blocks (stable), as Claude requires.
6. **Prefill**: a final assistant turn without tool calls has the trailing whitespace of its
   last text block trimmed. With ``relabel_prefill`` (thinking on, or a model that cannot
   prefill) it becomes a ``user`` turn and merges into the user turn before it (the reference
   leaves two user turns in a row).
7. **Empty text**: whitespace-only text blocks are dropped (Claude rejects them); a block's
   ``cache_control`` moves to the block before it. A turn left empty gets one U+200B text
   block (as the reference does for empty parts), except a final empty assistant turn, which
   asks for nothing and is dropped.
8. **Placeholder**: when no turn remains, one user turn holding ``placeholder`` is added. A
   leading assistant turn is left in place, as in the reference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from chatpipe.plugin import (
    InvalidRequestError,
    Message,
    Names,
    arguments_object,
    example_prefixed,
    fold_tool_call,
    name_prefix,
)

from ._content import MEDIA_BLOCK_TYPES, content_blocks, text_block

__all__ = ["EMPTY_TEXT", "NO_NAMES", "SYSTEM_ROLES", "Conversation", "convert_messages"]

EMPTY_TEXT = "\u200b"
"""The text of an otherwise empty turn (zero-width space, as in the reference)."""

SYSTEM_ROLES = frozenset({"system", "developer"})

NO_NAMES = Names()
"""No speaker names: example messages only lose their name."""

Block = dict[str, Any]

_THINKING_TYPES = frozenset({"thinking", "redacted_thinking"})

"""The example-dialogue names of ``system`` messages and the prefix rule each one gets."""


@attrs.define
class _Turn:
    role: str
    blocks: list[Block]


@attrs.frozen
class Conversation:
    """The converted conversation: ``system`` text blocks (possibly empty) and ``messages``."""

    system: list[Block]
    messages: list[dict[str, Any]]


def _stored_blocks(message: Message, key: str, where: str) -> list[Block]:
    stored = message.extra.get(key)
    if stored is None:
        return []
    if not isinstance(stored, Sequence) or isinstance(stored, str) or not all(isinstance(b, Mapping) for b in stored):
        raise InvalidRequestError(
            f"{key} must be the list of blocks chatpipe returned with the reply; send it back unchanged",
            where=f"{where}.{key}",
        )
    return [dict(b) for b in stored]


def _with_name(blocks: list[Block], name: str | None) -> list[Block]:
    """``"name: "`` in front of the first block that is not blank text, unless already there.

    Content that is only blank text gets no prefix: an empty ``"Name: "`` block says nothing
    (e.g. before a ``tool_use``). A non-text first block (an image) gets a prefix block before it.
    """
    at = next((i for i, b in enumerate(blocks) if not _is_blank_text(b)), None) if name else None
    if name is None or at is None:
        return blocks
    prefix = name_prefix(name)
    first = blocks[at]
    if first.get("type") == "text" and isinstance(first.get("text"), str):
        if first["text"].startswith(prefix):
            return blocks
        return [*blocks[:at], {**first, "text": prefix + first["text"]}, *blocks[at + 1 :]]
    return [*blocks[:at], text_block(prefix), *blocks[at:]]


def _with_cache_control(blocks: list[Block], message: Message) -> list[Block]:
    cache = message.extra.get("cache_control")
    if cache is None or not blocks:
        return blocks
    return [*blocks[:-1], {**blocks[-1], "cache_control": cache}]


def _tool_result(message: Message, where: str, use_tools: bool) -> list[Block]:
    blocks = content_blocks(message.content, f"{where}.content")
    if not use_tools:
        return blocks
    if not message.tool_call_id:
        raise InvalidRequestError("a tool message needs the tool_call_id of the call it answers", where=where)
    result: Block = {"type": "tool_result", "tool_use_id": message.tool_call_id}
    kept = [b for b in blocks if not (b.get("type") == "text" and not str(b.get("text", "")).strip())]
    if isinstance(message.content, str) and message.content:
        result["content"] = message.content
    elif kept:
        result["content"] = kept
    if "is_error" in message.extra:
        result["is_error"] = bool(message.extra["is_error"])
    return [result]


def _assistant(message: Message, where: str, use_tools: bool) -> list[Block]:
    blocks = _stored_blocks(message, "thinking_blocks", where) + _stored_blocks(message, "vendor_blocks", where)
    content = content_blocks(message.content, f"{where}.content")
    calls = message.tool_calls or ()
    if not use_tools:  # folded before the name prefix, as the converters fold them
        content += [text_block(fold_tool_call(call)) for call in calls]
    blocks += _with_name(content, message.name)
    if use_tools:
        for i, call in enumerate(calls):
            arguments = arguments_object(call, where=f"{where}.tool_calls[{i}].function.arguments", vendor="Claude")
            blocks.append({"type": "tool_use", "id": call.id, "name": call.function.name, "input": arguments})
    return blocks


def _turn(message: Message, where: str, use_tools: bool) -> _Turn:
    if message.role == "assistant":
        return _Turn("assistant", _with_cache_control(_assistant(message, where, use_tools), message))
    if message.role == "tool":
        return _Turn("user", _with_cache_control(_tool_result(message, where, use_tools), message))
    blocks = content_blocks(message.content, f"{where}.content")
    if message.role not in SYSTEM_ROLES:
        blocks = _with_name(blocks, message.name)
    return _Turn("user", _with_cache_control(blocks, message))


def _system(messages: Sequence[Message], use_system: bool) -> tuple[list[Block], list[_Turn], int]:
    """The system blocks, user turns for system media, and how many messages were consumed."""
    if not use_system:
        return [], [], 0
    system: list[Block] = []
    media: list[_Turn] = []
    count = 0
    while count < len(messages) and messages[count].role in SYSTEM_ROLES:
        message = messages[count]
        blocks = _with_cache_control(content_blocks(message.content, f"messages[{count}].content"), message)
        system += [b for b in blocks if b.get("type") == "text"]
        others = [b for b in blocks if b.get("type") != "text"]
        if others:
            media.append(_Turn("user", others))
        count += 1
    return system, media, count


def _merge(turns: list[_Turn]) -> list[_Turn]:
    merged: list[_Turn] = []
    for turn in turns:
        if merged and merged[-1].role == turn.role:
            merged[-1].blocks.extend(turn.blocks)
        else:
            merged.append(_Turn(turn.role, list(turn.blocks)))
    return merged


def _move_assistant_media(turns: list[_Turn]) -> list[_Turn]:
    """Step 3: each assistant turn's media go to the end of the next user turn (before merging)."""
    out = [_Turn(t.role, list(t.blocks)) for t in turns]
    for i, turn in enumerate(out):
        if turn.role != "assistant":
            continue
        media = [b for b in turn.blocks if b.get("type") in MEDIA_BLOCK_TYPES]
        if not media:
            continue
        turn.blocks = [b for b in turn.blocks if b.get("type") not in MEDIA_BLOCK_TYPES]
        target = next((t for t in out[i + 1 :] if t.role == "user"), None)
        if target is None:  # only assistant turns follow: a user turn after them
            target = _Turn("user", [])
            out.append(target)
        target.blocks.extend(media)
    return out


def _results_first(turn: _Turn) -> _Turn:
    if turn.role != "user":
        return turn
    results = [b for b in turn.blocks if b.get("type") == "tool_result"]
    others = [b for b in turn.blocks if b.get("type") != "tool_result"]
    return _Turn("user", results + others)


def _is_blank_text(block: Block) -> bool:
    return block.get("type") == "text" and not str(block.get("text", "")).strip()


def _trim_prefill(turns: list[_Turn], relabel: bool) -> list[_Turn]:
    if not turns or turns[-1].role != "assistant":
        return turns
    last = turns[-1]
    if any(b.get("type") == "tool_use" for b in last.blocks):
        return turns
    blocks = list(last.blocks)
    if blocks and blocks[-1].get("type") == "text" and isinstance(blocks[-1].get("text"), str):
        blocks[-1] = {**blocks[-1], "text": blocks[-1]["text"].rstrip()}
    if relabel:  # signed thinking blocks are only valid in assistant turns
        kept = [b for b in blocks if b.get("type") not in _THINKING_TYPES]
        return _merge([*turns[:-1], _Turn("user", kept)])
    return [*turns[:-1], _Turn("assistant", blocks)]


def _drop_blank_text(blocks: list[Block]) -> list[Block]:
    out: list[Block] = []
    for block in blocks:
        if not _is_blank_text(block):
            out.append(block)
        elif "cache_control" in block and out:
            out[-1] = {**out[-1], "cache_control": block["cache_control"]}
    return out


def _no_empty_text(turns: list[_Turn]) -> list[_Turn]:
    out: list[_Turn] = []
    for position, turn in enumerate(turns):
        blocks = _drop_blank_text(turn.blocks)
        if not blocks:
            if turn.role == "assistant" and position == len(turns) - 1:
                continue  # an empty prefill asks for nothing
            cache = next((b["cache_control"] for b in turn.blocks if "cache_control" in b), None)
            blocks = [text_block(EMPTY_TEXT) if cache is None else {**text_block(EMPTY_TEXT), "cache_control": cache}]
        out.append(_Turn(turn.role, blocks))
    return out


def convert_messages(
    messages: Sequence[Message],
    *,
    use_tools: bool,
    use_system: bool = True,
    relabel_prefill: bool = False,
    placeholder: str,
    names: Names = NO_NAMES,
) -> Conversation:
    """Convert ``messages`` following the steps of the module docstring.

    ``use_tools``: the request defines tools (tool blocks are sent, else folded into text).
    ``use_system``: extract leading system messages into ``system``.
    ``relabel_prefill``: a final assistant turn is sent as a user turn (thinking, no-prefill models).
    ``names``: the speaker names for example-prefixing (step 0).
    Raises :class:`~chatpipe.errors.InvalidRequestError` for content Claude cannot take.
    """
    messages = [example_prefixed(m, names, where=f"messages[{i}]") for i, m in enumerate(messages)]
    system, turns, consumed = _system(messages, use_system)
    for index in range(consumed, len(messages)):
        turns.append(_turn(messages[index], f"messages[{index}]", use_tools))
    turns = [_results_first(t) for t in _merge(_move_assistant_media(turns))]
    turns = _no_empty_text(_trim_prefill(turns, relabel_prefill))
    if not turns:
        turns = [_Turn("user", [text_block(placeholder)])]
    return Conversation(
        system=_drop_blank_text(system),
        messages=[{"role": t.role, "content": t.blocks} for t in turns],
    )
