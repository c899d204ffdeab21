"""Claude streams (every event type), end-to-end calls through a Pipeline against a local fake
server (retries, mid-stream errors, model list, status check) and ``chatpipe explain``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from chatpipe import Pipeline, wire
from chatpipe.errors import APIStatusError, OverloadedError, ProtocolError, RateLimitError
from chatpipe.http import SSEEvent
from chatpipe.models import ChatChunk, ChatRequest, ToolCallDelta
from chatpipe.testing.fake_server import FakeResponse, FakeServer
from chatpipe_claude import ClaudeProvider

Factory = Callable[..., ClaudeProvider]
KEY = "sk-ant-PLANTED-pipeline-0000"
ROUTE = "POST /v1/messages"
CHATPIPE = str(Path(sys.executable).parent / "chatpipe")

THINKING = {"type": "thinking", "thinking": "Think, then answer.", "signature": "c2lnbmF0dXJl"}
CITATION = {"type": "char_location", "cited_text": "Paris", "document_index": 0}


def ev(kind: str, **data: Any) -> tuple[str, dict[str, Any]]:
    return kind, {"type": kind, **data}


def start(**usage: int) -> tuple[str, dict[str, Any]]:
    message: dict[str, Any] = {
        "id": "msg_s",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 5, "output_tokens": 1, **usage},
    }
    return ev("message_start", message=message)


def block(index: int, content_block: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return ev("content_block_start", index=index, content_block=content_block)


def delta(index: int, **payload: Any) -> tuple[str, dict[str, Any]]:
    return ev("content_block_delta", index=index, delta=payload)


def stop(index: int) -> tuple[str, dict[str, Any]]:
    return ev("content_block_stop", index=index)


def end(reason: str = "end_turn", output: int = 9, sequence: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    return [
        ev("message_delta", delta={"stop_reason": reason, "stop_sequence": sequence}, usage={"output_tokens": output}),
        ev("message_stop"),
    ]


RICH_STREAM = [
    start(cache_read_input_tokens=50, cache_creation_input_tokens=7),
    ev("ping"),
    block(0, {"type": "thinking", "thinking": ""}),
    delta(0, type="thinking_delta", thinking="Think, "),
    delta(0, type="thinking_delta", thinking="then answer."),
    delta(0, type="signature_delta", signature="c2lnbmF0dXJl"),
    stop(0),
    block(1, {"type": "redacted_thinking", "data": "opaque"}),
    stop(1),
    block(2, {"type": "text", "text": ""}),
    delta(2, type="text_delta", text="It is sunny in "),
    delta(2, type="citations_delta", citation=CITATION),
    delta(2, type="text_delta", text="Paris."),
    stop(2),
    block(3, {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}),
    delta(3, type="input_json_delta", partial_json=""),
    delta(3, type="input_json_delta", partial_json='{"city": '),
    delta(3, type="input_json_delta", partial_json='"Paris"}'),
    stop(3),
    block(4, {"type": "tool_use", "id": "toolu_2", "name": "now", "input": {}}),
    stop(4),
    *end("tool_use", output=42),
]


def feed_all(adapter: ClaudeProvider, events: list[tuple[str, dict[str, Any]]]) -> list[ChatChunk]:
    parser = adapter.stream_parser(None)  # type: ignore[arg-type]
    chunks: list[ChatChunk] = []
    for name, data in events:
        chunks.extend(parser.feed(SSEEvent(json.dumps(data), event=name)))
    assert parser.done
    chunks.extend(parser.finish())
    return chunks


def test_every_event_type_becomes_chunks(adapter_factory: Factory) -> None:
    chunks = feed_all(adapter_factory(), RICH_STREAM)
    assert chunks[0].role == "assistant" and (chunks[0].id, chunks[0].model) == ("msg_s", "claude-sonnet-4-5")
    assert "".join(c.reasoning for c in chunks) == "Think, then answer."
    assert "".join(c.text for c in chunks) == "It is sunny in Paris."
    deltas = [d for c in chunks for d in c.tool_calls]
    assert deltas == [
        ToolCallDelta(0, id="toolu_1", name="get_weather"),
        ToolCallDelta(0, arguments='{"city": '),
        ToolCallDelta(0, arguments='"Paris"}'),
        ToolCallDelta(1, id="toolu_2", name="now"),
        ToolCallDelta(1, arguments="{}"),
    ]
    extras = [c.message_extra for c in chunks if c.message_extra]
    assert extras[-1] == {"thinking_blocks": [THINKING, {"type": "redacted_thinking", "data": "opaque"}]}
    assert [c.extra for c in chunks if c.extra] == [{"citations": [CITATION]}]
    final = chunks[-1]
    assert (final.finish_reason, final.raw_finish_reason) == ("tool_calls", "tool_use")
    assert final.usage is not None
    assert (final.usage.prompt_tokens, final.usage.completion_tokens, final.usage.cached_tokens) == (62, 42, 50)


def test_unknown_events_and_deltas_are_ignored(adapter_factory: Factory) -> None:
    events = [
        start(),
        ev("future_event", value=1),
        block(0, {"type": "text", "text": "Hi"}),
        delta(0, type="future_delta", x=1),
        stop(0),
        *end(sequence="END", reason="stop_sequence"),
    ]
    chunks = feed_all(adapter_factory(), events)
    assert "".join(c.text for c in chunks) == "Hi"
    assert chunks[-1].extra == {"stop_sequence": "END"} and chunks[-1].finish_reason == "stop"


@pytest.mark.parametrize(
    "events",
    [
        [("message_start", "{broken")],
        [start(), delta(3, type="text_delta", text="x")],
        [start(), block(0, {"type": "tool_use", "id": 5, "name": "f", "input": {}})],
        [start(), block(0, {"text": "no type"})],
        [start(), ev("content_block_stop")],
        [
            start(),
            block(0, {"type": "server_tool_use", "id": "s", "name": "w", "input": {}}),
            delta(0, type="input_json_delta", partial_json="{bad"),
            stop(0),
        ],
    ],
)
def test_malformed_events_are_protocol_errors(adapter_factory: Factory, events: list[Any]) -> None:
    parser = adapter_factory().stream_parser(None)  # type: ignore[arg-type]
    with pytest.raises(ProtocolError):
        for name, data in events:
            parser.feed(SSEEvent(data if isinstance(data, str) else json.dumps(data), event=name))


def test_a_stream_that_stops_before_message_stop_is_a_protocol_error(adapter_factory: Factory) -> None:
    parser = adapter_factory().stream_parser(None)  # type: ignore[arg-type]
    parser.feed(SSEEvent(json.dumps(start()[1]), event="message_start"))
    with pytest.raises(ProtocolError, match="before message_stop"):
        parser.finish()


def test_an_error_event_is_a_typed_error(adapter_factory: Factory) -> None:
    parser = adapter_factory().stream_parser(None)  # type: ignore[arg-type]
    payload = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    with pytest.raises(OverloadedError) as info:
        parser.feed(SSEEvent(json.dumps(payload), event="error"))
    assert info.value.status == 529 and "Overloaded" in str(info.value)
    with pytest.raises(APIStatusError):
        adapter_factory().stream_parser(None).feed(SSEEvent("upstream exploded", event="error"))  # type: ignore[arg-type]


# --- through a Pipeline against a local server ----------------------------------------------


def pipe(server: FakeServer, **kwargs: Any) -> Pipeline:
    return Pipeline("claude", base_url=server.url, api_key=KEY, **{"max_retries": 0, **kwargs})


def test_stream_and_complete_agree_on_a_thinking_tool_reply(fake_server: FakeServer) -> None:
    complete_body = {
        "id": "msg_s",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [
            THINKING,
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "text", "text": "It is sunny in ", "citations": None},
            {"type": "text", "text": "Paris.", "citations": [CITATION]},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
            {"type": "tool_use", "id": "toolu_2", "name": "now", "input": {}},
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 5,
            "output_tokens": 42,
            "cache_read_input_tokens": 50,
            "cache_creation_input_tokens": 7,
        },
    }
    fake_server.enqueue(ROUTE, FakeResponse.json(complete_body), FakeResponse.sse(RICH_STREAM, done=False))
    p = pipe(fake_server)
    complete = p.complete([{"role": "user", "content": "Weather?"}], reasoning_effort="low")
    streamed = p.stream([{"role": "user", "content": "Weather?"}], reasoning_effort="low").collect()
    assert complete.message == streamed.message
    assert complete.reasoning == streamed.reasoning == "Think, then answer."
    assert complete.usage == streamed.usage
    assert complete.finish_reason == streamed.finish_reason == "tool_calls"
    assert complete.extra["citations"] == streamed.extra["citations"] == [CITATION]
    sent = fake_server.requests[1]
    assert sent.json["stream"] is True and sent.headers["x-api-key"] == KEY
    assert sent.json["thinking"]["type"] == "enabled"


def test_an_error_event_mid_stream_keeps_the_text_so_far(fake_server: FakeServer) -> None:
    events = [
        start(),
        block(0, {"type": "text", "text": ""}),
        delta(0, type="text_delta", text="Half an ans"),
        ev("error", error={"type": "overloaded_error", "message": "Overloaded"}),
    ]
    fake_server.enqueue(ROUTE, FakeResponse.sse(events, done=False))
    with pytest.raises(OverloadedError) as info:
        pipe(fake_server).stream([{"role": "user", "content": "Hi"}]).collect()
    assert info.value.partial_text == "Half an ans"
    assert info.value.provider == "claude"


def test_529_is_retried(fake_server: FakeServer) -> None:
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    reply = {
        "id": "m",
        "type": "message",
        "role": "assistant",
        "model": "x",
        "content": [{"type": "text", "text": "ok"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }
    fake_server.enqueue(
        ROUTE, FakeResponse.json(overloaded, status=529, headers={"retry-after": "0"}), FakeResponse.json(reply)
    )
    assert pipe(fake_server, max_retries=2).complete([{"role": "user", "content": "Hi"}]).text == "ok"
    assert len(fake_server.requests) == 2


def test_a_spend_limit_429_is_not_retried(fake_server: FakeServer) -> None:
    body = {
        "type": "error",
        "error": {
            "type": "rate_limit_error",
            "message": "limit",
            "details": {"error_code": "enforced_spend_limit_reached"},
        },
    }
    fake_server.enqueue(ROUTE, FakeResponse.json(body, status=429, headers={"retry-after": "0"}))
    with pytest.raises(RateLimitError, match="spend limit"):
        pipe(fake_server, max_retries=3).complete([{"role": "user", "content": "Hi"}])
    assert len(fake_server.requests) == 1


def test_models_and_check_use_the_model_list(fake_server: FakeServer) -> None:
    page = {"data": [{"type": "model", "id": "claude-x", "display_name": "X"}], "has_more": False}
    fake_server.enqueue("GET /v1/models", FakeResponse.json(page), FakeResponse.json(page))
    p = pipe(fake_server)
    assert [m.id for m in p.models()] == ["claude-x"]
    result = p.check()
    assert result.ok and [m.id for m in result.models] == ["claude-x"]
    assert fake_server.requests[0].path == "/v1/models?limit=1000"
    assert fake_server.requests[0].headers["anthropic-version"] == "2023-06-01"


def test_explain_cli_shows_the_body_exactly_as_built(tmp_path: Path) -> None:
    config = tmp_path / "chatpipe.yaml"
    config.write_text(
        "profiles:\n"
        "  claude:\n"
        "    provider: claude\n"
        "    model: claude-sonnet-4-5\n"
        "    params: {max_tokens: 512, temperature: 0.3, stop: END}\n"
        "    options: {betas: [prompt-caching-2024-07-31]}\n",
        encoding="utf-8",
    )
    messages = tmp_path / "messages.json"
    conversation = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "name": "Rook", "content": "Rook: Hello"},
        {"role": "assistant", "content": "Hi "},
    ]
    messages.write_text(json.dumps(conversation), encoding="utf-8")
    env = {**os.environ, "ANTHROPIC_API_KEY": KEY}
    command = [CHATPIPE, "--config", str(config), "explain", "-p", "claude", "--messages", str(messages), "--json"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)["request"]
    adapter = Pipeline.from_config("claude", config, api_key=KEY).adapter
    built = adapter.build_chat(
        ChatRequest(
            model="claude-sonnet-4-5",
            messages=wire.messages_from_dicts(conversation),
            params={"max_tokens": 512, "temperature": 0.3, "stop": "END"},
        )
    )
    assert shown["json"] == built.json
    assert shown["json"]["messages"][-1] == {"role": "assistant", "content": [{"type": "text", "text": "Hi"}]}
    assert shown["url"] == built.url == "https://api.anthropic.com/v1/messages"
    assert shown["headers"]["x-api-key"] == "***" and shown["headers"]["anthropic-beta"] == "prompt-caching-2024-07-31"
    assert KEY not in result.stdout + result.stderr
