"""The Gemini conversion (chatpipe_gemini._messages, _content, _signatures): system instruction,
roles and merging, parts, function calls and responses, thought signatures sent back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from chatpipe.errors import InvalidRequestError
from chatpipe.testing.openapi import SpecValidator

Build = Callable[..., dict[str, Any]]

CALL = {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
TIME = {"id": "c2", "type": "function", "function": {"name": "get_time", "arguments": ""}}
TOOLS = [
    {
        "type": "function",
        "function": {"name": n, "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
    }
    for n in ("get_weather", "get_time")
]


def test_leading_system_messages_become_the_system_instruction(build: Build) -> None:
    body = build(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Use metric."}]},
            {"role": "user", "content": "Hi"},
            {"role": "system", "content": "Later note."},
        ]
    )
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}, {"text": "Use metric."}]}
    # a later system message is a user turn; consecutive user turns merge
    assert body["contents"] == [{"role": "user", "parts": [{"text": "Hi"}, {"text": "Later note."}]}]


def test_roles_are_user_and_model_and_same_role_turns_merge(build: Build) -> None:
    body = build(
        [
            {"role": "user", "content": "One"},
            {"role": "user", "content": "Two"},
            {"role": "assistant", "content": "Three"},
            {"role": "assistant", "content": "Four"},
            {"role": "user", "content": "Five"},
        ]
    )
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "One"}, {"text": "Two"}]},
        {"role": "model", "parts": [{"text": "Three"}, {"text": "Four"}]},
        {"role": "user", "parts": [{"text": "Five"}]},
    ]
    assert "systemInstruction" not in body


def test_empty_messages_are_dropped_and_an_empty_conversation_gets_the_placeholder(build: Build) -> None:
    body = build([{"role": "user", "content": ""}, {"role": "assistant", "content": None}])
    assert body["contents"] == [{"role": "user", "parts": [{"text": "[Start a new chat]"}]}]


def test_names_become_prefixes_unless_present(build: Build) -> None:
    body = build(
        [
            {"role": "user", "name": "Alex", "content": "Hi"},
            {"role": "assistant", "name": "Sera", "content": "Sera: Hello"},
        ]
    )
    assert body["contents"][0]["parts"] == [{"text": "Alex: Hi"}]
    assert body["contents"][1]["parts"] == [{"text": "Sera: Hello"}]


def test_example_dialogue_gets_the_speakers_prefix(build: Build) -> None:
    messages = [
        {"role": "system", "content": "Stay in character."},
        {"role": "user", "content": "Hi"},
        {"role": "system", "name": "example_user", "content": "Hello there"},
        {"role": "system", "name": "example_assistant", "content": "Sera: Greetings"},
    ]
    body = build(messages, names={"user": "Alex", "char": "Sera"})
    assert body["contents"][0]["parts"] == [{"text": "Hi"}, {"text": "Alex: Hello there"}, {"text": "Sera: Greetings"}]
    leading = build([messages[2], messages[1]], names={"user": "Alex"})
    assert leading["systemInstruction"] == {"parts": [{"text": "Alex: Hello there"}]}
    assert build(messages)["contents"][0]["parts"][1] == {"text": "Hello there"}  # no names, no prefix


def test_media_parts_become_inline_data_and_file_data(build: Build) -> None:
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0K"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
        {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
        {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0="}},
        {
            "type": "file",
            "file": {"file_id": "https://generativelanguage.googleapis.com/v1beta/files/abc", "mime_type": "video/mp4"},
        },
    ]
    parts = build([{"role": "user", "content": content}])["contents"][0]["parts"]
    assert parts == [
        {"text": "What is this?"},
        {"inlineData": {"mimeType": "image/png", "data": "iVBORw0K"}},
        {"fileData": {"fileUri": "https://example.com/cat.jpg", "mimeType": "image/jpeg"}},
        {"inlineData": {"mimeType": "audio/wav", "data": "UklGRg=="}},
        {"inlineData": {"mimeType": "application/pdf", "data": "JVBERi0="}},
        {
            "fileData": {
                "fileUri": "https://generativelanguage.googleapis.com/v1beta/files/abc",
                "mimeType": "video/mp4",
            }
        },
    ]


@pytest.mark.parametrize(
    ("part", "needle"),
    [
        ({"type": "image_url", "image_url": {"url": "data:image/png,rawdata"}}, "base64"),
        ({"type": "image_url", "image_url": {"url": "cat.jpg"}}, "file URI"),
        ({"type": "refusal", "refusal": "no"}, "'refusal'"),
    ],
)
def test_parts_gemini_cannot_take_are_errors_naming_them(build: Build, part: dict[str, Any], needle: str) -> None:
    with pytest.raises(InvalidRequestError, match=needle) as info:
        build([{"role": "user", "content": [{"type": "text", "text": "x"}, part]}])
    assert "messages[0].content[1]" in str(info.value)


def test_tool_calls_and_results_pair_with_the_calling_turn(build: Build) -> None:
    body = build(
        [
            {"role": "user", "content": "Weather and time?"},
            {"role": "assistant", "content": "Checking.", "tool_calls": [CALL, TIME]},
            {"role": "tool", "tool_call_id": "c1", "content": '{"temp": 18}'},
            {"role": "tool", "tool_call_id": "c2", "content": "noon"},
            {"role": "user", "content": "Thanks"},
        ],
        tools=TOOLS,
    )
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "Weather and time?"}]},
        {
            "role": "model",
            "parts": [
                {"text": "Checking."},
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
                {"functionCall": {"name": "get_time", "args": {}}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"temp": 18}}},
                {"functionResponse": {"name": "get_time", "response": {"result": "noon"}}},
                {"text": "Thanks"},
            ],
        },
    ]


def test_a_tool_result_without_a_matching_call_needs_a_name(build: Build) -> None:
    with pytest.raises(InvalidRequestError, match=r"'zz'.*give the tool message a 'name'") as info:
        build([{"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "zz", "content": "1"}])
    assert "messages[1]" in str(info.value)
    named = build(
        [{"role": "user", "content": "x"}, {"role": "tool", "tool_call_id": "zz", "name": "f", "content": "[1]"}]
    )
    assert named["contents"][0]["parts"][1] == {"functionResponse": {"name": "f", "response": {"result": [1]}}}


def test_tool_call_arguments_must_be_a_json_object(build: Build) -> None:
    bad = {**CALL, "function": {"name": "get_weather", "arguments": "[1]"}}
    with pytest.raises(InvalidRequestError, match="must be a JSON object") as info:
        build([{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [bad]}])
    assert "messages[1].tool_calls[0].function.arguments" in str(info.value)


def test_thought_signatures_go_back_on_the_same_parts(build: Build, gemini_spec: SpecValidator) -> None:
    signatures = [
        {"part": "thought", "text": "Plan: call the tool.", "signature": "sig-thought"},
        {"part": "text", "signature": "sig-text"},
        {"part": "function_call", "tool_call_id": "c2", "signature": "sig-call-2"},
    ]
    body = build(
        [
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": "Checking.", "tool_calls": [CALL, TIME], "thought_signatures": signatures},
            {"role": "tool", "tool_call_id": "c1", "content": "18"},
            {"role": "tool", "tool_call_id": "c2", "content": "noon"},
        ],
        tools=TOOLS,
    )
    assert body["contents"][1]["parts"] == [
        {"text": "Plan: call the tool.", "thought": True, "thoughtSignature": "sig-thought"},
        {"text": "Checking.", "thoughtSignature": "sig-text"},
        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
        {"functionCall": {"name": "get_time", "args": {}}, "thoughtSignature": "sig-call-2"},
    ]
    gemini_spec.check("GenerateContentRequest", body)


def test_unsigned_tool_calls_get_the_placeholder_signature_on_gemini_3(build: Build) -> None:
    history = [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": None, "tool_calls": [CALL, TIME]},  # e.g. from another model
        {"role": "tool", "tool_call_id": "c1", "content": "18"},
        {"role": "tool", "tool_call_id": "c2", "content": "noon"},
    ]
    parts = build(history, tools=TOOLS, model="gemini-3-pro-preview")["contents"][1]["parts"]
    assert [p.get("thoughtSignature") for p in parts] == ["skip_thought_signature_validator", None]
    older = build(history, tools=TOOLS, model="gemini-2.5-flash")["contents"][1]["parts"]
    assert all("thoughtSignature" not in p for p in older)
    signed = [{**history[1], "thought_signatures": [{"part": "function_call", "tool_call_id": "c1", "signature": "s"}]}]
    kept = build([history[0], *signed], tools=TOOLS, model="gemini-3-pro-preview")["contents"][1]["parts"]
    assert [p.get("thoughtSignature") for p in kept] == ["s", None]


def test_a_text_signature_without_text_gets_an_empty_text_part(build: Build) -> None:
    body = build(
        [
            {"role": "user", "content": "x"},
            {"role": "assistant", "content": None, "thought_signatures": [{"part": "text", "signature": "s"}]},
        ]
    )
    assert body["contents"][1] == {"role": "model", "parts": [{"text": "", "thoughtSignature": "s"}]}


@pytest.mark.parametrize("stored", ["sig", [{"part": "text"}], [{"part": "image", "signature": "s"}]])
def test_malformed_signature_records_are_errors(build: Build, stored: Any) -> None:
    with pytest.raises(InvalidRequestError, match="thought_signatures"):
        build([{"role": "user", "content": "x"}, {"role": "assistant", "content": "y", "thought_signatures": stored}])


def test_a_converted_conversation_is_a_valid_request(build: Build, gemini_spec: SpecValidator) -> None:
    body = build(
        [
            {"role": "system", "content": "Be brief."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Hi"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
                ],
            },
            {"role": "assistant", "content": None, "tool_calls": [CALL]},
            {"role": "tool", "tool_call_id": "c1", "content": "18 C"},
        ],
        tools=TOOLS,
    )
    gemini_spec.check("GenerateContentRequest", body)
