"""Name prefixes (``"Name: "``): the only-if-missing rules of the reference.

Every "already prefixed?" check is a literal starts-with test of ``"<name>: "`` against the
text the content starts with (see :func:`._pieces.first_text`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from ..converter import Names
from ._pieces import Pieces, first_text, prepend, render, to_pieces

if TYPE_CHECKING:
    from ..models import Message

__all__ = ["example_prefixed", "name_prefix", "prefix_as_char", "prefix_as_user", "prefix_unless_present"]


def name_prefix(name: str) -> str:
    """The prefix for ``name``: the name, a colon and one space."""
    return f"{name}: "


def prefix_unless_present(pieces: Pieces, name: str) -> Pieces:
    """``"name: "`` in front of the content unless it already starts with it."""
    prefix = name_prefix(name)
    if first_text(pieces).startswith(prefix):
        return pieces
    return prepend(pieces, prefix)


def prefix_as_user(pieces: Pieces, names: Names) -> Pieces:
    """The ``example_user`` rule: the user's prefix, if the user name is set and it is missing."""
    if not names.user:
        return pieces
    return prefix_unless_present(pieces, names.user)


def prefix_as_char(pieces: Pieces, names: Names) -> Pieces:
    """The ``example_assistant`` rule: the character's prefix, if the character name is set and
    the text starts neither with it nor with any group member's prefix."""
    if not names.char:
        return pieces
    text = first_text(pieces)
    if any(text.startswith(name_prefix(member)) for member in names.group):
        return pieces
    return prefix_unless_present(pieces, names.char)


def example_prefixed(message: Message, names: Names, *, where: str = "message") -> Message:
    """An example-dialogue message as a vendor without names sees it; any other message unchanged.

    A ``system`` message named ``example_user`` gets :func:`prefix_as_user`, one named
    ``example_assistant`` :func:`prefix_as_char`; either loses its ``name`` (its content is the
    same object when no prefix was added). ``where`` names the message in content errors.
    """
    rule = _EXAMPLE_RULES.get(message.name or "") if message.role == "system" else None
    if rule is None:
        return message
    before = to_pieces(message.content, where=f"{where}.content")
    after = rule(before, names)
    return attrs.evolve(message, content=message.content if after == before else render(after), name=None)


_EXAMPLE_RULES = {"example_user": prefix_as_user, "example_assistant": prefix_as_char}
