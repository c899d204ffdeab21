"""Vendor reply fields through ``chatpipe serve`` (token log-probabilities, ``created``), read with ``openai``.

The fake vendor answers in OpenAI's shape (llama.cpp sends the same) with ``choices[].logprobs``;
the client must see them on the JSON reply and on the stream's chunks.
"""

from __future__ import annotations

from typing import Any

from chatpipe.testing import FakeResponse

from .conftest import openai_profile

ROUTE = "POST /v1/chat/completions"
MESSAGES = [{"role": "user", "content": "Say hello."}]


def token(text: str, logprob: float, alternative: tuple[str, float]) -> dict[str, Any]:
    return {
        "token": text,
        "logprob": logprob,
        "bytes": list(text.encode()),
        "top_logprobs": [
            {"token": text, "logprob": logprob, "bytes": list(text.encode())},
            {"token": alternative[0], "logprob": alternative[1], "bytes": list(alternative[0].encode())},
        ],
    }


HEL = token("Hel", -0.01, ("Hi", -4.5))
LO = token("lo", -0.25, ("p", -1.75))


def reply() -> dict[str, Any]:
    return {
        "id": "chatcmpl-lp",
        "object": "chat.completion",
        "created": 1764300000,
        "model": "vendor-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello"},
                "logprobs": {"content": [HEL, LO], "refusal": None},
                "finish_reason": "stop",
            }
        ],
    }


def stream() -> FakeResponse:
    def chunk(delta: dict[str, Any], logprobs: Any, finish: str | None = None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-lp",
            "object": "chat.completion.chunk",
            "created": 1764300000,
            "model": "vendor-model",
            "choices": [{"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": finish}],
        }

    return FakeResponse.sse(
        [
            chunk({"role": "assistant", "content": ""}, None),
            chunk({"content": "Hel"}, {"content": [HEL], "refusal": None}),
            chunk({"content": "lo"}, {"content": [LO], "refusal": None}),
            chunk({}, None, "stop"),
        ]
    )


def tokens(logprobs: Any) -> list[tuple[str, float, list[tuple[str, float]]]]:
    return [(t.token, t.logprob, [(a.token, a.logprob) for a in t.top_logprobs]) for t in logprobs.content]


def test_json_reply_carries_the_vendor_logprobs(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor))
    vendor.enqueue(ROUTE, FakeResponse.json(reply()))
    answer = gateway.client().chat.completions.create(model="gpt", messages=MESSAGES, logprobs=True, top_logprobs=2)
    assert (vendor.requests[0].json["logprobs"], vendor.requests[0].json["top_logprobs"]) == (True, 2)
    assert tokens(answer.choices[0].logprobs) == [
        ("Hel", -0.01, [("Hel", -0.01), ("Hi", -4.5)]),
        ("lo", -0.25, [("lo", -0.25), ("p", -1.75)]),
    ]
    assert answer.choices[0].logprobs.refusal is None


def test_stream_chunks_carry_the_vendor_logprobs(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor))
    vendor.enqueue(ROUTE, stream())
    chunks = list(
        gateway.client().chat.completions.create(
            model="gpt", messages=MESSAGES, stream=True, logprobs=True, top_logprobs=2
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Hello"
    with_logprobs = [c.choices[0].logprobs for c in chunks if c.choices[0].logprobs is not None]
    assert [tokens(lp) for lp in with_logprobs] == [
        [("Hel", -0.01, [("Hel", -0.01), ("Hi", -4.5)])],
        [("lo", -0.25, [("lo", -0.25), ("p", -1.75)])],
    ]


def test_the_vendors_created_timestamp_is_kept(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor))
    vendor.enqueue(ROUTE, FakeResponse.json(reply()), stream())
    client = gateway.client()
    assert client.chat.completions.create(model="gpt", messages=MESSAGES).created == 1764300000
    chunks = list(client.chat.completions.create(model="gpt", messages=MESSAGES, stream=True))
    assert {c.created for c in chunks} == {1764300000}
