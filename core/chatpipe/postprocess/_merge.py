"""The MERGE routine (docs/post-processing.md "The rules", with chatpipe's differences).

See the package docstring of :mod:`chatpipe.postprocess` for the rules in prose.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence  # not from typing: isinstance() on those is ~10x slower
from typing import Any

import attrs

from ..converter import ConvertContext
from ..errors import InvalidRequestError
from ..models import Message, ToolCall
from ._names import prefix_as_char, prefix_as_user, prefix_unless_present
from ._pieces import Pieces, join, render, to_pieces
from ._tools import fold_tool_call

__all__ = ["check_messages", "merge_messages"]

SYSTEM, USER, ASSISTANT, TOOL = "system", "user", "assistant", "tool"
EXAMPLE_USER, EXAMPLE_ASSISTANT = "example_user", "example_assistant"


@attrs.define
class _Item:
    """A message being processed: its role, content pieces and the fields that survive.

    Treated as immutable (changes go through :func:`attrs.evolve`); not frozen only because
    a frozen class is slower to build, and one is built per message on every call.
    """

    role: str
    pieces: Pieces
    tool_calls: tuple[ToolCall, ...] | None = None
    tool_call_id: str | None = None
    extra: Mapping[str, Any] = attrs.field(factory=dict)
    source: Message | None = None
    """The input message this item was made from, returned as is when nothing changed."""

    def absorb(self, other: _Item) -> _Item:
        """This item with ``other`` appended: content joined, tool calls concatenated.

        Everything else of ``other`` (its ``tool_call_id`` and extra keys) is dropped, as in the
        reference: the first message of a run survives.
        """
        if self.tool_calls is None and other.tool_calls is None:
            calls = None
        else:
            calls = (*(self.tool_calls or ()), *(other.tool_calls or ()))
        return attrs.evolve(self, pieces=join(self.pieces, other.pieces), tool_calls=calls)

    def to_message(self) -> Message:
        """The output message (name removed, content rendered, extra keys copied).

        When every field would be the very object the source message already holds (and the
        source has no name to remove), the source message itself is returned: it is equal to
        the message that would be built, and immutable.
        """
        content = render(self.pieces)
        src = self.source
        if (
            src is not None
            and src.content is content
            and src.name is None
            and src.role == self.role
            and src.tool_calls is self.tool_calls
            and src.tool_call_id is self.tool_call_id
            and src.extra is self.extra
        ):
            return src
        return Message(
            role=self.role,
            content=content,
            tool_calls=self.tool_calls,
            tool_call_id=self.tool_call_id,
            extra=dict(self.extra),
        )


def check_messages(messages: Sequence[Message]) -> tuple[Message, ...]:
    """``messages`` as a tuple, after checking each is a :class:`~chatpipe.models.Message`.

    Raises :class:`~chatpipe.errors.InvalidRequestError` naming the first bad entry.
    """
    if type(messages) is not tuple and (isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence)):
        raise InvalidRequestError(
            f"expected a sequence of chatpipe.models.Message, got {type(messages).__name__}",
            where="messages",
        )
    for index, message in enumerate(messages):
        if not isinstance(message, Message):
            raise InvalidRequestError(
                f"expected a chatpipe.models.Message, got {type(message).__name__}; "
                "convert OpenAI dicts with chatpipe.wire.messages_from_dicts (or use chatpipe.convert)",
                where=f"messages[{index}]",
            )
    return tuple(messages)


def _normalise(message: Message, index: int, context: ConvertContext, *, single: bool, tools: bool) -> _Item:
    """Step A for one message: flatten, fold tool calls, prefix names, fix the role."""
    names = context.names
    content = message.content
    if type(content) is str:  # the common case, without the general path's checks
        pieces: Pieces = (content,) if content else ()
    else:
        pieces = to_pieces(content, where=f"messages[{index}].content")
    if not tools and message.tool_calls:
        for call in message.tool_calls:
            pieces = join(pieces, (fold_tool_call(call),))
    role = message.role
    if role == SYSTEM:
        if message.name == EXAMPLE_USER:
            pieces = prefix_as_user(pieces, names)
        elif message.name == EXAMPLE_ASSISTANT:
            pieces = prefix_as_char(pieces, names)
    elif message.name:
        pieces = prefix_unless_present(pieces, message.name)
    if not tools and role == TOOL:
        role = USER
    if single:
        if role == ASSISTANT:
            pieces = prefix_as_char(pieces, names)
        elif role == USER:
            pieces = prefix_as_user(pieces, names)
        role = USER
    if tools:
        return _Item(role, pieces, message.tool_calls, message.tool_call_id, message.extra, message)
    return _Item(role, pieces, extra=message.extra, source=message)


def _squash(items: Sequence[_Item]) -> list[_Item]:
    """Step B (with difference 3): every run of same-role messages, tool messages aside, is one."""
    out: list[_Item] = []
    for item in items:
        if out and out[-1].role == item.role and item.role != TOOL:
            out[-1] = out[-1].absorb(item)
        else:
            out.append(item)
    return out


def _strict_pass(items: list[_Item], context: ConvertContext, *, placeholders: bool) -> list[_Item]:
    """Step E: later systems become user turns, the placeholder rule, then squash again."""
    items = [attrs.evolve(it, role=USER) if i > 0 and it.role == SYSTEM else it for i, it in enumerate(items)]
    if placeholders:
        first = items[0]
        if first.role == SYSTEM:
            if len(items) == 1 or items[1].role != USER:
                items.insert(1, _Item(USER, to_pieces(context.placeholder)))
        elif first.role != USER:
            items.insert(0, _Item(USER, to_pieces(context.placeholder)))
    return _squash(items)


def merge_messages(
    messages: Sequence[Message],
    context: ConvertContext,
    *,
    strict: bool,
    placeholders: bool,
    single: bool,
    tools: bool,
) -> tuple[Message, ...]:
    """Run the reference's MERGE routine with its four switches; return new messages.

    * ``strict``: later system messages become user turns (semi-strict, strict, single-user).
    * ``placeholders``: insert ``context.placeholder`` so a user turn comes first (strict).
    * ``single``: every message becomes part of one user message, with speaker prefixes.
    * ``tools``: keep ``tool`` roles, ``tool_calls`` and ``tool_call_id``; otherwise tool
      results become user text and tool calls are folded into text
      (:data:`~chatpipe.postprocess.TOOL_CALL_TEMPLATE`).

    The input is never mutated. An empty result becomes one user placeholder message.
    Raises :class:`~chatpipe.errors.InvalidRequestError` for entries that are not messages.
    """
    checked = check_messages(messages)
    items = _squash([_normalise(m, i, context, single=single, tools=tools) for i, m in enumerate(checked)])
    if not items:
        items = [_Item(USER, to_pieces(context.placeholder))]
    if strict:
        items = _strict_pass(items, context, placeholders=placeholders)
    return tuple(item.to_message() for item in items)
