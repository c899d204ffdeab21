"""The ``single-user`` converter (reference id ``single``): one user message holds everything.

Assistant turns get the character's ``"Name: "`` prefix, user turns (and former tool results)
the user's; system and example text keep only their own prefixes. Media parts survive, so the
result may be a part list. A named turn is prefixed twice (``"Seraphina: Rook: ..."``), as in
the reference. Tool calls are folded into text. Strictness 4.
See :mod:`chatpipe.postprocess` for every rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from chatpipe.plugin import ConvertContext, Converter, Message, hookimpl, merge_messages

__all__ = ["SINGLE_USER", "chatpipe_register_converters", "convert_single_user"]


def convert_single_user(messages: Sequence[Message], context: ConvertContext) -> tuple[Message, ...]:
    """The whole conversation as one user message with speaker prefixes. Never mutates the input."""
    return merge_messages(messages, context, strict=True, placeholders=False, single=True, tools=False)


SINGLE_USER = Converter(
    name="single-user",
    fn=convert_single_user,
    description="Everything in one user message, speakers marked with name prefixes; tools become text.",
    keeps_tools=False,
    strictness=4,
    aliases=("single",),
)
"""The registered ``single-user`` converter."""


@hookimpl
def chatpipe_register_converters(register: Callable[[Converter], None]) -> None:
    """Register ``single-user``."""
    register(SINGLE_USER)
