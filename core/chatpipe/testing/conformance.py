"""The conformance suites: behaviour every provider adapter and every converter must share.

The converter suite is :class:`~chatpipe.testing.converter_conformance.ConverterConformance`
(re-exported here); the rest of this module is the provider suite.

A plugin author describes their vendor's wire format once, as a :class:`VendorSimulator`
(vendor-shaped replies for a handful of scenarios), and subclasses
:class:`ProviderConformance`; pytest then runs every check against a real
:class:`~chatpipe.testing.FakeServer` on 127.0.0.1 through a real
:class:`~chatpipe.Pipeline`::

    from chatpipe.testing.conformance import ProviderConformance, OpenAISimulator

    class TestAcmeConformance(ProviderConformance):
        simulator = OpenAISimulator(provider="acme", chat_path="/v1/chat/completions")

What is checked:

* stream and non-stream replies to the same conversation give the same final text, tool
  calls, usage and finish reason;
* a tool call comes back complete (id, name, JSON arguments), and a conversation that
  carries the call and its result is sent in the vendor's own shape
  (:meth:`VendorSimulator.tool_history`);
* each error status maps to its typed error, with provider and status set;
* unknown extra fields in replies are tolerated;
* malformed payloads give :class:`~chatpipe.errors.ProtocolError`, never another exception.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, ClassVar

import attrs
import pytest

from ..errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    ProtocolError,
    ProviderError,
    RateLimitError,
    ServerError,
)
from .converter_conformance import ConverterConformance
from .fake_server import FakeResponse, FakeServer, SSEItem

__all__ = [
    "ERROR_CLASSES",
    "ConverterConformance",
    "OpenAISimulator",
    "ProviderConformance",
    "Reply",
    "VendorSimulator",
    "split_text",
]

ERROR_CLASSES: dict[int, type[ProviderError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: BadRequestError,
    429: RateLimitError,
    500: ServerError,
    503: OverloadedError,
}
"""The typed error each status must map to (a simulator may add vendor statuses)."""

TOOL_NAME = "get_weather"
TOOL_ARGUMENTS = {"city": "Paris"}
TOOL_SCHEMA = {
    "type": "function",
    "function": {
        "name": TOOL_NAME,
        "description": "Current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@attrs.frozen
class Reply:
    """A scenario's content: text or one tool call, and the usage the vendor reports."""

    text: str = ""
    tool_call: tuple[str, str, dict[str, Any]] | None = None
    prompt_tokens: int = 11
    completion_tokens: int = 7


class VendorSimulator:
    """Vendor-shaped payloads for the conformance suite. Subclass per wire format.

    ``provider`` is the registered provider name; ``chat_route`` the ``"METHOD /path"`` the
    adapter posts to when the pipeline's base URL is the fake server's
    :meth:`base_url`; ``stream_route`` the one it posts streams to, when that is another
    (Gemini's ``:streamGenerateContent``; ``None``: the chat route); ``extra_statuses`` adds
    vendor statuses to :data:`ERROR_CLASSES`.
    """

    provider: str
    chat_route: str
    stream_route: str | None = None
    model: str = "test-model"
    converters: tuple[str, ...] = ()
    supports_tools: bool = True
    extra_statuses: ClassVar[dict[int, type[ProviderError]]] = {}

    @property
    def stream_target(self) -> str:
        """The route streamed requests go to (:attr:`stream_route`, else :attr:`chat_route`)."""
        return self.stream_route or self.chat_route

    def base_url(self, server_url: str) -> str:
        """The base URL to configure for a server at ``server_url`` (default: ``{url}/v1``)."""
        return f"{server_url}/v1"

    def pipeline_kwargs(self) -> dict[str, Any]:
        """Extra Pipeline arguments (options, params) the provider needs in tests."""
        return {}

    def reply(self, reply: Reply, *, unknown_fields: bool = False) -> FakeResponse:
        """The non-streaming answer carrying ``reply``; with ``unknown_fields``, sprinkle
        fields the adapter cannot know at every level of the payload."""
        raise NotImplementedError

    def stream(self, reply: Reply, *, unknown_fields: bool = False) -> FakeResponse:
        """The streamed answer carrying ``reply`` (text split in several deltas, tool-call
        arguments split in several fragments where the vendor does that)."""
        raise NotImplementedError

    def error(self, status: int) -> FakeResponse:
        """An error response with ``status`` in the vendor's error envelope."""
        raise NotImplementedError

    def malformed_replies(self) -> list[FakeResponse]:
        """Non-streaming 200 answers that are malformed (each must raise ProtocolError)."""
        return [
            FakeResponse.text("{not json", content_type="application/json"),
            FakeResponse.json([1, 2, 3]),
            FakeResponse.text("<html><body>oops</body></html>", content_type="text/html"),
        ]

    def malformed_streams(self) -> list[FakeResponse]:
        """Streamed 200 answers with malformed events (each must raise ProtocolError)."""
        return [FakeResponse.sse(["{not json"], done=False)]

    def tool_history(self, body: Any, call_id: str, name: str, arguments: dict[str, Any], result: str) -> None:
        """Assert that request ``body`` carries the assistant's call and the tool's result."""
        raise NotImplementedError


class OpenAISimulator(VendorSimulator):
    """The OpenAI chat-completions wire format (OpenAI, DeepSeek, Fireworks, custom...)."""

    def __init__(
        self,
        provider: str,
        chat_path: str = "/v1/chat/completions",
        *,
        base_path: str = "/v1",
        converters: tuple[str, ...] = (),
        stream_usage_in_every_chunk: bool = False,
        done_marker: bool = True,
        supports_tools: bool = True,
        kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.provider = provider
        self.chat_route = f"POST {chat_path}"
        self.base_path = base_path
        self.converters = converters
        self.every_chunk_usage = stream_usage_in_every_chunk
        self.done_marker = done_marker
        self.supports_tools = supports_tools
        self._kwargs = kwargs or {}

    def base_url(self, server_url: str) -> str:
        return f"{server_url}{self.base_path}"

    def pipeline_kwargs(self) -> dict[str, Any]:
        return dict(self._kwargs)

    @staticmethod
    def _usage(reply: Reply) -> dict[str, int]:
        return {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        }

    def reply(self, reply: Reply, *, unknown_fields: bool = False) -> FakeResponse:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
        finish = "stop"
        if reply.tool_call:
            call_id, name, arguments = reply.tool_call
            message["tool_calls"] = [
                {"id": call_id, "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
            ]
            finish = "tool_calls"
        body: dict[str, Any] = {
            "id": "chatcmpl-conformance",
            "object": "chat.completion",
            "created": 1,
            "model": "test-model",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": self._usage(reply),
        }
        if unknown_fields:
            body["x_unknown_top"] = {"nested": [1, 2]}
            body["choices"][0]["x_unknown_choice"] = True
            message["x_unknown_message"] = "kept"
            body["usage"]["x_unknown_usage"] = 3
        return FakeResponse.json(body)

    def stream(self, reply: Reply, *, unknown_fields: bool = False) -> FakeResponse:
        def chunk(delta: dict[str, Any], finish: str | None = None, usage: bool = False) -> dict[str, Any]:
            out: dict[str, Any] = {
                "id": "chatcmpl-conformance",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": "test-model",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            if usage or self.every_chunk_usage:
                out["usage"] = self._usage(reply)
            if unknown_fields:
                out["x_unknown_chunk"] = {"a": 1}
                delta["x_unknown_delta"] = 1
            return out

        events: list[SSEItem] = [chunk({"role": "assistant", "content": ""})]
        for piece in split_text(reply.text):
            events.append(chunk({"content": piece}))
        finish = "stop"
        if reply.tool_call:
            call_id, name, arguments = reply.tool_call
            text = json.dumps(arguments)
            half = len(text) // 2
            events.append(
                chunk(
                    {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": call_id,
                                "type": "function",
                                "function": {"name": name, "arguments": text[:half]},
                            }
                        ]
                    }
                )
            )
            events.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": text[half:]}}]}))
            finish = "tool_calls"
        events.append(chunk({}, finish=finish))
        if not self.every_chunk_usage:
            final = chunk({}, usage=True)
            final["choices"] = []
            events.append(final)
        return FakeResponse.sse(events, done=self.done_marker)

    def error(self, status: int) -> FakeResponse:
        kinds = {401: "authentication_error", 429: "rate_limit_error", 400: "invalid_request_error"}
        return FakeResponse.json(
            {"error": {"message": f"simulated {status}", "type": kinds.get(status, "api_error"), "code": None}},
            status=status,
            headers={"Retry-After": "0"},
        )

    def malformed_replies(self) -> list[FakeResponse]:
        return [
            *super().malformed_replies(),
            FakeResponse.json({"id": "x", "choices": "nope"}),
            FakeResponse.json({"id": "x", "choices": [{"index": 0, "message": {"role": "assistant", "content": 5}}]}),
        ]

    def malformed_streams(self) -> list[FakeResponse]:
        return [
            *super().malformed_streams(),
            FakeResponse.sse([{"choices": [{"index": 0, "delta": {"content": 42}}]}]),
            FakeResponse.sse([{"choices": "nope"}]),
        ]

    def tool_history(self, body: Any, call_id: str, name: str, arguments: dict[str, Any], result: str) -> None:
        messages = body["messages"]
        calls = [c for m in messages for c in (m.get("tool_calls") or [])]
        assert [(c["id"], c["function"]["name"], json.loads(c["function"]["arguments"])) for c in calls] == [
            (call_id, name, arguments)
        ]
        results = [m for m in messages if m["role"] == "tool"]
        assert [(m["tool_call_id"], m["content"]) for m in results] == [(call_id, result)]


def split_text(text: str) -> list[str]:
    """``text`` in three uneven pieces (or none), as a vendor would stream it."""
    if not text:
        return []
    third = max(1, len(text) // 3)
    return [p for p in (text[:third], text[third : 2 * third], text[2 * third :]) if p]


class ProviderConformance:
    """Subclass with ``simulator = ...``; pytest runs each ``test_*`` method below."""

    simulator: ClassVar[VendorSimulator]

    @pytest.fixture
    def server(self) -> Iterator[FakeServer]:
        with FakeServer() as server:
            yield server

    def pipeline(self, server: FakeServer, **overrides: Any) -> Any:
        from ..pipeline import Pipeline

        sim = self.simulator
        kwargs: dict[str, Any] = {
            "model": sim.model,
            "base_url": sim.base_url(server.url),
            "api_key": "sk-conformance-0000",
            "converters": list(sim.converters),
            "max_retries": 0,
            **sim.pipeline_kwargs(),
            **overrides,
        }
        return Pipeline(sim.provider, **kwargs)

    conversation: ClassVar[list[dict[str, Any]]] = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is the weather in Paris?"},
    ]

    def _both(self, server: FakeServer, reply: Reply, **call: Any) -> tuple[Any, Any]:
        sim = self.simulator
        server.enqueue(sim.chat_route, sim.reply(reply))
        server.enqueue(sim.stream_target, sim.stream(reply))
        pipe = self.pipeline(server)
        complete = pipe.complete(self.conversation, **call)
        streamed = pipe.stream(self.conversation, **call).collect()
        return complete, streamed

    def test_stream_and_non_stream_agree_on_text(self, server: FakeServer) -> None:
        complete, streamed = self._both(server, Reply(text="It is sunny in Paris today."))
        assert complete.text == streamed.text == "It is sunny in Paris today."
        assert complete.finish_reason == streamed.finish_reason == "stop"
        for response in (complete, streamed):
            assert response.usage is not None
            assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (11, 7)
        assert complete.tool_calls == streamed.tool_calls == ()

    def _needs_tools(self) -> None:
        if not self.simulator.supports_tools:
            pytest.skip(f"{self.simulator.provider} does not take tools")

    def test_stream_and_non_stream_agree_on_tool_calls(self, server: FakeServer) -> None:
        self._needs_tools()
        reply = Reply(tool_call=("call_abc123", TOOL_NAME, TOOL_ARGUMENTS))
        complete, streamed = self._both(server, reply, tools=[TOOL_SCHEMA])
        for response in (complete, streamed):
            (call,) = response.tool_calls
            assert call.function.name == TOOL_NAME
            assert json.loads(call.function.arguments) == TOOL_ARGUMENTS
            assert call.id
            assert response.finish_reason == "tool_calls"
        assert complete.tool_calls[0].id == streamed.tool_calls[0].id
        assert complete.usage is not None and streamed.usage is not None
        assert complete.usage.completion_tokens == streamed.usage.completion_tokens

    def test_tool_call_round_trip(self, server: FakeServer) -> None:
        self._needs_tools()
        sim = self.simulator
        reply = Reply(tool_call=("call_abc123", TOOL_NAME, TOOL_ARGUMENTS))
        server.enqueue(sim.chat_route, sim.reply(reply), sim.reply(Reply(text="Sunny, 18 C.")))
        pipe = self.pipeline(server)
        first = pipe.complete(self.conversation, tools=[TOOL_SCHEMA])
        (call,) = first.tool_calls
        history = [
            *self.conversation,
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.function.name, "arguments": call.function.arguments},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": call.id, "content": "18 C and sunny"},
        ]
        second = pipe.complete(history, tools=[TOOL_SCHEMA])
        assert second.text == "Sunny, 18 C."
        sim.tool_history(server.requests[-1].json, call.id, TOOL_NAME, TOOL_ARGUMENTS, "18 C and sunny")

    def test_error_statuses_map_to_typed_errors(self, server: FakeServer) -> None:
        sim = self.simulator
        table = {**ERROR_CLASSES, **sim.extra_statuses}
        pipe = self.pipeline(server)
        for status, expected in table.items():
            server.enqueue(sim.chat_route, sim.error(status))
            with pytest.raises(expected) as info:
                pipe.complete(self.conversation)
            assert info.value.status == status, f"status {status}"
            assert info.value.provider == sim.provider
            assert "sk-conformance-0000" not in str(info.value)
            server.enqueue(sim.stream_target, sim.error(status))
            with pytest.raises(expected):
                pipe.stream(self.conversation).collect()

    def test_unknown_fields_are_tolerated(self, server: FakeServer) -> None:
        sim = self.simulator
        reply = Reply(text="Fine.")
        server.enqueue(sim.chat_route, sim.reply(reply, unknown_fields=True))
        server.enqueue(sim.stream_target, sim.stream(reply, unknown_fields=True))
        pipe = self.pipeline(server)
        assert pipe.complete(self.conversation).text == "Fine."
        assert pipe.stream(self.conversation).collect().text == "Fine."

    def test_malformed_payloads_are_protocol_errors(self, server: FakeServer) -> None:
        sim = self.simulator
        pipe = self.pipeline(server)
        for bad in sim.malformed_replies():
            server.enqueue(sim.chat_route, bad)
            with pytest.raises(ProtocolError):
                pipe.complete(self.conversation)
        for bad in sim.malformed_streams():
            server.enqueue(sim.stream_target, bad)
            with pytest.raises(ProtocolError):
                pipe.stream(self.conversation).collect()
