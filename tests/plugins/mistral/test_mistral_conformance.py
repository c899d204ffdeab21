"""The mistral provider passes the shared provider conformance suite, with replies in Mistral's
own shapes: plain string content, and chunk-list content led by a ``thinking`` chunk (streamed as
chunk lists and strings mixed). The simulator's payloads are checked against Mistral's spec."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from chatpipe.testing.conformance import TOOL_ARGUMENTS, TOOL_NAME, ProviderConformance, Reply, VendorSimulator
from chatpipe.testing.fake_server import FakeResponse, FakeServer, SSEItem
from chatpipe_mistral import mistral_tool_id

THOUGHT = "The user wants the weather; keep it short."


class MistralSimulator(VendorSimulator):
    """Mistral's chat-completions wire format.

    ``thinking``: replies carry content as a chunk list starting with a ``thinking`` chunk (as
    Magistral models answer); streamed thinking arrives as chunk lists and text as strings.
    Tool calls stream complete in one delta, and usage rides on the chunk with the finish
    reason (no ``choices: []`` chunk), as Mistral does.
    """

    provider = "mistral"
    chat_route = "POST /v1/chat/completions"
    model = "mistral-small-latest"

    def __init__(self, *, thinking: bool = False) -> None:
        self.thinking = thinking

    @staticmethod
    def _usage(reply: Reply) -> dict[str, Any]:
        total = reply.prompt_tokens + reply.completion_tokens
        return {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": total,
        }

    @staticmethod
    def _calls(reply: Reply) -> list[dict[str, Any]]:
        assert reply.tool_call is not None
        call_id, name, arguments = reply.tool_call
        return [
            {
                "id": call_id,
                "type": "function",
                "function": {"name": name, "arguments": json.dumps(arguments)},
                "index": 0,
            }
        ]

    def reply_body(self, reply: Reply, *, unknown_fields: bool = False) -> dict[str, Any]:
        """The decoded non-streaming body (also validated against the spec)."""
        content: Any = reply.text
        if self.thinking:
            content = [{"type": "thinking", "thinking": [{"type": "text", "text": THOUGHT}]}]
            if reply.text:
                content.append({"type": "text", "text": reply.text})
        message: dict[str, Any] = {"role": "assistant", "content": content, "tool_calls": None, "prefix": False}
        if reply.tool_call:
            message["tool_calls"] = self._calls(reply)
        body: dict[str, Any] = {
            "id": "a1b2c3d4e5f6",
            "object": "chat.completion",
            "created": 1767225600,
            "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if reply.tool_call else "stop"}],
            "usage": self._usage(reply),
        }
        if unknown_fields:
            body["x_unknown_top"] = {"nested": [1, 2]}
            body["choices"][0]["x_unknown_choice"] = True
            message["x_unknown_message"] = "kept"
            body["usage"]["x_unknown_usage"] = 3
        return body

    def reply(self, reply: Reply, *, unknown_fields: bool = False) -> FakeResponse:
        return FakeResponse.json(self.reply_body(reply, unknown_fields=unknown_fields))

    def stream_events(self, reply: Reply, *, unknown_fields: bool = False) -> list[dict[str, Any]]:
        """The decoded stream chunks (also validated against the spec)."""

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            out: dict[str, Any] = {
                "id": "a1b2c3d4e5f6",
                "object": "chat.completion.chunk",
                "created": 1767225600,
                "model": self.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            if unknown_fields:
                out["x_unknown_chunk"] = {"a": 1}
                delta["x_unknown_delta"] = 1
            return out

        events = [chunk({"role": "assistant", "content": ""})]
        if self.thinking:
            half = len(THOUGHT) // 2
            for piece in (THOUGHT[:half], THOUGHT[half:]):
                events.append(chunk({"content": [{"type": "thinking", "thinking": [{"type": "text", "text": piece}]}]}))
        third = max(1, len(reply.text) // 3)
        pieces = [p for p in (reply.text[:third], reply.text[third : 2 * third], reply.text[2 * third :]) if p]
        for i, piece in enumerate(pieces):
            as_list = self.thinking and i == 0  # the first text after thinking comes as a chunk list
            events.append(chunk({"content": [{"type": "text", "text": piece}] if as_list else piece}))
        if reply.tool_call:
            events.append(chunk({"tool_calls": self._calls(reply)}))
        last = chunk({"content": ""}, finish="tool_calls" if reply.tool_call else "stop")
        last["usage"] = self._usage(reply)
        events.append(last)
        return events

    def stream(self, reply: Reply, *, unknown_fields: bool = False) -> FakeResponse:
        items: list[SSEItem] = list(self.stream_events(reply, unknown_fields=unknown_fields))
        return FakeResponse.sse(items)

    def error_body(self, status: int) -> dict[str, Any]:
        """Mistral's error bodies: validation errors as ``message.detail``, others as text."""
        if status == 422:
            detail = [{"type": "missing", "loc": ["body", "messages"], "msg": "Field required", "input": {}}]
            return {"object": "error", "message": {"detail": detail}, "type": "invalid_request_error", "param": None}
        if status == 401:
            return {"message": "Unauthorized", "request_id": "r-401"}
        kinds = {429: "rate_limited", 400: "invalid_request_message_error"}
        return {
            "object": "error",
            "message": f"simulated {status}",
            "type": kinds.get(status, "internal_server_error"),
            "param": None,
            "code": str(3000 + status),
        }

    def error(self, status: int) -> FakeResponse:
        return FakeResponse.json(self.error_body(status), status=status, headers={"Retry-After": "0"})

    def malformed_replies(self) -> list[FakeResponse]:
        def with_content(content: Any) -> FakeResponse:
            message = {"role": "assistant", "content": content}
            return FakeResponse.json(
                {"id": "x", "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
            )

        return [
            *super().malformed_replies(),
            FakeResponse.json({"id": "x", "choices": "nope"}),
            with_content(5),
            with_content(["loose text"]),
            with_content([{"type": "text", "text": 5}]),
            with_content([{"type": "thinking", "thinking": 5}]),
        ]

    def malformed_streams(self) -> list[FakeResponse]:
        def with_delta(delta: dict[str, Any]) -> FakeResponse:
            return FakeResponse.sse([{"id": "x", "model": "m", "choices": [{"index": 0, "delta": delta}]}])

        return [
            *super().malformed_streams(),
            with_delta({"content": 42}),
            with_delta({"content": [7]}),
            with_delta({"content": [{"type": "thinking", "thinking": {"text": "x"}}]}),
            FakeResponse.sse([{"choices": "nope"}]),
        ]

    def tool_history(self, body: Any, call_id: str, name: str, arguments: dict[str, Any], result: str) -> None:
        """The call and its result are sent under the same 9-character id derived from ``call_id``."""
        sent_id = mistral_tool_id(call_id)
        assert len(sent_id) == 9 and sent_id.isalnum()
        messages = body["messages"]
        calls = [c for m in messages for c in (m.get("tool_calls") or [])]
        assert [(c["id"], c["function"]["name"], json.loads(c["function"]["arguments"])) for c in calls] == [
            (sent_id, name, arguments)
        ]
        results = [m for m in messages if m["role"] == "tool"]
        assert [(m["tool_call_id"], m["content"]) for m in results] == [(sent_id, result)]


class TestMistralConformance(ProviderConformance):
    simulator = MistralSimulator()


class TestMistralThinkingConformance(ProviderConformance):
    simulator = MistralSimulator(thinking=True)

    def test_stream_and_non_stream_agree_on_reasoning(self, server: FakeServer) -> None:
        complete, streamed = self._both(server, Reply(text="Sunny."))
        assert complete.reasoning == streamed.reasoning == THOUGHT
        assert complete.text == streamed.text == "Sunny."
        assert complete.message.content == "Sunny."


# --- the simulator follows Mistral's contract ---------------------------------------------

SPEC_DEFECT_DATA = "'data' is a required property"
"""Mistral's spec lists a ``data`` key as required on ChatCompletionResponse, a field no reply
has (a copy-paste from ModelList); that one error is ignored, every other one fails."""

REPLIES = [
    Reply(text="It is sunny in Paris today."),
    Reply(tool_call=("a1B2c3D4e", TOOL_NAME, TOOL_ARGUMENTS)),
]


@pytest.mark.parametrize("thinking", [False, True], ids=["string", "chunks"])
@pytest.mark.parametrize("reply", REPLIES, ids=["text", "tool"])
def test_simulated_replies_follow_the_spec(vendor_spec: Callable[[str], Any], reply: Reply, thinking: bool) -> None:
    spec = vendor_spec("mistral")
    body = MistralSimulator(thinking=thinking).reply_body(reply)
    problems = [p for p in spec.errors("ChatCompletionResponse", body) if SPEC_DEFECT_DATA not in p]
    assert not problems, problems
    assert any(SPEC_DEFECT_DATA in p for p in spec.errors("ChatCompletionResponse", body)), "defect fixed upstream?"


@pytest.mark.parametrize("thinking", [False, True], ids=["string", "chunks"])
@pytest.mark.parametrize("reply", REPLIES, ids=["text", "tool"])
def test_simulated_stream_chunks_follow_the_spec(
    vendor_spec: Callable[[str], Any], reply: Reply, thinking: bool
) -> None:
    spec = vendor_spec("mistral")
    events = MistralSimulator(thinking=thinking).stream_events(reply)
    assert len(events) >= 3
    for event in events:
        spec.check("CompletionChunk", event)
        spec.check("CompletionEvent", {"data": event})


def test_simulated_validation_error_follows_the_spec(vendor_spec: Callable[[str], Any]) -> None:
    """The spec defines only the 422 body; the simulator nests it under ``message`` as the API does."""
    body = MistralSimulator().error_body(422)
    vendor_spec("mistral").check("HTTPValidationError", body["message"])
