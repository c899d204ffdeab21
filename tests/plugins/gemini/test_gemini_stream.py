"""Streams (chatpipe_gemini._stream): text, reasoning deltas, tool calls, signatures, usage,
finish reasons, errors inside the stream (text received before them kept), blocked prompts;
and the signature round trip through a real pipeline against a loopback fake."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from chatpipe import Pipeline
from chatpipe.errors import ContentFilterError, OverloadedError, ProtocolError, RateLimitError, ServerError
from chatpipe.http import SSEEvent
from chatpipe.models import ChatChunk
from chatpipe.plugin import StreamAccumulator
from chatpipe.testing.fake_server import FakeResponse, FakeServer
from chatpipe_gemini import GeminiProvider

Factory = Callable[..., GeminiProvider]
KEY = "AIza-PLANTED-gemini-stream-000000"
CHAT = "POST /v1beta/models/gemini-2.5-flash:generateContent"
STREAM = "POST /v1beta/models/gemini-2.5-flash:streamGenerateContent"
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


def event(parts: list[dict[str, Any]], finish: str | None = None, **top: Any) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], **top}


RICH = [
    event([{"text": "Thinking about ", "thought": True}]),
    event([{"text": "the weather.", "thought": True, "thoughtSignature": "sig-thought"}]),
    event([{"text": "Let me "}]),
    event(
        [
            {"text": "check."},
            {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "sig-call"},
        ]
    ),
    event(
        [{"text": ""}],
        "STOP",
        usageMetadata={
            "promptTokenCount": 9,
            "candidatesTokenCount": 4,
            "thoughtsTokenCount": 6,
            "totalTokenCount": 19,
        },
        modelVersion="gemini-2.5-flash",
        responseId="r-1",
    ),
]


def feed(adapter: GeminiProvider, events: list[Any]) -> list[ChatChunk]:
    parser = adapter.stream_parser(None)  # type: ignore[arg-type]
    chunks: list[ChatChunk] = []
    for item in events:
        chunks += parser.feed(SSEEvent(item if isinstance(item, str) else json.dumps(item)))
    chunks += parser.finish()
    return chunks


def test_a_rich_stream_assembles_into_the_reply(adapter_factory: Factory) -> None:
    chunks = feed(adapter_factory(), RICH)
    assert [c.reasoning for c in chunks if c.reasoning] == ["Thinking about ", "the weather."]
    assert [c.text for c in chunks if c.text] == ["Let me ", "check."]
    accumulator = StreamAccumulator()
    for chunk in chunks:
        accumulator.add(chunk)
    reply = accumulator.response()
    assert reply.choices[0].reasoning == "Thinking about the weather."
    assert reply.text == "Let me check."
    (call,) = reply.tool_calls
    assert (call.function.name, json.loads(call.function.arguments)) == ("get_weather", {"city": "Paris"})
    assert reply.choices[0].message.extra["thought_signatures"] == [
        {"part": "thought", "text": "the weather.", "signature": "sig-thought"},
        {"part": "function_call", "tool_call_id": call.id, "signature": "sig-call"},
    ]
    assert (reply.finish_reason, reply.choices[0].raw_finish_reason) == ("tool_calls", "STOP")
    assert reply.usage is not None
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.reasoning_tokens) == (9, 10, 6)
    assert (reply.id, reply.model) == ("r-1", "gemini-2.5-flash")


@pytest.mark.parametrize(
    ("events", "problem"),
    [
        (["{not json"], "not valid JSON"),
        ([event([{"text": "half"}])], "before any finishReason"),
        ([], "without any candidate"),
        ([event([{"text": 3}], "STOP")], "text should be a string"),
    ],
)
def test_malformed_or_cut_streams_are_protocol_errors(
    adapter_factory: Factory, events: list[Any], problem: str
) -> None:
    with pytest.raises(ProtocolError, match=problem):
        feed(adapter_factory(), events)


def test_an_error_event_is_its_typed_error(adapter_factory: Factory) -> None:
    error = {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}
    with pytest.raises(OverloadedError, match="overloaded") as info:
        feed(adapter_factory(), [event([{"text": "a"}]), error])
    assert info.value.status == 503 and info.value.vendor_type == "UNAVAILABLE"
    statusless = {"error": {"message": "slow down", "status": "RESOURCE_EXHAUSTED"}}
    with pytest.raises(RateLimitError) as limited:
        feed(adapter_factory(), [statusless])
    assert limited.value.status == 429


def test_a_blocked_prompt_in_a_stream_is_a_content_filter_error(adapter_factory: Factory) -> None:
    with pytest.raises(ContentFilterError, match="PROHIBITED_CONTENT"):
        feed(adapter_factory(), [{"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}}])


def pipe(server: FakeServer, **kwargs: Any) -> Pipeline:
    return Pipeline("gemini", base_url=server.url, api_key=KEY, **{"max_retries": 0, **kwargs})


def test_text_received_before_a_failure_is_kept(fake_server: FakeServer) -> None:
    events = [
        json.dumps(event([{"text": "Half an "}])),
        json.dumps(event([{"text": "answer"}])),
        json.dumps({"error": {"code": 500, "message": "Internal error", "status": "INTERNAL"}}),
    ]
    fake_server.enqueue(STREAM, FakeResponse.sse(events, done=False))
    with pytest.raises(ServerError, match="Internal error") as info:
        pipe(fake_server).stream([{"role": "user", "content": "Hi"}]).collect()
    assert info.value.partial_text == "Half an answer"
    assert KEY not in str(info.value)
    sent = fake_server.requests[0]
    assert sent.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    assert sent.headers["x-goog-api-key"] == KEY


@pytest.mark.parametrize("streamed", [False, True])
def test_signatures_survive_the_round_trip_through_a_pipeline(fake_server: FakeServer, streamed: bool) -> None:
    complete = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"text": "Thinking about the weather.", "thought": True, "thoughtSignature": "sig-thought"},
                        {"text": "Let me check."},
                        {
                            "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
                            "thoughtSignature": "sig-call",
                        },
                    ],
                },
                "finishReason": "STOP",
            }
        ],
        "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 4, "totalTokenCount": 13},
    }
    first = FakeResponse.sse([json.dumps(e) for e in RICH], done=False) if streamed else FakeResponse.json(complete)
    fake_server.enqueue(STREAM if streamed else CHAT, first)
    fake_server.enqueue(CHAT, FakeResponse.json(event([{"text": "Sunny."}], "STOP")))
    p = pipe(fake_server)
    conversation = [{"role": "user", "content": "Weather in Paris?"}]
    reply = p.stream(conversation, tools=TOOLS).collect() if streamed else p.complete(conversation, tools=TOOLS)
    (call,) = reply.tool_calls
    history = [
        *conversation,
        reply.choices[0].message,
        {"role": "tool", "tool_call_id": call.id, "content": "18 C"},
    ]
    assert p.complete(history, tools=TOOLS).text == "Sunny."
    body = fake_server.requests[-1].json
    model_turn = body["contents"][1]
    assert model_turn["role"] == "model"
    assert {"text": "Let me check."} in model_turn["parts"]
    assert model_turn["parts"][0]["thoughtSignature"] == "sig-thought"
    assert model_turn["parts"][-1] == {
        "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
        "thoughtSignature": "sig-call",
    }
    assert body["contents"][2] == {
        "role": "user",
        "parts": [{"functionResponse": {"name": "get_weather", "response": {"result": "18 C"}}}],
    }


@pytest.mark.parametrize(("raw", "finish"), [("STOP", "stop"), ("MAX_TOKENS", "length"), ("SAFETY", "content_filter")])
def test_stream_finish_reasons_and_a_usage_only_last_event(adapter_factory: Factory, raw: str, finish: str) -> None:
    usage = {"promptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 5}
    chunks = feed(adapter_factory(), [event([{"text": "Hi"}]), event([], raw), {"usageMetadata": usage}])
    accumulator = StreamAccumulator()
    for chunk in chunks:
        accumulator.add(chunk)
    reply = accumulator.response()
    assert (reply.text, reply.finish_reason, reply.choices[0].raw_finish_reason) == ("Hi", finish, raw)
    assert reply.usage is not None and reply.usage.total_tokens == 5
