"""MockTransport runs a Pipeline without sockets: same answers as FakeServer, same errors."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from chatpipe import Pipeline
from chatpipe.errors import APIConnectionError, APITimeoutError, InvalidRequestError, RateLimitError
from chatpipe.http import HttpRequest, HttpResponse
from chatpipe.testing import FakeResponse, MockTransport
from chatpipe.testing.conformance import OpenAISimulator, Reply

SIM = OpenAISimulator("openai")
HI = [{"role": "user", "content": "Hi"}]


def pipe(transport: MockTransport, **kwargs: Any) -> Pipeline:
    return Pipeline("openai", model="gpt-test", api_key="sk-mock-0000", transport=transport, **kwargs)


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a socket fails the test."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_complete_and_stream_without_sockets(mock_transport: MockTransport, no_sockets: None) -> None:
    mock_transport.enqueue(SIM.reply(Reply(text="Hello there")), SIM.stream(Reply(text="Hello there")))
    p = pipe(mock_transport)
    assert p.complete(HI).text == "Hello there"
    stream = p.stream(HI)
    pieces = [chunk.text for chunk in stream if chunk.text]
    assert len(pieces) == 3 and "".join(pieces) == "Hello there"
    assert stream.response.usage is not None and stream.response.usage.completion_tokens == 7
    first, second = mock_transport.requests
    assert first.url == "https://api.openai.com/v1/chat/completions"
    assert not first.json.get("stream")
    assert second.json["stream"] is True
    assert first.json["messages"] == HI


def test_async_calls(mock_transport: MockTransport) -> None:
    mock_transport.enqueue(SIM.reply(Reply(text="one")), SIM.stream(Reply(text="two two")))
    p = pipe(mock_transport)

    async def main() -> tuple[str, str]:
        reply = await p.acomplete(HI)
        streamed = await p.astream(HI).collect()
        await p.aclose()
        return reply.text, streamed.text

    assert asyncio.run(main()) == ("one", "two two")
    assert mock_transport.closed


def test_handler_answers_when_the_queue_is_empty() -> None:
    seen: list[HttpRequest] = []

    def handler(request: HttpRequest) -> HttpResponse:
        seen.append(request)
        return HttpResponse(200, {"content-type": "application/json"}, SIM.reply(Reply(text="handled")).body)

    transport = MockTransport(handler)
    assert pipe(transport).complete(HI).text == "handled"
    assert seen == transport.requests


def test_error_status_maps_through_the_adapter(mock_transport: MockTransport) -> None:
    mock_transport.enqueue(SIM.error(429), SIM.error(429))
    p = pipe(mock_transport)
    with pytest.raises(RateLimitError) as info:
        p.complete(HI)
    assert info.value.status == 429 and info.value.provider == "openai"
    with pytest.raises(RateLimitError):
        p.stream(HI).collect()
    assert len(mock_transport.requests) == 2  # no retries: one answer per call


def test_failure_modes(mock_transport: MockTransport) -> None:
    mock_transport.enqueue(FakeResponse.reset())
    with pytest.raises(APIConnectionError, match="reset"):
        pipe(mock_transport).complete(HI)
    mock_transport.enqueue(FakeResponse.sse([{"x": 1}], cut_after=0))
    with pytest.raises(APIConnectionError, match="mid-stream"):
        pipe(mock_transport).complete(HI)
    cut = FakeResponse.sse(
        [{"choices": [{"index": 0, "delta": {"content": "abc"}, "finish_reason": None}]}, {"choices": []}],
        cut_after=1,
    )
    mock_transport.enqueue(cut)
    with pytest.raises(APIConnectionError) as error:
        pipe(mock_transport).stream(HI).collect()
    assert error.value.partial_text == "abc"
    mock_transport.enqueue(FakeResponse.sse([{"choices": []}], stall_after=0))
    with pytest.raises(APITimeoutError, match="stalled"):
        pipe(mock_transport).stream(HI).collect()


def test_nothing_scripted_says_how_to_script(mock_transport: MockTransport) -> None:
    with pytest.raises(InvalidRequestError, match=r"enqueue\(FakeResponse"):
        pipe(mock_transport).complete(HI)


def test_bad_scripts_are_refused() -> None:
    with pytest.raises(InvalidRequestError, match="callable"):
        MockTransport(handler=42)  # type: ignore[arg-type]
    transport = MockTransport()
    with pytest.raises(InvalidRequestError, match="FakeResponse or HttpResponse"):
        transport.enqueue({"choices": []})  # type: ignore[arg-type]
    transport.enqueue(FakeResponse.raw(b"HTTP/1.1 200 OK\r\n\r\n"))
    with pytest.raises(InvalidRequestError, match="socket"):
        pipe(transport).complete(HI)
    odd = MockTransport(lambda request: "not a response")  # type: ignore[arg-type,return-value]
    with pytest.raises(InvalidRequestError, match="returned str"):
        pipe(odd).complete(HI)


def test_from_config_accepts_a_transport(tmp_path: Any, mock_transport: MockTransport) -> None:
    config = tmp_path / "chatpipe.yaml"
    config.write_text("profiles:\n  main: {provider: openai, model: m1, api_key: sk-cfg-0000}\n")
    mock_transport.enqueue(SIM.reply(Reply(text="configured")))
    p = Pipeline.from_config("main", config, transport=mock_transport)
    assert p.transport is mock_transport
    assert p.complete(HI).text == "configured"
    assert "transport" not in mock_transport.requests[0].json


def test_the_api_key_stays_out_of_the_repr(mock_transport: MockTransport) -> None:
    mock_transport.enqueue(SIM.reply(Reply(text="x")))
    pipe(mock_transport).complete(HI)
    assert "sk-mock-0000" not in repr(mock_transport) + repr(mock_transport.requests)
