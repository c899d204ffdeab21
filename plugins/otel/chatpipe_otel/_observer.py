"""The observer: one OpenTelemetry span per chat call, from chatpipe's call hooks.

A span starts at ``chatpipe_call_started`` (kind CLIENT, named ``chat {model}``, a child of
whatever span is current then) and ends at ``chatpipe_call_finished`` or
``chatpipe_call_failed``. Retries are events on it; so are a wait for room in the profile's
rate limits and the first token of a stream. Through
a router each target tried is its own span (all with the router's ``chatpipe.call.id``); the
span of the target tried after a failure carries a ``chatpipe.router.hop`` event and a link
to the failed target's span. No parent span covers the routed call: the hooks have no event
that ends it (a target's failure does not say whether another is tried).
"""

from __future__ import annotations

import contextvars
import threading
from collections import OrderedDict
from typing import Any

from chatpipe.plugin import CallInfo, ChatResponse, HttpRequest, ProviderError, hookimpl
from opentelemetry import trace
from opentelemetry.trace import Link, Span, SpanContext, SpanKind, Status, StatusCode

from . import _names as n
from ._content import capture_from_env, input_attributes, output_messages

__all__ = ["OtelObserver"]

SCOPE = "chatpipe_otel"
VERSION = "0.1.0"
_MAX_DESCRIPTION = 200


class OtelObserver:
    """Spans of chat calls through the OpenTelemetry API (the SDK and exporter are the user's).

    :param tracer_provider: Where the tracer comes from; ``None`` is the global one
        (``opentelemetry.trace.set_tracer_provider``), looked up when a span starts, so a provider
        set after this observer is made is used.
    :param capture_content: Record prompts and replies (``gen_ai.input.messages``,
        ``gen_ai.output.messages``, ``gen_ai.system_instructions``); ``None`` reads the opt-in
        environment variables (:func:`~chatpipe_otel._content.capture_from_env`). Off by default.
    :param max_open: Spans kept open at most; a stream closed before its end reports neither
        finish nor failure, so beyond this many the oldest open span is ended with
        ``chatpipe.abandoned=true``.
    """

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        *,
        capture_content: bool | None = None,
        max_open: int = 10_000,
    ) -> None:
        if max_open < 1:
            raise ValueError(f"max_open must be at least 1, not {max_open}")
        self._tracer = trace.get_tracer(SCOPE, VERSION, tracer_provider=tracer_provider)
        self.capture_content = capture_from_env() if capture_content is None else capture_content
        self._max_open = max_open
        self._open: OrderedDict[tuple[str, str | None], Span] = OrderedDict()
        self._failed: OrderedDict[str, SpanContext] = OrderedDict()  # routed targets that failed, for links
        self._hops: dict[str, tuple[SpanContext | None, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._current: contextvars.ContextVar[Span | None] = contextvars.ContextVar("chatpipe_otel_span", default=None)

    @hookimpl
    def chatpipe_call_started(self, call: CallInfo) -> None:
        attributes: dict[str, Any] = {
            n.OPERATION: "chat",
            n.PROVIDER: n.provider_name(call.provider),
            n.REQUEST_MODEL: call.model,
            n.CHATPIPE_PROVIDER: call.provider,
            n.CALL_ID: call.id,
            n.STREAM: call.stream,
        }
        attributes.update(
            _present(
                (n.SERVER_ADDRESS, call.server_address),
                (n.SERVER_PORT, call.server_port),
                (n.PROFILE, call.profile),
                (n.ROUTE, call.route),
                (n.ROUTER, call.router),
            )
        )
        hop = self._hops.pop(call.id, None) if self._hops else None
        links = [Link(hop[0])] if hop is not None and hop[0] is not None else None
        span = self._tracer.start_span(f"chat {call.model}", kind=SpanKind.CLIENT, attributes=attributes, links=links)
        if hop is not None:
            span.add_event(n.HOP_EVENT, hop[1])
        with self._lock:
            self._open[(call.id, call.route)] = span
            abandoned = self._open.popitem(last=False)[1] if len(self._open) > self._max_open else None
        if abandoned is not None:
            abandoned.set_attribute(n.ABANDONED, True)
            abandoned.end()
        if self.capture_content:
            self._current.set(span)

    @hookimpl
    def chatpipe_before_send(self, provider: str, request: HttpRequest) -> None:
        if not self.capture_content:
            return
        span = self._current.get()
        if span is not None and span.is_recording() and isinstance(request.json, dict):
            span.set_attributes(input_attributes(request.json))

    @hookimpl
    def chatpipe_call_retry(self, call: CallInfo, attempt: int, reason: str, status: int | None, wait: float) -> None:
        span = self._open.get((call.id, call.route))
        if span is None:
            return
        event: dict[str, Any] = {n.RETRY_ATTEMPT: attempt, n.RETRY_REASON: reason, n.RETRY_WAIT: wait}
        if status is not None:
            event[n.HTTP_STATUS] = status
        span.add_event(n.RETRY_EVENT, event)

    @hookimpl
    def chatpipe_router_hop(
        self, call_id: str, profile: str | None, from_target: str, to_target: str, error: ProviderError
    ) -> None:
        with self._lock:
            failed = self._failed.pop(call_id, None)
        self._hops[call_id] = (
            failed,
            {n.HOP_FROM: from_target, n.HOP_TO: to_target, n.ERROR_TYPE: type(error).__name__},
        )

    @hookimpl
    def chatpipe_rate_limit_wait(self, call: CallInfo, limit: str, seconds: float, admitted: bool) -> None:
        span = self._open.get((call.id, call.route))
        if span is not None:
            span.add_event(n.WAIT_EVENT, {n.WAIT_LIMIT: limit, n.WAIT_SECONDS: seconds, n.WAIT_ADMITTED: admitted})

    @hookimpl
    def chatpipe_first_token(self, call: CallInfo, seconds: float) -> None:
        span = self._open.get((call.id, call.route))
        if span is not None:
            span.set_attribute(n.TIME_TO_FIRST_TOKEN, seconds)
            span.add_event(n.FIRST_TOKEN_EVENT)

    @hookimpl
    def chatpipe_call_finished(self, call: CallInfo, response: ChatResponse, seconds: float) -> None:
        with self._lock:
            span = self._open.pop((call.id, call.route), None)
        if span is None:
            return
        if span.is_recording():
            span.set_attributes(_response_attributes(response))
            if self.capture_content:
                span.set_attribute(n.OUTPUT_MESSAGES, output_messages(response))
        span.end()

    @hookimpl
    def chatpipe_call_failed(self, call: CallInfo, error: ProviderError, seconds: float) -> None:
        with self._lock:
            span = self._open.pop((call.id, call.route), None)
            if span is not None and call.route is not None:
                self._failed[call.id] = span.get_span_context()
                if len(self._failed) > self._max_open:
                    self._failed.popitem(last=False)
        if span is None:
            return
        span.set_attribute(n.ERROR_TYPE, type(error).__name__)
        if error.status is not None:
            span.set_attribute(n.HTTP_STATUS, error.status)
        span.set_status(Status(StatusCode.ERROR, str(error.message)[:_MAX_DESCRIPTION]))
        span.end()


def _response_attributes(response: ChatResponse) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if response.model:
        out[n.RESPONSE_MODEL] = response.model
    if response.id:
        out[n.RESPONSE_ID] = response.id
    reasons = [c.finish_reason for c in response.choices if c.finish_reason]
    if reasons:
        out[n.FINISH_REASONS] = reasons
    usage = response.usage
    if usage is not None:
        out.update(
            _present(
                (n.INPUT_TOKENS, usage.prompt_tokens),
                (n.OUTPUT_TOKENS, usage.completion_tokens),
                (n.CACHE_READ_TOKENS, usage.cached_tokens),
                (n.CACHE_CREATION_TOKENS, usage.cache_creation_tokens),
                (n.REASONING_TOKENS, usage.reasoning_tokens),
            )
        )
    return out


def _present(*pairs: tuple[str, Any]) -> dict[str, Any]:
    """The ``(attribute, value)`` pairs whose value is known (an unknown value is no attribute)."""
    return {name: value for name, value in pairs if value is not None}
