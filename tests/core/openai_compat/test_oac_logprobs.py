"""Token log-probabilities: ``choices[].logprobs`` parsed from replies and stream chunks, assembled."""

from __future__ import annotations

from typing import Any

import pytest
from chatpipe.errors import ProtocolError
from chatpipe.models import ChatRequest, Message
from chatpipe.plugin import StreamAccumulator
from oac_payloads import chunk, completion, event, http


def token(text: str, logprob: float, *alternatives: tuple[str, float]) -> dict[str, Any]:
    """One ``ChatCompletionTokenLogprob`` as the OpenAI spec shapes it."""
    return {
        "token": text,
        "logprob": logprob,
        "bytes": list(text.encode()),
        "top_logprobs": [{"token": t, "logprob": p, "bytes": list(t.encode())} for t, p in alternatives],
    }


HEL = token("Hel", -0.01, ("Hel", -0.01), ("Hi", -4.2))
LO = token("lo", -0.2, ("lo", -0.2), ("p", -1.9))


def test_a_reply_keeps_its_logprobs_verbatim(provider: Any, openai_spec: Any) -> None:
    body = completion("Hello")
    body["choices"][0]["logprobs"] = {"content": [HEL, LO], "refusal": None}
    assert openai_spec.errors("CreateChatCompletionResponse", body) == []
    reply = provider.parse_chat(http(200, body))
    assert reply.choices[0].logprobs == {"content": [HEL, LO], "refusal": None}


def test_a_null_logprobs_is_none(provider: Any) -> None:
    reply = provider.parse_chat(http(200, completion("Hello")))  # the payload says "logprobs": null
    assert reply.choices[0].logprobs is None


def test_logprobs_that_are_not_an_object_are_a_protocol_error(provider: Any) -> None:
    body = completion("Hello")
    body["choices"][0]["logprobs"] = [HEL]
    with pytest.raises(ProtocolError, match=r"choices\[0\]\.logprobs should be an object or null, got list"):
        provider.parse_chat(http(200, body))


def with_logprobs(delta: dict[str, Any], logprobs: Any, finish_reason: str | None = None) -> dict[str, Any]:
    return chunk(choices=[{"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": finish_reason}])


def test_stream_chunks_carry_their_logprobs_and_the_reply_concatenates_them(provider: Any, openai_spec: Any) -> None:
    events = [
        with_logprobs({"role": "assistant", "content": ""}, None),
        with_logprobs({"content": "Hel"}, {"content": [HEL], "refusal": None}),
        with_logprobs({"content": "lo"}, {"content": [LO], "refusal": None}),
        with_logprobs({}, None, "stop"),
        "[DONE]",
    ]
    for payload in events[:-1]:
        assert openai_spec.errors("CreateChatCompletionStreamResponse", payload) == []
    parser = provider.stream_parser(ChatRequest(model="m", messages=(Message("user", "Hi"),), stream=True))
    acc = StreamAccumulator(provider="example")
    chunks = []
    for payload in events:
        for c in parser.feed(event(payload)):
            acc.add(c)
            chunks.append(c)
    assert [c.logprobs for c in chunks] == [
        None,
        {"content": [HEL], "refusal": None},
        {"content": [LO], "refusal": None},
        None,
    ]
    reply = acc.response()
    assert reply.text == "Hello"
    assert reply.choices[0].logprobs == {"content": [HEL, LO], "refusal": None}


def test_a_chunk_with_only_logprobs_is_not_dropped(provider: Any) -> None:
    parser = provider.stream_parser(ChatRequest(model="m", messages=(Message("user", "Hi"),), stream=True))
    (only,) = parser.feed(event(with_logprobs({}, {"content": [HEL], "refusal": None})))
    assert only.text == "" and only.logprobs == {"content": [HEL], "refusal": None}


def test_stream_logprobs_that_are_not_an_object_are_a_protocol_error(provider: Any) -> None:
    parser = provider.stream_parser(ChatRequest(model="m", messages=(Message("user", "Hi"),), stream=True))
    with pytest.raises(ProtocolError, match=r"choices\[0\]\.logprobs should be an object or null, got str"):
        parser.feed(event(with_logprobs({"content": "x"}, "-0.5")))
