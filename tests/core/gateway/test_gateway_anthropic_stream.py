"""chatpipe stream chunks rendered as Anthropic's event stream (pure)."""

from __future__ import annotations

import json
from typing import Any

from chatpipe.gateway import GatewayError
from chatpipe.gateway._anthropic_stream import AnthropicStreamRenderer
from chatpipe.models import ChatChunk, ToolCallDelta, Usage


def events(data: bytes) -> list[tuple[str, dict[str, Any]]]:
    """The (event name, data) pairs of SSE frames; every frame must carry both and the names must agree."""
    out = []
    for frame in data.decode().split("\n\n"):
        if not frame:
            continue
        name_line, data_line = frame.split("\n")
        assert name_line.startswith("event: ") and data_line.startswith("data: ")
        payload = json.loads(data_line[len("data: ") :])
        assert payload["type"] == name_line[len("event: ") :]
        out.append((payload["type"], payload))
    return out


def render(*chunks: ChatChunk, usage: Usage | None = None) -> list[tuple[str, dict[str, Any]]]:
    renderer = AnthropicStreamRenderer(model="gpt")
    data = b"".join(renderer.chunk(c) or b"" for c in chunks) + renderer.finish(usage)
    return events(data)


def test_text_stream_order_and_usage():
    out = render(
        ChatChunk(text="Hel", role="assistant", id="chatcmpl-9", model="vendor-model"),
        ChatChunk(text="lo"),
        ChatChunk(finish_reason="stop"),
        usage=Usage(prompt_tokens=12, completion_tokens=3, cached_tokens=2),
    )
    names = [name for name, _ in out]
    assert names == [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    message = out[0][1]["message"]
    assert (message["id"], message["model"], message["content"], message["stop_reason"]) == (
        "msg_chatcmpl-9",
        "vendor-model",
        [],
        None,
    )
    assert out[2][1] == {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    assert [d["delta"]["text"] for n, d in out if n == "content_block_delta"] == ["Hel", "lo"]
    assert out[6][1]["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert out[6][1]["usage"] == {
        "input_tokens": 10,
        "output_tokens": 3,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 2,
    }


def test_thinking_then_text_then_tool_calls_are_separate_blocks():
    out = render(
        ChatChunk(reasoning="Think"),
        ChatChunk(reasoning="ing."),
        ChatChunk(text="Calling."),
        ChatChunk(tool_calls=(ToolCallDelta(0, id="call_1", name="weather"),)),
        ChatChunk(tool_calls=(ToolCallDelta(0, arguments='{"city":'),)),
        ChatChunk(tool_calls=(ToolCallDelta(0, arguments=' "Paris"}'),)),
        ChatChunk(tool_calls=(ToolCallDelta(1, id="call_2", name="time", arguments="{}"),)),
        ChatChunk(finish_reason="tool_calls"),
    )
    starts = [d for n, d in out if n == "content_block_start"]
    assert [(s["index"], s["content_block"]["type"]) for s in starts] == [
        (0, "thinking"),
        (1, "text"),
        (2, "tool_use"),
        (3, "tool_use"),
    ]
    assert starts[2]["content_block"] == {"type": "tool_use", "id": "call_1", "name": "weather", "input": {}}
    deltas = [(d["index"], d["delta"]) for n, d in out if n == "content_block_delta"]
    assert deltas == [
        (0, {"type": "thinking_delta", "thinking": "Think"}),
        (0, {"type": "thinking_delta", "thinking": "ing."}),
        (1, {"type": "text_delta", "text": "Calling."}),
        (2, {"type": "input_json_delta", "partial_json": '{"city":'}),
        (2, {"type": "input_json_delta", "partial_json": ' "Paris"}'}),
        (3, {"type": "input_json_delta", "partial_json": "{}"}),
    ]
    assert [d["index"] for n, d in out if n == "content_block_stop"] == [0, 1, 2, 3]
    assert out[-2][1]["delta"]["stop_reason"] == "tool_use"


def test_the_vendors_signature_closes_its_thinking_block():
    signed = {"type": "thinking", "thinking": "Hmm.", "signature": "sig-9"}
    redacted = {"type": "redacted_thinking", "data": "opaque"}
    out = render(
        ChatChunk(reasoning="Hmm."),
        ChatChunk(message_extra={"thinking_blocks": [signed]}),
        ChatChunk(message_extra={"thinking_blocks": [signed, redacted]}),
        ChatChunk(text="Done."),
    )
    body = [(n, d.get("index"), d.get("delta") or d.get("content_block")) for n, d in out[2:-2]]
    assert body == [
        ("content_block_start", 0, {"type": "thinking", "thinking": "", "signature": ""}),
        ("content_block_delta", 0, {"type": "thinking_delta", "thinking": "Hmm."}),
        ("content_block_delta", 0, {"type": "signature_delta", "signature": "sig-9"}),
        ("content_block_stop", 0, None),
        ("content_block_start", 1, redacted),
        ("content_block_stop", 1, None),
        ("content_block_start", 2, {"type": "text", "text": ""}),
        ("content_block_delta", 2, {"type": "text_delta", "text": "Done."}),
        ("content_block_stop", 2, None),
    ]


def test_stop_sequence_and_max_tokens():
    out = render(
        ChatChunk(text="a"),
        ChatChunk(finish_reason="stop", raw_finish_reason="stop_sequence", extra={"stop_sequence": "END"}),
    )
    assert out[-2][1]["delta"] == {"stop_reason": "stop_sequence", "stop_sequence": "END"}
    out = render(ChatChunk(text="a"), ChatChunk(finish_reason="length"))
    assert out[-2][1]["delta"]["stop_reason"] == "max_tokens"


def test_usage_from_the_chunks_when_the_end_has_none():
    out = render(ChatChunk(text="a"), ChatChunk(usage=Usage(prompt_tokens=4, completion_tokens=2)))
    assert out[-2][1]["usage"]["input_tokens"] == 4
    assert out[-2][1]["usage"]["output_tokens"] == 2


def test_an_empty_stream_is_still_a_whole_message():
    assert [n for n, _ in render()] == ["message_start", "ping", "message_delta", "message_stop"]


def test_other_choices_and_empty_chunks_send_nothing():
    renderer = AnthropicStreamRenderer(model="gpt")
    assert renderer.chunk(ChatChunk(index=1, text="other")) is None
    assert renderer.chunk(ChatChunk(text="x")) is not None
    assert renderer.chunk(ChatChunk()) is None


def test_error_event_after_text():
    renderer = AnthropicStreamRenderer(model="gpt")
    sent = renderer.chunk(ChatChunk(text="partial"))
    error = events(renderer.error(GatewayError(503, "vendor busy", code="upstream_overloaded")))
    assert error == [("error", {"type": "error", "error": {"type": "overloaded_error", "message": "vendor busy"}})]
    assert [n for n, _ in events(sent)][-1] == "content_block_delta"  # the text stays sent, no stop follows
