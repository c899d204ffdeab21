"""chatpipe-otel: OpenTelemetry spans of chat calls, following the GenAI semantic conventions.

Named in a config (``observers: [otel]``), this module is the plugin: its hooks feed one
:class:`OtelObserver` made at import, with the global tracer provider and content capture from
the environment (``CHATPIPE_OTEL_CAPTURE_CONTENT``). In a program, register an observer of your
own instead: ``registry.register(OtelObserver(tracer_provider=provider))``.
"""

from __future__ import annotations

from chatpipe.plugin import CallInfo, ChatResponse, HttpRequest, ProviderError, hookimpl

from ._observer import OtelObserver

__all__ = ["OBSERVER", "OtelObserver"]

OBSERVER = OtelObserver()
"""The observer the entry-point plugin's hooks report to."""


@hookimpl
def chatpipe_call_started(call: CallInfo) -> None:
    OBSERVER.chatpipe_call_started(call)


@hookimpl
def chatpipe_before_send(provider: str, request: HttpRequest) -> None:
    OBSERVER.chatpipe_before_send(provider, request)


@hookimpl
def chatpipe_call_retry(call: CallInfo, attempt: int, reason: str, status: int | None, wait: float) -> None:
    OBSERVER.chatpipe_call_retry(call, attempt, reason, status, wait)


@hookimpl
def chatpipe_router_hop(
    call_id: str, profile: str | None, from_target: str, to_target: str, error: ProviderError
) -> None:
    OBSERVER.chatpipe_router_hop(call_id, profile, from_target, to_target, error)


@hookimpl
def chatpipe_first_token(call: CallInfo, seconds: float) -> None:
    OBSERVER.chatpipe_first_token(call, seconds)


@hookimpl
def chatpipe_call_finished(call: CallInfo, response: ChatResponse, seconds: float) -> None:
    OBSERVER.chatpipe_call_finished(call, response, seconds)


@hookimpl
def chatpipe_call_failed(call: CallInfo, error: ProviderError, seconds: float) -> None:
    OBSERVER.chatpipe_call_failed(call, error, seconds)
