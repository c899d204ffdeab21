"""Recording a stream's raw bytes through RecordingProxy, and replaying them (FakeServer, MockTransport)."""

from __future__ import annotations

from pathlib import Path

import pytest
from chatpipe import Pipeline
from chatpipe.errors import InvalidRequestError, RateLimitError
from chatpipe.testing import FakeServer, MockTransport, RecordingProxy, replay_sse, split_sse
from chatpipe.testing.conformance import OpenAISimulator, Reply

SIM = OpenAISimulator("openai")
ROUTE = "POST /v1/chat/completions"
HI = [{"role": "user", "content": "Hi"}]


def pipe(base: str, **kwargs: object) -> Pipeline:
    return Pipeline("openai", model="gpt-test", api_key="sk-rec-0000", base_url=base, max_retries=0, **kwargs)  # type: ignore[arg-type]


def test_split_sse_cuts_after_each_event_and_loses_nothing() -> None:
    data = b"data: a\n\nevent: x\r\ndata: b\r\n\r\n: keep-alive\n\ndata: tail"
    pieces = split_sse(data)
    assert pieces == [b"data: a\n\n", b"event: x\r\ndata: b\r\n\r\n", b": keep-alive\n\n", b"data: tail"]
    assert b"".join(pieces) == data
    with pytest.raises(InvalidRequestError, match="raw bytes"):
        split_sse("data: a")  # type: ignore[arg-type]


def test_record_a_stream_then_replay_it_without_the_upstream(fake_server: FakeServer, sse_recording: Path) -> None:
    upstream_answer = SIM.stream(Reply(text="Recorded reply, word for word."))
    fake_server.enqueue(ROUTE, upstream_answer)
    with RecordingProxy(fake_server.url, ROUTE, sse_recording) as proxy:
        live = pipe(proxy.url + "/v1").stream(HI).collect()
        assert len(proxy.recordings) == 1
    assert live.text == "Recorded reply, word for word."
    assert sse_recording.read_bytes() == b"".join(upstream_answer.chunks)  # byte for byte
    assert b"sk-rec-0000" not in sse_recording.read_bytes()
    assert fake_server.requests[0].headers["authorization"] == "Bearer sk-rec-0000"  # forwarded upstream

    with FakeServer() as replay_server:
        replay_server.enqueue(ROUTE, replay_sse(sse_recording))
        assert pipe(replay_server.url + "/v1").stream(HI).collect().text == live.text

    transport = MockTransport()
    transport.enqueue(replay_sse(sse_recording))
    replayed = pipe("https://api.openai.com/v1", transport=transport).stream(HI).collect()
    assert (replayed.text, replayed.usage) == (live.text, live.usage)


def test_error_answers_are_forwarded_and_recorded(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.enqueue(ROUTE, SIM.error(429))
    with RecordingProxy(fake_server.url, ROUTE, tmp_path / "error.json") as proxy, pytest.raises(RateLimitError):
        pipe(proxy.url + "/v1").complete(HI)
    assert b"simulated 429" in (tmp_path / "error.json").read_bytes()


def test_bad_arguments_name_the_fix(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequestError, match="RecordingProxy"):
        replay_sse(tmp_path / "missing.sse")
    with pytest.raises(InvalidRequestError, match="http"):
        RecordingProxy("api.openai.com", ROUTE, tmp_path / "x.sse")
