"""Checks on a conversation before it goes anywhere (pure; no I/O).

:func:`validate_messages` runs on the caller's messages, before the converters and before
any network call, and raises :class:`~chatpipe.errors.InvalidRequestError` naming the
message (``messages[3].tool_call_id``) and the fix. What the wire layer already rejects
(a role that is not a non-empty string, content of the wrong type) is not repeated here.

Rules:

* every role is one of :data:`ROLES` (``system``, ``developer``, ``user``, ``assistant``,
  ``tool``, and ``function`` for legacy clients); anything else is refused with a did-you-mean
  (computed only for a role of at most :data:`_SUGGEST_CHARS` characters);
* every assistant tool call has a non-empty string ``id``, unique in the conversation;
* every ``tool`` message has a ``tool_call_id`` naming a tool call of an *earlier*
  assistant message.

An empty list passes :func:`validate_messages`: every converter but ``none`` turns it into the
placeholder turn, as the reference does. :func:`require_messages` refuses a conversation that
is still empty after the converters, before any request.

Messages quote the caller's values (a role, a tool call id) through
:func:`~chatpipe._shown.shown`, so a value of megabytes comes back cut, and checking it costs
no more than checking a short one.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._shown import shown
from .errors import InvalidRequestError
from .models import Message

__all__ = ["ROLES", "require_messages", "validate_messages"]

ROLES = frozenset(("system", "developer", "user", "assistant", "tool", "function"))
"""The roles a conversation may use (OpenAI's, with ``function`` kept for legacy clients)."""

_SUGGEST_CHARS = 32
"""The longest unknown role a did-you-mean is computed for (difflib's cost grows with the length)."""


def validate_messages(messages: Sequence[Message]) -> None:
    """Raise :class:`~chatpipe.errors.InvalidRequestError` for the first problem in ``messages``.

    Returns ``None`` when the conversation is well formed (see the module docstring for the
    rules). ``messages`` is not modified.
    """
    seen: dict[str, int] = {}
    for index, message in enumerate(messages):
        if message.role not in ROLES:
            raise _unknown_role(message.role, index)
        for position, call in enumerate(message.tool_calls or ()):
            where = f"messages[{index}].tool_calls[{position}].id"
            call_id = getattr(call, "id", None)
            if not isinstance(call_id, str) or not call_id.strip():
                raise InvalidRequestError(
                    "a tool call needs a non-empty 'id' (the tool's result refers to it); "
                    "send the id the model returned with the call",
                    where=where,
                )
            if call_id in seen:
                raise InvalidRequestError(
                    f"tool call id {shown(call_id)} is used twice (first in messages[{seen[call_id]}]); "
                    "every tool call needs its own id",
                    where=where,
                )
            seen[call_id] = index
        if message.role == "tool":
            _check_tool_result(message, index, seen)


def require_messages(messages: Sequence[Message]) -> None:
    """Raise :class:`~chatpipe.errors.InvalidRequestError` when ``messages`` (the conversation
    after the converters) is empty: no vendor takes an empty conversation."""
    if not messages:
        raise InvalidRequestError(
            "the conversation is empty; pass at least one message, e.g. [{'role': 'user', 'content': 'Hi'}] "
            "(a converter such as merge or strict turns an empty conversation into the placeholder turn)",
            where="messages",
        )


def _unknown_role(role: str, index: int) -> InvalidRequestError:
    import difflib  # ~1.5 ms to import: only for a did-you-mean

    text = str(role)
    close = difflib.get_close_matches(text.lower(), sorted(ROLES), n=1) if len(text) <= _SUGGEST_CHARS else []
    hint = f"did you mean {close[0]!r}? " if close else ""
    return InvalidRequestError(
        f"unknown role {shown(text)}; {hint}a message's role is one of: {', '.join(sorted(ROLES))}",
        where=f"messages[{index}].role",
    )


def _check_tool_result(message: Message, index: int, calls: dict[str, int]) -> None:
    where = f"messages[{index}].tool_call_id"
    call_id = message.tool_call_id
    if not isinstance(call_id, str) or not call_id.strip():
        raise InvalidRequestError(
            "a 'tool' message needs 'tool_call_id': the id of the assistant tool call it answers",
            where=where,
        )
    if call_id not in calls:
        known = ", ".join(shown(c) for c in calls) or "none"
        raise InvalidRequestError(
            f"tool result for {shown(call_id)} answers no earlier assistant tool call (known ids: {known}); "
            "put the assistant message carrying that call before its result, or fix the id",
            where=where,
        )
