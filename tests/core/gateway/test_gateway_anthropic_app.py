"""POST /v1/messages and /v1/messages/count_tokens in process, in front of an OpenAI-style FakeServer."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
from chatpipe import wire
from chatpipe._limiter import estimate_tokens
from chatpipe.gateway._anthropic_request import parse_count_tokens_body
from chatpipe.state import local_store
from chatpipe.testing import FakeResponse
from chatpipe.testing.conformance import OpenAISimulator, Reply

from .conftest import GATEWAY_KEY, VENDOR_KEY

SIM = OpenAISimulator(provider="openai")
ROUTE = "POST /v1/chat/completions"
HELLO: dict[str, Any] = {"model": "gpt", "max_tokens": 256, "messages": [{"role": "user", "content": "hi"}]}
DEAD = "  dead: {provider: custom, base_url: 'http://127.0.0.1:9/v1', model: m, max_retries: 0}\n"
ROUTER = "  smart: {route: {strategy: fallback, targets: [dead, gpt]}}\n"
REMOTE = ("203.0.113.5", 1234)


def anthropic_error(response: Any, status: int, kind: str) -> str:
    """The message of an Anthropic-shaped error answer with ``status`` and ``error.type`` ``kind``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["type"] == "error"
    assert set(body["error"]) == {"type", "message"}
    assert body["error"]["type"] == kind
    assert VENDOR_KEY not in response.text
    message: str = body["error"]["message"]
    return message


def sse_events(response: Any) -> list[dict[str, Any]]:
    """The data of each event of an SSE answer, checked against its ``event:`` name."""
    out = []
    for frame in response.text.split("\n\n"):
        if frame.strip():
            name, data = frame.split("\n")
            payload = json.loads(data.removeprefix("data: "))
            assert name == f"event: {payload['type']}"
            out.append(payload)
    return out


def test_a_plain_reply_and_what_the_vendor_was_sent(make_client, vendor):
    vendor.enqueue(ROUTE, SIM.reply(Reply(text="Hello!")))
    body = {
        **HELLO,
        "system": [{"type": "text", "text": "Be brief."}],
        "temperature": 0.3,
        "stop_sequences": ["END"],
        "metadata": {"user_id": "u-1"},
    }
    response = make_client().post("/v1/messages", json=body)
    assert response.status_code == 200
    reply = response.json()
    assert reply["id"] == "msg_chatcmpl-conformance"
    assert (reply["type"], reply["role"], reply["model"]) == ("message", "assistant", "test-model")
    assert reply["content"] == [{"type": "text", "text": "Hello!"}]
    assert (reply["stop_reason"], reply["stop_sequence"]) == ("end_turn", None)
    assert reply["usage"] == {
        "input_tokens": 11,
        "output_tokens": 7,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }
    sent = vendor.requests[0].json
    assert sent["model"] == "gpt-x"
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "hi"}]},
    ]
    assert (sent["max_tokens"], sent["temperature"], sent["stop"], sent["user"]) == (256, 0.3, ["END"], "u-1")


def test_unprefixed_path_and_model_override(make_client, vendor):
    vendor.enqueue(ROUTE, SIM.reply(Reply(text="ok")))
    response = make_client().post("/messages", json={**HELLO, "model": "gpt/gpt-other"})
    assert response.status_code == 200
    assert vendor.requests[0].json["model"] == "gpt-other"


def test_a_tool_call_round_trip(make_client, vendor):
    vendor.enqueue(ROUTE, SIM.reply(Reply(tool_call=("call_1", "weather", {"city": "Paris"}))))
    vendor.enqueue(ROUTE, SIM.reply(Reply(text="Sunny in Paris.")))
    client = make_client()
    tools = [{"name": "weather", "description": "d", "input_schema": {"type": "object"}}]
    first = client.post("/v1/messages", json={**HELLO, "tools": tools, "tool_choice": {"type": "any"}}).json()
    assert first["stop_reason"] == "tool_use"
    assert first["content"] == [{"type": "tool_use", "id": "call_1", "name": "weather", "input": {"city": "Paris"}}]
    sent = vendor.requests[0].json
    assert sent["tools"] == [
        {"type": "function", "function": {"name": "weather", "description": "d", "parameters": {"type": "object"}}}
    ]
    assert sent["tool_choice"] == "required"
    history = [
        *HELLO["messages"],
        {"role": "assistant", "content": first["content"]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "sunny"}]},
    ]
    second = client.post("/v1/messages", json={**HELLO, "tools": tools, "messages": history}).json()
    assert second["content"] == [{"type": "text", "text": "Sunny in Paris."}]
    messages = vendor.requests[1].json["messages"]
    assert messages[1]["tool_calls"][0]["id"] == "call_1"
    assert json.loads(messages[1]["tool_calls"][0]["function"]["arguments"]) == {"city": "Paris"}
    assert messages[2] == {"role": "tool", "content": "sunny", "tool_call_id": "call_1"}


def test_reasoning_comes_back_as_a_thinking_block_and_thinking_is_a_reasoning_effort(make_client, vendor):
    message = {"role": "assistant", "content": "42", "reasoning_content": "Six times seven."}
    vendor.enqueue(
        ROUTE,
        FakeResponse.json(
            {"id": "c1", "model": "r1", "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
        ),
    )
    body = {**HELLO, "model": "gpt/o3", "max_tokens": 10000, "thinking": {"type": "enabled", "budget_tokens": 5000}}
    reply = make_client().post("/v1/messages", json=body).json()
    assert reply["content"] == [
        {"type": "thinking", "thinking": "Six times seven.", "signature": ""},
        {"type": "text", "text": "42"},
    ]
    assert vendor.requests[0].json["reasoning_effort"] == "high"
    assert "thinking" not in vendor.requests[0].json


def test_a_stream(make_client, vendor):
    vendor.enqueue(ROUTE, SIM.stream(Reply(text="Streamed reply", tool_call=("call_1", "weather", {"city": "Paris"}))))
    with make_client().stream("POST", "/v1/messages", json={**HELLO, "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        response.read()
    events = sse_events(response)
    assert [e["type"] for e in events[:2]] == ["message_start", "ping"]
    assert [e["type"] for e in events[-2:]] == ["message_delta", "message_stop"]
    text = "".join(e["delta"]["text"] for e in events if e["type"] == "content_block_delta" and e["index"] == 0)
    assert text == "Streamed reply"
    arguments = "".join(
        e["delta"].get("partial_json", "") for e in events if e["type"] == "content_block_delta" and e["index"] == 1
    )
    assert json.loads(arguments) == {"city": "Paris"}
    assert events[-2]["delta"]["stop_reason"] == "tool_use"
    assert events[-2]["usage"]["input_tokens"] == 11 and events[-2]["usage"]["output_tokens"] == 7


def test_an_error_after_the_stream_began_is_an_error_event_after_the_text(make_client, vendor):
    head = [{"choices": [{"index": 0, "delta": {"role": "assistant", "content": "partial"}}]}]
    vendor.enqueue(ROUTE, FakeResponse.sse([*head, "not json"]))
    response = make_client().post("/v1/messages", json={**HELLO, "stream": True})
    assert response.status_code == 200
    events = sse_events(response)
    assert events[-1]["type"] == "error"
    assert events[-1]["error"]["type"] == "api_error"
    assert [e["delta"]["text"] for e in events if e["type"] == "content_block_delta"] == ["partial"]
    assert "message_stop" not in [e["type"] for e in events]


def test_keys_from_x_api_key_or_bearer_and_refusals_in_anthropics_shape(make_client, vendor):
    client = make_client(serve=f"{{keys: [{GATEWAY_KEY}]}}")
    for headers in ({}, {"x-api-key": "wrong-key-000000000"}, {"Authorization": "Bearer wrong-key-0000"}):
        message = anthropic_error(client.post("/v1/messages", json=HELLO, headers=headers), 401, "authentication_error")
        assert "x-api-key" in message
        anthropic_error(
            client.post("/v1/messages/count_tokens", json=HELLO, headers=headers), 401, "authentication_error"
        )
    assert vendor.requests == []
    vendor.enqueue(ROUTE, SIM.reply(Reply(text="a")), SIM.reply(Reply(text="b")))
    assert client.post("/v1/messages", json=HELLO, headers={"x-api-key": GATEWAY_KEY}).status_code == 200
    assert (
        client.post("/v1/messages", json=HELLO, headers={"Authorization": f"Bearer {GATEWAY_KEY}"}).status_code == 200
    )


def test_an_open_gateway_refuses_a_remote_client_with_a_permission_error(make_client, vendor):
    client = make_client(client=REMOTE)
    anthropic_error(client.post("/v1/messages", json=HELLO), 403, "permission_error")
    anthropic_error(client.post("/v1/messages/count_tokens", json=HELLO), 403, "permission_error")
    assert vendor.requests == []


def test_request_errors(make_client, vendor):
    client = make_client()
    message = anthropic_error(client.post("/v1/messages", json={**HELLO, "model": "gtp"}), 404, "not_found_error")
    assert "Did you mean 'gpt'?" in message
    no_max = {k: v for k, v in HELLO.items() if k != "max_tokens"}
    assert "'max_tokens' is required" in anthropic_error(
        client.post("/v1/messages", json=no_max), 400, "invalid_request_error"
    )
    assert "not valid JSON" in anthropic_error(
        client.post("/v1/messages", content=b"{oops"), 400, "invalid_request_error"
    )
    anthropic_error(client.post("/v1/messages", json={**HELLO, "container": "c"}), 400, "invalid_request_error")
    assert vendor.requests == []


def test_a_body_over_the_size_limit_is_a_413_request_too_large(make_client, vendor):
    big = {**HELLO, "messages": [{"role": "user", "content": "x" * 3000}]}
    client = make_client(serve="{max_body_size: 2KB}")
    anthropic_error(client.post("/v1/messages", json=big), 413, "request_too_large")
    anthropic_error(client.post("/v1/messages/count_tokens", json=big), 413, "request_too_large")
    assert vendor.requests == []


@pytest.mark.parametrize(
    ("upstream", "status", "kind"),
    [
        (400, 400, "invalid_request_error"),
        (401, 502, "api_error"),  # the gateway's vendor key was refused: not the client's fault
        (404, 404, "not_found_error"),
        (429, 429, "rate_limit_error"),
        (500, 502, "api_error"),
        (503, 529, "overloaded_error"),
    ],
)
def test_upstream_errors_keep_the_gateways_status_decision(make_client, vendor, upstream, status, kind):
    vendor.enqueue(ROUTE, SIM.error(upstream), SIM.error(upstream))
    client = make_client()
    assert f"simulated {upstream}" in anthropic_error(client.post("/v1/messages", json=HELLO), status, kind)
    anthropic_error(client.post("/v1/messages", json={**HELLO, "stream": True}), status, kind)  # before any event


def test_rate_limit_keeps_retry_after(make_client, vendor):
    vendor.enqueue(
        ROUTE,
        FakeResponse.json({"error": {"message": "slow down", "type": "rate_limit_error"}}, 429, {"Retry-After": "120"}),
    )
    response = make_client().post("/v1/messages", json=HELLO)
    anthropic_error(response, 429, "rate_limit_error")
    assert response.headers["retry-after"] == "120"


def test_request_timeout_is_a_504_timeout_error(make_client, vendor):
    vendor.enqueue(ROUTE, FakeResponse.json({}, delay=3.0))
    started = time.monotonic()
    response = make_client(serve="{request_timeout: 0.5}").post("/v1/messages", json=HELLO)
    anthropic_error(response, 504, "timeout_error")
    assert time.monotonic() - started < 2.5


def test_a_router_names_its_target_in_json_and_streams(make_client, vendor):
    vendor.enqueue(ROUTE, SIM.reply(Reply(text="Hello!")), SIM.stream(Reply(text="Hi")))
    client = make_client(extra_profiles=DEAD + ROUTER)
    response = client.post("/v1/messages", json={**HELLO, "model": "smart"})
    assert response.status_code == 200 and response.headers["x-chatpipe-target"] == "gpt"
    with client.stream("POST", "/v1/messages", json={**HELLO, "model": "smart", "stream": True}) as streamed:
        assert streamed.headers["x-chatpipe-target"] == "gpt"


def test_metrics_count_the_messages_route(make_client, vendor):
    pytest.importorskip("prometheus_client")
    from prometheus_text import Scrape

    vendor.enqueue(ROUTE, SIM.reply(Reply(text="a")), SIM.stream(Reply(text="b")), SIM.error(429))
    client = make_client()
    assert client.post("/v1/messages", json=HELLO).status_code == 200
    assert client.post("/v1/messages", json={**HELLO, "stream": True}).status_code == 200
    assert client.post("/v1/messages", json=HELLO).status_code == 429
    assert client.post("/v1/messages", json={**HELLO, "model": "nope"}).status_code == 404
    got = Scrape(client.get("/metrics").text)
    assert got.value("chatpipe_requests_total", profile="gpt", status="200") == 2
    assert got.value("chatpipe_request_errors_total", code="rate_limit_exceeded", status="429") == 1
    assert got.value("chatpipe_request_errors_total", code="model_not_found", profile="") == 1
    assert got.value("chatpipe_request_duration_seconds_count", stream="true") == 1
    assert got.value("chatpipe_tokens_total", profile="gpt", kind="input") == 2 * Reply().prompt_tokens


@pytest.mark.parametrize("stream", [False, True])
def test_budgets_are_checked_and_charged(make_client, vendor, stream):
    local_store().clear()
    try:
        client = make_client(f"{{keys: {{team-a: {GATEWAY_KEY}}}}}", extra="budgets: {team-a: {tokens: 20}}")
        reply = SIM.stream(Reply(text="x")) if stream else SIM.reply(Reply(text="x"))
        vendor.enqueue(ROUTE, reply, reply)
        headers = {"x-api-key": GATEWAY_KEY}
        body = {**HELLO, "stream": stream}
        assert client.post("/v1/messages", json=body, headers=headers).status_code == 200  # 18 tokens spent
        assert client.post("/v1/messages", json=body, headers=headers).status_code == 200  # 18 < 20: 36 spent
        message = anthropic_error(client.post("/v1/messages", json=body, headers=headers), 429, "rate_limit_error")
        assert "'team-a'" in message
        assert len(vendor.requests) == 2
    finally:
        local_store().clear()


def test_count_tokens_is_the_limiters_estimate_and_calls_no_vendor(make_client, vendor):
    client = make_client()
    body = {
        "model": "gpt",
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "What is the weather in Paris today?"}],
        "tools": [{"name": "weather", "input_schema": {"type": "object"}}],
    }
    response = client.post("/v1/messages/count_tokens", json=body)
    assert response.status_code == 200
    call = parse_count_tokens_body(json.dumps(body).encode())
    expected = estimate_tokens(
        {"messages": wire.messages_to_dicts(call.messages), "tools": [wire.tool_to_dict(t) for t in call.tools]}
    )
    assert response.json() == {"input_tokens": expected}
    longer = {**body, "messages": [{"role": "user", "content": "word " * 400}]}
    assert client.post("/messages/count_tokens", json=longer).json()["input_tokens"] > expected + 400
    anthropic_error(client.post("/v1/messages/count_tokens", json={**body, "model": "nope"}), 404, "not_found_error")
    assert vendor.requests == []


@pytest.mark.parametrize("stream", [False, True])
def test_each_answered_call_is_logged_with_the_clients_label(make_client, vendor, caplog, stream):
    client = make_client(serve=f"{{keys: {{team-a: {GATEWAY_KEY}}}}}")
    vendor.enqueue(ROUTE, SIM.stream(Reply(text="x")) if stream else SIM.reply(Reply(text="x")))
    with caplog.at_level(logging.INFO, logger="chatpipe.gateway"):
        response = client.post("/v1/messages", json={**HELLO, "stream": stream}, headers={"x-api-key": GATEWAY_KEY})
    assert response.status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("reply ")]
    assert lines == ["reply profile=gpt client=team-a model=test-model tokens=11+7 cost=unknown"]
    assert GATEWAY_KEY not in caplog.text


def test_tool_arguments_that_are_not_json_are_a_502_and_the_call_is_still_accounted(make_client, vendor, caplog):
    call = {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Par'}}
    message = {"role": "assistant", "content": None, "tool_calls": [call]}
    usage = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
    choice = {"index": 0, "message": message, "finish_reason": "tool_calls"}
    vendor.enqueue(ROUTE, FakeResponse.json({"id": "c", "model": "m", "choices": [choice], "usage": usage}))
    with caplog.at_level(logging.INFO, logger="chatpipe.gateway"):
        response = make_client().post("/v1/messages", json=HELLO)
    assert "'weather' are not a JSON object" in anthropic_error(response, 502, "api_error")
    assert [r.getMessage() for r in caplog.records if r.getMessage().startswith("reply ")] == [
        "reply profile=gpt model=m tokens=5+3 cost=unknown"
    ]
