"""The stream parser and the accumulator on recorded-style event sequences."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from chatpipe.errors import (
    ContextLengthError,
    OverloadedError,
    ProtocolError,
    ProviderError,
    RateLimitError,
    ServerError,
)
from chatpipe.http import SSEEvent
from chatpipe.models import ChatChunk, ChatRequest, Message
from chatpipe.plugin import StreamAccumulator
from oac_payloads import TOOL_CALL_FRAGMENTS, chunk, event

REQUEST = ChatRequest(model="gpt-4o-mini", messages=(Message("user", "Hi"),), stream=True)


def run(provider: Any, events: Iterable[Any]) -> tuple[list[ChatChunk], Any, bool]:
    """Feed events like the pipeline does; return chunks, the assembled reply and whether [DONE] came."""
    parser = provider.stream_parser(REQUEST)
    acc = StreamAccumulator(provider=provider.info.name)
    chunks = []
    for item in events:
        for c in parser.feed(item if isinstance(item, SSEEvent) else event(item)):
            acc.add(c)
            chunks.append(c)
        if parser.done:
            break
    for c in parser.finish():
        acc.add(c)
        chunks.append(c)
    return chunks, acc.response(), parser.done


TEXT_STREAM = [
    chunk({"role": "assistant", "content": ""}),
    chunk({"content": "Hel"}),
    chunk({"content": "lo!"}),
    chunk({}, finish_reason="stop"),
    chunk(choices=[], usage={"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}),
    "[DONE]",
]


def test_text_stream_with_usage_only_final_chunk(provider: Any) -> None:
    chunks, reply, done = run(provider, TEXT_STREAM)
    assert done
    assert "".join(c.text for c in chunks) == "Hello!"
    assert chunks[0].role == "assistant"
    assert reply.text == "Hello!" and reply.message.role == "assistant"
    assert reply.finish_reason == "stop"
    assert reply.usage is not None and reply.usage.total_tokens == 11
    assert [c.usage for c in chunks if c.usage] == [reply.usage]
    assert reply.id == "chatcmpl-stream1" and reply.model == "gpt-4o-mini-2024-07-18"
    assert reply.provider == "example"


def test_events_after_done_are_ignored(provider: Any) -> None:
    parser = provider.stream_parser(REQUEST)
    assert list(parser.feed(event("[DONE]"))) == []
    assert list(parser.feed(event(chunk({"content": "late"})))) == []


@pytest.mark.parametrize("key", ["reasoning_content", "reasoning"])
def test_reasoning_streams_before_content(provider: Any, key: str) -> None:
    events = [
        chunk({"role": "assistant", "content": None, key: ""}),
        chunk({"content": None, key: "Think"}),
        chunk({"content": None, key: "ing."}),
        chunk({"content": "Answer."}),
        chunk({}, finish_reason="stop"),
        "[DONE]",
    ]
    chunks, reply, _ = run(provider, events)
    assert "".join(c.reasoning for c in chunks) == "Thinking."
    assert reply.reasoning == "Thinking." and reply.text == "Answer."


def test_two_parallel_tool_calls_in_fragments_are_assembled(provider: Any) -> None:
    chunks, reply, _ = run(provider, [*TOOL_CALL_FRAGMENTS, "[DONE]"])
    deltas = [d for c in chunks for d in c.tool_calls]
    assert [(d.index, d.id, d.name) for d in deltas if d.id] == [
        (0, "call_weather", "get_weather"),
        (1, "call_time", "get_time"),
    ]
    assert [(t.id, t.function.name, t.function.arguments) for t in reply.tool_calls] == [
        ("call_weather", "get_weather", '{"city": "Paris"}'),
        ("call_time", "get_time", '{"tz": "CET"}'),
    ]
    assert reply.message.content is None
    assert reply.finish_reason == "tool_calls"
    assert reply.usage is not None and reply.usage.total_tokens == 110


def test_a_complete_tool_call_in_one_chunk_mistral_style(provider: Any) -> None:
    events = [
        chunk(
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"id": "AbC123xyz", "function": {"name": "lookup", "arguments": {"q": "chatpipe"}}, "index": 0}
                ],
            }
        ),
        chunk(
            {
                "content": "",
                "tool_calls": [
                    {"id": "ZyX987abc", "function": {"name": "lookup", "arguments": '{"q": "pluggy"}'}, "index": 0}
                ],
            }
        ),
        chunk({}, finish_reason="tool_calls", usage={"prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14}),
        "[DONE]",
    ]
    _, reply, _ = run(provider, events)
    assert [(t.id, t.function.name, t.function.arguments) for t in reply.tool_calls] == [
        ("AbC123xyz", "lookup", '{"q": "chatpipe"}'),
        ("ZyX987abc", "lookup", '{"q": "pluggy"}'),
    ]
    assert reply.usage is not None and reply.usage.total_tokens == 14


def test_usage_in_every_chunk_is_cumulative_and_the_last_wins(provider: Any) -> None:
    def usage(n: int) -> dict[str, int]:
        return {"prompt_tokens": 7, "completion_tokens": n, "total_tokens": 7 + n}

    events = [
        chunk({"role": "assistant", "content": "Pa"}, usage=usage(1), citations=["https://a.test"]),
        chunk({"content": "ris"}, usage=usage(2), citations=["https://a.test", "https://b.test"]),
        chunk({"content": "."}, finish_reason="stop", usage=usage(3), citations=["https://a.test", "https://b.test"]),
    ]
    chunks, reply, done = run(provider, events)
    assert [c.usage.completion_tokens for c in chunks if c.usage] == [1, 2, 3]
    assert reply.usage is not None and reply.usage.completion_tokens == 3 and reply.usage.total_tokens == 10
    assert reply.extra["citations"] == ["https://a.test", "https://b.test"]
    assert reply.text == "Paris." and not done


def test_end_of_bytes_without_done_is_fine(provider: Any) -> None:
    parser = provider.stream_parser(REQUEST)
    list(parser.feed(event(chunk({"content": "x"}, finish_reason="stop"))))
    assert list(parser.finish()) == []
    assert not parser.done


def test_blank_data_and_unknown_named_events_are_ignored(provider: Any) -> None:
    parser = provider.stream_parser(REQUEST)
    assert list(parser.feed(SSEEvent(""))) == []
    assert list(parser.feed(SSEEvent("   "))) == []
    assert list(parser.feed(SSEEvent("keep-alive", event="ping"))) == []


def test_an_error_payload_inside_a_200_stream_raises_the_typed_error(provider: Any) -> None:
    parser = provider.stream_parser(REQUEST)
    list(parser.feed(event(chunk({"content": "partial"}))))
    payload = {"error": {"message": "The server is overloaded", "type": "server_error", "code": 503}}
    with pytest.raises(OverloadedError, match="overloaded") as info:
        list(parser.feed(event(payload)))
    assert info.value.provider == "example" and info.value.status == 503


def test_an_error_named_event_raises_even_without_a_status(provider: Any) -> None:
    parser = provider.stream_parser(REQUEST)
    with pytest.raises(RateLimitError):
        list(parser.feed(SSEEvent('{"error": {"message": "slow down", "type": "rate_limit_error"}}', event="error")))
    with pytest.raises(ContextLengthError):
        list(parser.feed(SSEEvent('{"error": {"message": "x", "code": "context_length_exceeded"}}')))


def test_an_error_event_with_a_status_code_in_the_body_maps_by_status(provider: Any) -> None:
    parser = provider.stream_parser(REQUEST)
    with pytest.raises(ServerError):
        list(parser.feed(event({"error": {"message": "boom", "code": 500}})))


def test_stream_error_text_never_contains_the_key(provider: Any, planted_key: str) -> None:
    parser = provider.stream_parser(REQUEST)
    with pytest.raises(ProviderError) as info:
        list(parser.feed(event({"error": {"message": f"bad key {planted_key}", "code": "invalid_api_key"}})))
    assert planted_key not in str(info.value) and planted_key not in (info.value.body or "")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ("{not json", "not valid JSON"),
        ('{"choices": []} {"choices": []}', "not valid JSON"),
        ("[1]", "not an object"),
        ('{"choices": {"0": 1}}', "choices"),
        ('{"choices": [{"delta": "x"}]}', "delta"),
        ('{"choices": [{"delta": {"content": 5}}]}', "content"),
        ('{"choices": [{"delta": {"tool_calls": {"index": 0}}}]}', "tool_calls"),
        ('{"choices": [{"delta": {"tool_calls": [{"index": "a"}]}}]}', "index"),
    ],
)
def test_malformed_stream_data_raises_protocol_error(provider: Any, data: str, problem: str) -> None:
    parser = provider.stream_parser(REQUEST)
    with pytest.raises(ProtocolError, match=problem) as info:
        list(parser.feed(SSEEvent(data)))
    assert info.value.body == data


# --- the accumulator alone --------------------------------------------------------------


def test_accumulator_keeps_partial_text_and_reasoning_for_errors() -> None:
    acc = StreamAccumulator(provider="example")
    acc.add(ChatChunk(reasoning="Hmm"))
    acc.add(ChatChunk(text="Half an ans"))
    assert (acc.partial_text, acc.partial_reasoning) == ("Half an ans", "Hmm")


def test_accumulator_with_nothing_gives_one_empty_choice() -> None:
    reply = StreamAccumulator(provider="x").response()
    assert reply.text == "" and reply.message.role == "assistant" and reply.finish_reason is None


def test_accumulator_separates_choices_by_index() -> None:
    acc = StreamAccumulator()
    for c in (
        ChatChunk(index=1, text="b"),
        ChatChunk(index=0, text="a"),
        ChatChunk(index=1, text="B", finish_reason="stop", raw_finish_reason="stop"),
    ):
        acc.add(c)
    reply = acc.response()
    assert [(c.index, c.message.content, c.finish_reason) for c in reply.choices] == [(0, "a", None), (1, "bB", "stop")]


def test_accumulator_rejects_a_tool_call_that_never_got_a_name() -> None:
    from chatpipe.models import ToolCallDelta

    acc = StreamAccumulator(provider="example")
    acc.add(ChatChunk(tool_calls=(ToolCallDelta(index=0, id="call_1", arguments="{}"),)))
    with pytest.raises(ProtocolError, match="never received a function name"):
        acc.response()


def test_accumulator_invents_an_id_when_the_server_sends_none() -> None:
    from chatpipe.models import ToolCallDelta

    acc = StreamAccumulator()
    acc.add(ChatChunk(tool_calls=(ToolCallDelta(index=0, name="f", arguments="{}"),)))
    call = acc.response().tool_calls[0]
    assert call.id and call.function.name == "f"


def test_accumulator_puts_message_extra_on_the_message() -> None:
    from chatpipe._accumulate import StreamAccumulator
    from chatpipe.models import ChatChunk

    acc = StreamAccumulator(provider="x")
    acc.add(ChatChunk(text="hi", message_extra={"thinking_blocks": [{"type": "thinking", "signature": "s1"}]}))
    acc.add(ChatChunk(message_extra={"other": 1}, extra={"citations": ["u"]}))
    response = acc.response()
    assert response.message.extra == {"thinking_blocks": [{"type": "thinking", "signature": "s1"}], "other": 1}
    assert response.extra == {"citations": ["u"]}


def test_a_stream_with_a_finish_reason_but_no_done_is_complete(provider: Any) -> None:
    _, reply, done = run(provider, TEXT_STREAM[:-1])
    assert not done and reply.text == "Hello!" and reply.finish_reason == "stop"


def test_a_stream_that_ends_without_finish_reason_or_done_was_cut(provider: Any) -> None:
    with pytest.raises(ProtocolError, match="without a finish reason or \\[DONE\\]"):
        run(provider, TEXT_STREAM[:3])


def test_a_stream_event_nested_too_deeply_is_a_protocol_error(provider: Any) -> None:
    parser = provider.stream_parser(REQUEST)
    with pytest.raises(ProtocolError, match="not valid JSON"):
        list(parser.feed(event("[" * 100_000)))


def test_chunks_and_the_reply_carry_the_vendors_created(provider: Any) -> None:
    chunks, reply, _ = run(provider, TEXT_STREAM)
    assert {c.created for c in chunks} == {1764300000}
    assert reply.created == 1764300000
    bad = [chunk({"content": "Hi"}, created=True), chunk({}, finish_reason="stop", created=3), "[DONE]"]
    chunks, reply, _ = run(provider, bad)
    assert [c.created for c in chunks] == [None, 3]
    assert reply.created == 3


_FAST_PATH_CASES = [
    json.dumps(chunk({"content": "Hi"})),
    json.dumps(chunk({"content": "Hi"}, system_fingerprint="fp_1", other=[1])),
    json.dumps(chunk({"role": "assistant", "content": ""})),
    json.dumps(chunk({"content": ["not", "text"]})),
    json.dumps(chunk({"content": 3})),
    json.dumps(chunk({"reasoning_content": "think"})),
    json.dumps(chunk({}, finish_reason="length")),
    json.dumps(chunk(choices=[], usage={"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3})),
    json.dumps({"error": {"message": "overloaded", "type": "server_error"}}),
    json.dumps({"error": "x", "choices": [{"index": 0, "delta": {"content": "kept"}}]}),
    json.dumps(chunk({"content": "Hi"})) + " {}",
    " " + json.dumps(chunk({"content": "Hi"})) + "\n",
    '{"choices": "nope"}',
    '{"choices": [{"index": 0, "delta": {"content": "a"}}], "id": 5, "model": null, "created": "x"}',
    "{not json}",
    "[DONE]",
    "",
]


@pytest.mark.parametrize("data", _FAST_PATH_CASES)
@pytest.mark.parametrize("name", ["message", "chunk", "error", "other"])
def test_the_common_event_path_gives_what_the_general_path_gives(provider: Any, data: str, name: str) -> None:
    def outcome(parse: Callable[[SSEEvent], Iterable[ChatChunk]]) -> Any:
        try:
            return [vars(c) for c in parse(SSEEvent(data, event=name))]
        except ProviderError as error:
            return type(error), str(error)

    fast, general = provider.stream_parser(REQUEST), provider.stream_parser(REQUEST)
    assert outcome(fast.feed) == outcome(general._feed)
    assert (fast.done, fast._finished) == (general.done, general._finished)
    # A next chunk with other keys must not reuse the first one's extra names.
    follow = SSEEvent(json.dumps(chunk({"content": "b"}, service_tier="x")))
    assert [vars(c) for c in fast.feed(follow)] == [vars(c) for c in general._feed(follow)]


_ONE_CHOICE_CASES = [
    {"index": 0, "delta": {"content": "Hi"}, "finish_reason": None, "logprobs": None},
    {"delta": {"content": "Hi"}},
    {"index": 2, "delta": {"content": "Hi"}},
    {"index": True, "delta": {"content": "Hi"}},
    {"index": "0", "delta": {"content": "Hi"}},
    {"index": 0, "delta": {"content": ""}},
    {"index": 0, "delta": {"content": "Hi"}, "finish_reason": "stop"},
    {"index": 0, "delta": {"content": "Hi"}, "logprobs": {"content": [{"token": "Hi", "logprob": -0.1}]}},
    {"index": 0, "delta": {"content": "Hi", "role": "assistant"}},
    {"index": 0, "delta": {"content": None}},
    {"index": 0, "delta": {"content": ["a"]}},
    {"index": 0, "delta": {"reasoning": "r"}},
    {"index": 0, "delta": []},
    {"index": 0},
    "not a choice",
]


@pytest.mark.parametrize("choice", _ONE_CHOICE_CASES)
@pytest.mark.parametrize("top", [{}, {"usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}])
def test_a_single_plain_choice_gives_the_chunk_the_per_choice_path_gives(
    provider: Any, choice: Any, top: dict[str, Any]
) -> None:
    data = {"id": "c1", "model": "m", "created": 7, "system_fingerprint": "fp", "choices": [choice], **top}

    def outcome(plain: bool) -> Any:
        parser = provider.stream_parser(REQUEST)
        parser._plain_choices = plain
        try:
            return [vars(c) for c in parser.feed(SSEEvent(json.dumps(data)))], parser._finished
        except ProviderError as error:
            return type(error), str(error)

    assert provider.stream_parser(REQUEST)._plain_choices  # the plain path is on for this parser
    assert outcome(True) == outcome(False)
