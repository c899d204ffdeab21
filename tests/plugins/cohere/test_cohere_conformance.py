"""The cohere provider passes the shared conformance suite against a Cohere-shaped simulator,
and the simulator's replies, stream events and error bodies follow Cohere's own spec."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest
from chatpipe.errors import APIStatusError, AuthenticationError, ProviderError, ServerError
from chatpipe.pipeline import Pipeline
from chatpipe.testing.conformance import ProviderConformance, Reply, VendorSimulator, split_text
from chatpipe.testing.fake_server import FakeResponse, FakeServer, SSEItem

PLAN = "I will look up the weather for the city."
EVENT_SCHEMAS = {
    "message-start": "ChatMessageStartEvent",
    "content-start": "ChatContentStartEvent",
    "content-delta": "ChatContentDeltaEvent",
    "content-end": "ChatContentEndEvent",
    "tool-plan-delta": "ChatToolPlanDeltaEvent",
    "tool-call-start": "ChatToolCallStartEvent",
    "tool-call-delta": "ChatToolCallDeltaEvent",
    "tool-call-end": "ChatToolCallEndEvent",
    "citation-start": "CitationStartEvent",
    "citation-end": "CitationEndEvent",
    "message-end": "ChatMessageEndEvent",
    "debug": "ChatDebugEvent",
}
"""Each stream event type and its schema in Cohere's spec."""

DOCUMENTS = [{"id": "doc-1", "data": {"title": "Paris weather", "snippet": "Paris is sunny today."}}]
CITATION = {
    "start": 0,
    "end": 5,
    "text": "Sunny",
    "type": "TEXT_CONTENT",
    "content_index": 0,
    "sources": [{"type": "document", "id": "doc-1", "document": {"id": "doc-1", "title": "Paris weather"}}],
}


class CohereSimulator(VendorSimulator):
    """Cohere's v2 chat wire format: ``ChatResponseV2`` bodies, typed SSE events, ``{message, id}`` errors."""

    provider = "cohere"
    chat_route = "POST /v2/chat"
    model = "command-a-03-2025"
    extra_statuses: ClassVar[dict[int, type[ProviderError]]] = {
        498: AuthenticationError,
        499: APIStatusError,
        501: ServerError,
        504: ServerError,
    }

    def base_url(self, server_url: str) -> str:
        return server_url

    @staticmethod
    def usage(reply: Reply) -> dict[str, Any]:
        tokens = {"input_tokens": reply.prompt_tokens, "output_tokens": reply.completion_tokens}
        return {"billed_units": dict(tokens), "tokens": tokens, "cached_tokens": 0}

    def body(self, reply: Reply, *, citations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The ``ChatResponseV2`` for ``reply``."""
        message: dict[str, Any] = {"role": "assistant"}
        finish = "COMPLETE"
        if reply.text:
            message["content"] = [{"type": "text", "text": reply.text}]
        if reply.tool_call:
            call_id, name, arguments = reply.tool_call
            message["tool_plan"] = PLAN
            message["tool_calls"] = [
                {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
            ]
            finish = "TOOL_CALL"
        if citations:
            message["citations"] = citations
        return {"id": "5f1e0c6e-conformance", "finish_reason": finish, "message": message, "usage": self.usage(reply)}

    def reply(self, reply: Reply, *, unknown_fields: bool = False) -> FakeResponse:
        body = self.body(reply)
        if unknown_fields:
            body["x_unknown_top"] = {"nested": [1, 2]}
            body["message"]["x_unknown_message"] = "kept"
            body["message"].setdefault("content", []).append({"type": "x-future-block", "data": 1})
            body["usage"]["x_unknown_usage"] = 3
        return FakeResponse.json(body)

    def events(
        self, reply: Reply, *, unknown_fields: bool = False, citations: list[dict[str, Any]] | None = None
    ) -> list[SSEItem]:
        """The stream events for ``reply`` as ``(type, data)`` pairs."""

        def event(kind: str, **fields: Any) -> SSEItem:
            data = {"type": kind, **fields}
            if unknown_fields:
                data["x_unknown_event"] = {"a": 1}
            return (kind, data)

        def message(**fields: Any) -> dict[str, Any]:
            return {"message": fields}

        out = [event("message-start", id="5f1e0c6e-conformance", delta=message(role="assistant"))]
        if unknown_fields:
            out.append(event("debug", prompt="<internal>"))
            out.append(event("x-future-event", something=True))
        if reply.text:
            out.append(event("content-start", index=0, delta=message(content={"type": "text", "text": ""})))
            out += [event("content-delta", index=0, delta=message(content={"text": p})) for p in split_text(reply.text)]
            out.append(event("content-end", index=0))
        for i, citation in enumerate(citations or []):
            out.append(event("citation-start", index=i, delta=message(citations=citation)))
            out.append(event("citation-end", index=i))
        finish = "COMPLETE"
        if reply.tool_call:
            call_id, name, arguments = reply.tool_call
            out += [event("tool-plan-delta", delta=message(tool_plan=p)) for p in split_text(PLAN)]
            text = json.dumps(arguments)
            half = len(text) // 2
            call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
            out.append(event("tool-call-start", index=0, delta=message(tool_calls=call)))
            for piece in (text[:half], text[half:]):
                fragment = {"function": {"arguments": piece}}
                out.append(event("tool-call-delta", index=0, delta=message(tool_calls=fragment)))
            out.append(event("tool-call-end", index=0))
            finish = "TOOL_CALL"
        out.append(
            event("message-end", id="5f1e0c6e-conformance", delta={"finish_reason": finish, "usage": self.usage(reply)})
        )
        return out

    def stream(self, reply: Reply, *, unknown_fields: bool = False) -> FakeResponse:
        return FakeResponse.sse(self.events(reply, unknown_fields=unknown_fields), done=True)

    @staticmethod
    def error_body(status: int) -> dict[str, str]:
        return {"message": f"simulated {status}", "id": "req-conformance-1"}

    def error(self, status: int) -> FakeResponse:
        return FakeResponse.json(self.error_body(status), status=status, headers={"Retry-After": "0"})

    def malformed_replies(self) -> list[FakeResponse]:
        return [
            *super().malformed_replies(),
            FakeResponse.json({"id": "x", "finish_reason": "COMPLETE", "message": "nope"}),
            FakeResponse.json({"id": "x", "message": {"role": "assistant", "content": 5}}),
            FakeResponse.json({"id": "x", "message": {"role": "assistant", "content": [{"type": "text", "text": 5}]}}),
            FakeResponse.json({"id": "x", "message": {"tool_calls": [{"id": "c", "function": {"arguments": "{}"}}]}}),
            FakeResponse.json({"id": "x", "message": {}, "usage": {"tokens": {"input_tokens": "many"}}}),
        ]

    def malformed_streams(self) -> list[FakeResponse]:
        start = ("message-start", {"type": "message-start", "id": "x"})
        return [
            *super().malformed_streams(),
            FakeResponse.sse([start, {"type": "content-delta", "delta": {"message": {"content": {"text": 42}}}}]),
            FakeResponse.sse([start, {"type": "content-delta", "delta": {"message": "nope"}}]),
            FakeResponse.sse([start, {"no_type": True}]),
            FakeResponse.sse(
                [start, {"type": "tool-call-start", "index": 0, "delta": {"message": {"tool_calls": {}}}}]
            ),
            FakeResponse.sse([start], done=False),
            FakeResponse.sse([start, [1, 2]], done=False),
        ]

    def tool_history(self, body: Any, call_id: str, name: str, arguments: dict[str, Any], result: str) -> None:
        messages = body["messages"]
        (assistant,) = [m for m in messages if m.get("tool_calls")]
        assert [
            (c["id"], c["function"]["name"], json.loads(c["function"]["arguments"])) for c in assistant["tool_calls"]
        ] == [(call_id, name, arguments)]
        assert assistant["tool_plan"] == f"I'm going to call a tool for that: {name}"
        results = [m for m in messages if m["role"] == "tool"]
        assert [(m["tool_call_id"], m["content"]) for m in results] == [(call_id, result)]


SIMULATOR = CohereSimulator()


class TestCohereConformance(ProviderConformance):
    simulator = SIMULATOR


# --- the simulator follows Cohere's spec -----------------------------------------------------

REPLIES = {
    "text": Reply(text="It is sunny in Paris today."),
    "tool call": Reply(tool_call=("call_abc123", "get_weather", {"city": "Paris"})),
    "text and tool call": Reply(text="Checking.", tool_call=("call_abc123", "get_weather", {"city": "Paris"})),
}


def decode_sse(response: FakeResponse) -> list[Any]:
    """The JSON data of each event a FakeResponse.sse sends (``[DONE]`` kept as the string)."""
    out = []
    for chunk in response.chunks:
        data = "\n".join(line[6:] for line in chunk.decode().splitlines() if line.startswith("data: "))
        out.append(data if data == "[DONE]" else json.loads(data))
    return out


@pytest.mark.parametrize("name", sorted(REPLIES))
def test_simulated_replies_follow_the_spec(cohere_spec: Any, name: str) -> None:
    spec = cohere_spec
    spec.check("ChatResponseV2", SIMULATOR.body(REPLIES[name]))
    spec.check("ChatResponseV2", SIMULATOR.body(REPLIES[name], citations=[CITATION]))


@pytest.mark.parametrize("name", sorted(REPLIES))
def test_simulated_stream_events_follow_the_spec(cohere_spec: Any, name: str) -> None:
    spec = cohere_spec
    stream = FakeResponse.sse(SIMULATOR.events(REPLIES[name], citations=[CITATION]), done=True)
    events = decode_sse(stream)
    assert events[-1] == "[DONE]"
    kinds = [event["type"] for event in events[:-1]]
    assert kinds[0] == "message-start" and kinds[-1] == "message-end"
    for event in events[:-1]:
        spec.check(EVENT_SCHEMAS[event["type"]], event)
        spec.check("StreamedChatResponseV2", event)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422, 429, 498, 499, 500, 501, 503, 504])
def test_simulated_error_bodies_follow_the_spec(cohere_spec: Any, status: int) -> None:
    spec = cohere_spec
    reference = spec.document["paths"]["/v2/chat"]["post"]["responses"][str(status)]["$ref"]
    spec.check(f"{reference}/content/application~1json/schema", SIMULATOR.error_body(status))


# --- documents and citations end to end -------------------------------------------------------


def test_documents_are_sent_and_citations_come_back_in_both_modes(fake_server: FakeServer) -> None:
    reply = Reply(text="Sunny in Paris.")
    fake_server.enqueue(
        SIMULATOR.chat_route,
        FakeResponse.json(SIMULATOR.body(reply, citations=[CITATION])),
        FakeResponse.sse(SIMULATOR.events(reply, citations=[CITATION, {**CITATION, "start": 6, "end": 8}])),
    )
    pipe = Pipeline("cohere", base_url=fake_server.url, api_key="co-test-key-000", max_retries=0)
    question = [{"role": "user", "content": "Weather in Paris?"}]
    complete = pipe.complete(question, documents=DOCUMENTS)
    streamed = pipe.stream(question, documents=DOCUMENTS).collect()
    assert [r.json["documents"] for r in fake_server.requests] == [DOCUMENTS, DOCUMENTS]
    assert complete.extra["citations"] == [CITATION]
    assert streamed.extra["citations"] == [CITATION, {**CITATION, "start": 6, "end": 8}]
    assert complete.text == streamed.text == "Sunny in Paris."


def test_tool_plan_reaches_the_message_in_both_modes_and_goes_back(fake_server: FakeServer) -> None:
    reply = REPLIES["tool call"]
    fake_server.enqueue(
        SIMULATOR.chat_route, SIMULATOR.reply(reply), SIMULATOR.stream(reply), SIMULATOR.reply(Reply(text="Sunny."))
    )
    pipe = Pipeline("cohere", base_url=fake_server.url, api_key="co-test-key-000", max_retries=0)
    question = [{"role": "user", "content": "Weather in Paris?"}]
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    complete = pipe.complete(question, tools=tools)
    streamed = pipe.stream(question, tools=tools).collect()
    assert complete.message.extra["tool_plan"] == streamed.message.extra["tool_plan"] == PLAN
    assert complete.message.content is None and streamed.message.content is None
    from chatpipe.wire import message_to_dict

    history = [
        *question,
        message_to_dict(complete.message),
        {"role": "tool", "tool_call_id": "call_abc123", "content": "18 C"},
    ]
    pipe.complete(history, tools=tools)
    sent = fake_server.requests[-1].json["messages"][1]
    assert sent["tool_plan"] == PLAN and "content" not in sent
