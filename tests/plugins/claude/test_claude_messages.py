"""The Claude forced conversion (reference 3.2 and section 5 items 11-13) on concrete conversations,
asserting chatpipe's outcome where one of its decisions changes the reference's."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from chatpipe.errors import InvalidRequestError

Build = Callable[..., dict[str, Any]]

ZWSP = "\u200b"
PNG = "data:image/png;base64,iVBORw0KGgo="
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def text(value: str, **extra: Any) -> dict[str, Any]:
    return {"type": "text", "text": value, **extra}


def call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def image_url(url: str) -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}}


BASE64_IMAGE = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}


# --- system --------------------------------------------------------------------------------


def test_leading_system_messages_become_system_blocks(build: Build) -> None:
    body = build(
        [
            {"role": "system", "content": "You are Seraphina."},
            {"role": "developer", "content": [text("Stay in character.")], "cache_control": {"type": "ephemeral"}},
            {"role": "user", "content": "Hi"},
        ]
    )
    assert body["system"] == [
        text("You are Seraphina."),
        text("Stay in character.", cache_control={"type": "ephemeral"}),
    ]
    assert body["messages"] == [{"role": "user", "content": [text("Hi")]}]


def test_a_later_system_message_becomes_user_without_its_name_and_merges(build: Build) -> None:
    body = build(
        [
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello."},
            {"role": "user", "content": "Go on."},
            {"role": "system", "name": "example_user", "content": "[OOC: be brief]"},
        ]
    )
    assert "system" not in body
    assert body["messages"][-1] == {"role": "user", "content": [text("Go on."), text("[OOC: be brief]")]}


NAMES = {"user": "Ann", "char": "Bo", "group": ["Cy"]}


def test_example_dialogue_gets_the_speakers_prefix(build: Build, anthropic: Any) -> None:
    # reference section 0 (example-prefixing), applied in system blocks and in later user turns
    body = build(
        [
            {"role": "system", "content": "Rules."},
            {"role": "system", "name": "example_user", "content": "Hey"},
            {"role": "system", "name": "example_assistant", "content": "Hello."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Yes?"},
            {"role": "system", "name": "example_user", "content": "Ann: Already."},
            {"role": "system", "name": "example_assistant", "content": "Cy: A group member."},
            {"role": "system", "name": "example_assistant", "content": [image_url(PNG), text("Look.")]},
        ],
        names=NAMES,
    )
    assert body == {
        "model": "claude-sonnet-4-5",
        "max_tokens": 8192,
        "system": [text("Rules."), text("Ann: Hey"), text("Bo: Hello.")],
        "messages": [
            {"role": "user", "content": [text("Hi")]},
            {"role": "assistant", "content": [text("Yes?")]},
            {
                "role": "user",
                "content": [
                    text("Ann: Already."),
                    text("Cy: A group member."),
                    text("Bo: "),
                    BASE64_IMAGE,
                    text("Look."),
                ],
            },
        ],
        "stream": False,
    }
    anthropic.check("CreateMessageParams", body)


def test_example_dialogue_without_names_gets_no_prefix(build: Build) -> None:
    messages = [
        {"role": "system", "content": "Rules."},
        {"role": "system", "name": "example_user", "content": "Hey"},
        {"role": "user", "content": "Hi"},
    ]
    assert build(messages)["system"] == [text("Rules."), text("Hey")]
    assert build(messages, names={"char": "Bo"})["system"] == [text("Rules."), text("Hey")]


def test_media_in_a_system_message_goes_to_a_user_turn(build: Build) -> None:
    body = build([{"role": "system", "content": [text("Look:"), image_url(PNG)]}, {"role": "user", "content": "Hi"}])
    assert body["system"] == [text("Look:")]
    assert body["messages"] == [{"role": "user", "content": [BASE64_IMAGE, text("Hi")]}]


def test_use_system_prompt_off_sends_system_messages_as_user(build: Build) -> None:
    body = build(
        [{"role": "system", "content": "Rules."}, {"role": "user", "content": "Hi"}],
        options={"use_system_prompt": False},
    )
    assert "system" not in body
    assert body["messages"] == [{"role": "user", "content": [text("Rules."), text("Hi")]}]


def test_only_system_messages_get_the_placeholder_user_turn(build: Build) -> None:
    body = build([{"role": "system", "content": "Rules."}])
    assert body["messages"] == [{"role": "user", "content": [text("[Start a new chat]")]}]


# --- names, null content, parts -------------------------------------------------------------


def test_name_prefix_is_not_doubled(build: Build) -> None:
    # reference: "Rook: Yo." named Rook is sent as "Rook: Rook: Yo." (section 5 item 6); chatpipe
    # checks for the prefix first (decision 5).
    body = build(
        [
            {"role": "user", "name": "Rook", "content": "Rook: Yo."},
            {"role": "assistant", "name": "Seraphina", "content": "Welcome."},
        ]
    )
    assert body["messages"] == [
        {"role": "user", "content": [text("Rook: Yo.")]},
        {"role": "assistant", "content": [text("Seraphina: Welcome.")]},
    ]


def test_a_name_before_a_leading_image_keeps_the_image(build: Build) -> None:
    body = build([{"role": "user", "name": "Rook", "content": [image_url(PNG), text("What is this?")]}])
    assert body["messages"][0]["content"] == [text("Rook: "), BASE64_IMAGE, text("What is this?")]


def test_null_content_is_handled(build: Build) -> None:
    # reference: content null throws (3.2 step 7); chatpipe treats it as empty (decision 5).
    body = build(
        [{"role": "user", "content": None}, {"role": "assistant", "content": None}, {"role": "user", "content": "Hi"}]
    )
    assert body["messages"] == [
        {"role": "user", "content": [text(ZWSP)]},
        {"role": "assistant", "content": [text(ZWSP)]},
        {"role": "user", "content": [text("Hi")]},
    ]


def test_http_image_urls_are_url_sources_and_data_urls_base64(build: Build) -> None:
    # reference: an http URL gives a base64 source with a garbage media type and no data.
    body = build([{"role": "user", "content": [image_url("https://example.com/cat.jpg"), image_url(PNG)]}])
    assert body["messages"][0]["content"] == [
        {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}},
        BASE64_IMAGE,
    ]


@pytest.mark.parametrize(
    "part",
    [
        image_url("data:image/png,notbase64"),
        image_url("ftp://example.com/cat.png"),
        {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
        {"type": "video_url", "video_url": {"url": "https://example.com/v.mp4"}},
    ],
)
def test_parts_claude_cannot_take_are_named_errors(build: Build, part: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequestError) as info:
        build([{"role": "user", "content": [text("see"), part]}])
    assert "messages[0].content[1]" in str(info.value)


def test_native_claude_blocks_and_part_cache_control_pass_through(build: Build) -> None:
    document = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "Doc."}}
    body = build([{"role": "user", "content": [document, text("Summarise.", cache_control={"type": "ephemeral"})]}])
    assert body["messages"][0]["content"] == [document, text("Summarise.", cache_control={"type": "ephemeral"})]


def test_message_cache_control_lands_on_the_last_block(build: Build) -> None:
    body = build([{"role": "user", "content": [text("a"), text("b")], "cache_control": {"type": "ephemeral"}}])
    assert body["messages"][0]["content"] == [text("a"), text("b", cache_control={"type": "ephemeral"})]


def test_other_message_extra_keys_are_not_sent(build: Build) -> None:
    body = build([{"role": "user", "content": "Hi", "reasoning_content": "x", "prefix": True}])
    assert body["messages"] == [{"role": "user", "content": [text("Hi")]}]


# --- merging and empty text -----------------------------------------------------------------


def test_consecutive_same_role_turns_merge_as_block_lists(build: Build) -> None:
    body = build(
        [
            {"role": "user", "content": "one"},
            {"role": "user", "content": [text("two"), image_url(PNG)]},
            {"role": "assistant", "content": "three"},
            {"role": "assistant", "content": "four"},
            {"role": "user", "content": "five"},
        ]
    )
    assert body["messages"] == [
        {"role": "user", "content": [text("one"), text("two"), BASE64_IMAGE]},
        {"role": "assistant", "content": [text("three"), text("four")]},
        {"role": "user", "content": [text("five")]},
    ]


def test_empty_text_blocks_are_dropped_and_an_empty_turn_gets_a_zero_width_space(build: Build) -> None:
    # reference: every empty text part becomes U+200B; chatpipe drops them unless the turn would be empty.
    body = build(
        [
            {"role": "user", "content": [text(""), text("real"), text("  ", cache_control={"type": "ephemeral"})]},
            {"role": "assistant", "content": ""},
            {"role": "user", "content": "next"},
        ]
    )
    assert body["messages"] == [
        {"role": "user", "content": [text("real", cache_control={"type": "ephemeral"})]},
        {"role": "assistant", "content": [text(ZWSP)]},
        {"role": "user", "content": [text("next")]},
    ]


# --- tools ----------------------------------------------------------------------------------


def tool_loop(text_with_call: str | None = "Let me check.") -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": text_with_call,
            "tool_calls": [call("toolu_1", "get_weather", '{"city":"Paris"}')],
        },
        {"role": "tool", "tool_call_id": "toolu_1", "content": "18 C"},
    ]


def test_text_alongside_tool_calls_is_kept(build: Build) -> None:
    # reference (section 5 item 11): the text is replaced by the tool_use blocks; chatpipe keeps it.
    body = build(tool_loop(), tools=[WEATHER])
    assert body["messages"] == [
        {"role": "user", "content": [text("Weather in Paris?")]},
        {
            "role": "assistant",
            "content": [
                text("Let me check."),
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
            ],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "18 C"}]},
    ]


@pytest.mark.parametrize("content", ["", None, [text("")]])
def test_a_named_tool_call_turn_without_text_gets_no_name_block(
    build: Build, anthropic: Any, content: str | list[dict[str, Any]] | None
) -> None:
    messages = tool_loop(None)
    messages[1] = {**messages[1], "name": "Bo", "content": content}
    body = build(messages, tools=[WEATHER])
    assert body == {
        "model": "claude-sonnet-4-5",
        "max_tokens": 8192,
        "messages": [
            {"role": "user", "content": [text("Weather in Paris?")]},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}],
            },
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "18 C"}]},
        ],
        "stream": False,
        "tools": [
            {
                "name": "get_weather",
                "description": "Weather for a city",
                "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
            }
        ],
    }
    anthropic.check("CreateMessageParams", body)


def test_a_named_tool_call_turn_keeps_the_name_on_its_text_or_folded_call(build: Build) -> None:
    named = tool_loop("Checking.")
    named[1] = {**named[1], "name": "Bo"}
    assert build(named, tools=[WEATHER])["messages"][1]["content"][0] == text("Bo: Checking.")
    silent = tool_loop("")
    silent[1] = {**silent[1], "name": "Bo"}
    assert build(silent)["messages"][1] == {
        "role": "assistant",
        "content": [text('Bo: [Tool call get_weather({"city":"Paris"})]')],
    }


def test_tool_results_keep_is_error_and_cache_control_and_come_first(build: Build) -> None:
    messages = [
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [call("toolu_1", "get_weather", '{"city":"Paris"}'), call("toolu_2", "get_weather", "")],
        },
        {"role": "user", "content": "Also, hurry."},
        {"role": "tool", "tool_call_id": "toolu_1", "content": "timeout", "is_error": True},
        {"role": "tool", "tool_call_id": "toolu_2", "content": [text("ok")], "cache_control": {"type": "ephemeral"}},
    ]
    body = build(messages, tools=[WEATHER])
    assistant, results = body["messages"][1:]
    assert assistant["content"][1] == {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {}}
    assert results == {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": "timeout", "is_error": True},
            {
                "type": "tool_result",
                "tool_use_id": "toolu_2",
                "content": [text("ok")],
                "cache_control": {"type": "ephemeral"},
            },
            text("Also, hurry."),
        ],
    }


@pytest.mark.parametrize("arguments", ["{not json", "[1, 2]"])
def test_bad_tool_arguments_are_named_errors(build: Build, arguments: str) -> None:
    messages = [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [call("t1", "f", arguments)]}]
    with pytest.raises(InvalidRequestError) as info:
        build(messages, tools=[WEATHER])
    assert "messages[1].tool_calls[0].function.arguments" in str(info.value)


def test_a_tool_message_without_its_call_id_is_an_error(build: Build) -> None:
    with pytest.raises(InvalidRequestError, match="tool_call_id"):
        build([{"role": "user", "content": "x"}, {"role": "tool", "content": "r"}], tools=[WEATHER])


def test_without_tools_calls_and_results_become_text_keeping_the_name(build: Build) -> None:
    # reference (item 11): tool_use becomes the JSON of the input only, losing the name.
    body = build(tool_loop(None))
    assert body["messages"] == [
        {"role": "user", "content": [text("Weather in Paris?")]},
        {"role": "assistant", "content": [text('[Tool call get_weather({"city":"Paris"})]')]},
        {"role": "user", "content": [text("18 C")]},
    ]
    assert "tools" not in body


def test_thinking_blocks_go_back_unchanged_before_text_and_tool_use(build: Build) -> None:
    thinking = {"type": "thinking", "thinking": "Need the weather.", "signature": "sig=="}
    redacted = {"type": "redacted_thinking", "data": "opaque"}
    messages = tool_loop()
    messages[1]["thinking_blocks"] = [thinking, redacted]
    body = build(messages, tools=[WEATHER], reasoning_effort="low")
    assert [b["type"] for b in body["messages"][1]["content"]] == ["thinking", "redacted_thinking", "text", "tool_use"]
    assert body["messages"][1]["content"][:2] == [thinking, redacted]


def test_thinking_blocks_must_be_a_list_of_blocks(build: Build) -> None:
    with pytest.raises(InvalidRequestError, match="thinking_blocks"):
        build([{"role": "user", "content": "x"}, {"role": "assistant", "content": "y", "thinking_blocks": "nope"}])


# --- assistant images -----------------------------------------------------------------------


def test_assistant_images_move_to_the_next_user_turn_after_its_tool_results(build: Build) -> None:
    messages = tool_loop()
    messages[1]["content"] = [text("Here is a map."), image_url(PNG)]
    messages.append({"role": "user", "content": "Thanks"})
    body = build(messages, tools=[WEATHER])
    assert [b["type"] for b in body["messages"][1]["content"]] == ["text", "tool_use"]
    assert body["messages"][2]["content"] == [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18 C"},
        BASE64_IMAGE,
        text("Thanks"),
    ]


def test_an_assistant_image_goes_after_the_next_user_turns_text(build: Build, anthropic: Any) -> None:
    # reference 3.2 step 3: the images are appended to the next user message (push), before merging
    body = build(
        [
            {"role": "user", "content": "draw"},
            {"role": "assistant", "content": [text("Here."), image_url(PNG)]},
            {"role": "user", "content": "thanks"},
        ]
    )
    assert body == {
        "model": "claude-sonnet-4-5",
        "max_tokens": 8192,
        "messages": [
            {"role": "user", "content": [text("draw")]},
            {"role": "assistant", "content": [text("Here.")]},
            {"role": "user", "content": [text("thanks"), BASE64_IMAGE]},
        ],
        "stream": False,
    }
    anthropic.check("CreateMessageParams", body)


def test_an_assistant_image_goes_to_the_first_of_the_next_user_messages(build: Build) -> None:
    # the move runs before merging: the image lands after the first following user message,
    # and the user messages after it merge behind it, as in the reference
    body = build(
        [
            {"role": "user", "content": "draw"},
            {"role": "assistant", "content": [image_url(PNG)]},
            {"role": "assistant", "content": "Done."},
            {"role": "user", "content": "thanks"},
            {"role": "user", "content": "bye"},
        ]
    )
    assert body["messages"] == [
        {"role": "user", "content": [text("draw")]},
        {"role": "assistant", "content": [text("Done.")]},
        {"role": "user", "content": [text("thanks"), BASE64_IMAGE, text("bye")]},
    ]


def test_two_assistants_with_an_image_merge_instead_of_leaving_an_empty_user_turn(build: Build) -> None:
    # reference quirk (3.2 step 3): the image moves to the second assistant and onwards, leaving
    # an empty user message between the two assistants. chatpipe merges first.
    body = build(
        [
            {"role": "user", "content": "Draw."},
            {"role": "assistant", "content": [image_url(PNG)]},
            {"role": "assistant", "content": "Done."},
        ]
    )
    assert body["messages"] == [
        {"role": "user", "content": [text("Draw.")]},
        {"role": "assistant", "content": [text("Done.")]},
        {"role": "user", "content": [BASE64_IMAGE]},
    ]


# --- prefill and leading assistant (section 5 item 12) --------------------------------------


def test_a_final_assistant_turn_is_a_prefill_with_trailing_whitespace_trimmed(build: Build) -> None:
    body = build([{"role": "user", "content": "Write a haiku"}, {"role": "assistant", "content": "Autumn moon \n"}])
    assert body["messages"][-1] == {"role": "assistant", "content": [text("Autumn moon")]}


def test_an_empty_prefill_is_dropped(build: Build) -> None:
    body = build([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "   "}])
    assert body["messages"] == [{"role": "user", "content": [text("Hi")]}]


def test_a_leading_assistant_turn_is_left_in_place(build: Build) -> None:
    body = build([{"role": "system", "content": "Rules."}, {"role": "assistant", "content": "Greetings."}])
    assert body["messages"] == [{"role": "assistant", "content": [text("Greetings.")]}]


@pytest.mark.parametrize(
    ("model", "params"),
    [("claude-sonnet-4-5", {"reasoning_effort": "medium"}), ("claude-opus-4-6", {}), ("claude-sonnet-4-6-x", {})],
)
def test_the_prefill_becomes_user_with_thinking_or_a_no_prefill_model(
    build: Build, model: str, params: dict[str, Any]
) -> None:
    # reference: re-labelled user, leaving two user turns in a row; chatpipe merges them.
    body = build([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Well, "}], model=model, **params)
    assert body["messages"] == [{"role": "user", "content": [text("Hi"), text("Well,")]}]


def test_request_bodies_of_this_page_follow_the_spec(build: Build, anthropic: Any) -> None:
    conversations = [
        tool_loop(),
        [{"role": "system", "content": "R."}, {"role": "user", "name": "Rook", "content": [image_url(PNG)]}],
        [{"role": "user", "content": None}, {"role": "assistant", "content": "x "}],
    ]
    for messages in conversations:
        anthropic.check("CreateMessageParams", build(messages, tools=[WEATHER]))


def test_arguments_json_round_trips(build: Build) -> None:
    arguments = {"city": "Zürich", "days": [1, 2], "nested": {"ok": True}}
    messages = [
        {"role": "user", "content": "x"},
        {"role": "assistant", "tool_calls": [call("t", "f", json.dumps(arguments))]},
    ]
    assert build(messages, tools=[WEATHER])["messages"][1]["content"][0]["input"] == arguments
