"""OpenAI-format rendering of replies and stream chunks."""

from __future__ import annotations

import json

from chatpipe.gateway import GatewayError
from chatpipe.gateway._render import DONE, StreamRenderer, completion_json, encode_json, sse_frame
from chatpipe.models import ChatChunk, ChatResponse, Choice, Message, ToolCallDelta, Usage
from hypothesis import given, settings
from hypothesis import strategies as st


def frames(data: bytes) -> list[object]:
    out: list[object] = []
    for block in data.decode().split("\n\n"):
        if block:
            assert block.startswith("data: ")
            payload = block[len("data: ") :]
            out.append(payload if payload == "[DONE]" else json.loads(payload))
    return out


def test_completion_json_fills_missing_id_model_created():
    response = ChatResponse(id=None, model=None, choices=(Choice(0, Message("assistant", "Hi"), "stop"),))
    body = completion_json(response, model="claude", created=123)
    assert body["id"].startswith("chatcmpl-")
    assert (body["object"], body["created"], body["model"]) == ("chat.completion", 123, "claude")
    assert body["choices"] == [
        {"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop", "logprobs": None}
    ]


def test_completion_json_keeps_vendor_id_model_reasoning_and_usage():
    response = ChatResponse(
        id="msg_1",
        model="claude-x",
        choices=(Choice(0, Message("assistant", "Hi"), "stop", reasoning="thought"),),
        usage=Usage(prompt_tokens=3, completion_tokens=2, total_tokens=5),
    )
    body = completion_json(response, model="claude")
    assert (body["id"], body["model"]) == ("msg_1", "claude-x")
    assert body["choices"][0]["message"]["reasoning_content"] == "thought"
    assert body["usage"] == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}


def test_stream_shape_without_usage():
    renderer = StreamRenderer(model="p", include_usage=False, created=7)
    out = (
        b"".join(
            f
            for f in (
                renderer.chunk(ChatChunk(text="Hel", id="c1", model="m1")),
                renderer.chunk(ChatChunk(text="lo", model="other")),
                renderer.chunk(ChatChunk(usage=Usage(prompt_tokens=1, completion_tokens=2, total_tokens=3))),
                renderer.chunk(ChatChunk(finish_reason="stop")),
            )
            if f
        )
        + renderer.finish()
    )
    items = frames(out)
    assert items[-1] == "[DONE]"
    chunks = items[:-1]
    assert len(chunks) == 3  # the usage-only chunk shows nothing
    assert all(c["id"] == "c1" and c["model"] == "m1" and c["created"] == 7 for c in chunks)
    assert all("usage" not in c for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "Hel"}
    assert chunks[1]["choices"][0]["delta"] == {"content": "lo"}
    assert chunks[2]["choices"][0] == {"index": 0, "delta": {}, "finish_reason": "stop"}


def test_stream_usage_chunk_when_asked():
    renderer = StreamRenderer(model="p", include_usage=True)
    first = frames(renderer.chunk(ChatChunk(text="a")) or b"")[0]
    assert first["usage"] is None
    assert first["id"].startswith("chatcmpl-") and first["model"] == "p"
    renderer.chunk(ChatChunk(usage=Usage(prompt_tokens=4, completion_tokens=1, total_tokens=5)))
    usage_chunk, done = frames(renderer.finish())
    assert done == "[DONE]"
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"] == {"prompt_tokens": 4, "completion_tokens": 1, "total_tokens": 5}
    assert usage_chunk["id"] == first["id"]


def test_final_usage_argument_wins_and_unknown_usage_sends_only_done():
    renderer = StreamRenderer(model="p", include_usage=True)
    renderer.chunk(ChatChunk(text="a"))
    (usage_chunk, _) = frames(renderer.finish(Usage(prompt_tokens=9, completion_tokens=9, total_tokens=18)))
    assert usage_chunk["usage"]["total_tokens"] == 18
    assert StreamRenderer(model="p", include_usage=True).finish() == DONE


def test_tool_call_and_reasoning_deltas():
    renderer = StreamRenderer(model="p", include_usage=False)
    reasoning = frames(renderer.chunk(ChatChunk(reasoning="think")) or b"")[0]
    assert reasoning["choices"][0]["delta"] == {"role": "assistant", "content": "", "reasoning_content": "think"}
    call = frames(
        renderer.chunk(ChatChunk(tool_calls=(ToolCallDelta(0, id="call_1", name="f", arguments='{"a"'),))) or b""
    )[0]
    assert call["choices"][0]["delta"]["tool_calls"] == [
        {"index": 0, "id": "call_1", "type": "function", "function": {"arguments": '{"a"', "name": "f"}}
    ]
    more = frames(renderer.chunk(ChatChunk(tool_calls=(ToolCallDelta(0, arguments=":1}"),))) or b"")[0]
    assert more["choices"][0]["delta"]["tool_calls"] == [{"index": 0, "function": {"arguments": ":1}"}}]


def test_each_choice_gets_its_role_once():
    renderer = StreamRenderer(model="p", include_usage=False)
    a = frames(renderer.chunk(ChatChunk(index=0, text="x")) or b"")[0]
    b = frames(renderer.chunk(ChatChunk(index=1, text="y")) or b"")[0]
    c = frames(renderer.chunk(ChatChunk(index=1, text="z")) or b"")[0]
    assert a["choices"][0]["delta"]["role"] == b["choices"][0]["delta"]["role"] == "assistant"
    assert "role" not in c["choices"][0]["delta"]


def test_error_frame_is_openai_error_json():
    (item,) = frames(StreamRenderer.error(GatewayError(502, "upstream died", type="upstream_error")))
    assert item == {"error": {"message": "upstream died", "type": "upstream_error", "param": None, "code": None}}


def test_sse_frame_is_compact_utf8():
    assert sse_frame({"a": "é"}) == 'data: {"a":"é"}\n\n'.encode()


def test_only_standard_json_is_sent() -> None:
    inf, nan = float("inf"), float("nan")
    obj = {"usage": {"prompt_tokens": inf, "x": [1.5, -inf, {"y": nan}], "t": (nan,)}, "ok": "Infinity"}
    expected = b'{"usage":{"prompt_tokens":null,"x":[1.5,null,{"y":null}],"t":[null]},"ok":"Infinity"}'
    assert encode_json(obj) == expected
    assert sse_frame(obj) == b"data: " + expected + b"\n\n"
    assert encode_json({"a": 1.5, "b": "é"}) == '{"a":1.5,"b":"é"}'.encode()


LOGPROBS = {"content": [{"token": "Hi", "logprob": -0.5, "bytes": [72, 105], "top_logprobs": []}], "refusal": None}


def test_completion_json_bytes_carry_the_vendor_logprobs():
    response = ChatResponse(
        id="r1", model="m", choices=(Choice(0, Message("assistant", "Hi"), "stop", logprobs=LOGPROBS),)
    )
    assert encode_json(completion_json(response, model="p", created=5)) == (
        b'{"id":"r1","object":"chat.completion","model":"m","choices":[{"index":0,'
        b'"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop","logprobs":{"content":'
        b'[{"token":"Hi","logprob":-0.5,"bytes":[72,105],"top_logprobs":[]}],"refusal":null}}],"created":5}'
    )


def test_stream_frames_carry_logprobs_only_on_chunks_that_have_them():
    renderer = StreamRenderer(model="p", include_usage=False, created=5)
    out = b"".join(
        frame
        for frame in (
            renderer.chunk(ChatChunk(text="Hi", id="c1", model="m", logprobs=LOGPROBS)),
            renderer.chunk(ChatChunk(logprobs={"content": [], "refusal": None})),  # nothing but logprobs
            renderer.chunk(ChatChunk(finish_reason="stop")),
        )
        if frame
    )
    assert out == (
        b'data: {"id":"c1","object":"chat.completion.chunk","created":5,"model":"m","choices":[{"index":0,'
        b'"delta":{"content":"Hi","role":"assistant"},"finish_reason":null,"logprobs":{"content":'
        b'[{"token":"Hi","logprob":-0.5,"bytes":[72,105],"top_logprobs":[]}],"refusal":null}}]}\n\n'
        b'data: {"id":"c1","object":"chat.completion.chunk","created":5,"model":"m","choices":[{"index":0,'
        b'"delta":{},"finish_reason":null,"logprobs":{"content":[],"refusal":null}}]}\n\n'
        b'data: {"id":"c1","object":"chat.completion.chunk","created":5,"model":"m","choices":[{"index":0,'
        b'"delta":{},"finish_reason":"stop"}]}\n\n'
    )


def test_completion_json_keeps_the_vendor_created_and_falls_back_to_the_clock():
    choices = (Choice(0, Message("assistant", "Hi"), "stop"),)
    vendor = ChatResponse(id="r1", model="m", choices=choices, created=1764300000)
    assert encode_json(completion_json(vendor, model="p", created=5)) == (
        b'{"id":"r1","object":"chat.completion","created":1764300000,"model":"m","choices":[{"index":0,'
        b'"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop","logprobs":null}]}'
    )
    silent = ChatResponse(id="r1", model="m", choices=choices)
    assert completion_json(silent, model="p", created=5)["created"] == 5
    odd = ChatResponse(id="r1", model="m", choices=choices, extra={"created": "yesterday"})
    assert completion_json(odd, model="p", created=5)["created"] == 5


def test_stream_frames_keep_the_first_chunk_created():
    renderer = StreamRenderer(model="p", include_usage=True, created=5)
    out = b"".join(
        frame
        for frame in (
            renderer.chunk(ChatChunk(text="Hi", id="c1", model="m", created=1764300000)),
            renderer.chunk(ChatChunk(text="!", id="c1", model="m", created=1764300001)),
        )
        if frame
    )
    out += renderer.finish(Usage(prompt_tokens=1, completion_tokens=2, total_tokens=3))
    assert out == (
        b'data: {"id":"c1","object":"chat.completion.chunk","created":1764300000,"model":"m","choices":'
        b'[{"index":0,"delta":{"content":"Hi","role":"assistant"},"finish_reason":null}],"usage":null}\n\n'
        b'data: {"id":"c1","object":"chat.completion.chunk","created":1764300000,"model":"m","choices":'
        b'[{"index":0,"delta":{"content":"!"},"finish_reason":null}],"usage":null}\n\n'
        b'data: {"id":"c1","object":"chat.completion.chunk","created":1764300000,"model":"m","choices":[],'
        b'"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}\n\n'
        b"data: [DONE]\n\n"
    )


def test_a_stream_without_vendor_created_uses_the_gateway_clock():
    renderer = StreamRenderer(model="p", include_usage=False, created=5)
    (item,) = frames(renderer.chunk(ChatChunk(text="Hi")) or b"")
    assert item["created"] == 5


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(st.text(st.characters(exclude_categories=["Cs"]), min_size=1), min_size=1, max_size=6),
    include_usage=st.booleans(),
    created=st.none() | st.integers(0, 2**40),
)
def test_text_frames_of_the_fast_path_are_the_frames_of_the_general_one(
    texts: list[str], include_usage: bool, created: int | None
) -> None:
    chunks = [ChatChunk(role="assistant", id="c1", model="m", created=created)]
    chunks += [ChatChunk(text=text, id="c1", model="m") for text in texts]
    chunks += [ChatChunk(reasoning="hmm"), ChatChunk(text=texts[0]), ChatChunk(finish_reason="stop")]

    def render(fast: bool) -> list[bytes | None]:
        renderer = StreamRenderer(model="p", include_usage=include_usage, created=9)
        if not fast:
            renderer._split_text_frame = lambda: None  # type: ignore[method-assign,assignment,return-value]
        out = [renderer.chunk(chunk) for chunk in chunks]
        assert (renderer._text_frame is not None) is fast
        return out

    fast, general = render(True), render(False)
    assert fast == general
    assert [frames(f)[0]["choices"][0]["delta"].get("content") for f in fast[1 : 1 + len(texts)] if f] == texts
