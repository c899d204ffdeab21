"""The converter contract: pure functions that reshape a message list before the provider.

A converter plugin registers :class:`Converter` objects through
:func:`~chatpipe.hookspecs.chatpipe_register_converters`. Contracts every converter keeps:

* **Pure**: ``fn(messages, context)`` returns a new tuple and never mutates its input (the
  model is frozen, so this holds by construction for attribute assignment).
* **Lossless**: no text, media part or tool call disappears. A converter with
  ``keeps_tools=False`` folds tool calls and results into text; a chain containing one cannot be
  combined with ``tools`` in the request (the pipeline raises a clear error instead).
* ``strictness`` orders the built-in modes: none 0 < merge 1 < semi-strict 2 < strict 3 <
  single-user 4. Third-party converters pick the rank whose guarantees they give.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import attrs

from .models import Message

__all__ = ["DEFAULT_PLACEHOLDER", "ConvertContext", "Converter", "ConverterFn", "Names"]

DEFAULT_PLACEHOLDER = "[Start a new chat]"
"""The user turn strict modes insert, unless the config's ``prompt_placeholder`` says otherwise."""


def _str_tuple(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen
class Names:
    """Speaker names used for ``"Name: "`` prefixes: the user, the character, group members."""

    user: str = ""
    char: str = ""
    group: tuple[str, ...] = attrs.field(default=(), converter=_str_tuple)


@attrs.frozen
class ConvertContext:
    """What a converter may read besides the messages."""

    placeholder: str = DEFAULT_PLACEHOLDER
    names: Names = Names()


ConverterFn = Callable[[Sequence[Message], ConvertContext], tuple[Message, ...]]


@attrs.frozen
class Converter:
    """A registered converter.

    * ``name``: the registered name, equal to its entry-point name.
    * ``aliases``: other accepted names (also entry-point names of the same plugin).
    * ``keeps_tools``: ``True`` when tool calls, tool results and ``tools`` survive.
    """

    name: str
    fn: ConverterFn = attrs.field(repr=False)
    description: str = ""
    keeps_tools: bool = True
    strictness: int = 0
    aliases: tuple[str, ...] = ()

    def __call__(self, messages: Sequence[Message], context: ConvertContext) -> tuple[Message, ...]:
        return self.fn(messages, context)
