"""The gemini provider passes the shared provider conformance suite, with a simulator speaking
Gemini's wire format; the simulator's payloads and the adapter's requests are checked against
the (patched) vendor spec."""

from __future__ import annotations

import copy
import json
from typing import Any, ClassVar

import pytest
from chatpipe.errors import ProviderError
from chatpipe.testing.conformance import ProviderConformance, Reply, VendorSimulator
from chatpipe.testing.fake_server import FakeResponse, SSEItem
from chatpipe.testing.openapi import SpecValidator

STATUSES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    422: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class GeminiSimulator(VendorSimulator):
    """``generateContent`` / ``streamGenerateContent?alt=sse`` payloads (Gemini API, v1beta)."""

    provider = "gemini"
    model = "gemini-test"
    chat_route = "POST /v1beta/models/gemini-test:generateContent"
    stream_route = "POST /v1beta/models/gemini-test:streamGenerateContent"
    extra_statuses: ClassVar[dict[int, type[ProviderError]]] = {}

    def base_url(self, server_url: str) -> str:
        return server_url

    @staticmethod
    def usage(reply: Reply) -> dict[str, Any]:
        return {
            "promptTokenCount": reply.prompt_tokens,
            "candidatesTokenCount": reply.completion_tokens,
            "totalTokenCount": reply.prompt_tokens + reply.completion_tokens,
        }

    def parts(self, reply: Reply) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        if reply.text:
            parts.append({"text": reply.text})
        if reply.tool_call:
            _, name, arguments = reply.tool_call
            parts.append({"functionCall": {"name": name, "args": arguments}})
        return parts

    def response(self, reply: Reply, *, unknown_fields: bool = False) -> dict[str, Any]:
        """The non-streaming ``GenerateContentResponse`` for ``reply``."""
        body: dict[str, Any] = {
            "candidates": [
                {"content": {"role": "model", "parts": self.parts(reply)}, "finishReason": "STOP", "index": 0}
            ],
            "usageMetadata": self.usage(reply),
            "modelVersion": self.model,
            "responseId": "resp_conformance",
        }
        if unknown_fields:
            body["x_unknown_top"] = {"nested": [1]}
            body["usageMetadata"]["x_unknown_usage"] = 2
            body["candidates"][0]["x_unknown_candidate"] = True
            for part in body["candidates"][0]["content"]["parts"]:
                part["x_unknown_part"] = 1
        return body

    def reply(self, reply: Reply, *, unknown_fields: bool = False) -> FakeResponse:
        return FakeResponse.json(self.response(reply, unknown_fields=unknown_fields))

    def events(self, reply: Reply, *, unknown_fields: bool = False) -> list[dict[str, Any]]:
        """The ``data:`` payloads of the streamed answer (text in three pieces, the call whole)."""
        pieces = [p for p in (reply.text[:4], reply.text[4:10], reply.text[10:]) if p]
        events: list[dict[str, Any]] = [
            {"candidates": [{"content": {"role": "model", "parts": [{"text": p}]}, "index": 0}]} for p in pieces
        ]
        last_parts = self.parts(Reply(tool_call=reply.tool_call)) if reply.tool_call else [{"text": ""}]
        events.append(
            {
                "candidates": [{"content": {"role": "model", "parts": last_parts}, "finishReason": "STOP", "index": 0}],
                "usageMetadata": self.usage(reply),
                "modelVersion": self.model,
                "responseId": "resp_conformance",
            }
        )
        if unknown_fields:
            for event in events:
                event["x_unknown_event_field"] = {"a": 1}
                event["candidates"][0]["x_unknown_candidate"] = 2
        return events

    def stream(self, reply: Reply, *, unknown_fields: bool = False) -> FakeResponse:
        items: list[SSEItem] = [json.dumps(e) for e in self.events(reply, unknown_fields=unknown_fields)]
        return FakeResponse.sse(items, done=False)

    def error_body(self, status: int) -> dict[str, Any]:
        return {"error": {"code": status, "message": f"simulated {status}", "status": STATUSES.get(status, "UNKNOWN")}}

    def error(self, status: int) -> FakeResponse:
        return FakeResponse.json(self.error_body(status), status=status, headers={"retry-after": "0"})

    def malformed_replies(self) -> list[FakeResponse]:
        return [
            *super().malformed_replies(),
            FakeResponse.json({"candidates": "nope"}),
            FakeResponse.json({"candidates": []}),
            FakeResponse.json({"candidates": [{"content": {"parts": [{"text": 5}]}}]}),
            FakeResponse.json({"candidates": [{"content": {"parts": [{"functionCall": {"name": "f", "args": 3}}]}}]}),
            FakeResponse.json({"candidates": [7]}),
        ]

    def malformed_streams(self) -> list[FakeResponse]:
        text = {"candidates": [{"content": {"parts": [{"text": "x"}]}, "index": 0}]}
        return [
            *super().malformed_streams(),
            FakeResponse.sse([json.dumps({"candidates": [{"content": {"parts": [{"text": 42}]}}]})], done=False),
            FakeResponse.sse([json.dumps({"candidates": {"a": 1}})], done=False),
            FakeResponse.sse([json.dumps(text)], done=False),  # ends before any finishReason
            FakeResponse.sse([], done=False),
        ]

    def tool_history(self, body: Any, call_id: str, name: str, arguments: dict[str, Any], result: str) -> None:
        contents = body["contents"]
        assert [c["role"] for c in contents] == ["user", "model", "user"]
        assert contents[1]["parts"] == [{"functionCall": {"name": name, "args": arguments}}]
        assert contents[2]["parts"] == [{"functionResponse": {"name": name, "response": {"result": result}}}]
        assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}


SIMULATOR = GeminiSimulator()


class TestGeminiConformance(ProviderConformance):
    simulator = SIMULATOR


# --- the simulator's payloads follow the vendor's contract ------------------------------------


@pytest.mark.parametrize(
    "reply", [Reply(text="Sunny in Paris."), Reply(tool_call=("call_1", "get_weather", {"city": "Paris"}))]
)
def test_simulated_replies_follow_the_spec(gemini_spec: SpecValidator, reply: Reply) -> None:
    gemini_spec.check("GenerateContentResponse", SIMULATOR.response(reply))
    for event in SIMULATOR.events(reply):
        gemini_spec.check("GenerateContentResponse", event)


def test_the_patched_spec_rejects_fields_gemini_does_not_know(gemini_spec: SpecValidator) -> None:
    # the closed request objects make the request checks below meaningful
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    gemini_spec.check("GenerateContentRequest", body)
    for bad in (
        {**body, "messages": []},
        {"contents": [{"role": "user", "parts": [{"text": "hi", "name": "x"}]}]},
        {**body, "generationConfig": {"max_tokens": 5}},
        {**body, "tools": [{"functionDeclarations": [{"name": "f", "parameters": {"additionalProperties": False}}]}]},
    ):
        assert gemini_spec.errors("GenerateContentRequest", copy.deepcopy(bad))
