"""Cohere's forced conversion (SillyTavern's ``convertCohereMessages``), with difference 6 of docs/post-processing.md.

It runs in :meth:`CohereProvider.prepare`, after the user's converters, on chatpipe messages:

1. An empty list becomes one user message holding the placeholder.
2. A message with ``tool_calls`` gets the text that Cohere sends as its ``tool_plan``:

   * when the message just before it (in the output so far) is an assistant message without
     tool calls, that message is absorbed: its content comes first, the tool-call message's own
     text (if any) after it, joined by a blank line, and the earlier message disappears;
   * when the text is still empty (and the message carries no ``tool_plan`` of its own in its
     extra keys), it becomes :data:`TOOL_PLAN_TEMPLATE` with the calls' names.

   Unlike the reference, the message after the tool call is never skipped (the reference deletes
   during its walk, so that message keeps its name unprefixed), the tool-call message's own text
   is kept instead of overwritten, and an assistant message that has tool calls itself is never
   absorbed (its calls would be lost).
3. Example-prefixing: a ``system`` message named ``example_user`` gets ``"<user>: "`` (when
   the user name is set and the text does not start with it); one named ``example_assistant``
   gets ``"<char>: "`` (when set and the text starts neither with it nor with a group member's
   prefix). Every ``system`` message then loses its ``name``. The names and the placeholder are
   the pipeline's (``ProviderSettings.context``), the same ones the user's converters get.
4. Every other message with a ``name`` gets ``"<name>: "`` in front of its text unless the text
   already starts with exactly that, and loses the name. Part lists are handled (the reference
   throws): the prefix joins a leading text part, or becomes a new leading text part in front of
   an image.

The input is never mutated.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
from chatpipe.plugin import DEFAULT_PLACEHOLDER, Message, Names, Part, TextPart, ToolCall, name_prefix

__all__ = ["TOOL_PLAN_TEMPLATE", "convert_messages", "synthetic_tool_plan", "with_name_prefix"]

TOOL_PLAN_TEMPLATE = "I'm going to call a tool for that: {names}"
"""The reference's text for a tool-call turn that has none; ``names`` joined by ``", "``."""

_JOIN = "\n\n"

Content = str | tuple[Part, ...] | None

NO_NAMES = Names()
"""No user, character or group names: example-prefixing adds nothing."""


def synthetic_tool_plan(calls: Sequence[ToolCall]) -> str:
    """The :data:`TOOL_PLAN_TEMPLATE` text naming ``calls`` in order."""
    return TOOL_PLAN_TEMPLATE.format(names=", ".join(call.function.name for call in calls))


def convert_messages(
    messages: Sequence[Message], *, placeholder: str = DEFAULT_PLACEHOLDER, names: Names = NO_NAMES
) -> tuple[Message, ...]:
    """The messages as Cohere's forced conversion leaves them (see the module docstring)."""
    if not messages:
        return (Message("user", placeholder),)
    out: list[Message] = []
    for message in messages:
        if message.tool_calls:
            message = _with_plan_text(message, out)
        out.append(_without_name(message, names))
    return tuple(out)


def _with_plan_text(message: Message, out: list[Message]) -> Message:
    """Absorb a preceding plain assistant turn into ``message``; synthesise text if still empty."""
    previous = out[-1] if out else None
    if previous is not None and previous.role == "assistant" and not previous.tool_calls:
        out.pop()
        message = attrs.evolve(message, content=_join(previous.content, message.content))
    if _is_empty(message.content) and "tool_plan" not in message.extra:
        message = attrs.evolve(message, content=synthetic_tool_plan(message.tool_calls or ()))
    return message


def _without_name(message: Message, names: Names) -> Message:
    if message.name is None:
        return message
    if message.role == "system":
        return attrs.evolve(message, content=_example_prefixed(message, names), name=None)
    if not message.name:
        return attrs.evolve(message, name=None)
    return attrs.evolve(message, content=with_name_prefix(message.content, message.name), name=None)


def _example_prefixed(message: Message, names: Names) -> Content:
    """The content of a named system message after example-prefixing."""
    if message.name == "example_user" and names.user:
        return with_name_prefix(message.content, names.user)
    if message.name == "example_assistant" and names.char:
        lead = _leading_text(message.content)
        if not any(lead.startswith(name_prefix(member)) for member in names.group):
            return with_name_prefix(message.content, names.char)
    return message.content


def _leading_text(content: Content) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    return content[0].text if content and isinstance(content[0], TextPart) else ""


def with_name_prefix(content: Content, name: str) -> str | tuple[Part, ...]:
    """``content`` with ``"<name>: "`` in front unless its leading text already starts with it.

    A string is prefixed directly; a part list gets the prefix glued to a leading text part, or a
    new leading text part when it starts with another part (an image survives behind it).
    """
    prefix = name_prefix(name)
    if content is None or isinstance(content, str):
        text = content or ""
        return text if text.startswith(prefix) else prefix + text
    if not content:
        return prefix
    head = content[0]
    if isinstance(head, TextPart):
        if head.text.startswith(prefix):
            return content
        return (attrs.evolve(head, text=prefix + head.text), *content[1:])
    return (TextPart(prefix), *content)


def _is_empty(content: Content) -> bool:
    if content is None or isinstance(content, str):
        return not content
    return all(isinstance(part, TextPart) and not part.text for part in content)


def _as_parts(content: Content) -> tuple[Part, ...]:
    if content is None or isinstance(content, str):
        return (TextPart(content),) if content else ()
    return content


def _join(first: Content, second: Content) -> Content:
    """Both contents in order, joined by a blank line; parts are kept as parts."""
    if (first is None or isinstance(first, str)) and (second is None or isinstance(second, str)):
        return _JOIN.join(text for text in (first, second) if text)
    return (*_as_parts(first), *_as_parts(second))
