"""Cohere's forced conversion (reference 3.6) on concrete conversations, with decision 5."""

from __future__ import annotations

import json
from typing import Any

from chatpipe import wire
from chatpipe.converter import DEFAULT_PLACEHOLDER, ConvertContext, Names
from chatpipe.models import ChatRequest, ImagePart, Message, TextPart
from chatpipe.pipeline import Pipeline
from chatpipe.provider import ProviderSettings
from chatpipe.secrets import Secret
from chatpipe_cohere import CohereProvider, convert_messages
from hypothesis import given
from hypothesis import strategies as st


def call(call_id: str, name: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments or {})}}


def convert(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return wire.messages_to_dicts(convert_messages(wire.messages_from_dicts(messages)))


def sent_messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    adapter = CohereProvider(ProviderSettings(base_url="https://api.cohere.com", api_key=Secret("co-key-123456")))
    request = ChatRequest(model="command-a-03-2025", messages=wire.messages_from_dicts(messages))
    body: dict[str, Any] = adapter.build_chat(adapter.prepare(request)).json
    return list(body["messages"])


def test_an_empty_conversation_becomes_the_placeholder() -> None:
    assert convert([]) == [{"role": "user", "content": DEFAULT_PLACEHOLDER}]


def test_the_assistant_turn_before_a_tool_call_becomes_its_plan() -> None:
    conversation = [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "Let me look that up."},
        {"role": "assistant", "content": None, "tool_calls": [call("c1", "get_weather", {"city": "Paris"})]},
        {"role": "tool", "tool_call_id": "c1", "content": "18 C"},
    ]
    assert convert(conversation) == [
        conversation[0],
        {"role": "assistant", "content": "Let me look that up.", "tool_calls": conversation[2]["tool_calls"]},
        conversation[3],
    ]
    assert sent_messages(conversation)[1] == {
        "role": "assistant",
        "tool_calls": conversation[2]["tool_calls"],
        "tool_plan": "Let me look that up.",
    }


def test_the_message_after_a_tool_call_is_not_skipped() -> None:
    """The reference deletes during its walk, so the next message keeps its name unprefixed."""
    conversation = [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": "Checking."},
        {"role": "assistant", "content": "", "tool_calls": [call("c1", "get_weather")]},
        {"role": "user", "name": "Alex", "content": "Never mind."},
        {"role": "assistant", "name": "Rook", "content": "Fine."},
    ]
    out = convert(conversation)
    assert [m.get("name") for m in out] == [None] * 4
    assert [m["content"] for m in out] == ["Weather?", "Checking.", "Alex: Never mind.", "Rook: Fine."]


def test_a_tool_call_without_text_gets_the_synthetic_plan() -> None:
    calls = [call("c1", "get_weather"), call("c2", "get_time")]
    out = convert([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": None, "tool_calls": calls}])
    assert out[1]["content"] == "I'm going to call a tool for that: get_weather, get_time"
    sent = sent_messages([{"role": "user", "content": "Hi"}, {"role": "assistant", "tool_calls": calls}])
    assert sent[1]["tool_plan"] == "I'm going to call a tool for that: get_weather, get_time"


def test_the_tool_call_messages_own_text_is_kept_after_the_absorbed_one() -> None:
    out = convert(
        [
            {"role": "user", "content": "Q"},
            {"role": "assistant", "content": "First."},
            {"role": "assistant", "content": "Then I call.", "tool_calls": [call("c1", "f")]},
        ]
    )
    assert out[1]["content"] == "First.\n\nThen I call."
    assert len(out) == 2


def test_an_assistant_turn_with_its_own_tool_calls_is_never_absorbed() -> None:
    conversation = [
        {"role": "user", "content": "Q"},
        {"role": "assistant", "content": "A", "tool_calls": [call("c1", "f")]},
        {"role": "assistant", "content": "B", "tool_calls": [call("c2", "g")]},
    ]
    out = convert(conversation)
    assert [[c["id"] for c in m.get("tool_calls", [])] for m in out] == [[], ["c1"], ["c2"]]
    assert [m["content"] for m in out] == ["Q", "A", "B"]


def test_name_prefixes_are_never_doubled() -> None:
    out = convert(
        [
            {"role": "user", "name": "Alex", "content": "Alex: hi"},
            {"role": "assistant", "name": "Rook", "content": "Let me check."},
            {"role": "assistant", "name": "Rook", "content": None, "tool_calls": [call("c1", "f")]},
            {"role": "tool", "tool_call_id": "c1", "content": "done"},
        ]
    )
    assert out[0]["content"] == "Alex: hi"
    assert out[1]["content"] == "Rook: Let me check."
    assert "name" not in out[1]


def test_the_synthetic_plan_is_prefixed_with_the_speakers_name() -> None:
    out = convert(
        [{"role": "user", "content": "Q"}, {"role": "assistant", "name": "Rook", "tool_calls": [call("c", "f")]}]
    )
    assert out[1]["content"] == "Rook: I'm going to call a tool for that: f"


def test_part_lists_with_a_name_are_prefixed_not_rejected() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "low"}}
    out = convert_messages(
        wire.messages_from_dicts(
            [
                {"role": "user", "name": "Alex", "content": [image, {"type": "text", "text": "What is this?"}]},
                {"role": "user", "name": "Alex", "content": [{"type": "text", "text": "And this"}, image]},
                {"role": "user", "name": "Alex", "content": [{"type": "text", "text": "Alex: already"}, image]},
            ]
        )
    )
    first, second, third = (m.content for m in out)
    assert isinstance(first, tuple) and first[0] == TextPart("Alex: ") and isinstance(first[1], ImagePart)
    assert first[2] == TextPart("What is this?")
    assert isinstance(second, tuple) and second[0] == TextPart("Alex: And this") and isinstance(second[1], ImagePart)
    assert isinstance(third, tuple) and third[0] == TextPart("Alex: already")
    assert all(m.name is None for m in out)


def test_named_system_messages_only_lose_the_name_without_speaker_names() -> None:
    out = convert(
        [
            {"role": "system", "name": "example_user", "content": "Hello there"},
            {"role": "system", "name": "narrator", "content": "It rains."},
        ]
    )
    assert out == [{"role": "system", "content": "Hello there"}, {"role": "system", "content": "It rains."}]


def test_example_messages_get_the_speakers_names() -> None:
    names = Names(user="Alex", char="Seraphina", group=("Rook",))
    messages = wire.messages_from_dicts(
        [
            {"role": "system", "name": "example_user", "content": "Hello there"},
            {"role": "system", "name": "example_assistant", "content": "Greetings."},
            {"role": "system", "name": "example_assistant", "content": "Rook: I speak for the group."},
            {"role": "system", "name": "example_user", "content": "Alex: already named"},
            {"role": "system", "name": "narrator", "content": "It rains."},
        ]
    )
    out = wire.messages_to_dicts(convert_messages(messages, names=names))
    assert [m["content"] for m in out] == [
        "Alex: Hello there",
        "Seraphina: Greetings.",
        "Rook: I speak for the group.",
        "Alex: already named",
        "It rains.",
    ]
    assert all("name" not in m for m in out)


def test_the_pipelines_placeholder_and_names_reach_the_conversion() -> None:
    settings = ProviderSettings(base_url="https://api.cohere.com", context=ConvertContext(placeholder="[Begin]"))
    empty = CohereProvider(settings).prepare(ChatRequest(model="m", messages=()))
    assert empty.messages == (Message("user", "[Begin]"),)
    pipe = Pipeline("cohere", api_key="co-key-123456", placeholder="[Begin]", names={"user": "Alex", "char": "Sera"})
    assert pipe.adapter.settings.context.placeholder == "[Begin]"
    example = [{"role": "system", "name": "example_assistant", "content": "Hi."}, {"role": "user", "content": "Q"}]
    assert pipe.explain(example).request["json"]["messages"][0] == {"role": "system", "content": "Sera: Hi."}


def test_a_sent_back_tool_plan_is_not_replaced() -> None:
    message = {"role": "assistant", "content": None, "tool_calls": [call("c1", "f")], "tool_plan": "My plan."}
    assert convert([{"role": "user", "content": "Q"}, message])[1] == message
    assert sent_messages([{"role": "user", "content": "Q"}, message])[1]["tool_plan"] == "My plan."


def test_system_messages_may_stay_anywhere_and_nothing_merges() -> None:
    conversation = [
        {"role": "user", "content": "a"},
        {"role": "user", "content": "b"},
        {"role": "system", "content": "late system"},
        {"role": "assistant", "content": "c"},
    ]
    assert convert(conversation) == conversation


def test_a_whole_conversation_is_sent_in_cohere_shape(cohere_spec: Any) -> None:
    conversation = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "name": "Alex", "content": "Weather in Paris and the time?"},
        {"role": "assistant", "name": "Rook", "content": "One moment."},
        {"role": "assistant", "tool_calls": [call("c1", "get_weather", {"city": "Paris"}), call("c2", "get_time")]},
        {"role": "tool", "tool_call_id": "c1", "content": "18 C"},
        {"role": "tool", "tool_call_id": "c2", "content": [{"type": "text", "text": "12:00"}]},
        {"role": "assistant", "content": "Sunny, noon."},
    ]
    sent = sent_messages(conversation)
    assert sent == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Alex: Weather in Paris and the time?"},
        {"role": "assistant", "tool_calls": conversation[3]["tool_calls"], "tool_plan": "Rook: One moment."},
        {"role": "tool", "tool_call_id": "c1", "content": "18 C"},
        {"role": "tool", "tool_call_id": "c2", "content": [{"type": "text", "text": "12:00"}]},
        {"role": "assistant", "content": "Sunny, noon."},
    ]
    cohere_spec.check("ChatMessages", sent)


def test_the_input_is_not_mutated() -> None:
    messages = wire.messages_from_dicts(
        [{"role": "assistant", "content": "x"}, {"role": "assistant", "name": "R", "tool_calls": [call("c", "f")]}]
    )
    before = wire.messages_to_dicts(messages)
    convert_messages(messages)
    assert wire.messages_to_dicts(messages) == before


_roles = st.sampled_from(["system", "user", "assistant", "tool"])
_message = st.builds(
    lambda role, name, text, calls: Message(
        role,
        text,
        name=name,
        tool_calls=tuple(
            wire.message_from_dict(
                {"role": "assistant", "tool_calls": [call(f"c{i}", f"f{i}") for i in range(calls)]}
            ).tool_calls
            or ()
        )
        if role == "assistant" and calls
        else None,
        tool_call_id="c0" if role == "tool" else None,
    ),
    _roles,
    st.one_of(st.none(), st.sampled_from(["Alex", "Rook"])),
    st.one_of(st.none(), st.text(max_size=8)),
    st.integers(0, 2),
)


@given(st.lists(_message, max_size=8))
def test_conversion_keeps_every_tool_call_and_every_text(messages: list[Message]) -> None:
    out = convert_messages(messages)
    assert all(m.name is None for m in out)
    assert [c for m in messages for c in m.tool_calls or ()] == [c for m in out for c in m.tool_calls or ()]
    joined = "\n".join(m.text for m in out)
    assert all(m.text in joined for m in messages)
    assert len(out) >= max(1, len(messages) - sum(1 for m in messages if m.tool_calls))
