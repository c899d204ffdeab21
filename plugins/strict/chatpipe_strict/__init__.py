"""The ``strict`` and ``strict-tools`` converters (reference ids ``strict``, ``strict_tools``).

As ``semi-strict``, plus the placeholder rule: when the first message is a lone system
message or is followed by a non-user turn, a user placeholder is inserted after it; when the
first message is neither system nor user, a placeholder is inserted before it. Only positions
0 and 1 are looked at. Strictness 3. See :mod:`chatpipe.postprocess` for every rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from chatpipe.plugin import ConvertContext, Converter, Message, hookimpl, merge_messages

__all__ = ["STRICT", "STRICT_TOOLS", "chatpipe_register_converters", "convert_strict", "convert_strict_tools"]


def convert_strict(messages: Sequence[Message], context: ConvertContext) -> tuple[Message, ...]:
    """Semi-strict plus a user placeholder where the first turn is not a user turn; tools as text."""
    return merge_messages(messages, context, strict=True, placeholders=True, single=False, tools=False)


def convert_strict_tools(messages: Sequence[Message], context: ConvertContext) -> tuple[Message, ...]:
    """Semi-strict plus the user placeholder rule; tool calls and results kept."""
    return merge_messages(messages, context, strict=True, placeholders=True, single=False, tools=True)


STRICT = Converter(
    name="strict",
    fn=convert_strict,
    description="Alternating turns starting with a user turn (placeholder added); tools become text.",
    keeps_tools=False,
    strictness=3,
)
"""The registered ``strict`` converter."""

STRICT_TOOLS = Converter(
    name="strict-tools",
    fn=convert_strict_tools,
    description="Alternating turns starting with a user turn (placeholder added); keep tool calls.",
    keeps_tools=True,
    strictness=3,
    aliases=("strict_tools",),
)
"""The registered ``strict-tools`` converter."""


@hookimpl
def chatpipe_register_converters(register: Callable[[Converter], None]) -> None:
    """Register ``strict`` and ``strict-tools``."""
    register(STRICT)
    register(STRICT_TOOLS)
