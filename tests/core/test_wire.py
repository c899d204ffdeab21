"""chatpipe.wire: OpenAI dicts ⇄ model, lossless both ways, with located errors."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from chatpipe.errors import InvalidRequestError
from chatpipe.models import (
    AudioPart,
    ChatChunk,
    ChatResponse,
    Choice,
    ImagePart,
    Message,
    OtherPart,
    TextPart,
    ToolCall,
    Usage,
)
from chatpipe.wire import (
    MAX_TOKEN_COUNT,
    chunk_to_dict,
    message_from_dict,
    message_to_dict,
    messages_from_dicts,
    response_to_dict,
    token_count,
    tool_from_dict,
    tool_to_dict,
    usage_from_dict,
    usage_to_dict,
)
from hypothesis import given, settings
from hypothesis import strategies as st

text = st.text(max_size=20)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), text)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=6,
)
extra_keys = st.dictionaries(
    st.sampled_from(["cache_control", "prefix", "reasoning_content", "x_vendor", "signature"]), json_values, max_size=2
)

text_part = st.builds(lambda t, e: {"type": "text", "text": t, **e}, text, extra_keys)
image_part = st.builds(
    lambda url, detail, e: {
        "type": "image_url",
        "image_url": {"url": url, **({"detail": detail} if detail else {})},
        **e,
    },
    st.sampled_from(["https://example.com/a.png", "data:image/png;base64,AAAA"]),
    st.sampled_from([None, "low", "high", "auto"]),
    extra_keys,
)
audio_part = st.builds(
    lambda data, fmt: {"type": "input_audio", "input_audio": {"data": data, "format": fmt}},
    st.sampled_from(["UklGRg==", "SUQz"]),
    st.sampled_from(["wav", "mp3"]),
)
other_part = st.builds(
    lambda kind, payload: {"type": kind, kind: payload},
    st.sampled_from(["video_url", "audio_url", "file", "document", "mystery"]),
    json_values,
)
part = st.one_of(text_part, image_part, audio_part, other_part)
content = st.one_of(st.none(), text, st.lists(part, max_size=4))
tool_call = st.builds(
    lambda i, name, args, e: {
        "id": f"call_{i}",
        "type": "function",
        "function": {"name": name, "arguments": args},
        **e,
    },
    st.integers(0, 99),
    st.sampled_from(["get_weather", "search"]),
    st.sampled_from(["{}", '{"city": "Paris"}', ""]),
    st.dictionaries(st.sampled_from(["index", "x"]), st.integers(0, 3), max_size=1),
)


@st.composite
def message_dicts(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {
        "role": draw(st.sampled_from(["system", "user", "assistant", "tool", "developer"])),
        "content": draw(content),
    }
    if draw(st.booleans()):
        out["name"] = draw(st.sampled_from(["Rook", "example_user", "example_assistant", "narrator"]))
    if draw(st.booleans()):
        out["tool_calls"] = draw(st.lists(tool_call, max_size=2))
    if draw(st.booleans()):
        out["tool_call_id"] = draw(st.sampled_from(["call_1", "toolu_x"]))
    out.update(draw(extra_keys))
    return out


@settings(max_examples=300, deadline=None)
@given(message_dicts())
def test_dict_round_trip_is_lossless(data: dict[str, Any]) -> None:
    before = copy.deepcopy(data)
    assert message_to_dict(message_from_dict(data)) == data
    assert data == before, "structuring must not mutate its input"


@settings(max_examples=300, deadline=None)
@given(message_dicts())
def test_model_round_trip_is_lossless(data: dict[str, Any]) -> None:
    message = message_from_dict(data)
    assert message_from_dict(message_to_dict(message)) == message


def test_absent_content_comes_back_as_null() -> None:
    data = {
        "role": "assistant",
        "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
    }
    assert message_to_dict(message_from_dict(data)) == {**data, "content": None}


def test_parts_are_typed_and_unknown_parts_kept_verbatim() -> None:
    message = message_from_dict(
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "see", "cache_control": {"type": "ephemeral"}},
                {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}},
                {"type": "input_audio", "input_audio": {"data": "AAA", "format": "wav"}},
                {"type": "video_url", "video_url": {"url": "https://x/v.mp4"}},
            ],
        }
    )
    assert isinstance(message.content, tuple)
    text_part_, image, audio, video = message.content
    assert isinstance(text_part_, TextPart) and text_part_.extra == {"cache_control": {"type": "ephemeral"}}
    assert isinstance(image, ImagePart) and image.image_url.detail == "low"
    assert isinstance(audio, AudioPart) and audio.input_audio.format == "wav"
    assert isinstance(video, OtherPart) and video.type == "video_url"


def test_tool_calls_are_structured() -> None:
    message = message_from_dict(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}],
        }
    )
    assert message.tool_calls == (ToolCall("c1", message.tool_calls[0].function),)  # type: ignore[index]
    assert message.tool_calls[0].function.name == "f"  # type: ignore[index]


def test_message_text_joins_text_parts() -> None:
    assert Message("user", (TextPart("a"), TextPart("b"))).text == "a\n\nb"
    assert Message("assistant", None).text == ""


@pytest.mark.parametrize(
    ("data", "where", "fragment"),
    [
        ({"content": "hi"}, "messages[0].role", "non-empty string 'role'"),
        ({"role": "user", "content": 5}, "messages[0].content", "got int"),
        ({"role": "user", "content": [{"type": "text"}]}, "messages[0].content[0].text", "expected a string"),
        ({"role": "user", "content": ["hi"]}, "messages[0].content[0]", "content part object"),
        ({"role": "user", "name": 3, "content": "x"}, "messages[0].name", "expected a string"),
        ({"role": "assistant", "tool_calls": {"id": 1}}, "messages[0].tool_calls", "expected a list"),
        (
            {"role": "assistant", "tool_calls": [{"function": {}}]},
            "messages[0].tool_calls[0]",
            "missing required key 'id'",
        ),
        (
            {"role": "assistant", "tool_calls": [{"id": "a", "function": {"name": "f", "arguments": [1]}}]},
            "messages[0].tool_calls[0].function.arguments",
            "JSON string",
        ),
    ],
)
def test_malformed_messages_name_the_key(data: dict[str, Any], where: str, fragment: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        messages_from_dicts([data])
    assert info.value.where == where
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    "data",
    [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": None, "refusal": None},
        {"role": "tool", "content": "42", "tool_call_id": "call_1"},
        {"role": "user", "name": "Rook", "content": "hi", "x_vendor": 1},
    ],
)
def test_plain_and_full_paths_agree(data: dict[str, Any]) -> None:
    # message_from_dict takes a fast path for plain dicts; a dict subclass takes the full path.
    class Subclassed(dict[str, Any]):
        pass

    assert message_from_dict(data) == message_from_dict(Subclassed(data))
    assert message_to_dict(message_from_dict(data)) == data


def test_message_list_must_be_a_list() -> None:
    with pytest.raises(InvalidRequestError, match="list of message objects"):
        messages_from_dicts("hello")  # type: ignore[arg-type]


def test_tool_round_trip() -> None:
    data = {
        "type": "function",
        "function": {"name": "f", "description": "d", "parameters": {"type": "object"}, "strict": True, "x": 1},
        "cache_control": {"type": "ephemeral"},
    }
    assert tool_to_dict(tool_from_dict(data)) == data


@settings(max_examples=100, deadline=None)
@given(
    st.fixed_dictionaries(
        {"prompt_tokens": st.integers(0, 10**6), "completion_tokens": st.integers(0, 10**6)},
        optional={
            "total_tokens": st.integers(0, 10**6),
            "prompt_tokens_details": st.fixed_dictionaries({"cached_tokens": st.integers(0, 100)}),
            "completion_tokens_details": st.fixed_dictionaries({"reasoning_tokens": st.integers(0, 100)}),
            "cost": st.floats(0, 1),
        },
    )
)
def test_usage_round_trip(data: dict[str, Any]) -> None:
    usage = usage_from_dict(data)
    assert usage_to_dict(usage) == data
    if "prompt_tokens_details" in data:
        assert usage.cached_tokens == data["prompt_tokens_details"]["cached_tokens"]


def test_usage_reads_deepseek_cache_hits() -> None:
    assert usage_from_dict({"prompt_tokens": 10, "prompt_cache_hit_tokens": 4}) == Usage(
        prompt_tokens=10, cached_tokens=4, extra={"prompt_cache_hit_tokens": 4}
    )


@pytest.mark.parametrize(
    ("value", "count"),
    [
        (0, 0),
        (12, 12),
        (MAX_TOKEN_COUNT, MAX_TOKEN_COUNT),
        (MAX_TOKEN_COUNT + 1, None),
        (10**30, None),
        (-1, None),
        (float("inf"), None),
        (float("nan"), None),
        (12.0, None),
        (True, None),
        ("12", None),
        (None, None),
    ],
)
def test_token_count(value: Any, count: int | None) -> None:
    assert token_count(value) == count


def test_out_of_range_usage_counts_are_unknown_with_the_raw_value_kept() -> None:
    data = {
        "prompt_tokens": float("inf"),
        "completion_tokens": 10**30,
        "total_tokens": 7,
        "prompt_tokens_details": {"cached_tokens": float("nan")},
        "completion_tokens_details": {"reasoning_tokens": -2},
    }
    usage = usage_from_dict(data)
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (None, None, 7)
    assert (usage.cached_tokens, usage.reasoning_tokens) == (None, None)
    assert usage.extra["prompt_tokens"] == float("inf") and usage.extra["completion_tokens"] == 10**30
    assert "total_tokens" not in usage.extra


def test_response_and_chunk_dicts_carry_logprobs_only_when_present() -> None:

    logprobs = {"content": [{"token": "Hi", "logprob": -0.5, "bytes": [72, 105], "top_logprobs": []}], "refusal": None}
    with_lp = ChatResponse("r1", "m", (Choice(0, Message("assistant", "Hi"), "stop", logprobs=logprobs),))
    assert response_to_dict(with_lp)["choices"] == [
        {"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop", "logprobs": logprobs}
    ]
    without = ChatResponse("r1", "m", (Choice(0, Message("assistant", "Hi"), "stop"),))
    assert "logprobs" not in response_to_dict(without)["choices"][0]
    assert chunk_to_dict(ChatChunk(text="Hi", logprobs=logprobs))["choices"] == [
        {"index": 0, "delta": {"content": "Hi"}, "finish_reason": None, "logprobs": logprobs}
    ]
    assert "logprobs" not in chunk_to_dict(ChatChunk(text="Hi"))["choices"][0]


def test_created_is_rendered_after_object_only_when_known() -> None:
    reply = ChatResponse("r1", "m", (Choice(0, Message("assistant", "Hi"), "stop"),), created=7)
    assert list(response_to_dict(reply)) == ["id", "object", "created", "model", "choices"]
    assert list(chunk_to_dict(ChatChunk(text="Hi", created=7))) == ["id", "object", "created", "model", "choices"]
    assert "created" not in chunk_to_dict(ChatChunk(text="Hi"))
