"""The ai21 provider passes the shared provider conformance suite against an AI21-shaped
simulator, and the simulator's payloads follow the OpenAI spec except where AI21 differs.

AI21's wire shape (vendor-contracts 3.5): replies ``{id, model, choices[{index, message,
logprobs, finish_reason}], usage}`` without ``object``/``created``; stream chunks carry
``usage: null`` except the last one, which has the finish reason and the usage; error bodies are
plain text or ``{"detail": ...}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from chatpipe.testing.conformance import OpenAISimulator, ProviderConformance, Reply, split_text
from chatpipe.testing.fake_server import FakeResponse, SSEItem

MODEL = "jamba-mini"


class AI21Simulator(OpenAISimulator):
    """AI21 Studio's chat-completions payloads (the OpenAI family's, minus what AI21 leaves out)."""

    def __init__(self) -> None:
        super().__init__("ai21", "/studio/v1/chat/completions", base_path="/studio/v1")
        self.model = MODEL

    @staticmethod
    def _call(reply: Reply) -> dict[str, Any] | None:
        if reply.tool_call is None:
            return None
        call_id, name, arguments = reply.tool_call
        return {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}

    def reply_body(self, reply: Reply, *, unknown_fields: bool = False) -> dict[str, Any]:
        """The decoded non-streaming reply."""
        message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
        call = self._call(reply)
        if call is not None:
            message["tool_calls"] = [call]
        body: dict[str, Any] = {
            "id": "chat-ai21-sim",
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "logprobs": None,
                    "finish_reason": "tool_calls" if call else "stop",
                }
            ],
            "usage": self._usage(reply),
        }
        if unknown_fields:
            body["meta"] = {"requestDurationMillis": 12}
            body["choices"][0]["x_unknown_choice"] = [1]
            message["x_unknown_message"] = {"a": None}
            body["usage"]["x_unknown_usage"] = 2
        return body

    def chunks(self, reply: Reply, *, unknown_fields: bool = False) -> list[dict[str, Any]]:
        """The decoded stream chunks (before ``data: [DONE]``)."""

        def chunk(delta: dict[str, Any], finish: str | None = None, usage: dict[str, int] | None = None) -> Any:
            out: dict[str, Any] = {
                "id": "chat-ai21-sim",
                "model": MODEL,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
                "usage": usage,
            }
            if unknown_fields:
                out["x_unknown_chunk"] = {"b": 2}
                delta["x_unknown_delta"] = True
            return out

        events = [chunk({"role": "assistant"})]
        events += [chunk({"content": piece}) for piece in split_text(reply.text)]
        call = self._call(reply)
        if call is not None:
            arguments = call["function"]["arguments"]
            half = len(arguments) // 2
            first = {**call, "index": 0, "function": {"name": call["function"]["name"], "arguments": arguments[:half]}}
            events.append(chunk({"tool_calls": [first]}))
            events.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": arguments[half:]}}]}))
        events.append(chunk({"content": ""}, "tool_calls" if call else "stop", self._usage(reply)))
        return events

    def reply(self, reply: Reply, *, unknown_fields: bool = False) -> FakeResponse:
        return FakeResponse.json(self.reply_body(reply, unknown_fields=unknown_fields))

    def stream(self, reply: Reply, *, unknown_fields: bool = False) -> FakeResponse:
        events: list[SSEItem] = list(self.chunks(reply, unknown_fields=unknown_fields))
        return FakeResponse.sse(events)

    def error(self, status: int) -> FakeResponse:
        """AI21's error bodies: FastAPI ``detail`` JSON for validation, plain text otherwise."""
        if status == 422:
            detail = [{"loc": ["body", "max_tokens"], "msg": "ensure this value is <= 4096", "type": "value_error"}]
            return FakeResponse.json({"detail": detail}, status=status)
        if status in (400, 401, 403, 404):
            return FakeResponse.json({"detail": f"simulated {status}"}, status=status)
        return FakeResponse.text(f"simulated {status}", status=status, headers={"Retry-After": "0"})

    def malformed_streams(self) -> list[FakeResponse]:
        return [
            *super().malformed_streams(),
            FakeResponse.sse([{"id": "x", "choices": [], "usage": "lots"}]),
        ]

    def tool_history(self, body: Any, call_id: str, name: str, arguments: dict[str, Any], result: str) -> None:
        """The call on the assistant turn, the result in a ``tool`` message, both as OpenAI shapes."""
        messages = body["messages"]
        (assistant,) = [m for m in messages if m.get("tool_calls")]
        assert [
            (c["id"], c["type"], c["function"]["name"], json.loads(c["function"]["arguments"]))
            for c in assistant["tool_calls"]
        ] == [(call_id, "function", name, arguments)]
        assert [(m["tool_call_id"], m["content"]) for m in messages if m["role"] == "tool"] == [(call_id, result)]
        assert "tool_choice" not in body


SIMULATOR = AI21Simulator()


class TestAI21Conformance(ProviderConformance):
    simulator = SIMULATOR


# --- the simulator follows the contract -------------------------------------------------------

AI21_REPLY_DIFFERENCES = {
    "<root>: 'created' is a required property",
    "<root>: 'object' is a required property",
    "choices/0/message: 'refusal' is a required property",
}
"""Where AI21's documented reply shape departs from OpenAI's CreateChatCompletionResponse."""

AI21_CHUNK_DIFFERENCES = {
    "<root>: 'created' is a required property",
    "<root>: 'object' is a required property",
}
"""Where AI21's stream chunk departs from OpenAI's CreateChatCompletionStreamResponse."""

REPLIES = [
    Reply(text="It is sunny."),
    Reply(tool_call=("call_1", "get_weather", {"city": "Paris"})),
    Reply(text="Checking.", tool_call=("call_2", "get_weather", {"city": "Oslo"})),
]


def _as_openai(body: dict[str, Any], obj: str) -> dict[str, Any]:
    """``body`` with the fields AI21 leaves out filled in, to validate everything else."""
    out = {**body, "object": obj, "created": 0}
    out["choices"] = [
        {**c, "message": {"refusal": None, **c["message"]}} if "message" in c else c for c in body["choices"]
    ]
    return out


@pytest.mark.parametrize("reply", REPLIES)
@pytest.mark.parametrize("unknown_fields", [False, True])
def test_simulated_replies_follow_the_openai_response_schema(
    vendor_spec: Callable[[str], Any], reply: Reply, unknown_fields: bool
) -> None:
    spec = vendor_spec("openai")
    body = SIMULATOR.reply_body(reply, unknown_fields=unknown_fields)
    assert set(spec.errors("CreateChatCompletionResponse", body)) == AI21_REPLY_DIFFERENCES
    spec.check("CreateChatCompletionResponse", _as_openai(body, "chat.completion"))


@pytest.mark.parametrize("reply", REPLIES)
def test_simulated_chunks_follow_the_openai_stream_schema(vendor_spec: Callable[[str], Any], reply: Reply) -> None:
    spec = vendor_spec("openai")
    chunks = SIMULATOR.chunks(reply)
    for chunk in chunks:
        assert set(spec.errors("CreateChatCompletionStreamResponse", chunk)) == AI21_CHUNK_DIFFERENCES
        spec.check("CreateChatCompletionStreamResponse", _as_openai(chunk, "chat.completion.chunk"))
    assert [c["usage"] is None for c in chunks] == [True] * (len(chunks) - 1) + [False]
    assert chunks[-1]["choices"][0]["finish_reason"] in ("stop", "tool_calls")
