"""StreamAccumulator folds each choice's chunk ``logprobs`` into one object."""

from __future__ import annotations

from chatpipe.models import ChatChunk
from chatpipe.plugin import StreamAccumulator

A = {"token": "A", "logprob": -0.1, "bytes": [65], "top_logprobs": []}
B = {"token": "B", "logprob": -0.2, "bytes": [66], "top_logprobs": []}
R = {"token": "no", "logprob": -0.3, "bytes": [110, 111], "top_logprobs": []}


def test_token_lists_concatenate_per_choice_and_null_adds_nothing() -> None:
    acc = StreamAccumulator()
    first = {"content": [A], "refusal": None}
    acc.add(ChatChunk(index=0, text="A", logprobs=first))
    acc.add(ChatChunk(index=1, text="B", logprobs={"content": [B], "refusal": None}))
    acc.add(ChatChunk(index=0, logprobs={"content": None, "refusal": [R]}))
    acc.add(ChatChunk(index=0, text="B", logprobs={"content": [B], "refusal": None}))
    acc.add(ChatChunk(index=0, finish_reason="stop"))
    reply = acc.response()
    assert reply.choices[0].logprobs == {"content": [A, B], "refusal": [R]}
    assert reply.choices[1].logprobs == {"content": [B], "refusal": None}
    assert first == {"content": [A], "refusal": None}  # the chunk's own lists are not mutated


def test_a_stream_without_logprobs_gives_none() -> None:
    acc = StreamAccumulator()
    acc.add(ChatChunk(text="Hi", finish_reason="stop"))
    assert acc.response().choices[0].logprobs is None


def test_a_response_taken_early_does_not_change_later() -> None:
    acc = StreamAccumulator()
    acc.add(ChatChunk(text="A", logprobs={"content": [A], "refusal": None}))
    early = acc.response()
    acc.add(ChatChunk(text="B", logprobs={"content": [B], "refusal": None}))
    assert early.choices[0].logprobs == {"content": [A], "refusal": None}
    assert acc.response().choices[0].logprobs == {"content": [A, B], "refusal": None}
