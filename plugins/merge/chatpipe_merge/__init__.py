"""The ``merge`` and ``merge-tools`` converters (reference ids ``merge``, ``merge_tools``, ``claude``).

Consecutive messages of the same role are joined with a blank line; names become ``"Name: "``
prefixes; system messages stay ``system`` wherever they are. ``merge`` folds tool calls into
text and turns tool results into user turns; ``merge-tools`` keeps them (tool messages never
merge). An empty list becomes one user placeholder. Strictness 1.
See :mod:`chatpipe.postprocess` for every rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from chatpipe.plugin import ConvertContext, Converter, Message, hookimpl, merge_messages

__all__ = ["MERGE", "MERGE_TOOLS", "chatpipe_register_converters", "convert_merge", "convert_merge_tools"]


def convert_merge(messages: Sequence[Message], context: ConvertContext) -> tuple[Message, ...]:
    """Merge same-role neighbours; tool calls and results become text. Never mutates the input."""
    return merge_messages(messages, context, strict=False, placeholders=False, single=False, tools=False)


def convert_merge_tools(messages: Sequence[Message], context: ConvertContext) -> tuple[Message, ...]:
    """Merge same-role neighbours, keeping tool calls, tool results and the ``tool`` role."""
    return merge_messages(messages, context, strict=False, placeholders=False, single=False, tools=True)


MERGE = Converter(
    name="merge",
    fn=convert_merge,
    description="Join consecutive same-role messages; tool calls and results become text.",
    keeps_tools=False,
    strictness=1,
    aliases=("claude",),
)
"""The registered ``merge`` converter."""

MERGE_TOOLS = Converter(
    name="merge-tools",
    fn=convert_merge_tools,
    description="Join consecutive same-role messages; keep tool calls and tool results.",
    keeps_tools=True,
    strictness=1,
    aliases=("merge_tools",),
)
"""The registered ``merge-tools`` converter."""


@hookimpl
def chatpipe_register_converters(register: Callable[[Converter], None]) -> None:
    """Register ``merge`` and ``merge-tools``."""
    register(MERGE)
    register(MERGE_TOOLS)
