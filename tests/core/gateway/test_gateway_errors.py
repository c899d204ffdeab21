"""chatpipe errors → OpenAI error JSON with the right status; secrets and bodies never shown."""

from __future__ import annotations

import pytest
from chatpipe.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigError,
    ContentFilterError,
    ContextLengthError,
    InvalidRequestError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    PluginNotFoundError,
    ProtocolError,
    RateLimitError,
    ServerError,
)
from chatpipe.gateway._errors import GatewayError, error_body, from_chatpipe_error

SECRET = "sk-vendor-secret-7777"


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (InvalidRequestError("bad role", where="messages[0].role"), 400, None),
        (BadRequestError("nope", provider="openai", status=400), 400, None),
        (BadRequestError("too big", provider="openai", status=413), 413, None),
        (BadRequestError("schema", provider="openai", status=422), 422, None),
        (ContextLengthError("too long", provider="openai", status=400), 400, "context_length_exceeded"),
        (ContextLengthError("too long", provider="openai", status=413), 400, "context_length_exceeded"),
        (ContextLengthError("in a stream", provider="openai"), 400, "context_length_exceeded"),
        (ContentFilterError("refused", provider="openai", status=400), 400, "content_filter"),
        (NotFoundError("no model", provider="openai", status=404), 404, "model_not_found"),
        (RateLimitError("slow down", provider="openai", status=429), 429, "rate_limit_exceeded"),
        (AuthenticationError("bad key", provider="openai", status=401), 502, "upstream_auth_failed"),
        (PermissionDeniedError("no", provider="openai", status=403), 502, "upstream_auth_failed"),
        (ServerError("boom", provider="openai", status=500), 502, None),
        (OverloadedError("busy", provider="openai", status=503), 503, "upstream_overloaded"),
        (OverloadedError("busy", provider="claude", status=529), 503, "upstream_overloaded"),
        (APITimeoutError("read timeout", provider="openai"), 504, "upstream_timeout"),
        (APIConnectionError("refused", provider="openai"), 502, "upstream_unreachable"),
        (ProtocolError("bad json", provider="openai", status=200), 502, "upstream_protocol_error"),
        (APIStatusError("conflict", provider="openai", status=409), 502, "upstream_error"),
        (AuthenticationError("no API key for openai", provider="openai"), 500, "gateway_misconfigured"),
        (ConfigError("bad base_url", path="profiles.x.base_url"), 500, "gateway_misconfigured"),
        (PluginNotFoundError("provider", "claud", suggestions=["claude"]), 500, "gateway_misconfigured"),
    ],
)
def test_status_mapping(error, status, code):
    mapped = from_chatpipe_error(error, profile="p")
    assert mapped.status == status
    if code is not None:
        assert mapped.code == code
    body = mapped.body()
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["message"]


def test_invalid_request_names_the_param():
    mapped = from_chatpipe_error(InvalidRequestError("bad role", where="messages[0].role"))
    assert mapped.param == "messages[0].role"
    assert mapped.type == "invalid_request_error"


@pytest.mark.parametrize(("retry_after", "header"), [(7.0, "7"), (0.2, "1"), (0.0, "0"), (None, None)])
def test_rate_limit_keeps_retry_after(retry_after, header):
    mapped = from_chatpipe_error(RateLimitError("slow", provider="openai", status=429, retry_after=retry_after))
    assert mapped.headers.get("Retry-After") == header
    assert mapped.type == "rate_limit_error"


def test_upstream_message_is_kept_but_scrubbed_and_body_dropped():
    error = ServerError(
        f"internal error with key {SECRET}",
        provider="openai",
        status=500,
        request_id="req_1",
        body=f'{{"error": "raw upstream body {SECRET}", "internal_trace": "xyz"}}',
    )
    mapped = from_chatpipe_error(error, secrets=[SECRET])
    assert "internal error with key ***" in mapped.message
    assert "req_1" in mapped.message
    assert SECRET not in mapped.message
    assert "internal_trace" not in mapped.message


def test_connection_errors_do_not_reveal_the_upstream_url():
    error = APIConnectionError("could not connect to http://10.1.2.3:9999/v1/chat/completions", provider="custom")
    mapped = from_chatpipe_error(error, profile="lm")
    assert "10.1.2.3" not in mapped.message
    assert "'lm'" in mapped.message


def test_missing_vendor_key_message_is_for_the_operator():
    mapped = from_chatpipe_error(AuthenticationError("no API key", provider="openai"), profile="gpt")
    assert mapped.type == "server_error"
    assert "'gpt'" in mapped.message


def test_error_body_shape():
    assert error_body("m", type="t", code="c", param="p") == {
        "error": {"message": "m", "type": "t", "param": "p", "code": "c"}
    }
    assert GatewayError(400, "x").body()["error"]["code"] is None


def test_own_limit_is_a_429_naming_the_setting_without_the_state_server():
    from chatpipe._limiter import Limiter
    from chatpipe.errors import LimitExceededError
    from chatpipe.state import Grant, Quota, RedisStore

    limiter = Limiter(
        RedisStore("redis://:hunter2@10.1.2.3:6379/0"),  # never connected: only its message is built
        "limit:p",
        Quota(calls=10),
        max_wait=0,
        lease_ttl=60,
        profile="p",
        settings="profiles.p.limits",
        per_minute={"rpm": 10, "tpm": None, "concurrency": None},
    )
    error = limiter._exceeded(Grant(None, 1.2, "calls"), 0.0)
    mapped = from_chatpipe_error(error, profile="p")
    assert (mapped.status, mapped.code, mapped.type) == (429, "rate_limit_exceeded", "rate_limit_error")
    assert mapped.headers == {"Retry-After": "2"}  # rounded up
    assert "profiles.p.limits.rpm" in mapped.message and "across processes" in mapped.message
    assert "10.1.2.3" not in mapped.message and "hunter2" not in mapped.message
    unknown = from_chatpipe_error(LimitExceededError("too many tokens (limits.tpm)", limit="tpm"), profile="p")
    assert unknown.status == 429 and unknown.headers == {}


def test_unreachable_state_is_a_503_that_does_not_name_the_server():
    from chatpipe.errors import StateUnavailableError

    mapped = from_chatpipe_error(StateUnavailableError("Redis at redis://10.1.2.3:6379/0 did not answer"), profile="p")
    assert (mapped.status, mapped.code) == (503, "state_unavailable")
    assert "'p'" in mapped.message and "10.1.2.3" not in mapped.message
