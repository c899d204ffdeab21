"""The claude provider passes the shared provider conformance suite, with a simulator speaking
Claude's Messages wire format; the simulator's own payloads are checked against the vendor spec."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest
from chatpipe.errors import BadRequestError, OverloadedError, PermissionDeniedError, ProviderError
from chatpipe.testing.conformance import ProviderConformance, Reply, VendorSimulator
from chatpipe.testing.fake_server import FakeResponse, SSEItem

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    422: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
    529: "overloaded_error",
}


class ClaudeSimulator(VendorSimulator):
    """Claude Messages API payloads (vendor-contracts 3.2)."""

    provider = "claude"
    chat_route = "POST /v1/messages"
    model = "claude-test"
    extra_statuses: ClassVar[dict[int, type[ProviderError]]] = {
        529: OverloadedError,
        413: BadRequestError,
        402: PermissionDeniedError,
    }

    def base_url(self, server_url: str) -> str:
        return server_url

    @staticmethod
    def usage(reply: Reply, *, output: bool = True) -> dict[str, Any]:
        return {
            "input_tokens": reply.prompt_tokens,
            "output_tokens": reply.completion_tokens if output else 1,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }

    def message(self, reply: Reply, *, unknown_fields: bool = False) -> dict[str, Any]:
        """The non-streaming ``Message`` body for ``reply``."""
        content: list[dict[str, Any]] = []
        if reply.text:
            content.append({"type": "text", "text": reply.text})
        stop = "end_turn"
        if reply.tool_call:
            call_id, name, arguments = reply.tool_call
            content.append({"type": "tool_use", "id": call_id, "name": name, "input": arguments})
            stop = "tool_use"
        body: dict[str, Any] = {
            "id": "msg_conformance",
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": self.usage(reply),
        }
        if unknown_fields:
            body["x_unknown_top"] = {"nested": [1]}
            body["usage"]["x_unknown_usage"] = 2
            for block in content:
                block["x_unknown_block"] = True
        return body

    def reply(self, reply: Reply, *, unknown_fields: bool = False) -> FakeResponse:
        return FakeResponse.json(self.message(reply, unknown_fields=unknown_fields), headers={"request-id": "req_1"})

    def events(self, reply: Reply, *, unknown_fields: bool = False) -> list[tuple[str, dict[str, Any]]]:
        """The ``(event, data)`` pairs of the streamed answer."""
        start = self.message(reply)
        start.update(content=[], stop_reason=None, usage=self.usage(reply, output=False))
        events: list[tuple[str, dict[str, Any]]] = [("message_start", {"type": "message_start", "message": start})]
        events.append(("ping", {"type": "ping"}))
        index = 0
        if reply.text:
            events.append(
                (
                    "content_block_start",
                    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                )
            )
            third = max(1, len(reply.text) // 3)
            for piece in (reply.text[:third], reply.text[third : 2 * third], reply.text[2 * third :]):
                if piece:
                    delta = {"type": "text_delta", "text": piece}
                    events.append(("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}))
            events.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
            index = 1
        stop = "end_turn"
        if reply.tool_call:
            call_id, name, arguments = reply.tool_call
            block = {"type": "tool_use", "id": call_id, "name": name, "input": {}}
            events.append(
                ("content_block_start", {"type": "content_block_start", "index": index, "content_block": block})
            )
            text = json.dumps(arguments)
            for piece in (text[: len(text) // 2], text[len(text) // 2 :]):
                delta = {"type": "input_json_delta", "partial_json": piece}
                events.append(("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}))
            events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
            stop = "tool_use"
        events.append(
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": stop, "stop_sequence": None},
                    "usage": {"output_tokens": reply.completion_tokens},
                },
            )
        )
        events.append(("message_stop", {"type": "message_stop"}))
        if unknown_fields:
            for _, data in events:
                data["x_unknown_event_field"] = {"a": 1}
            events.insert(2, ("brand_new_event", {"type": "brand_new_event", "value": 1}))
        return events

    def stream(self, reply: Reply, *, unknown_fields: bool = False) -> FakeResponse:
        items: list[SSEItem] = list(self.events(reply, unknown_fields=unknown_fields))
        return FakeResponse.sse(items, done=False)

    def error_body(self, status: int) -> dict[str, Any]:
        kind = ERROR_TYPES.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": f"simulated {status}"}, "request_id": "req_err"}

    def error(self, status: int) -> FakeResponse:
        return FakeResponse.json(self.error_body(status), status=status, headers={"retry-after": "0"})

    def malformed_replies(self) -> list[FakeResponse]:
        return [
            *super().malformed_replies(),
            FakeResponse.json({"type": "message", "content": "nope"}),
            FakeResponse.json({"type": "message", "content": [{"type": "text", "text": 5}]}),
            FakeResponse.json(
                {"type": "message", "content": [{"type": "tool_use", "id": "t", "name": "n", "input": 3}]}
            ),
            FakeResponse.json({"type": "message", "content": [7]}),
        ]

    def malformed_streams(self) -> list[FakeResponse]:
        start = {"type": "message_start", "message": self.message(Reply(text="x"))}
        delta = {"type": "content_block_delta", "index": 4, "delta": {"type": "text_delta", "text": "x"}}
        bad_text = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": 42}}
        block = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
        return [
            *super().malformed_streams(),
            FakeResponse.sse([("message_start", start), ("content_block_delta", delta)], done=False),
            FakeResponse.sse(
                [("message_start", start), ("content_block_start", block), ("content_block_delta", bad_text)],
                done=False,
            ),
            FakeResponse.sse([("message_start", {"type": "message_start", "message": "nope"})], done=False),
            FakeResponse.sse([("message_start", start)], done=False),  # ends before message_stop
        ]

    def tool_history(self, body: Any, call_id: str, name: str, arguments: dict[str, Any], result: str) -> None:
        messages = body["messages"]
        uses = [b for m in messages if m["role"] == "assistant" for b in m["content"] if b["type"] == "tool_use"]
        assert uses == [{"type": "tool_use", "id": call_id, "name": name, "input": arguments}]
        results = [b for m in messages if m["role"] == "user" for b in m["content"] if b["type"] == "tool_result"]
        assert results == [{"type": "tool_result", "tool_use_id": call_id, "content": result}]
        assert [m["role"] for m in messages] == ["user", "assistant", "user"]


SIMULATOR = ClaudeSimulator()


class TestClaudeConformance(ProviderConformance):
    simulator = SIMULATOR


# --- the simulator's payloads follow the vendor's contract ------------------------------------


@pytest.mark.parametrize(
    "reply", [Reply(text="Sunny."), Reply(tool_call=("toolu_01", "get_weather", {"city": "Paris"}))]
)
def test_simulated_replies_follow_the_spec(anthropic: Any, reply: Reply) -> None:
    anthropic.check("Message", SIMULATOR.message(reply))
    for _, data in SIMULATOR.events(reply):
        if data["type"] != "ping":  # ping is not in the 2024 MessageStreamEvent union
            anthropic.check("MessageStreamEvent", data)


NEWER_ERROR_TYPES = ("billing_error", "request_too_large")  # not in the 2024 spec's error union


@pytest.mark.parametrize("status", sorted(s for s, kind in ERROR_TYPES.items() if kind not in NEWER_ERROR_TYPES))
def test_simulated_errors_follow_the_spec(anthropic: Any, status: int) -> None:
    anthropic.check("ErrorResponse", SIMULATOR.error_body(status))
