"""AI21's forced conversion (reference 3.5, convertAI21Messages) on concrete conversations,
with chatpipe's decisions: parts merged as parts, no doubled prefix, tool calls and tool
results kept, empty turns adding no blank line."""

from __future__ import annotations

from typing import Any

import pytest
from chatpipe import wire
from chatpipe.converter import DEFAULT_PLACEHOLDER, ConvertContext, Names
from chatpipe.errors import InvalidRequestError
from chatpipe_ai21 import convert_messages

IMAGE = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "low"}}
NAMES = ConvertContext(placeholder="[Your turn]", names=Names(user="Alex", char="Seraphina", group=("Rook",)))


def convert(messages: list[dict[str, Any]], context: ConvertContext | None = None) -> list[dict[str, Any]]:
    return wire.messages_to_dicts(convert_messages(wire.messages_from_dicts(messages), context))


def call(call_id: str, name: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": '{"q": 1}'}}


def test_leading_system_messages_become_one_trimmed_system_message() -> None:
    out = convert(
        [
            {"role": "system", "content": "  You are Bot. "},
            {"role": "system", "content": "Be brief.\n"},
            {"role": "user", "content": "Hi"},
        ]
    )
    assert out == [
        {"role": "system", "content": "You are Bot. \n\nBe brief."},
        {"role": "user", "content": "Hi"},
    ]


def test_leading_example_messages_are_prefixed_with_the_speaker_names_only_once() -> None:
    out = convert(
        [
            {"role": "system", "content": "Scenario."},
            {"role": "system", "name": "example_user", "content": "Hello there"},
            {"role": "system", "name": "example_assistant", "content": "Seraphina: Hi!"},
            {"role": "system", "name": "example_assistant", "content": "Rook: I speak too."},
            {"role": "system", "name": "example_assistant", "content": "Welcome."},
            {"role": "user", "content": "Go"},
        ],
        NAMES,
    )
    assert out[0] == {
        "role": "system",
        "content": "Scenario.\n\nAlex: Hello there\n\nSeraphina: Hi!\n\nRook: I speak too.\n\nSeraphina: Welcome.",
    }
    assert out[1:] == [{"role": "user", "content": "Go"}]


def test_without_names_example_messages_are_joined_unprefixed() -> None:
    out = convert([{"role": "system", "name": "example_user", "content": "Hi"}, {"role": "user", "content": "Go"}])
    assert out[0] == {"role": "system", "content": "Hi"}


def test_a_lone_system_prompt_gets_a_placeholder_user_turn() -> None:
    assert convert([{"role": "system", "content": "Rules."}]) == [
        {"role": "system", "content": "Rules."},
        {"role": "user", "content": DEFAULT_PLACEHOLDER},
    ]
    assert convert([{"role": "system", "content": "Rules."}], NAMES)[1] == {"role": "user", "content": "[Your turn]"}


def test_an_empty_conversation_becomes_the_placeholder_turn() -> None:
    assert convert([]) == [{"role": "user", "content": DEFAULT_PLACEHOLDER}]


def test_an_empty_system_prompt_is_not_sent() -> None:
    assert convert([{"role": "system", "content": " \n"}, {"role": "user", "content": "Hi"}]) == [
        {"role": "user", "content": "Hi"}
    ]
    assert convert([{"role": "system", "content": ""}]) == [{"role": "user", "content": DEFAULT_PLACEHOLDER}]


def test_names_become_prefixes_once_and_are_removed_everywhere() -> None:
    out = convert(
        [
            {"role": "system", "name": "narrator", "content": "Setting."},
            {"role": "user", "name": "Alex", "content": "Alex: already prefixed"},
            {"role": "assistant", "name": "Rook", "content": "On my way."},
            {"role": "system", "name": "narrator", "content": "Night falls."},
            {"role": "user", "name": "Alex", "content": "Sleep."},
        ]
    )
    assert out == [
        {"role": "system", "content": "Setting."},
        {"role": "user", "content": "Alex: already prefixed"},
        {"role": "assistant", "content": "Rook: On my way."},
        {"role": "system", "content": "Night falls."},
        {"role": "user", "content": "Alex: Sleep."},
    ]


def test_mid_prompt_example_messages_lose_their_name_without_a_prefix() -> None:
    out = convert(
        [{"role": "user", "content": "a"}, {"role": "system", "name": "example_user", "content": "ex"}], NAMES
    )
    assert out == [{"role": "user", "content": "a"}, {"role": "system", "content": "ex"}]


def test_consecutive_same_role_messages_merge_with_a_blank_line() -> None:
    out = convert(
        [
            {"role": "user", "content": "a"},
            {"role": "user", "content": ""},
            {"role": "user", "content": "b"},
            {"role": "assistant", "content": "c"},
            {"role": "assistant", "content": None},
            {"role": "assistant", "content": "d"},
        ]
    )
    assert out == [{"role": "user", "content": "a\n\nb"}, {"role": "assistant", "content": "c\n\nd"}]


def test_part_lists_merge_as_parts_not_as_object_text() -> None:
    out = convert(
        [
            {"role": "user", "content": [{"type": "text", "text": "Look:"}, IMAGE]},
            {"role": "user", "content": "What is it?"},
            {"role": "assistant", "content": [{"type": "text", "text": "A"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "cat."}]},
        ]
    )
    assert out == [
        {
            "role": "user",
            "content": [{"type": "text", "text": "Look:"}, IMAGE, {"type": "text", "text": "What is it?"}],
        },
        {"role": "assistant", "content": "A\n\ncat."},
    ]
    assert "[object Object]" not in repr(out)


def test_a_named_message_starting_with_an_image_keeps_the_image_behind_the_prefix() -> None:
    out = convert([{"role": "user", "name": "Alex", "content": [IMAGE, {"type": "text", "text": "this"}]}])
    assert out == [
        {"role": "user", "content": [{"type": "text", "text": "Alex: "}, IMAGE, {"type": "text", "text": "this"}]}
    ]


def test_mid_prompt_system_messages_stay_system_and_merge_with_each_other() -> None:
    out = convert(
        [
            {"role": "system", "content": "S"},
            {"role": "user", "content": "u"},
            {"role": "system", "content": "m1"},
            {"role": "system", "content": "m2"},
            {"role": "assistant", "content": "a"},
        ]
    )
    assert out == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "u"},
        {"role": "system", "content": "m1\n\nm2"},
        {"role": "assistant", "content": "a"},
    ]


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "assistant", "content": "Greetings, traveller."}, {"role": "user", "content": "Hi"}],
        [
            {"role": "system", "content": "S"},
            {"role": "assistant", "content": "Greetings."},
            {"role": "user", "content": "Hi"},
        ],
    ],
)
def test_a_leading_assistant_turn_stays_and_gets_no_placeholder(messages: list[dict[str, Any]]) -> None:
    assert convert(messages) == messages


def test_tool_results_stay_apart_and_merged_assistant_turns_keep_every_call() -> None:
    out = convert(
        [
            {"role": "user", "content": "Weather in Paris and Oslo?"},
            {"role": "assistant", "content": "Checking.", "tool_calls": [call("c1", "weather")]},
            {"role": "assistant", "content": None, "tool_calls": [call("c2", "weather")]},
            {"role": "tool", "tool_call_id": "c1", "content": "18 C"},
            {"role": "tool", "tool_call_id": "c2", "content": "9 C"},
            {"role": "assistant", "content": "Paris 18 C, Oslo 9 C."},
        ]
    )
    assert out[1] == {
        "role": "assistant",
        "content": "Checking.",
        "tool_calls": [call("c1", "weather"), call("c2", "weather")],
    }
    assert out[2:] == [
        {"role": "tool", "content": "18 C", "tool_call_id": "c1"},
        {"role": "tool", "content": "9 C", "tool_call_id": "c2"},
        {"role": "assistant", "content": "Paris 18 C, Oslo 9 C."},
    ]


def test_the_first_message_of_a_run_keeps_its_extra_keys() -> None:
    out = convert([{"role": "user", "content": "a", "x_first": 1}, {"role": "user", "content": "b", "x_second": 2}])
    assert out == [{"role": "user", "content": "a\n\nb", "x_first": 1}]


def test_the_squashed_system_message_carries_no_extra_keys() -> None:
    cached = {"type": "ephemeral"}
    out = convert(
        [
            {"role": "system", "content": "You are Bot.", "cache_control": cached},
            {"role": "system", "content": "Be brief.", "x_second": 2},
            {"role": "user", "content": "Hi", "cache_control": cached},
        ]
    )
    assert out == [
        {"role": "system", "content": "You are Bot.\n\nBe brief."},
        {"role": "user", "content": "Hi", "cache_control": cached},
    ]


def test_the_input_is_not_changed_and_conversion_is_stable() -> None:
    source = wire.messages_from_dicts(
        [
            {"role": "system", "content": " S "},
            {"role": "user", "name": "Alex", "content": "a"},
            {"role": "user", "content": "b"},
        ]
    )
    copy = tuple(source)
    once = convert_messages(source)
    assert source == copy
    assert convert_messages(once) == once


def test_entries_that_are_not_messages_are_a_clear_error() -> None:
    with pytest.raises(InvalidRequestError, match=r"messages\[0\]"):
        convert_messages([{"role": "user", "content": "hi"}])  # type: ignore[list-item]
