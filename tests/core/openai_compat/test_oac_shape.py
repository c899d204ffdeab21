"""A stream read through its chunks' shape gives what decoding every chunk in full gives."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from chatpipe.errors import ProviderError
from chatpipe.http import SSEEvent
from chatpipe.models import ChatRequest, Message
from chatpipe.openai_compat import _stream
from chatpipe.openai_compat._completions import TextCompletionStreamParser
from chatpipe.openai_compat._shape import learn_shape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REQUEST = ChatRequest(model="m", messages=(Message("user", "Hi"),), stream=True)
TOP = '{"id":"c1","object":"chat.completion.chunk","created":7,"model":"m","system_fingerprint":"fp","choices":'


def plain(text: str, **top: Any) -> str:
    """A plain chunk's text as OpenAI sends it (compact, in its key order)."""
    choice = {"index": 0, "delta": {"content": text}, "logprobs": None, "finish_reason": None}
    body = {"id": "c1", "object": "chat.completion.chunk", "created": 7, "model": "m", "choices": [choice], **top}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def outcome(parser: Any, data: str) -> Any:
    try:
        return [vars(chunk) for chunk in parser.feed(SSEEvent(data))]
    except ProviderError as error:
        return type(error).__name__, str(error)


def through_one_parser(provider: Any, texts: list[str]) -> list[Any]:
    parser = provider.stream_parser(REQUEST)
    return [outcome(parser, data) for data in texts]


def each_decoded_alone(provider: Any, texts: list[str]) -> list[Any]:
    """Every chunk through a fresh parser: nothing learnt from the chunks before it."""
    return [outcome(provider.stream_parser(REQUEST), data) for data in texts]


def count_calls(monkeypatch: pytest.MonkeyPatch, name: str) -> list[int]:
    calls = [0]
    original: Callable[..., Any] = getattr(_stream, name)

    def counted(*args: Any) -> Any:
        calls[0] += 1
        return original(*args)

    monkeypatch.setattr(_stream, name, counted)
    return calls


def test_a_stream_of_plain_chunks_is_read_without_decoding_them(provider: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [plain(f"w{i} ", system_fingerprint="fp") for i in range(20)]
    expected = each_decoded_alone(provider, texts)
    decodes = count_calls(monkeypatch, "_SCAN")
    assert through_one_parser(provider, texts) == expected
    assert decodes == [1]  # the first chunk, which the shape is learnt from
    assert [chunk["text"] for [chunk] in expected] == [f"w{i} " for i in range(20)]


def test_each_chunk_gets_its_own_extra_dicts(provider: Any) -> None:
    parser = provider.stream_parser(REQUEST)
    [first] = parser.feed(SSEEvent(plain("a", system_fingerprint="fp")))
    [second] = parser.feed(SSEEvent(plain("b", system_fingerprint="fp")))
    assert parser._shape is not None  # the second chunk came through the shape
    assert second.extra == first.extra == {"system_fingerprint": "fp"}
    assert second.extra is not first.extra and second.message_extra is not first.message_extra
    first.extra["system_fingerprint"] = "changed by the caller"  # type: ignore[index]
    [third] = parser.feed(SSEEvent(plain("c", system_fingerprint="fp")))
    assert third.extra == {"system_fingerprint": "fp"}
    parser = provider.stream_parser(REQUEST)
    [first] = parser.feed(SSEEvent(plain("a", system_fingerprint={"v": 1})))
    [second] = parser.feed(SSEEvent(plain("b", system_fingerprint={"v": 1})))
    assert second.extra["system_fingerprint"] is not first.extra["system_fingerprint"]  # no shared mutable value


ESCAPED = ['"\\"quoted\\""', '"back\\\\slash"', '"\\u00e9t\\u00e9"', '"\\ud83d\\ude00"', '"line\\nbreak"', '"\\u0031"']

SEQUENCES = {
    # Another "content" member after the delta, with the same text: the last "content": is not the delta's.
    "decoy after": [
        TOP + '[{"index":0,"delta":{"content":"hi"}}],"content":"hi"}',
        TOP + '[{"index":0,"delta":{"content":"yo"}}],"content":"hi"}',
        TOP + '[{"index":0,"delta":{"content":"hi"}}],"content":"yo"}',
    ],
    # The delta's key spaced, so the only compact "content": is the decoy: no slot is proven.
    "only the decoy compact": [
        TOP + '[{"index":0,"delta":{"content" : "hi"}}],"content":"hi"}',
        TOP + '[{"index":0,"delta":{"content" : "hi"}}],"content":"XX"}',
    ],
    "duplicate key in the delta": [
        TOP + '[{"index":0,"delta":{"content":"hi","content":"hi"}}]}',
        TOP + '[{"index":0,"delta":{"content":"a","content":"b"}}]}',
        TOP + '[{"index":0,"delta":{"content":"hi","content":"c"}}]}',
    ],
    "escapes": [TOP + '[{"index":0,"delta":{"content":' + token + "}}]}" for token in ESCAPED],
    "spaced separators": [json.dumps(json.loads(plain(text))) for text in ("a", "b", "", "c")],
    "padding after": [plain("a", obfuscation="xyz"), plain("b", obfuscation="q"), plain("c", obfuscation="")],
    "padding before": [
        '{"obfuscation":"' + pad + '",' + plain(text)[1:] for text, pad in (("a", "p"), ("b", "pq"), ("c", ""))
    ],
    "padding not a string": [plain("a", obfuscation=1), plain("b", obfuscation=2)],
    "extras not scalars": [plain("a", system_fingerprint={"v": 1}), plain("b", system_fingerprint={"v": 1})],
    "then a finish reason": [plain("a"), plain("b").replace('"finish_reason":null', '"finish_reason":"stop"')],
    "then empty text, with and without extras": [plain("a", x=1), plain("", x=1), plain("a"), plain("")],
    "then a role": [plain("a"), plain("b").replace('{"content"', '{"role":"assistant","content"')],
    "then another id or time": [plain("a"), plain("b").replace("c1", "c2"), plain("c"), plain("d").replace(":7", ":8")],
    "then a broken string": [plain("a"), plain("b")[:-25], plain("c").replace('"c"', '"c\x01"'), plain("d")],
    "then bad escapes": [plain("a"), plain("b").replace('"b"', '"\\x"'), plain("c").replace('"c"', '"\\ud800"')],
    "then text after the object": [plain("a"), plain("b") + "x", plain("c") + " ", plain("d")],
    "then text after the string": [
        plain("a"),
        plain("b").replace('"b"', '"b"x'),
        plain("c").replace('"c"', '"c","content":"z"'),
        plain("d").replace('"d"', '"d" '),
    ],
    "then an error object": [plain("a"), plain("b").replace("{", '{"error":{"message":"e"},', 1)],
    "then a choice list": [plain("a"), plain("b").replace('"choices":[', '"choices":[{"index":1},')],
}


@pytest.mark.parametrize("texts", SEQUENCES.values(), ids=SEQUENCES.keys())
def test_a_sequence_gives_what_each_chunk_decoded_alone_gives(provider: Any, texts: list[str]) -> None:
    assert through_one_parser(provider, texts) == each_decoded_alone(provider, texts)


def test_a_slot_that_is_not_the_delta_text_is_not_learnt(provider: Any) -> None:
    data = SEQUENCES["only the decoy compact"][0]
    [chunk] = provider.stream_parser(REQUEST).feed(SSEEvent(data))
    assert learn_shape(data, json.loads(data), chunk) is None
    padded = plain("a", obfuscation="a")  # the padding's text equals the delta's: each slot still found
    [chunk] = provider.stream_parser(REQUEST).feed(SSEEvent(padded))
    shape = learn_shape(padded, json.loads(padded), chunk)
    assert shape is not None and shape.text(plain("zz", obfuscation="a")) == "zz"
    assert shape.text(plain("zz", obfuscation="yy")) == "zz"


def test_a_stream_that_never_repeats_its_shape_stops_learning(provider: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [plain("t").replace("c1", f"id-{i}") for i in range(30)]
    expected = each_decoded_alone(provider, texts)
    learnt = count_calls(monkeypatch, "learn_shape")
    assert through_one_parser(provider, texts) == expected
    assert learnt == [3]


def test_a_shape_that_changes_now_and_then_is_learnt_again(provider: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [plain(f"t{i}").replace('"created":7', f'"created":{i // 10}') for i in range(50)]  # a new second each 10
    expected = each_decoded_alone(provider, texts)
    learnt = count_calls(monkeypatch, "learn_shape")
    decodes = count_calls(monkeypatch, "_SCAN")
    assert through_one_parser(provider, texts) == expected
    assert learnt == decodes == [5]


def test_a_completions_stream_is_not_read_through_a_chat_shape() -> None:
    def fail(*args: object) -> Exception:
        raise AssertionError(args)

    parser = TextCompletionStreamParser(make_error=fail, make_protocol_error=fail)
    texts = [plain(text).replace('"delta":{"content"', '"text"').replace("}", "", 1) for text in ("a", "b")]
    assert [chunk.text for data in texts for chunk in parser.feed(SSEEvent(data))] == ["a", "b"]
    assert parser._shape is None


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=3))
CHANGES = st.sampled_from(["none", "none", "none", "finish", "id", "extra", "padding", "cut", "role", "empty"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    extras=st.dictionaries(st.sampled_from(["system_fingerprint", "content", "x"]), SCALARS, max_size=2),
    padded=st.booleans(),
    spaced=st.booleans(),
    ascii_only=st.booleans(),
    steps=st.lists(st.tuples(st.text(max_size=6), CHANGES, st.integers(0, 300)), min_size=1, max_size=8),
)
def test_any_stream_gives_what_each_chunk_decoded_alone_gives(
    provider: Any,
    extras: dict[str, Any],
    padded: bool,
    spaced: bool,
    ascii_only: bool,
    steps: list[tuple[str, str, int]],
) -> None:
    texts = []
    for text, change, cut in steps:
        choice: dict[str, Any] = {"index": 0, "delta": {"content": text}, "logprobs": None, "finish_reason": None}
        body: dict[str, Any] = {"id": "c1", "model": "m", "choices": [choice], **extras}
        if padded or change == "padding":
            body["obfuscation"] = "p" * (cut % 4) if change == "padding" else "pad"
        if change == "finish":
            choice["finish_reason"] = "stop"
        elif change == "id":
            body["id"] = f"c{cut}"
        elif change == "extra":
            body["x"] = cut
        elif change == "role":
            choice["delta"] = {"role": "assistant", **choice["delta"]}
        elif change == "empty":
            choice["delta"]["content"] = ""
        data = json.dumps(body, ensure_ascii=ascii_only, separators=(", ", ": ") if spaced else (",", ":"))
        texts.append(data[: cut % len(data)] if change == "cut" else data)
    assert through_one_parser(provider, texts) == each_decoded_alone(provider, texts)
