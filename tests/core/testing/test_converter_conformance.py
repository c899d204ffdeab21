"""The converter conformance suite passes a lawful converter and catches each kind of broken one."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

import attrs
import pytest
from chatpipe.converter import ConvertContext, Converter
from chatpipe.models import Message
from chatpipe.testing.conformance import ConverterConformance


def identity(messages: Sequence[Message], context: ConvertContext) -> tuple[Message, ...]:
    return tuple(messages)


def suite(converter: Converter, *, idempotent: bool = False, upper: bool = False) -> ConverterConformance:
    class Suite(ConverterConformance):
        max_examples = 60

        def expected_text(self, text: str) -> str:
            return text.upper() if upper else text

    Suite.converter = converter
    Suite.idempotent = idempotent
    return Suite()


def failure(check: Callable[[], None]) -> str:
    """The assertion message(s) ``check`` fails with (hypothesis may report several at once)."""
    try:
        check()
    except AssertionError as error:
        return str(error)
    except ExceptionGroup as group:
        return "\n".join(str(e) for e in group.exceptions)
    raise AssertionError("the check passed")


def run_all(instance: ConverterConformance) -> None:
    for name in dir(instance):
        if name.startswith("test_"):
            getattr(instance, name)()


def test_a_lawful_converter_passes() -> None:
    run_all(suite(Converter(name="identity", fn=identity), idempotent=True))


def test_text_transforms_are_declared_with_expected_text() -> None:
    def shout(messages: Sequence[Message], context: ConvertContext) -> tuple[Message, ...]:
        return tuple(attrs.evolve(m, content=m.content.upper()) if isinstance(m.content, str) else m for m in messages)

    # text parts are not upper-cased by shout, so only string contents are checked here
    instance = suite(Converter(name="shout", fn=shout), upper=True)
    assert "lost the text" in failure(suite(Converter(name="shout", fn=shout)).test_no_text_is_lost)
    instance.test_input_is_never_mutated()


def test_mutating_the_input_list_is_caught() -> None:
    def pops(messages: Sequence[Message], context: ConvertContext) -> tuple[Message, ...]:
        if isinstance(messages, list) and messages:
            messages.pop()
        return tuple(messages)

    assert "removed items of its input list" in failure(
        suite(Converter(name="pops", fn=pops)).test_input_is_never_mutated
    )


def test_losses_are_caught() -> None:
    def drop_all(messages: Sequence[Message], context: ConvertContext) -> tuple[Message, ...]:
        return ()

    broken = suite(Converter(name="drop-all", fn=drop_all))
    assert "lost the text" in failure(broken.test_no_text_is_lost)
    assert "lost the part" in failure(broken.test_no_media_or_unknown_part_is_lost)
    assert "tool" in failure(broken.test_no_tool_call_is_lost)


def test_keeps_tools_false_must_fold_calls() -> None:
    liar = suite(Converter(name="liar", fn=identity, keeps_tools=False))
    assert "keeps_tools=False" in failure(liar.test_no_tool_call_is_lost)


@pytest.mark.parametrize(("strictness", "message"), [(1, "consecutive"), (2, "consecutive"), (4, "one user")])
def test_role_invariants_follow_the_declared_strictness(strictness: int, message: str) -> None:
    lax = suite(Converter(name="lax", fn=identity, strictness=strictness))
    assert message in failure(lax.test_role_invariants_of_its_strictness)


def test_idempotence_is_checked_when_declared() -> None:
    def grow(messages: Sequence[Message], context: ConvertContext) -> tuple[Message, ...]:
        return (*messages, Message(role="user", content="again"))

    growing = suite(Converter(name="grow", fn=grow), idempotent=True)
    assert "changed its own output" in failure(growing.test_converting_twice_changes_nothing)
    with pytest.raises(pytest.skip.Exception, match="idempotent"):
        suite(Converter(name="grow", fn=grow)).test_converting_twice_changes_nothing()


def test_a_converter_by_name_is_loaded_through_its_entry_point() -> None:
    class ByName(ConverterConformance):
        converter = "strict"

    assert ByName().resolve().name == "strict"


def test_a_missing_converter_attribute_names_the_fix() -> None:
    from chatpipe.errors import InvalidRequestError

    with pytest.raises(InvalidRequestError, match="must set 'converter'"):
        ConverterConformance().resolve()


def test_without_hypothesis_the_suite_skips_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "hypothesis", None)
    with pytest.raises(pytest.skip.Exception, match="pip install hypothesis"):
        suite(Converter(name="identity", fn=identity)).test_no_text_is_lost()
