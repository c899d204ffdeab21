"""Mistral's forced message conversion (SillyTavern's ``convertMistralMessages``, docs/vendors/mistral.md), pure.

Applied by :meth:`MistralProvider.prepare <chatpipe_mistral.MistralProvider.prepare>` after the
user's converter chain, in the reference's order:

1. With ``prefix`` on (provider option, default off) and an ``assistant`` message last, that
   message gets ``prefix: true`` (an explicit ``prefix`` key on it is left as it is).
2. Every tool-call id and every ``tool`` message's ``tool_call_id`` becomes
   :func:`mistral_tool_id` of itself (first 9 hex characters of its SHA-512), so a call and its
   result still match and ids minted by other vendors (``call_…``, ``toolu_…``) satisfy
   Mistral's 9-character rule.
3. Example-prefixing: a ``system`` message named ``example_user`` / ``example_assistant`` gets
   the user's / character's ``"Name: "`` prefix (only if missing; the character prefix also not
   when the text starts with a group member's prefix); its name is removed.
4. A non-system message with a name gets ``"name: "`` prepended and loses the name — only if the
   text does not already start with it; an already-prefixed message keeps its ``name`` (so the
   prefix is never doubled, difference 6 in docs/post-processing.md). Other system names are kept.
5. A ``user`` message directly after a ``tool`` message is appended (blank-line join) to the
   last earlier non-empty ``user`` message and removed, repeated until nothing changes; with no
   earlier user message it stays.
6. A ``system`` message directly after an ``assistant`` message becomes ``user``.

No roles are merged. Where chatpipe differs from the reference: part lists are prefixed and
joined as parts (the reference throws or writes ``[object Object]``), joining with an empty
message adds no stray blank line (difference 3), and the input is never mutated (difference 5).
Names the reference keeps on messages are removed later, when the body is built, for the roles
whose Mistral schema has no ``name`` (see :mod:`._body`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import attrs
from chatpipe.plugin import (
    Message,
    Names,
    Pieces,
    first_text,
    join,
    name_prefix,
    prefix_as_char,
    prefix_as_user,
    prepend,
    render,
    to_pieces,
)

__all__ = ["convert_mistral_messages", "mistral_tool_id"]

EXAMPLE_USER, EXAMPLE_ASSISTANT = "example_user", "example_assistant"
NO_NAMES = Names()
"""No speaker names: example messages only lose their name."""


def mistral_tool_id(original: str) -> str:
    """The 9-character id Mistral gets for ``original``: the first 9 hex digits of its SHA-512."""
    return hashlib.sha512(original.encode("utf-8")).hexdigest()[:9]


def _with_tool_ids(message: Message) -> Message:
    """Step 2: the message with its tool-call ids (and a tool result's ``tool_call_id``) hashed."""
    calls = message.tool_calls
    if calls:
        calls = tuple(attrs.evolve(c, id=mistral_tool_id(c.id)) for c in calls)
    call_id = message.tool_call_id
    if message.role == "tool" and call_id is not None:
        call_id = mistral_tool_id(call_id)
    if calls is message.tool_calls and call_id is message.tool_call_id:
        return message
    return attrs.evolve(message, tool_calls=calls, tool_call_id=call_id)


def _with_pieces(message: Message, pieces: Pieces, before: Pieces) -> Message:
    """``message`` with ``pieces`` as content; the content object is kept when nothing changed."""
    if pieces == before:
        return message
    return attrs.evolve(message, content=render(pieces))


def _with_names(message: Message, names: Names) -> Message:
    """Steps 3 and 4: example-prefixing and the only-if-missing name prefix."""
    name = message.name
    if not name:
        return message
    if message.role == "system" and name in (EXAMPLE_USER, EXAMPLE_ASSISTANT):
        before = to_pieces(message.content)
        rule = prefix_as_user if name == EXAMPLE_USER else prefix_as_char
        return attrs.evolve(_with_pieces(message, rule(before, names), before), name=None)
    if message.role == "system":
        return message
    before = to_pieces(message.content)
    if first_text(before).startswith(name_prefix(name)):
        return message
    return attrs.evolve(message, content=render(prepend(before, name_prefix(name))), name=None)


def _move_users_after_tools(messages: list[Message]) -> list[Message]:
    """Step 5, repeated until stable: user turns right after a tool result move back."""
    changed = True
    while changed:
        changed = False
        for i in range(len(messages) - 1):
            if messages[i].role != "tool" or messages[i + 1].role != "user":
                continue
            target = next(
                (
                    j
                    for j in range(i - 1, -1, -1)
                    if messages[j].role == "user" and render(to_pieces(messages[j].content)) != ""
                ),
                None,
            )
            if target is None:
                continue
            host, moved = messages[target], messages[i + 1]
            messages[target] = attrs.evolve(
                host, content=render(join(to_pieces(host.content), to_pieces(moved.content)))
            )
            del messages[i + 1]
            changed = True
            break
    return messages


def _system_after_assistant_to_user(messages: list[Message]) -> list[Message]:
    """Step 6: a system message right after an assistant message becomes a user message."""
    out = list(messages)
    for i in range(1, len(out)):
        if out[i].role == "system" and out[i - 1].role == "assistant":
            out[i] = attrs.evolve(out[i], role="user")
    return out


def convert_mistral_messages(
    messages: Sequence[Message], names: Names = NO_NAMES, *, prefix: bool = False
) -> tuple[Message, ...]:
    """The messages as Mistral needs them (steps 1–6 of this module's docstring).

    ``names`` are the speaker names for example-prefixing; ``prefix`` turns on step 1.
    Raises :class:`~chatpipe.errors.InvalidRequestError` for content that is not valid
    message content (build messages with :func:`chatpipe.wire.messages_from_dicts`).
    """
    out = list(messages)
    if prefix and out and out[-1].role == "assistant" and "prefix" not in out[-1].extra:
        out[-1] = attrs.evolve(out[-1], extra={**out[-1].extra, "prefix": True})
    out = [_with_names(_with_tool_ids(m), names) for m in out]
    out = _move_users_after_tools(out)
    return tuple(_system_after_assistant_to_user(out))
