"""The converter conformance suite: the contract every prompt converter keeps.

Subclass :class:`ConverterConformance` in a test module and name the converter (a
registered name, loaded through its entry point like a pipeline would, or a
:class:`~chatpipe.converter.Converter` object); pytest runs every check over random
conversations drawn by hypothesis from :mod:`chatpipe.testing.strategies`::

    from chatpipe.testing.conformance import ConverterConformance

    class TestShoutConformance(ConverterConformance):
        converter = "shout"
        idempotent = True

        def expected_text(self, text: str) -> str:
            return text.upper()          # shout upper-cases text: that is not a loss

What is checked:

* **purity**: the input messages are never mutated (same objects, same content);
* **no loss**: every input text (as :meth:`~ConverterConformance.expected_text` maps it),
  every media or unknown content part, and every tool call survives — kept as a call when
  the converter ``keeps_tools``, folded into text (its name and arguments appear) otherwise;
* **role invariants** by the converter's declared ``strictness``: 1 (merge) no two
  consecutive turns of the same role (tool results excepted); 2 (semi-strict) also a system
  message only in front; 3 (strict) also a user turn first after the system message;
  4 (single-user) exactly one user message;
* **idempotence**, when the class sets ``idempotent = True``: converting the output again
  changes nothing.

``hypothesis`` is needed to run the suite (``pip install hypothesis``); without it every
check is skipped with a message saying so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import pairwise
from typing import Any, ClassVar

import pytest

from ..converter import ConvertContext, Converter
from ..errors import InvalidRequestError
from ..models import Message, Part, TextPart

__all__ = ["ConverterConformance"]

Property = Callable[[Converter, tuple[Message, ...], ConvertContext], None]


def _texts(messages: Iterable[Message]) -> list[str]:
    """Every non-empty text of the input: string contents and text parts."""
    out: list[str] = []
    for message in messages:
        if isinstance(message.content, str):
            out.append(message.content)
        elif message.content:
            out.extend(p.text for p in message.content if isinstance(p, TextPart))
    return [t for t in out if t]


def _non_text_parts(messages: Iterable[Message]) -> list[Part]:
    return [p for m in messages if isinstance(m.content, tuple) for p in m.content if not isinstance(p, TextPart)]


def _all_text(messages: Iterable[Message]) -> str:
    return "\n\n".join(m.text for m in messages)


class ConverterConformance:
    """Subclass with ``converter = "<name>"`` (or a Converter); pytest runs each ``test_*`` below.

    ``idempotent`` declares that converting twice equals converting once; ``max_examples``
    bounds the conversations tried per check. Override :meth:`expected_text` when the
    converter rewrites text on purpose.
    """

    converter: ClassVar[str | Converter]
    idempotent: ClassVar[bool] = False
    max_examples: ClassVar[int] = 100

    def expected_text(self, text: str) -> str:
        """How an input text must appear in the output (default: unchanged, as a substring)."""
        return text

    def resolve(self) -> Converter:
        """The converter under test (a name is loaded through the default registry)."""
        target = getattr(type(self), "converter", None)
        if isinstance(target, Converter):
            return target
        if isinstance(target, str):
            from ..registry import default_registry

            return default_registry().converter(target)
        raise InvalidRequestError(
            f"{type(self).__name__} must set 'converter' to a registered converter name or a Converter object"
        )

    def check(self, prop: Property) -> None:
        """Run ``prop(converter, messages, context)`` over random conversations (needs hypothesis)."""
        pytest.importorskip(
            "hypothesis", reason="the converter conformance suite needs hypothesis: pip install hypothesis"
        )
        from hypothesis import given, settings

        from .strategies import contexts, message_lists

        converter = self.resolve()

        @settings(max_examples=self.max_examples, deadline=None, database=None)
        @given(messages=message_lists, context=contexts)
        def run(messages: list[Message], context: ConvertContext) -> None:
            prop(converter, tuple(messages), context)

        run()

    # --- purity -------------------------------------------------------------------------------

    def test_input_is_never_mutated(self) -> None:
        from ..wire import messages_to_dicts

        def prop(converter: Converter, messages: tuple[Message, ...], context: ConvertContext) -> None:
            listed = list(messages)
            before = messages_to_dicts(listed)
            output = converter(listed, context)
            assert isinstance(output, tuple), f"{converter.name} must return a tuple, got {type(output).__name__}"
            assert all(isinstance(m, Message) for m in output), f"{converter.name} returned a non-Message"
            assert len(listed) == len(messages), f"{converter.name} added or removed items of its input list"
            assert all(a is b for a, b in zip(listed, messages, strict=True)), "the input list was modified"
            assert messages_to_dicts(listed) == before, "an input message changed"

        self.check(prop)

    # --- nothing lost -------------------------------------------------------------------------

    def test_no_text_is_lost(self) -> None:
        def prop(converter: Converter, messages: tuple[Message, ...], context: ConvertContext) -> None:
            output = _all_text(converter(messages, context))
            for text in _texts(messages):
                expected = self.expected_text(text)
                assert expected in output, f"{converter.name} lost the text {expected!r}"

        self.check(prop)

    def test_no_media_or_unknown_part_is_lost(self) -> None:
        def prop(converter: Converter, messages: tuple[Message, ...], context: ConvertContext) -> None:
            remaining = _non_text_parts(converter(messages, context))
            for part in _non_text_parts(messages):
                assert part in remaining, f"{converter.name} lost the part {part!r}"
                remaining.remove(part)

        self.check(prop)

    def test_no_tool_call_is_lost(self) -> None:
        def prop(converter: Converter, messages: tuple[Message, ...], context: ConvertContext) -> None:
            output = converter(messages, context)
            calls = [c for m in messages for c in (m.tool_calls or ())]
            if converter.keeps_tools:
                assert [c for m in output for c in (m.tool_calls or ())] == calls, "tool calls changed"
                results = [m.tool_call_id for m in messages if m.role == "tool"]
                assert [m.tool_call_id for m in output if m.role == "tool"] == results, "tool results changed"
                return
            assert all(m.tool_calls is None and m.tool_call_id is None for m in output), (
                f"{converter.name} declares keeps_tools=False but returned tool calls or results"
            )
            text = _all_text(output)
            for call in calls:
                assert call.function.name in text and call.function.arguments in text, (
                    f"{converter.name} lost the tool call {call.function.name}({call.function.arguments})"
                )

        self.check(prop)

    # --- role invariants ----------------------------------------------------------------------

    def test_role_invariants_of_its_strictness(self) -> None:
        def prop(converter: Converter, messages: tuple[Message, ...], context: ConvertContext) -> None:
            roles = [m.role for m in converter(messages, context)]
            _check_roles(converter.name, converter.strictness, roles, bool(messages))

        self.check(prop)

    # --- idempotence --------------------------------------------------------------------------

    def test_converting_twice_changes_nothing(self) -> None:
        if not self.idempotent:
            pytest.skip(f"{type(self).__name__} does not declare idempotent = True")

        def prop(converter: Converter, messages: tuple[Message, ...], context: ConvertContext) -> None:
            once = converter(messages, context)
            assert converter(once, context) == once, f"{converter.name} changed its own output"

        self.check(prop)


def _check_roles(name: str, strictness: int, roles: Sequence[str], had_input: bool) -> None:
    """Assert the role guarantees of ``strictness`` (see the module docstring)."""
    if strictness >= 4:
        assert list(roles) == ["user"], f"{name} (strictness 4) must give one user message, got {roles}"
        return
    if strictness >= 1:
        doubled = [(a, b) for a, b in pairwise(roles) if a == b and a != "tool"]
        assert not doubled, f"{name} (strictness {strictness}) left consecutive {doubled[0][0]} turns: {roles}"
    if strictness >= 2:
        assert "system" not in roles[1:], f"{name} (strictness {strictness}) left a system message inside: {roles}"
    if strictness >= 3 and had_input:
        first: Any = next((r for r in roles if r != "system"), None)
        assert first == "user", f"{name} (strictness 3) must start with a user turn after the system: {roles}"
