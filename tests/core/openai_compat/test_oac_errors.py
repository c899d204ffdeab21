"""Error bodies and statuses -> typed errors, with hints, retry_after and no leaked key."""

from __future__ import annotations

from typing import Any

import pytest
from chatpipe.errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ContentFilterError,
    ContextLengthError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from chatpipe.vendor import retry_after
from oac_payloads import http


def envelope(message: str, type_: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (413, BadRequestError),
        (422, BadRequestError),
        (401, AuthenticationError),
        (498, AuthenticationError),
        (402, PermissionDeniedError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, OverloadedError),
        (529, OverloadedError),
    ],
)
def test_statuses_map_to_typed_errors(provider: Any, status: int, cls: type[APIStatusError]) -> None:
    error = provider.parse_error(http(status, envelope("Something went wrong.", "some_type"), x_request_id="req_42"))
    assert type(error) is cls
    assert (error.provider, error.status, error.request_id) == ("example", status, "req_42")
    assert "Something went wrong" in str(error)


@pytest.mark.parametrize("status", [408, 409, 418])
def test_other_statuses_are_plain_api_status_errors(provider: Any, status: int) -> None:
    error = provider.parse_error(http(status, envelope("nope")))
    assert type(error) is APIStatusError and error.status == status


def test_408_says_the_server_timed_out(provider: Any) -> None:
    assert "timed out" in str(provider.parse_error(http(408, "")))


def test_openai_envelope_keeps_type_and_code(provider: Any) -> None:
    error = provider.parse_error(
        http(400, envelope("Invalid value for 'temperature'.", "invalid_request_error", "invalid_value"))
    )
    assert error.vendor_type == "invalid_value"
    assert "Invalid value for 'temperature'" in str(error)


@pytest.mark.parametrize(
    "body",
    [
        envelope(
            "This model's maximum context length is 128000 tokens. However, you requested 130000 tokens.",
            "invalid_request_error",
            "context_length_exceeded",
        ),
        envelope("Prompt too big", "invalid_request_error", "context_length_exceeded"),
        envelope("This model's maximum context length is 4096 tokens."),
    ],
)
def test_context_length_is_recognised_by_code_or_message(provider: Any, body: dict[str, Any]) -> None:
    assert isinstance(provider.parse_error(http(400, body)), ContextLengthError)


def test_content_filter_codes_give_content_filter_error(provider: Any) -> None:
    body = envelope("The response was filtered.", "invalid_request_error", "content_filter")
    assert isinstance(provider.parse_error(http(400, body)), ContentFilterError)


def test_error_text_form(provider: Any) -> None:
    error = provider.parse_error(http(400, {"error": "model not loaded"}))
    assert isinstance(error, BadRequestError) and "model not loaded" in str(error)


def test_fastapi_422_detail_lists_are_made_readable(provider: Any) -> None:
    body = {
        "detail": [
            {"loc": ["body", "messages", 0, "role"], "msg": "field required", "type": "value_error.missing"},
            {"loc": ["body", "temperature"], "msg": "ensure this value is less than or equal to 2", "type": "x"},
        ]
    }
    error = provider.parse_error(http(422, body))
    assert "body.messages.0.role: field required" in str(error)
    assert "body.temperature: ensure this value is less than or equal to 2" in str(error)


def test_detail_string_and_message_forms(provider: Any) -> None:
    assert "Not Found" in str(provider.parse_error(http(404, {"detail": "Not Found"})))
    assert "invalid api token" in str(provider.parse_error(http(498, {"message": "invalid api token", "id": "x"})))


def test_plain_text_bodies_are_used_as_the_message(provider: Any) -> None:
    error = provider.parse_error(http(500, "upstream connect error or disconnect/reset before headers"))
    assert "upstream connect error" in str(error)


def test_html_pages_from_proxies_are_summarised(provider: Any) -> None:
    page = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>" + "x" * 3000 + "</body></html>"
    error = provider.parse_error(http(502, page, content_type="text/html"))
    assert "HTTP 502 from a proxy (HTML page): 502 Bad Gateway" in str(error)
    assert "<body>" not in str(error)
    assert len(error.body or "") <= 2100


def test_empty_body_is_named(provider: Any) -> None:
    assert "empty" in str(provider.parse_error(http(500, b"")))


def test_401_hints_the_env_var_and_the_keys_command(provider: Any) -> None:
    error = provider.parse_error(
        http(401, envelope("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"))
    )
    assert "EXAMPLE_API_KEY" in str(error) and "chatpipe keys set example" in str(error)


def test_401_without_a_key_says_none_was_sent(make_provider: Any) -> None:
    error = make_provider(key=None).parse_error(http(401, envelope("Missing bearer authentication.")))
    assert "No API key was sent" in str(error)


def test_404_hints_model_and_base_url(provider: Any) -> None:
    error = provider.parse_error(
        http(404, envelope("The model `gpt-9` does not exist", "invalid_request_error", "model_not_found"))
    )
    text = str(error)
    assert "model id" in text and "chatpipe models -p" in text and "https://api.example.test/v1" in text


def test_402_mentions_balance(provider: Any) -> None:
    error = provider.parse_error(http(402, envelope("Insufficient Balance", "unknown_error", "invalid_request_error")))
    assert isinstance(error, PermissionDeniedError) and "balance" in str(error)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": "Thu, 01 Jan 2026 00:00:30 GMT"}, 30.0),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_reads_ms_seconds_and_dates(headers: dict[str, str], expected: float | None) -> None:
    now = 1767225600.0  # 2026-01-01T00:00:00Z
    assert retry_after(headers, now=now) == expected


def test_429_carries_retry_after(provider: Any) -> None:
    error = provider.parse_error(
        http(429, envelope("Rate limit reached", "requests", "rate_limit_exceeded"), retry_after="2")
    )
    assert isinstance(error, RateLimitError) and error.retry_after == 2.0


def test_insufficient_quota_says_retrying_will_not_help(provider: Any) -> None:
    body = envelope("You exceeded your current quota.", "insufficient_quota", "insufficient_quota")
    error = provider.parse_error(http(429, body))
    assert isinstance(error, RateLimitError) and "quota" in str(error) and "retrying will not help" in str(error)


def test_the_key_never_appears_even_when_the_body_echoes_it(provider: Any, planted_key: str) -> None:
    bodies = [
        envelope(f"Incorrect API key provided: {planted_key}.", "invalid_request_error", "invalid_api_key"),
        {"detail": [{"loc": ["header", planted_key], "msg": f"bad {planted_key}"}]},
        f"plain text with {planted_key} inside",
        f"<html><title>{planted_key}</title></html>",
        "y" * 495 + planted_key,  # a key straddling the message truncation point
    ]
    for status in (400, 401, 404, 429, 500):
        for body in bodies:
            error = provider.parse_error(http(status, body))
            for text in (str(error), repr(error), error.body or "", error.message):
                assert planted_key not in text
                assert planted_key[:20] not in text
