"""The ``semi-strict`` and ``semi-strict-tools`` converters (reference ids ``semi``, ``semi_tools``).

As ``merge``, and additionally every system message after the first position becomes user text
merged with its neighbours; only a leading system block stays ``system``. No placeholder is
inserted: ``[system, assistant]`` stays as it is. Strictness 2.
See :mod:`chatpipe.postprocess` for every rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from chatpipe.plugin import ConvertContext, Converter, Message, hookimpl, merge_messages

__all__ = [
    "SEMI_STRICT",
    "SEMI_STRICT_TOOLS",
    "chatpipe_register_converters",
    "convert_semi_strict",
    "convert_semi_strict_tools",
]


def convert_semi_strict(messages: Sequence[Message], context: ConvertContext) -> tuple[Message, ...]:
    """Merge, and turn non-leading system messages into user text; tools become text."""
    return merge_messages(messages, context, strict=True, placeholders=False, single=False, tools=False)


def convert_semi_strict_tools(messages: Sequence[Message], context: ConvertContext) -> tuple[Message, ...]:
    """Merge, and turn non-leading system messages into user text; tool calls and results kept."""
    return merge_messages(messages, context, strict=True, placeholders=False, single=False, tools=True)


SEMI_STRICT = Converter(
    name="semi-strict",
    fn=convert_semi_strict,
    description="Merge; only a leading system block stays system; tool calls and results become text.",
    keeps_tools=False,
    strictness=2,
    aliases=("semi",),
)
"""The registered ``semi-strict`` converter."""

SEMI_STRICT_TOOLS = Converter(
    name="semi-strict-tools",
    fn=convert_semi_strict_tools,
    description="Merge; only a leading system block stays system; keep tool calls and tool results.",
    keeps_tools=True,
    strictness=2,
    aliases=("semi_tools",),
)
"""The registered ``semi-strict-tools`` converter."""


@hookimpl
def chatpipe_register_converters(register: Callable[[Converter], None]) -> None:
    """Register ``semi-strict`` and ``semi-strict-tools``."""
    register(SEMI_STRICT)
    register(SEMI_STRICT_TOOLS)
