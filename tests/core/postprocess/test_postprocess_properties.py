"""Property tests over random conversations, run through every built-in converter.

Bounded: 200 examples per property, no deadline.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise
from typing import Any

import pytest
from chatpipe.converter import ConvertContext
from chatpipe.models import Message, OtherPart, Part, TextPart
from chatpipe.postprocess import _merge as merge_module
from chatpipe.postprocess import fold_tool_call
from chatpipe.postprocess._pieces import render
from chatpipe.wire import messages_to_dicts
from chatpipe_postprocess_strategies import contexts, message_lists
from hypothesis import given, settings

ALL = ["none", "merge", "merge-tools", "semi-strict", "semi-strict-tools", "strict", "strict-tools", "single-user"]
TOOLS_KEPT = ["none", "merge-tools", "semi-strict-tools", "strict-tools"]
NO_TOOLS = ["merge", "semi-strict", "strict", "single-user"]
IDEMPOTENT = ["none", "merge", "merge-tools", "semi-strict", "semi-strict-tools", "strict", "strict-tools"]

bounded = settings(max_examples=200, deadline=None)


def all_text(messages: Iterable[Message]) -> str:
    """Every text of the output, text parts with extra keys included."""
    return "\n\n".join(m.text for m in messages)


def non_text_parts(messages: Iterable[Message]) -> list[Part]:
    return [p for m in messages if isinstance(m.content, tuple) for p in m.content if not isinstance(p, TextPart)]


def keyed_text_parts(messages: Iterable[Message]) -> list[TextPart]:
    return [
        p for m in messages if isinstance(m.content, tuple) for p in m.content if isinstance(p, TextPart) and p.extra
    ]


def input_texts(messages: Iterable[Message]) -> list[str]:
    out: list[str] = []
    for m in messages:
        if isinstance(m.content, str):
            out.append(m.content)
        elif m.content:
            out.extend(p.text for p in m.content if isinstance(p, TextPart))
    return [t for t in out if t]


@pytest.mark.parametrize("mode", ALL)
@bounded
@given(messages=message_lists, context=contexts)
def test_input_is_never_mutated(converters, mode, messages, context):
    before_dicts = messages_to_dicts(messages)
    before_ids = [id(m) for m in messages]
    snapshot = list(messages)
    converters[mode](messages, context)
    assert [id(m) for m in messages] == before_ids
    assert all(a is b for a, b in zip(messages, snapshot, strict=True))
    assert messages_to_dicts(messages) == before_dicts


@pytest.mark.parametrize("mode", ALL)
@bounded
@given(messages=message_lists, context=contexts)
def test_no_text_is_lost(converters, mode, messages, context):
    output = all_text(converters[mode](messages, context))
    for piece in input_texts(messages):
        assert piece in output


@pytest.mark.parametrize("mode", ALL)
@bounded
@given(messages=message_lists, context=contexts)
def test_no_media_or_unknown_part_is_lost(converters, mode, messages, context):
    output = converters[mode](messages, context)
    remaining = non_text_parts(output)
    for part in non_text_parts(messages):
        assert part in remaining, f"{part!r} lost"
        remaining.remove(part)
    keyed_out = keyed_text_parts(output)
    for part in keyed_text_parts(messages):
        assert part in keyed_out, f"{part!r} lost its extra keys"
        keyed_out.remove(part)


@pytest.mark.parametrize("mode", TOOLS_KEPT)
@bounded
@given(messages=message_lists, context=contexts)
def test_tools_modes_keep_every_tool_call(converters, mode, messages, context):
    output = converters[mode](messages, context)
    calls_in = [c for m in messages for c in (m.tool_calls or ())]
    calls_out = [c for m in output for c in (m.tool_calls or ())]
    assert calls_out == calls_in
    ids_in = [m.tool_call_id for m in messages if m.role == "tool"]
    assert [m.tool_call_id for m in output if m.role == "tool"] == ids_in


@pytest.mark.parametrize("mode", NO_TOOLS)
@bounded
@given(messages=message_lists, context=contexts)
def test_no_tools_modes_fold_tool_calls_into_text(converters, mode, messages, context):
    output = converters[mode](messages, context)
    assert all(m.tool_calls is None and m.tool_call_id is None and m.role != "tool" for m in output)
    text = all_text(output)
    for message in messages:
        for call in message.tool_calls or ():
            assert fold_tool_call(call) in text


@pytest.mark.parametrize("mode", [m for m in ALL if m != "none"])
@bounded
@given(messages=message_lists, context=contexts)
def test_merging_modes_drop_names_and_never_return_an_empty_list(converters, mode, messages, context):
    output = converters[mode](messages, context)
    assert output
    assert all(m.name is None and m.content is not None for m in output)
    roles = [m.role for m in output]
    assert all(a != b or a == "tool" for a, b in pairwise(roles))


@pytest.mark.parametrize("mode", ["strict", "strict-tools"])
@bounded
@given(messages=message_lists, context=contexts)
def test_strict_alternates_and_starts_with_a_user_turn(converters, mode, messages, context):
    output = converters[mode](messages, context)
    roles = [m.role for m in output]
    assert all(a != b or a == "tool" for a, b in pairwise(roles))
    assert "system" not in roles[1:]
    first_non_system = next(r for r in roles if r != "system")
    assert first_non_system == "user"


@pytest.mark.parametrize("mode", ["semi-strict", "semi-strict-tools"])
@bounded
@given(messages=message_lists, context=contexts)
def test_semi_strict_keeps_system_only_in_front(converters, mode, messages, context):
    roles = [m.role for m in converters[mode](messages, context)]
    assert "system" not in roles[1:]


@bounded
@given(messages=message_lists, context=contexts)
def test_single_user_gives_one_user_message(converters, messages, context):
    output = converters["single-user"](messages, context)
    assert [m.role for m in output] == ["user"]


@pytest.mark.parametrize("mode", IDEMPOTENT)
@bounded
@given(messages=message_lists, context=contexts)
def test_converting_twice_changes_nothing(converters, mode, messages, context):
    once = converters[mode](messages, context)
    assert converters[mode](once, context) == once


@bounded
@given(messages=message_lists, context=contexts)
def test_none_returns_the_same_message_objects(converters, messages, context):
    output = converters["none"](messages, context)
    assert isinstance(output, tuple)
    assert len(output) == len(messages)
    assert all(a is b for a, b in zip(output, messages, strict=True))


def test_strategies_produce_every_part_kind():
    """Guard against a strategy change silently dropping a case the properties rely on."""
    from chatpipe.models import AudioPart, ImagePart
    from chatpipe_postprocess_strategies import parts
    from hypothesis import find

    for kind in (ImagePart, AudioPart, OtherPart):
        assert isinstance(find(parts, lambda p, k=kind: isinstance(p, k)), kind)
    assert find(parts, lambda p: isinstance(p, TextPart) and bool(p.extra)).extra


def _always_build(item: Any) -> Message:
    """What ``_Item.to_message`` builds when it does not hand back the untouched source message."""
    return Message(
        role=item.role,
        content=render(item.pieces),
        tool_calls=item.tool_calls,
        tool_call_id=item.tool_call_id,
        extra=dict(item.extra),
    )


@pytest.mark.parametrize("mode", [m for m in ALL if m != "none"])
@bounded
@given(messages=message_lists, context=contexts)
def test_handing_back_untouched_messages_changes_no_output(converters, mode, messages, context):
    output = converters[mode](messages, context)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(merge_module._Item, "to_message", _always_build)
        built = converters[mode](messages, context)
    assert output == built
    assert messages_to_dicts(output) == messages_to_dicts(built)
    originals = {id(m) for m in messages}
    assert all(m.name is None for m in output if id(m) in originals)


def test_an_untouched_message_is_handed_back_and_a_touched_one_is_new(converters):
    system, named, plain = (
        Message("system", "Be brief."),
        Message("user", "Hi", name="Rook"),
        Message("assistant", "Hello"),
    )
    output = converters["strict"]((system, named, plain), ConvertContext())
    assert output[0] is system and output[2] is plain
    assert output[1] is not named and output[1] == Message("user", "Rook: Hi")
