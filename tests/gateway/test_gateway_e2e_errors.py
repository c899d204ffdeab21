"""Error mapping, auth and limits as the official ``openai`` client sees them."""

from __future__ import annotations

import urllib.request

import openai
import pytest
from chatpipe.testing import FakeResponse
from chatpipe.testing.conformance import OpenAISimulator, Reply

from .conftest import GATEWAY_KEY, VENDOR_KEY, openai_profile

SIM = OpenAISimulator(provider="openai")
ROUTE = "POST /v1/chat/completions"
MESSAGES = [{"role": "user", "content": "Hi"}]


def _no_secret(error: openai.APIStatusError) -> None:
    assert VENDOR_KEY not in error.response.text
    body = error.response.json()
    assert set(body["error"]) == {"message", "type", "param", "code"}


def test_upstream_429_keeps_status_and_retry_after(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor))
    limited = FakeResponse.json({"error": {"message": "Rate limit reached"}}, 429, {"Retry-After": "90"})
    vendor.enqueue(ROUTE, limited, limited)
    client = gateway.client()
    with pytest.raises(openai.RateLimitError) as info:
        client.chat.completions.create(model="gpt", messages=MESSAGES)
    assert info.value.response.headers["retry-after"] == "90"
    assert "Rate limit reached" in info.value.message
    _no_secret(info.value)
    with pytest.raises(openai.RateLimitError) as info:  # a stream failing before its first chunk: same answer
        client.chat.completions.create(model="gpt", messages=MESSAGES, stream=True)
    assert info.value.response.headers["retry-after"] == "90"


@pytest.mark.parametrize(
    ("upstream", "status", "exception"),
    [
        (400, 400, openai.BadRequestError),
        (404, 404, openai.NotFoundError),
        (500, 502, openai.InternalServerError),
        (503, 503, openai.InternalServerError),
        (401, 502, openai.InternalServerError),
    ],
)
def test_upstream_statuses(start_gateway, vendor, upstream, status, exception):
    gateway = start_gateway(openai_profile("gpt", vendor))
    vendor.enqueue(ROUTE, SIM.error(upstream))
    with pytest.raises(exception) as info:
        gateway.client().chat.completions.create(model="gpt", messages=MESSAGES)
    assert info.value.status_code == status
    _no_secret(info.value)


def test_upstream_unreachable_is_502_and_never_200(start_gateway, vendor):
    gateway = start_gateway(
        openai_profile("dead", vendor, base_url="'http://127.0.0.1:9/v1'") + openai_profile("gpt", vendor)
    )
    for stream in (False, True):
        with pytest.raises(openai.InternalServerError) as info:
            gateway.client().chat.completions.create(model="dead", messages=MESSAGES, stream=stream)
        assert info.value.status_code == 502
        assert info.value.body["code"] == "upstream_unreachable"


def test_error_after_the_stream_started_is_an_error_event(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor))
    chunk = {
        "id": "c",
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "partial "}, "finish_reason": None}],
    }
    vendor.enqueue(ROUTE, FakeResponse.sse([chunk, chunk], cut_after=2))
    received = []
    with pytest.raises(openai.APIError) as info:
        for part in gateway.client().chat.completions.create(model="gpt", messages=MESSAGES, stream=True):
            received.append(part.choices[0].delta.content)
    assert received == ["partial ", "partial "]
    assert "upstream" in str(info.value.message)


def test_unknown_model_is_404_and_bad_request_is_400(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor))
    client = gateway.client()
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="gtp", messages=MESSAGES)
    assert info.value.body["code"] == "model_not_found"
    assert "Did you mean 'gpt'?" in info.value.message
    with pytest.raises(openai.BadRequestError) as bad:
        client.chat.completions.create(model="gpt", messages=[{"content": "no role"}])
    assert bad.value.body["param"] == "messages[0].role"
    assert vendor.requests == []


def test_models_and_health(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor) + openai_profile("mini", vendor, model="m-mini"))
    models = gateway.client().models.list()
    assert [m.id for m in models.data] == ["gpt", "mini"]
    assert gateway.client().models.retrieve("gpt/anything").id == "gpt/anything"
    vendor.route("GET /v1/models", lambda request: FakeResponse.json({"data": [{"id": "up"}]}))
    extended = gateway.client().models.list(extra_query={"upstream": "true"})
    assert [m.id for m in extended.data] == ["gpt", "mini", "gpt/up", "mini/up"]
    with urllib.request.urlopen(f"{gateway.url}/health") as response:
        assert response.status == 200


def test_gateway_keys_are_required_and_checked(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor), f"{{keys: ['{GATEWAY_KEY}']}}")
    for key in ("wrong-key-0000000000000", GATEWAY_KEY[:-1], VENDOR_KEY):
        with pytest.raises(openai.AuthenticationError) as info:
            gateway.client(api_key=key).chat.completions.create(model="gpt", messages=MESSAGES)
        assert info.value.status_code == 401
        with pytest.raises(openai.AuthenticationError):
            gateway.client(api_key=key).models.list()
    assert vendor.requests == []
    vendor.enqueue(ROUTE, SIM.reply(Reply(text="Welcome.")))
    reply = gateway.client(api_key=GATEWAY_KEY).chat.completions.create(model="gpt", messages=MESSAGES)
    assert reply.choices[0].message.content == "Welcome."
    assert vendor.requests[0].headers["authorization"] == f"Bearer {VENDOR_KEY}"  # the vendor key, not the client's


def test_body_size_limit(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor), "{max_body_size: 4KB}")
    with pytest.raises(openai.APIStatusError) as info:
        gateway.client().chat.completions.create(model="gpt", messages=[{"role": "user", "content": "x" * 5000}])
    assert info.value.status_code == 413
    assert info.value.body["code"] == "request_too_large"
    assert vendor.requests == []


def test_request_timeout_is_504_and_cancels_upstream(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor), "{request_timeout: 0.5}")
    vendor.enqueue(ROUTE, FakeResponse.json({}, delay=30))
    with pytest.raises(openai.APIStatusError) as info:
        gateway.client().chat.completions.create(model="gpt", messages=MESSAGES)
    assert info.value.status_code == 504
    assert vendor.wait_for(lambda: vendor.open_connections == 0, timeout=5)
