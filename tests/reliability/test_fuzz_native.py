"""Fuzzing the native (non-OpenAI) parsers: Claude's Messages format and Cohere's v2 chat.

Random and malformed replies, error bodies, model lists and event streams shaped like each
vendor's own format: only chatpipe errors may come out, never a KeyError/TypeError/...
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from chatpipe import Pipeline
from chatpipe.errors import APIStatusError, ChatpipeError, PluginNotFoundError
from chatpipe.http import HttpResponse, SSEEvent
from chatpipe.models import ChatResponse
from chatpipe.registry import default_registry
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rel_harness import KEY, parse_events

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NATIVE_KEYS = {
    "claude": [
        "type",
        "id",
        "role",
        "content",
        "text",
        "thinking",
        "signature",
        "name",
        "input",
        "stop_reason",
        "usage",
        "input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "index",
        "delta",
        "message",
        "content_block",
        "partial_json",
        "error",
        "data",
        "has_more",
        "last_id",
    ],
    "cohere": [
        "type",
        "id",
        "message",
        "content",
        "text",
        "thinking",
        "tool_plan",
        "tool_calls",
        "function",
        "name",
        "arguments",
        "finish_reason",
        "usage",
        "tokens",
        "input_tokens",
        "output_tokens",
        "billed_units",
        "delta",
        "index",
        "citations",
        "models",
        "next_page_token",
        "error",
    ],
}
EVENT_TYPES = {
    "claude": [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
        "ping",
        "error",
        "text_delta",
        "input_json_delta",
        "thinking_delta",
        "signature_delta",
    ],
    "cohere": [
        "message-start",
        "content-start",
        "content-delta",
        "content-end",
        "tool-plan-delta",
        "tool-call-start",
        "tool-call-delta",
        "tool-call-end",
        "citation-start",
        "citation-end",
        "message-end",
        "debug",
    ],
}


def installed(name: str) -> bool:
    try:
        default_registry().provider(name)
    except PluginNotFoundError:
        return False
    return True


PROVIDERS = [name for name in NATIVE_KEYS if installed(name)]


def values(provider: str) -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-5, 2**33),
        st.text(max_size=8),
        st.sampled_from(EVENT_TYPES[provider] + ["text", "tool_use", "end_turn", "COMPLETE", "{", ""]),
    )
    keys = st.sampled_from(NATIVE_KEYS[provider])
    return st.recursive(
        scalars,
        lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=5)),
        max_leaves=20,
    )


def adapter(provider: str) -> Any:
    return Pipeline(provider, model="m", base_url="http://127.0.0.1:9", api_key=KEY).adapter


@st.composite
def native_body(draw: st.DrawFn, provider: str) -> bytes:
    value = draw(values(provider))
    return draw(st.sampled_from([json.dumps(value).encode(), draw(st.binary(max_size=32))]))


@st.composite
def native_events(draw: st.DrawFn, provider: str) -> list[SSEEvent]:
    out = []
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(EVENT_TYPES[provider]))
        payload = draw(st.dictionaries(st.sampled_from(NATIVE_KEYS[provider]), values(provider), max_size=4))
        payload = {"type": kind, **payload} if draw(st.booleans()) else payload
        data = draw(st.sampled_from([json.dumps(payload), "{not json", "[DONE]"]))
        out.append(SSEEvent(data=data, event=kind if provider == "claude" else "message"))
    return out


@pytest.mark.parametrize("provider", PROVIDERS)
@FUZZ
@given(data=st.data())
def test_native_reply_parser_raises_only_chatpipe_errors(provider: str, data: st.DataObject) -> None:
    body = data.draw(native_body(provider))
    try:
        result = adapter(provider).parse_chat(HttpResponse(200, {"content-type": "application/json"}, body))
    except ChatpipeError as exc:
        assert str(exc) and KEY not in str(exc)
    else:
        assert isinstance(result, ChatResponse)


@pytest.mark.parametrize("provider", PROVIDERS)
@FUZZ
@given(data=st.data(), status=st.integers(400, 599))
def test_native_error_parser_returns_a_typed_error(provider: str, data: st.DataObject, status: int) -> None:
    body = data.draw(native_body(provider))
    error = adapter(provider).parse_error(HttpResponse(status, {}, body))
    assert isinstance(error, APIStatusError) and str(error) and KEY not in str(error)
    adapter(provider).should_retry(HttpResponse(status, {}, body))


@pytest.mark.parametrize("provider", PROVIDERS)
@FUZZ
@given(data=st.data())
def test_native_model_list_parser_raises_only_chatpipe_errors(provider: str, data: st.DataObject) -> None:
    body = data.draw(native_body(provider))
    native = adapter(provider)
    try:
        native.parse_models(HttpResponse(200, {}, body))
        native.next_models(HttpResponse(200, {}, body))
    except ChatpipeError:
        pass


@pytest.mark.parametrize("provider", PROVIDERS)
@FUZZ
@given(data=st.data())
def test_native_stream_parser_raises_only_chatpipe_errors(provider: str, data: st.DataObject) -> None:
    stream = data.draw(native_events(provider))
    try:
        response = parse_events(adapter(provider), stream, provider)
    except ChatpipeError as exc:
        assert str(exc) and KEY not in str(exc)
    else:
        assert isinstance(response, ChatResponse)
