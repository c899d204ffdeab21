"""Google's error envelope -> chatpipe's error tree (chatpipe_gemini._errors through parse_error,
and a real pipeline for retries)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from chatpipe import Pipeline
from chatpipe.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ContextLengthError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from chatpipe.http import HttpResponse
from chatpipe.testing.fake_server import FakeResponse, FakeServer
from chatpipe_gemini import GeminiProvider

Factory = Callable[..., GeminiProvider]


def google_error(code: int, status: str, message: str, details: list[Any] | None = None) -> bytes:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details is not None:
        error["details"] = details
    return json.dumps({"error": error}).encode()


@pytest.mark.parametrize(
    ("code", "status", "cls"),
    [
        (400, "INVALID_ARGUMENT", BadRequestError),
        (400, "FAILED_PRECONDITION", BadRequestError),
        (401, "UNAUTHENTICATED", AuthenticationError),
        (403, "PERMISSION_DENIED", PermissionDeniedError),
        (404, "NOT_FOUND", NotFoundError),
        (429, "RESOURCE_EXHAUSTED", RateLimitError),
        (500, "INTERNAL", ServerError),
        (503, "UNAVAILABLE", OverloadedError),
        (504, "DEADLINE_EXCEEDED", ServerError),
    ],
)
def test_statuses_map_to_typed_errors(adapter_factory: Factory, code: int, status: str, cls: type[Exception]) -> None:
    error = adapter_factory().parse_error(HttpResponse(code, {}, google_error(code, status, f"said {code}")))
    assert type(error) is cls
    assert isinstance(error, APIStatusError)
    assert (error.status, error.vendor_type, error.provider) == (code, status, "gemini")
    assert f"said {code}" in str(error)


def test_an_invalid_key_is_an_authentication_error_without_the_key(adapter_factory: Factory, gemini_key: str) -> None:
    details = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}]
    body = google_error(400, "INVALID_ARGUMENT", f"API key not valid: {gemini_key}", details)
    error = adapter_factory().parse_error(HttpResponse(400, {}, body))
    assert isinstance(error, AuthenticationError)
    assert error.status == 400
    assert "GEMINI_API_KEY" in str(error)  # the hint says where the key comes from
    assert gemini_key not in str(error) + repr(error) + (error.body or "")


def test_retry_delay_is_the_retry_after_of_a_rate_limit(adapter_factory: Factory) -> None:
    details = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}]
    error = adapter_factory().parse_error(
        HttpResponse(429, {}, google_error(429, "RESOURCE_EXHAUSTED", "quota", details))
    )
    assert isinstance(error, RateLimitError) and error.retry_after == 37
    headed = adapter_factory().parse_error(
        HttpResponse(429, {"retry-after": "3"}, google_error(429, "RESOURCE_EXHAUSTED", "quota", details))
    )
    assert isinstance(headed, RateLimitError) and headed.retry_after == 3


def test_a_too_long_prompt_is_a_context_length_error(adapter_factory: Factory) -> None:
    message = "The input token count (1048577) exceeds the maximum number of tokens allowed (1048576)."
    error = adapter_factory().parse_error(HttpResponse(400, {}, google_error(400, "INVALID_ARGUMENT", message)))
    assert isinstance(error, ContextLengthError)


def test_a_list_envelope_and_a_non_json_body(adapter_factory: Factory) -> None:
    listed = json.dumps([{"error": {"code": 404, "message": "models/x is not found", "status": "NOT_FOUND"}}])
    error = adapter_factory().parse_error(HttpResponse(404, {}, listed.encode()))
    assert isinstance(error, NotFoundError) and "models/x is not found" in str(error)
    assert "chatpipe models -p gemini" in str(error)
    html = adapter_factory().parse_error(HttpResponse(502, {"content-type": "text/html"}, b"<html>Bad gateway</html>"))
    assert isinstance(html, ServerError) and html.status == 502


def test_429_and_503_are_retried(fake_server: FakeServer) -> None:
    route = "POST /v1beta/models/gemini-2.5-flash:generateContent"
    ok = {"candidates": [{"content": {"parts": [{"text": "ok"}]}, "finishReason": "STOP"}]}
    fake_server.enqueue(
        route,
        FakeResponse.json(json.loads(google_error(429, "RESOURCE_EXHAUSTED", "slow")), 429, {"retry-after": "0"}),
        FakeResponse.json(json.loads(google_error(503, "UNAVAILABLE", "busy")), 503, {"retry-after": "0"}),
        FakeResponse.json(ok),
    )
    pipe = Pipeline("gemini", base_url=fake_server.url, api_key="AIza-x", max_retries=2)
    assert pipe.complete([{"role": "user", "content": "Hi"}]).text == "ok"
    assert len(fake_server.requests) == 3
