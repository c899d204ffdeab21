"""Prompt post-processing: the MERGE routine behind the merge, semi-strict, strict and
single-user converters (SillyTavern 1.18.0 "Prompt Post-Processing", with chatpipe's decisions).

:func:`merge_messages` takes four switches:

==================  ======  ============  ======  =====
mode                strict  placeholders  single  tools
==================  ======  ============  ======  =====
merge               no      no            no      no
merge-tools         no      no            no      yes
semi-strict         yes     no            no      no
semi-strict-tools   yes     no            no      yes
strict              yes     yes           no      no
strict-tools        yes     yes           no      yes
single-user         yes     no            yes     no
==================  ======  ============  ======  =====

(``none`` does not use this routine: it returns its input unchanged, even when empty.)

**A. Normalise each message**, in order:

1. Content becomes "pieces" (:mod:`._pieces`): a string is one text run, ``None``/``""`` is
   empty, a ``TextPart`` without extra keys is a text run, and every other part (image, audio,
   video, file, unknown types, a ``TextPart`` carrying e.g. ``cache_control``) is kept as an
   object in place. Adjacent runs are joined with ``"\\n\\n"``; empty text runs are dropped.
2. Without tools, each tool call is folded into a text run appended to the content,
   ``[Tool call {name}({arguments})]`` (:data:`TOOL_CALL_TEMPLATE`). This happens before name
   prefixes, so a prefix lands in front of the folded text.
3. Example-prefixing: a ``system`` message named ``example_user`` gets ``"<user>: "`` (if the
   user name is set and the text does not start with it); one named ``example_assistant``
   gets ``"<char>: "`` (if set and the text starts neither with it nor with any group
   member's prefix).
4. A non-system message with a (non-empty) name gets ``"<name>: "`` unless its text already
   starts with it. A system message with any other name just loses the name.
5. Without tools, role ``tool`` becomes ``user``.
6. Single mode: an ``assistant`` message gets the character prefix (example_assistant rule),
   a ``user`` message (former tool results included) the user prefix (example_user rule);
   then every role becomes ``user``. This runs after step 4, so an assistant named ``Rook``
   becomes ``"Seraphina: Rook: ..."`` (the reference's double prefix, kept).
7. ``name`` is removed. Without tools ``tool_calls`` (already folded) and ``tool_call_id`` are
   removed; with tools both are kept.

Prefix rules: the "already prefixed?" test is a literal starts-with of ``"<name>: "`` on the
text the content starts with (a leading text run, or a leading TextPart's text). A prefix is
glued onto a leading text run; in front of a leading part object it becomes a new text run,
so the part survives (``[text "Name: ", image, ...]``). Empty content becomes ``"Name: "``.

**B. Squash.** Every run of consecutive same-role messages becomes one message, empty ones
included, except that ``tool`` messages never merge. Contents join with ``"\\n\\n"``, skipping
empty sides (no leading or trailing blank line); ``tool_calls`` lists concatenate (``None``
twice stays ``None``). The first message of the run survives with its extra keys; the
absorbed messages' extra keys and ``tool_call_id`` are dropped as in the reference. Only text,
parts and tool calls are protected.

**C. Empty fallback.** An empty result becomes ``[{role: user, content: placeholder}]``.

**D. Render.** Content with text runs only becomes one plain string (``""`` when empty);
otherwise a tuple of parts where each text run is one ``TextPart``.

**E. Strict pass** (semi-strict, strict, single-user):

1. Every ``system`` message at index > 0 becomes ``user``.
2. With placeholders: if the first message is ``system`` and it is alone or the second is not
   ``user``, a placeholder user message is inserted at index 1; otherwise, if the first is
   neither ``system`` nor ``user`` (assistant, tool, an unknown role), it is inserted at
   index 0. Only positions 0 and 1 are looked at.
3. Squash again.

Where chatpipe differs from the reference (docs/post-processing.md, numbered differences): parts are
never lost behind a name prefix and unknown parts are kept (difference 1); merged assistant
messages keep every tool call (difference 2); empty messages merge like any other and add no
blank line (difference 3); the input is never mutated (difference 5); without tools, tool calls
become text instead of vanishing.
"""

from __future__ import annotations

from ._merge import check_messages, merge_messages
from ._names import example_prefixed, name_prefix, prefix_as_char, prefix_as_user, prefix_unless_present
from ._pieces import JOIN, Piece, Pieces, first_text, join, prepend, render, to_pieces
from ._tools import TOOL_CALL_TEMPLATE, fold_tool_call

# The pieces and names helpers are public for vendor adapters whose forced conversions join
# and prefix content the same way (Mistral, AI21, Cohere).
__all__ = [
    "JOIN",
    "TOOL_CALL_TEMPLATE",
    "Piece",
    "Pieces",
    "check_messages",
    "example_prefixed",
    "first_text",
    "fold_tool_call",
    "join",
    "merge_messages",
    "name_prefix",
    "prefix_as_char",
    "prefix_as_user",
    "prefix_unless_present",
    "prepend",
    "render",
    "to_pieces",
]
