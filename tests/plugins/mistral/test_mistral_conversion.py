"""Mistral's forced conversion (reference 3.3) reproduced on concrete conversations.

Expected ids are the reference's: the first 9 hex digits of the SHA-512 of the original id
(the literals below were computed with Node's crypto, as the reference does).
"""

from __future__ import annotations

from typing import Any

import pytest
from chatpipe import wire
from chatpipe.converter import Names
from chatpipe.models import ImagePart, ImageURL, Message, TextPart
from chatpipe_mistral import convert_mistral_messages, mistral_tool_id

NAMES = Names(user="Alex", char="Seraphina", group=("Rook", "Mira"))


def convert(messages: list[dict[str, Any]], names: Names = NAMES, **kwargs: Any) -> list[dict[str, Any]]:
    return wire.messages_to_dicts(convert_mistral_messages(wire.messages_from_dicts(messages), names, **kwargs))


def call(call_id: str, name: str = "get_weather", arguments: str = '{"city": "Paris"}') -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


@pytest.mark.parametrize(
    ("original", "expected"),
    [("call_abc123", "d5627bc27"), ("toolu_01XYZ", "6982f69d0"), ("c1", "bcfe21e62")],
)
def test_tool_ids_are_the_first_nine_hex_digits_of_sha512(original: str, expected: str) -> None:
    assert mistral_tool_id(original) == expected


def test_calls_and_results_are_rewritten_consistently() -> None:
    out = convert(
        [
            {"role": "user", "content": "Weather in Paris and Rome?"},
            {"role": "assistant", "content": None, "tool_calls": [call("call_abc123"), call("toolu_01XYZ")]},
            {"role": "tool", "tool_call_id": "call_abc123", "content": "18 C"},
            {"role": "tool", "tool_call_id": "toolu_01XYZ", "content": "24 C"},
        ]
    )
    assert [c["id"] for c in out[1]["tool_calls"]] == ["d5627bc27", "6982f69d0"]
    assert [m["tool_call_id"] for m in out[2:]] == ["d5627bc27", "6982f69d0"]
    assert out[1]["tool_calls"][0]["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}


def test_a_tool_call_id_on_a_non_tool_message_is_left_alone() -> None:
    out = convert([{"role": "user", "content": "x", "tool_call_id": "call_abc123"}])
    assert out[0]["tool_call_id"] == "call_abc123"


def test_user_turns_after_a_tool_result_move_to_the_last_earlier_user_turn() -> None:
    out = convert(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": None, "tool_calls": [call("c1")]},
            {"role": "tool", "tool_call_id": "c1", "content": "18 C"},
            {"role": "user", "content": "Also, in Celsius."},
            {"role": "user", "content": "And be quick."},
        ]
    )
    assert [m["role"] for m in out] == ["system", "user", "assistant", "tool"]
    assert out[1]["content"] == "Weather in Paris?\n\nAlso, in Celsius.\n\nAnd be quick."


def test_the_target_is_the_last_non_empty_user_turn_before_the_tool_result() -> None:
    out = convert(
        [
            {"role": "user", "content": "First"},
            {"role": "assistant", "content": "Ok"},
            {"role": "user", "content": "Second"},
            {"role": "user", "content": ""},
            {"role": "assistant", "content": None, "tool_calls": [call("c1")]},
            {"role": "tool", "tool_call_id": "c1", "content": "18 C"},
            {"role": "user", "content": "Third"},
        ]
    )
    assert [m["content"] for m in out if m["role"] == "user"] == ["First", "Second\n\nThird", ""]


def test_reordering_repeats_over_several_tool_rounds() -> None:
    out = convert(
        [
            {"role": "user", "content": "Q"},
            {"role": "assistant", "content": None, "tool_calls": [call("c1")]},
            {"role": "tool", "tool_call_id": "c1", "content": "r1"},
            {"role": "user", "content": "U2"},
            {"role": "tool", "tool_call_id": "c1", "content": "r2"},
            {"role": "user", "content": "U3"},
            {"role": "assistant", "content": "Done"},
        ]
    )
    assert [(m["role"], m["content"]) for m in out] == [
        ("user", "Q\n\nU2\n\nU3"),
        ("assistant", None),
        ("tool", "r1"),
        ("tool", "r2"),
        ("assistant", "Done"),
    ]


def test_without_an_earlier_user_turn_nothing_moves() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "S"},
        {"role": "assistant", "content": None, "tool_calls": [call("c1")]},
        {"role": "tool", "tool_call_id": "c1", "content": "r"},
        {"role": "user", "content": "U"},
    ]
    assert [m["content"] for m in convert(messages)] == ["S", None, "r", "U"]


def test_part_lists_are_joined_as_parts() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "high"}}
    out = convert_mistral_messages(
        wire.messages_from_dicts(
            [
                {"role": "user", "content": [{"type": "text", "text": "Look:"}, image]},
                {"role": "assistant", "content": None, "tool_calls": [call("c1")]},
                {"role": "tool", "tool_call_id": "c1", "content": "r"},
                {"role": "user", "content": [image, {"type": "text", "text": "And this one"}]},
            ]
        )
    )
    picture = ImagePart(ImageURL("https://example.com/cat.png", "high"))
    assert out[0].content == (TextPart("Look:"), picture, picture, TextPart("And this one"))
    assert len(out) == 3


def test_system_directly_after_assistant_becomes_user() -> None:
    out = convert(
        [
            {"role": "system", "content": "S0"},
            {"role": "user", "content": "U"},
            {"role": "system", "content": "S1"},
            {"role": "assistant", "content": "A"},
            {"role": "system", "content": "S2"},
            {"role": "system", "content": "S3"},
            {"role": "tool", "tool_call_id": "c1", "content": "r"},
            {"role": "system", "content": "S4"},
        ]
    )
    assert [(m["role"], m["content"]) for m in out] == [
        ("system", "S0"),
        ("user", "U"),
        ("system", "S1"),
        ("assistant", "A"),
        ("user", "S2"),
        ("system", "S3"),
        ("tool", "r"),
        ("system", "S4"),
    ]


def test_system_to_user_runs_after_reordering() -> None:
    """A user turn after a tool moves first; the system message after the assistant then converts."""
    out = convert(
        [
            {"role": "user", "content": "Q"},
            {"role": "assistant", "content": None, "tool_calls": [call("c1")]},
            {"role": "tool", "tool_call_id": "c1", "content": "r"},
            {"role": "user", "content": "more"},
            {"role": "assistant", "content": "A"},
            {"role": "system", "content": "Note"},
        ]
    )
    assert [(m["role"], m["content"]) for m in out] == [
        ("user", "Q\n\nmore"),
        ("assistant", None),
        ("tool", "r"),
        ("assistant", "A"),
        ("user", "Note"),
    ]


def test_no_roles_are_merged() -> None:
    messages = [
        {"role": "user", "content": "a"},
        {"role": "user", "content": "b"},
        {"role": "assistant", "content": "c"},
        {"role": "assistant", "content": "d"},
    ]
    assert convert(messages) == messages


def test_names_become_prefixes_only_when_missing() -> None:
    out = convert(
        [
            {"role": "system", "content": "Night falls.", "name": "narrator"},
            {"role": "user", "content": "Hi", "name": "Alex"},
            {"role": "assistant", "content": "Rook: Yo.", "name": "Rook"},
            {"role": "assistant", "content": "Hello", "name": "Mira"},
            {"role": "tool", "tool_call_id": "c1", "content": "18 C", "name": "get_weather"},
        ]
    )
    assert out == [
        {"role": "system", "content": "Night falls.", "name": "narrator"},
        {"role": "user", "content": "Alex: Hi"},
        {"role": "assistant", "content": "Rook: Yo.", "name": "Rook"},  # already prefixed: not doubled, name kept
        {"role": "assistant", "content": "Mira: Hello"},
        {"role": "tool", "content": "get_weather: 18 C", "tool_call_id": "bcfe21e62"},
    ]


def test_a_prefix_goes_in_front_of_a_leading_image() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    out = convert([{"role": "user", "name": "Alex", "content": [image, {"type": "text", "text": "this"}]}])
    assert out == [
        {"role": "user", "content": [{"type": "text", "text": "Alex: "}, image, {"type": "text", "text": "this"}]}
    ]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("example_user", "How are you?", "Alex: How are you?"),
        ("example_user", "Alex: How are you?", "Alex: How are you?"),
        ("example_assistant", "Fine.", "Seraphina: Fine."),
        ("example_assistant", "Seraphina: Fine.", "Seraphina: Fine."),
        ("example_assistant", "Rook: Fine.", "Rook: Fine."),
    ],
)
def test_example_messages_are_prefixed_and_lose_their_name(name: str, content: str, expected: str) -> None:
    assert convert([{"role": "system", "name": name, "content": content}]) == [{"role": "system", "content": expected}]


def test_example_messages_without_names_only_lose_the_name() -> None:
    out = convert([{"role": "system", "name": "example_assistant", "content": "Fine."}], names=Names())
    assert out == [{"role": "system", "content": "Fine."}]


def test_prefix_marks_a_final_assistant_turn_only_when_enabled() -> None:
    messages = [{"role": "user", "content": "Write a haiku"}, {"role": "assistant", "content": "Autumn"}]
    assert convert(messages, prefix=True)[-1] == {"role": "assistant", "content": "Autumn", "prefix": True}
    assert "prefix" not in convert(messages)[-1]
    assert not any("prefix" in m for m in convert(messages[:1], prefix=True))
    explicit: list[dict[str, Any]] = [messages[0], {**messages[1], "prefix": False}]
    assert convert(explicit, prefix=True)[-1]["prefix"] is False


def test_the_input_is_not_mutated() -> None:
    source: list[dict[str, Any]] = [
        {"role": "user", "content": "Q", "name": "Alex"},
        {"role": "assistant", "content": None, "tool_calls": [call("c1")]},
        {"role": "tool", "tool_call_id": "c1", "content": "r"},
        {"role": "user", "content": "more"},
        {"role": "assistant", "content": "A"},
    ]
    messages = wire.messages_from_dicts(source)
    convert_mistral_messages(messages, NAMES, prefix=True)
    assert wire.messages_to_dicts(messages) == source
    assert all(isinstance(m, Message) for m in messages)


def test_a_whole_roleplay_conversation() -> None:
    """Every rule at once, on the kind of prompt the reference builds."""
    out = convert(
        [
            {"role": "system", "content": "You are Seraphina."},
            {"role": "system", "name": "example_user", "content": "Who are you?"},
            {"role": "system", "name": "example_assistant", "content": "A guardian."},
            {"role": "assistant", "content": "Welcome, traveller."},
            {"role": "system", "content": "[Alex enters]"},
            {"role": "user", "name": "Alex", "content": "What's the weather?"},
            {"role": "assistant", "content": None, "tool_calls": [call("call_abc123")]},
            {"role": "tool", "tool_call_id": "call_abc123", "content": "Rain"},
            {"role": "user", "name": "Alex", "content": "Alex: Should I stay?"},
            {"role": "assistant", "content": "Seraphina: Stay"},
        ],
        prefix=True,
    )
    assert out == [
        {"role": "system", "content": "You are Seraphina."},
        {"role": "system", "content": "Alex: Who are you?"},
        {"role": "system", "content": "Seraphina: A guardian."},
        {"role": "assistant", "content": "Welcome, traveller."},
        {"role": "user", "content": "[Alex enters]"},
        {"role": "user", "content": "Alex: What's the weather?\n\nAlex: Should I stay?"},
        {"role": "assistant", "content": None, "tool_calls": [call("d5627bc27")]},
        {"role": "tool", "content": "Rain", "tool_call_id": "d5627bc27"},
        {"role": "assistant", "content": "Seraphina: Stay", "prefix": True},
    ]
