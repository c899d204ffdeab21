"""ChatStream / AsyncChatStream driven from a StreamCall alone: no Pipeline behind them."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path
from typing import Any

import chatpipe._streams
import pytest
from chatpipe import Pipeline
from chatpipe._streams import AsyncChatStream, ChatStream, StreamCall
from chatpipe.errors import APIConnectionError, ProtocolError
from chatpipe.models import ChatRequest, ChatResponse, Message
from chatpipe.testing import FakeResponse, MockTransport

KEY = "sk-test-PLANTED-0123456789"


def chunk(text: str, finish: str | None = None) -> dict[str, Any]:
    return {"id": "c", "model": "m", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}


def call_for(transport: MockTransport, observed: list[ChatResponse]) -> StreamCall:
    adapter = Pipeline("custom", model="m", base_url="http://127.0.0.1:9/v1", api_key=KEY).adapter
    request = adapter.prepare(ChatRequest(model="m", messages=(Message(role="user", content="Hi"),), stream=True))

    def observe(response: ChatResponse) -> ChatResponse:
        observed.append(response)
        return response

    return StreamCall(adapter, request, adapter.build_chat(request), transport, frozenset({429}), observe)


def test_a_sync_stream_needs_only_its_call() -> None:
    transport, observed = MockTransport(), []
    transport.enqueue(FakeResponse.sse([chunk("Hel"), chunk("lo", "stop")]))
    stream = ChatStream(call_for(transport, observed))
    assert [part.text for part in stream] == ["Hel", "lo"]
    assert stream.response.choices[0].message.content == "Hello"
    assert observed == [stream.response]
    assert transport.requests[0].json["stream"] is True


def test_an_async_stream_needs_only_its_call() -> None:
    transport, observed = MockTransport(), []
    transport.enqueue(FakeResponse.sse([chunk("Hi", "stop")]))
    stream = AsyncChatStream(call_for(transport, observed))
    assert asyncio.run(stream.collect()).choices[0].message.content == "Hi"
    assert observed == [stream.response]


def test_a_failure_carries_the_partial_text_and_nothing_is_observed() -> None:
    transport, observed = MockTransport(), []
    transport.enqueue(FakeResponse.sse([chunk("Once"), chunk(" upon"), chunk(" a")], done=False, cut_after=2))
    with pytest.raises(APIConnectionError) as caught:
        ChatStream(call_for(transport, observed)).collect()
    assert caught.value.partial_text == "Once upon"
    assert observed == []


def test_a_reply_without_events_is_a_protocol_error_scrubbed_of_the_key() -> None:
    transport = MockTransport()
    transport.enqueue(FakeResponse.json({"echo": KEY}))
    with pytest.raises(ProtocolError, match="not an event stream") as caught:
        ChatStream(call_for(transport, [])).collect()
    assert KEY not in str(caught.value.body)


def test_streams_know_nothing_of_the_pipeline() -> None:
    tree = ast.parse(Path(chatpipe._streams.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "pipeline" not in imported
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id == "Pipeline"]


def test_streams_that_end_at_their_marker_leave_the_connection_for_the_next_call() -> None:
    from chatpipe.testing import FakeServer

    events = [chunk("Hi", "stop")]
    with FakeServer() as server:
        server.enqueue("POST /v1/chat/completions", *[FakeResponse.sse(events) for _ in range(4)])
        pipe = Pipeline("custom", model="m", base_url=f"{server.url}/v1", api_key=KEY)
        texts = [pipe.stream([{"role": "user", "content": "Hi"}]).collect().text for _ in range(2)]

        async def two() -> list[str]:
            out = []
            for _ in range(2):
                async with pipe.astream([{"role": "user", "content": "Hi"}]) as stream:
                    out.append((await stream.collect()).text)
            assert server.open_connections == 2  # the sync pool's one, and the async pool's one
            return out

        texts += asyncio.run(two())
        assert texts == ["Hi"] * 4
