"""The gateway in front of a hostile upstream (issue 13): every fault is a status or an error frame.

A stream that failed after it started ends with one error frame and never with ``[DONE]``, so
an OpenAI client never takes a cut reply for a whole one.
"""

from __future__ import annotations

import dataclasses
import json

from chatpipe.testing import FakeResponse
from chatpipe.testing.conformance import OpenAISimulator, Reply

from .conftest import VENDOR_KEY

SIM = OpenAISimulator(provider="openai")
ROUTE = "POST /v1/chat/completions"
HELLO = {"model": "gpt", "messages": [{"role": "user", "content": "hi"}]}
DEEP = b"[" * 100_000
PATIENT = "  patient: {provider: openai, base_url: '%s/v1', api_key: k-12345, model: m, max_retries: 0, timeout: %s}"


def stream_lines(client, **body):
    with client.stream("POST", "/v1/chat/completions", json={**HELLO, "stream": True, **body}) as response:
        assert response.status_code == 200
        return [line for line in response.iter_lines() if line]


def first_events(count: int) -> tuple[bytes, ...]:
    return SIM.stream(Reply(text="It is sunny in Paris today")).chunks[:count]


def assert_error_frame(lines, code_or_type):
    assert lines[-1] != "data: [DONE]" and "data: [DONE]" not in lines
    error = json.loads(lines[-1][len("data: ") :])["error"]
    assert code_or_type in (error["code"], error["type"]), error
    assert VENDOR_KEY not in "\n".join(lines)
    text = "".join(
        c["choices"][0]["delta"].get("content") or ""
        for c in (json.loads(line[len("data: ") :]) for line in lines[:-1])
        if c.get("choices")
    )
    return error, text


def test_a_stream_cut_before_its_finish_ends_with_an_error_frame(make_client, vendor):
    good = SIM.stream(Reply(text="It is sunny in Paris today"))
    vendor.enqueue(ROUTE, dataclasses.replace(good, chunks=first_events(3)))
    _, text = assert_error_frame(stream_lines(make_client()), "upstream_protocol_error")
    assert text and "It is sunny in Paris today".startswith(text)


def test_keep_alives_forever_end_with_an_error_frame_after_stream_progress(make_client, vendor):
    head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n" + b"".join(first_events(2))
    vendor.enqueue(ROUTE, FakeResponse.script(head, repeat=b": keep-alive\n\n", every=0.1))
    client = make_client(extra_profiles=PATIENT % (vendor.url, "{stream_progress: 1}"))
    error, text = assert_error_frame(stream_lines(client, model="patient"), "timeout")
    assert "timed out" in error["message"] and text


def test_a_deeply_nested_upstream_reply_is_502(make_client, vendor):
    vendor.enqueue(ROUTE, FakeResponse.script(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n" + DEEP))
    response = make_client().post("/v1/chat/completions", json=HELLO)
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_protocol_error"


def test_a_deeply_nested_upstream_event_ends_the_stream_with_an_error_frame(make_client, vendor):
    good = SIM.stream(Reply(text="It is sunny in Paris today"))
    chunks = (*first_events(2), b"data: " + DEEP + b"\n\n")
    vendor.enqueue(ROUTE, dataclasses.replace(good, chunks=chunks))
    assert_error_frame(stream_lines(make_client()), "upstream_protocol_error")


def test_a_deeply_nested_client_request_is_400(make_client, vendor):
    response = make_client().post(
        "/v1/chat/completions",
        content=b'{"model": "gpt", "messages": ' + DEEP,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["error"]["message"]
    assert vendor.requests == []


def test_a_trickled_upstream_body_is_504_at_the_profile_deadline(make_client, vendor):
    body = SIM.reply(Reply(text="It is sunny in Paris today")).body
    steps: list[bytes | float] = [b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body)]
    for byte in body:
        steps += [bytes([byte]), 0.05]
    vendor.enqueue(ROUTE, FakeResponse.script(*steps))
    client = make_client(extra_profiles=PATIENT % (vendor.url, "{deadline: 1}"))
    response = client.post("/v1/chat/completions", json={**HELLO, "model": "patient"})
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "upstream_timeout"


def test_a_huge_declared_upstream_body_is_502_without_reading_it(make_client, vendor):
    vendor.enqueue(ROUTE, FakeResponse.script(b"HTTP/1.1 200 OK\r\ncontent-length: 2000000000\r\n\r\n{", 30.0))
    response = make_client().post("/v1/chat/completions", json=HELLO)
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_protocol_error"


def test_surplus_bytes_upstream_do_not_poison_the_next_request(make_client, vendor):
    body = SIM.reply(Reply(text="first")).body
    vendor.enqueue(
        ROUTE,
        FakeResponse.script(
            b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body) + body + b"HTTP/1.1 200 OK\r\n\r\nJUNK",
            keep_open=True,
        ),
        SIM.reply(Reply(text="second")),
    )
    client = make_client()  # the profile has max_retries: 0, so a poisoned connection would lose the reply
    texts = [client.post("/v1/chat/completions", json=HELLO).json()["choices"][0]["message"]["content"] for _ in "12"]
    assert texts == ["first", "second"]
