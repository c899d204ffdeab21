"""The ``none`` converter: the messages pass through unchanged.

SillyTavern's "None" post-processing (reference id ``''``, which chatpipe's core maps to
``none``). The result is the input as a tuple, even when it is empty: no placeholder, no
merging, tool calls and names kept. Strictness 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from chatpipe.plugin import ConvertContext, Converter, Message, check_messages, hookimpl

__all__ = ["NONE", "chatpipe_register_converters", "convert_none"]


def convert_none(messages: Sequence[Message], context: ConvertContext) -> tuple[Message, ...]:
    """Return ``messages`` unchanged, as a tuple (the same Message objects, nothing copied).

    Raises :class:`~chatpipe.errors.InvalidRequestError` if an entry is not a Message.
    """
    return check_messages(messages)


NONE = Converter(
    name="none",
    fn=convert_none,
    description="Send the messages exactly as given.",
    keeps_tools=True,
    strictness=0,
)
"""The registered ``none`` converter."""


@hookimpl
def chatpipe_register_converters(register: Callable[[Converter], None]) -> None:
    """Register the ``none`` converter."""
    register(NONE)
