"""Anthropic-style (Messages API) answers for tests: streamed events and their non-streaming twin.

:class:`AnthropicEvents` builds a reply block by block and renders it either as the
``message_start`` … ``message_stop`` server-sent events of a stream or as the ``Message``
body of a non-streaming answer, ready for :class:`~chatpipe.testing.FakeServer` or
:class:`~chatpipe.testing.MockTransport`::

    reply = AnthropicEvents().text("It is sunny.").tool_use("toolu_1", "get_weather", {"city": "Paris"})
    server.enqueue("POST /v1/messages", reply.response(), reply.sse())

Text is streamed in several ``text_delta`` pieces and tool input in several
``input_json_delta`` fragments, as the vendor does; the stop reason is ``tool_use`` when
the reply holds a tool call, else ``end_turn`` (override with :meth:`stop_reason`).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ..errors import InvalidRequestError
from .fake_server import FakeResponse, SSEItem

__all__ = ["ERROR_TYPES", "AnthropicEvents"]

ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
"""The ``error.type`` Anthropic sends with each status (others get ``api_error``)."""


def _pieces(text: str, count: int) -> list[str]:
    size = max(1, -(-len(text) // max(1, count)))
    return [text[i : i + size] for i in range(0, len(text), size)]


class AnthropicEvents:
    """A Messages API reply under construction; every adder returns ``self`` for chaining.

    ``input_tokens`` / ``output_tokens`` are the usage reported; ``pieces`` is how many
    deltas each text or tool input is streamed in.
    """

    def __init__(
        self,
        *,
        model: str = "claude-test",
        message_id: str = "msg_test",
        input_tokens: int = 11,
        output_tokens: int = 7,
        pieces: int = 3,
    ) -> None:
        self.model = model
        self.message_id = message_id
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
        self.pieces = pieces
        self.blocks: list[dict[str, Any]] = []
        self._stop: str | None = None

    def text(self, text: str) -> AnthropicEvents:
        """Add a text block."""
        if not isinstance(text, str):
            raise InvalidRequestError(f"AnthropicEvents.text() needs a string, got {type(text).__name__}")
        self.blocks.append({"type": "text", "text": text})
        return self

    def tool_use(self, call_id: str, name: str, arguments: dict[str, Any]) -> AnthropicEvents:
        """Add a ``tool_use`` block calling ``name`` with ``arguments`` (a JSON object)."""
        if not isinstance(arguments, dict):
            raise InvalidRequestError(f"tool_use arguments must be a dict, got {type(arguments).__name__}")
        self.blocks.append({"type": "tool_use", "id": call_id, "name": name, "input": arguments})
        return self

    def stop_reason(self, reason: str) -> AnthropicEvents:
        """Set the stop reason (``end_turn``, ``max_tokens``, ``stop_sequence``, ``tool_use``...)."""
        self._stop = reason
        return self

    @property
    def final_stop_reason(self) -> str:
        """The stop reason sent: the one set, else ``tool_use`` with a tool call, else ``end_turn``."""
        if self._stop is not None:
            return self._stop
        return "tool_use" if any(b["type"] == "tool_use" for b in self.blocks) else "end_turn"

    def _usage(self, output_tokens: int) -> dict[str, int]:
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": output_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }

    def message(self) -> dict[str, Any]:
        """The non-streaming ``Message`` body."""
        return {
            "id": self.message_id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": copy.deepcopy(self.blocks),
            "stop_reason": self.final_stop_reason,
            "stop_sequence": None,
            "usage": self._usage(self.output_tokens),
        }

    def events(self) -> list[tuple[str, dict[str, Any]]]:
        """The streamed ``(event name, data)`` pairs, ``message_start`` to ``message_stop``."""
        start = {**self.message(), "content": [], "stop_reason": None, "usage": self._usage(1)}
        out: list[tuple[str, dict[str, Any]]] = [("message_start", {"type": "message_start", "message": start})]
        out.append(("ping", {"type": "ping"}))
        for index, block in enumerate(self.blocks):
            if block["type"] == "text":
                opened: dict[str, Any] = {"type": "text", "text": ""}
                deltas = [{"type": "text_delta", "text": p} for p in _pieces(block["text"], self.pieces)]
            else:
                opened = {**block, "input": {}}
                raw = json.dumps(block["input"])
                deltas = [{"type": "input_json_delta", "partial_json": p} for p in _pieces(raw, self.pieces)]
            out.append(
                ("content_block_start", {"type": "content_block_start", "index": index, "content_block": opened})
            )
            out.extend(
                ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d}) for d in deltas
            )
            out.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
        delta = {"stop_reason": self.final_stop_reason, "stop_sequence": None}
        usage = {"output_tokens": self.output_tokens}
        out.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}))
        out.append(("message_stop", {"type": "message_stop"}))
        return out

    def response(self, **headers: str) -> FakeResponse:
        """The non-streaming answer (``application/json``)."""
        return FakeResponse.json(self.message(), headers={"request-id": "req_test", **headers})

    def sse(self, **kwargs: Any) -> FakeResponse:
        """The streamed answer; ``kwargs`` go to :meth:`FakeResponse.sse` (``delay``, ``cut_after``...)."""
        items: list[SSEItem] = list(self.events())
        return FakeResponse.sse(items, done=False, **kwargs)

    @staticmethod
    def error(status: int, message: str = "simulated error") -> FakeResponse:
        """An error answer in Anthropic's envelope (``{"type": "error", "error": {...}}``)."""
        body = {"type": "error", "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message}}
        return FakeResponse.json(body, status=status, headers={"retry-after": "0"})
