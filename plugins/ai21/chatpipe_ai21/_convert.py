"""AI21's forced message conversion (SillyTavern's ``convertAI21Messages``), with chatpipe's differences.

:func:`convert_messages` is pure; the adapter runs it in ``prepare()``, after the user's
converter chain. Rules, in order:

1. The **leading** system messages (those before the first non-system message) are
   example-prefixed (``example_user`` / ``example_assistant`` names, when the speaker names
   are known), joined with ``"\\n\\n"``, trimmed, and sent as **one** new system message:
   role and content only, as in the reference (the first system message's extra keys, such
   as ``cache_control``, which AI21 does not know, are not sent). An empty result is not
   sent at all (the reference sends an empty system message).
2. If nothing follows the system message (or the list is empty), a user message holding the
   placeholder follows.
3. A non-system message with a ``name`` gets ``"<name>: "`` in front of its text unless the
   text already starts with it; the ``name`` field is removed from every message (AI21
   messages have no ``name``). Later system messages lose their name without a prefix.
4. Consecutive messages of the same role are merged with ``"\\n\\n"``, except ``tool``
   messages, which each answer their own ``tool_call_id``. Part lists are merged **as parts**
   (difference 6 in docs/post-processing.md: the reference's string concatenation gives
   ``"[object Object]"``), text-only content becomes one string, and merged assistant messages
   keep every tool call (difference 2).
   Mid-prompt system messages stay ``system``; a leading assistant turn stays where it is.

The merge itself is :func:`chatpipe.postprocess.merge_messages` in its non-strict, tools-keeping
form (the reference's MERGE with the same join and prefix rules); this module adds what is
specific to AI21: only leading system messages are example-prefixed, the squashed system prompt
is trimmed, and a lone system prompt gets a placeholder turn.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
from chatpipe.plugin import ConvertContext, Message, Part, TextPart, check_messages, merge_messages

__all__ = ["convert_messages"]

SYSTEM = "system"


def _leading_systems(messages: Sequence[Message]) -> int:
    """How many messages at the start of ``messages`` are ``system`` messages."""
    count = 0
    for message in messages:
        if message.role != SYSTEM:
            break
        count += 1
    return count


def _trim(content: str | tuple[Part, ...] | None) -> str | tuple[Part, ...]:
    """``content`` with whitespace trimmed at both ends of its text (leading/trailing text parts).

    Part objects other than plain text parts are never removed; a text part that becomes empty
    by trimming is dropped.
    """
    if content is None:
        return ""
    if isinstance(content, str):
        return content.strip()
    parts = list(content)
    if parts and isinstance(parts[0], TextPart) and not parts[0].extra:
        parts[0] = attrs.evolve(parts[0], text=parts[0].text.lstrip())
    if parts and isinstance(parts[-1], TextPart) and not parts[-1].extra:
        parts[-1] = attrs.evolve(parts[-1], text=parts[-1].text.rstrip())
    kept = [p for p in parts if not (isinstance(p, TextPart) and not p.extra and not p.text)]
    if not kept:
        return ""
    if len(kept) == 1 and isinstance(kept[0], TextPart) and not kept[0].extra:
        return kept[0].text
    return tuple(kept)


def convert_messages(messages: Sequence[Message], context: ConvertContext | None = None) -> tuple[Message, ...]:
    """The messages AI21 accepts for ``messages`` (see the module docstring for the rules).

    ``context`` gives the placeholder and the speaker names used by example-prefixing; the
    default is :class:`~chatpipe.converter.ConvertContext` (``"[Start a new chat]"``, no names).
    The input is never mutated. Raises :class:`~chatpipe.errors.InvalidRequestError` when an
    entry is not a :class:`~chatpipe.models.Message`.
    """
    context = context or ConvertContext()
    checked = check_messages(messages)
    lead = _leading_systems(checked)
    # Only leading system messages are example-prefixed: later ones just lose their name.
    unnamed_later = tuple(
        attrs.evolve(m, name=None) if m.role == SYSTEM and m.name is not None else m for m in checked[lead:]
    )
    merged = merge_messages(
        (*checked[:lead], *unnamed_later), context, strict=False, placeholders=False, single=False, tools=True
    )
    if lead == 0:
        return merged  # an empty list already became the placeholder turn
    system = merged[0]
    content = _trim(system.content)
    head = (Message(SYSTEM, content),) if content else ()
    rest = merged[1:] or (Message("user", context.placeholder),)
    return (*head, *rest)
