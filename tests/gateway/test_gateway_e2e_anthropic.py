"""Anthropic's official client against a real ``chatpipe serve`` (POST /v1/messages), in front of an
OpenAI-family fake vendor and in front of the Claude fake."""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest
from chatpipe.testing import FakeResponse
from chatpipe.testing.anthropic import AnthropicEvents
from chatpipe.testing.conformance import OpenAISimulator, Reply

from .conftest import GATEWAY_KEY, VENDOR_KEY, openai_profile

anthropic = pytest.importorskip("anthropic")

SIM = OpenAISimulator(provider="openai")
OPENAI_ROUTE = "POST /v1/chat/completions"
CLAUDE_ROUTE = "POST /v1/messages"
KEYS = f"{{keys: [{GATEWAY_KEY}]}}"
ASK = [{"role": "user", "content": "Weather in Paris?"}]
TOOL = {
    "name": "get_weather",
    "description": "Current weather",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def client(gateway: Any, **kwargs: Any) -> Any:
    """An ``anthropic.Anthropic`` client on the gateway (its key by default, no retries)."""
    kwargs.setdefault("api_key", GATEWAY_KEY)
    return anthropic.Anthropic(base_url=gateway.url, max_retries=0, **kwargs)


def claude_profile(server: Any) -> str:
    return (
        f"  claude: {{provider: claude, base_url: '{server.url}', api_key: {VENDOR_KEY}, "
        "model: claude-sonnet-4-5, max_retries: 0}\n"
    )


def thinking_stream(text: str, thinking: str, signature: str) -> FakeResponse:
    """A Claude event stream: one signed thinking block, then one text block."""
    reply = AnthropicEvents(input_tokens=21, output_tokens=9).text(text)
    items: list[Any] = reply.events()
    block = [
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": _THINKING}),
        ("content_block_delta", _delta(0, {"type": "thinking_delta", "thinking": thinking})),
        ("content_block_delta", _delta(0, {"type": "signature_delta", "signature": signature})),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    ]
    for _, data in items:  # the text block moves to index 1
        if "index" in data:
            data["index"] += 1
    return FakeResponse.sse([*items[:2], *block, *items[2:]], done=False)


_THINKING = {"type": "thinking", "thinking": "", "signature": ""}


def _delta(index: int, delta: dict[str, Any]) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": delta}


# --- in front of an OpenAI-family vendor -------------------------------------------------------------


def test_plain_message_through_an_openai_vendor(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor), KEYS)
    vendor.enqueue(OPENAI_ROUTE, SIM.reply(Reply(text="Sunny.")))
    message = client(gateway).messages.create(model="gpt", max_tokens=64, system="Be brief.", messages=ASK)
    assert message.id.startswith("msg_")
    assert [(b.type, b.text) for b in message.content] == [("text", "Sunny.")]
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (11, 7)
    sent = vendor.requests[0]
    assert sent.headers["authorization"] == f"Bearer {VENDOR_KEY}"
    assert sent.json["messages"][0] == {"role": "system", "content": "Be brief."}
    assert sent.json["max_tokens"] == 64


def test_a_bearer_token_works_too(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor), KEYS)
    vendor.enqueue(OPENAI_ROUTE, SIM.reply(Reply(text="ok")))
    bearer = anthropic.Anthropic(base_url=gateway.url, auth_token=GATEWAY_KEY, max_retries=0)
    assert bearer.messages.create(model="gpt", max_tokens=8, messages=ASK).content[0].text == "ok"


def test_streamed_text_and_tool_call_assemble_in_the_stream_helper(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor), KEYS)
    reply = Reply(text="Let me check the weather.", tool_call=("call_7", "get_weather", {"city": "Paris"}))
    vendor.enqueue(OPENAI_ROUTE, SIM.stream(reply))
    with client(gateway).messages.stream(model="gpt", max_tokens=64, messages=ASK, tools=[TOOL]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Let me check the weather."
    assert [b.type for b in final.content] == ["text", "tool_use"]
    assert final.content[0].text == text
    use = final.content[1]
    assert (use.id, use.name, use.input) == ("call_7", "get_weather", {"city": "Paris"})
    assert final.stop_reason == "tool_use"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (11, 7)
    assert vendor.requests[0].json["stream"] is True


def test_a_tool_round_trip_through_an_openai_vendor(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor), KEYS)
    vendor.enqueue(OPENAI_ROUTE, SIM.reply(Reply(tool_call=("call_1", "get_weather", {"city": "Paris"}))))
    vendor.enqueue(OPENAI_ROUTE, SIM.reply(Reply(text="Sunny, 18 C.")))
    api = client(gateway)
    first = api.messages.create(model="gpt", max_tokens=64, messages=ASK, tools=[TOOL], tool_choice={"type": "any"})
    assert first.stop_reason == "tool_use"
    (use,) = first.content
    assert (use.type, use.name, use.input) == ("tool_use", "get_weather", {"city": "Paris"})
    history = [
        *ASK,
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "18 C and sunny"}]},
    ]
    second = api.messages.create(model="gpt", max_tokens=64, messages=history, tools=[TOOL])
    assert second.content[0].text == "Sunny, 18 C."
    assert vendor.requests[0].json["tool_choice"] == "required"
    sent = vendor.requests[1].json["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool"]
    assert json.loads(sent[1]["tool_calls"][0]["function"]["arguments"]) == {"city": "Paris"}
    assert sent[2] == {"role": "tool", "content": "18 C and sunny", "tool_call_id": "call_1"}


def test_count_tokens(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor), KEYS)
    api = client(gateway)
    short = api.messages.count_tokens(model="gpt", messages=ASK)
    long = api.messages.count_tokens(model="gpt", messages=[{"role": "user", "content": "word " * 400}], tools=[TOOL])
    assert 0 < short.input_tokens < long.input_tokens
    assert long.input_tokens >= 500  # 2000 characters of text alone are ~500 tokens by the estimate
    assert vendor.requests == []


def test_client_errors_are_the_sdks_typed_errors(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor), KEYS)
    with pytest.raises(anthropic.AuthenticationError) as denied:
        client(gateway, api_key="wrong-key-000000000000").messages.create(model="gpt", max_tokens=8, messages=ASK)
    assert denied.value.body["error"]["type"] == "authentication_error"
    with pytest.raises(anthropic.NotFoundError) as missing:
        client(gateway).messages.create(model="gtp", max_tokens=8, messages=ASK)
    assert "Did you mean 'gpt'?" in missing.value.body["error"]["message"]
    with pytest.raises(anthropic.BadRequestError) as bad:
        client(gateway).messages.create(model="gpt", max_tokens=8, messages=ASK, thinking={"type": "enabled"})
    assert bad.value.body["error"]["type"] == "invalid_request_error"
    assert "thinking.budget_tokens" in bad.value.body["error"]["message"]
    assert vendor.requests == []


def test_vendor_errors_are_the_sdks_typed_errors(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor), KEYS)
    api = client(gateway)
    vendor.enqueue(
        OPENAI_ROUTE,
        FakeResponse.json({"error": {"message": "slow down", "type": "rate_limit_error"}}, 429, {"Retry-After": "30"}),
    )
    with pytest.raises(anthropic.RateLimitError) as limited:
        api.messages.create(model="gpt", max_tokens=8, messages=ASK)
    assert limited.value.response.headers["retry-after"] == "30"
    assert VENDOR_KEY not in limited.value.response.text
    vendor.enqueue(OPENAI_ROUTE, SIM.error(503))
    with pytest.raises(anthropic.OverloadedError) as overloaded:
        api.messages.create(model="gpt", max_tokens=8, messages=ASK)
    assert overloaded.value.status_code == 529


def test_an_error_after_the_stream_began_raises_after_the_text_already_sent(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor), KEYS)
    head = [{"choices": [{"index": 0, "delta": {"role": "assistant", "content": "Partial"}}]}]
    vendor.enqueue(OPENAI_ROUTE, FakeResponse.sse([*head, "not json"]))
    received: list[str] = []
    api = client(gateway)
    with (
        pytest.raises(anthropic.APIStatusError) as info,
        api.messages.stream(model="gpt", max_tokens=64, messages=ASK) as stream,
    ):
        received.extend(stream.text_stream)
    assert received == ["Partial"]
    assert info.value.body["error"]["type"] == "api_error"


# --- in front of the Claude fake ---------------------------------------------------------------------


def test_claude_thinking_keeps_its_signature_streamed_and_not(start_gateway, vendor):
    gateway = start_gateway(claude_profile(vendor), KEYS)
    api = client(gateway)
    signed = {"type": "thinking", "thinking": "Paris in June: sunny.", "signature": "sig-abc"}
    reply = AnthropicEvents(message_id="msg_vendor1", input_tokens=21, output_tokens=9).text("Sunny.")
    reply.blocks.insert(0, signed)
    vendor.enqueue(CLAUDE_ROUTE, reply.response())
    thinking = {"type": "enabled", "budget_tokens": 1024}
    message = api.messages.create(model="claude", max_tokens=4096, messages=ASK, thinking=thinking)
    assert message.id == "msg_vendor1"
    assert [b.type for b in message.content] == ["thinking", "text"]
    assert (message.content[0].thinking, message.content[0].signature) == ("Paris in June: sunny.", "sig-abc")
    assert vendor.requests[0].json["thinking"]["type"] == "enabled"  # reasoning_effort low → a Claude budget

    vendor.enqueue(CLAUDE_ROUTE, thinking_stream("Sunny, 24 C.", "Paris in June...", "sig-xyz"))
    with api.messages.stream(model="claude", max_tokens=4096, messages=ASK, thinking=thinking) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    assert "thinking" in kinds and "signature" in kinds and "text" in kinds
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert (final.content[0].thinking, final.content[0].signature) == ("Paris in June...", "sig-xyz")
    assert final.content[1].text == "Sunny, 24 C."
    assert (final.usage.input_tokens, final.usage.output_tokens) == (21, 9)


def test_claude_tool_loop_replays_the_signed_thinking_block(start_gateway, vendor):
    gateway = start_gateway(claude_profile(vendor), KEYS)
    api = client(gateway)
    signed = {"type": "thinking", "thinking": "Need the weather tool.", "signature": "sig-tool"}
    first_reply = AnthropicEvents().tool_use("toolu_01", "get_weather", {"city": "Paris"})
    first_reply.blocks.insert(0, signed)
    vendor.enqueue(CLAUDE_ROUTE, first_reply.response(), AnthropicEvents().text("Sunny, 18 C.").response())
    thinking = {"type": "enabled", "budget_tokens": 1024}
    first = api.messages.create(model="claude", max_tokens=4096, messages=ASK, tools=[TOOL], thinking=thinking)
    assert first.stop_reason == "tool_use"
    assert [b.type for b in first.content] == ["thinking", "tool_use"]
    history = [
        *ASK,
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "18 C", "is_error": False}],
        },
    ]
    second = api.messages.create(model="claude", max_tokens=4096, messages=history, tools=[TOOL], thinking=thinking)
    assert second.content[0].text == "Sunny, 18 C."
    sent = vendor.requests[1].json["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[1]["content"][0] == signed  # replayed unchanged, signature included
    assert sent[1]["content"][1] == {
        "type": "tool_use",
        "id": "toolu_01",
        "name": "get_weather",
        "input": {"city": "Paris"},
    }
    assert [(b["type"], b["tool_use_id"]) for b in sent[2]["content"]] == [("tool_result", "toolu_01")]


def test_claude_stop_sequence_and_overload(start_gateway, vendor):
    gateway = start_gateway(claude_profile(vendor), KEYS)
    api = client(gateway)
    body = {**AnthropicEvents().text("one two").message(), "stop_reason": "stop_sequence", "stop_sequence": "three"}
    vendor.enqueue(CLAUDE_ROUTE, FakeResponse.json(body))
    message = api.messages.create(model="claude", max_tokens=64, messages=ASK, stop_sequences=["three"])
    assert (message.stop_reason, message.stop_sequence) == ("stop_sequence", "three")
    assert vendor.requests[0].json["stop_sequences"] == ["three"]
    vendor.enqueue(CLAUDE_ROUTE, AnthropicEvents.error(529, "Overloaded"))
    with pytest.raises(anthropic.OverloadedError):
        api.messages.create(model="claude", max_tokens=64, messages=ASK)
    vendor.enqueue(CLAUDE_ROUTE, AnthropicEvents.error(429, "slow down"))
    with pytest.raises(anthropic.RateLimitError):
        api.messages.create(model="claude", max_tokens=64, messages=ASK)


def test_claude_streamed_tool_call_and_an_overload_mid_stream(start_gateway, vendor):
    gateway = start_gateway(claude_profile(vendor), KEYS)
    api = client(gateway)
    reply = AnthropicEvents().text("Checking.").tool_use("toolu_05", "get_weather", {"city": "Rome"})
    vendor.enqueue(CLAUDE_ROUTE, reply.sse())
    with api.messages.stream(model="claude", max_tokens=64, messages=ASK, tools=[TOOL]) as stream:
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["text", "tool_use"]
    assert (final.content[1].id, final.content[1].input) == ("toolu_05", {"city": "Rome"})
    assert final.stop_reason == "tool_use"

    items = AnthropicEvents().text("Partial answer").events()
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    vendor.enqueue(CLAUDE_ROUTE, FakeResponse.sse([*items[:4], ("error", overloaded)], done=False))
    received: list[str] = []
    with (
        pytest.raises(anthropic.APIStatusError) as info,
        api.messages.stream(model="claude", max_tokens=64, messages=ASK) as stream,
    ):
        received.extend(stream.text_stream)
    first_piece = items[3][1]["delta"]["text"]  # message_start, ping, content_block_start, then this delta
    assert received == [first_piece] and first_piece  # what was sent stays received
    assert info.value.body["error"]["type"] == "overloaded_error"
    assert VENDOR_KEY not in info.value.body["error"]["message"]


# --- the client leaving ------------------------------------------------------------------------------


def _post_messages(gateway: Any, body: dict[str, Any]) -> http.client.HTTPConnection:
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=10)
    headers = {"Content-Type": "application/json", "x-api-key": GATEWAY_KEY}
    connection.request("POST", "/v1/messages", body=json.dumps(body), headers=headers)
    return connection


def test_a_client_leaving_mid_stream_cancels_the_upstream_call(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor), KEYS)
    chunk = {"id": "c", "model": "m", "choices": [{"index": 0, "delta": {"content": "one "}, "finish_reason": None}]}
    vendor.enqueue(OPENAI_ROUTE, FakeResponse.sse([chunk, chunk], stall_after=2))
    connection = _post_messages(gateway, {"model": "gpt", "max_tokens": 64, "messages": ASK, "stream": True})
    response = connection.getresponse()
    assert response.status == 200
    assert response.readline() == b"event: message_start\n"
    connection.sock.close()
    connection.close()
    assert vendor.wait_for(lambda: vendor.disconnects == 1, timeout=5), "the upstream stream was not closed"


def test_a_client_leaving_before_the_reply_cancels_the_upstream_call(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor), KEYS)
    vendor.enqueue(OPENAI_ROUTE, FakeResponse.json({}, delay=60))
    connection = _post_messages(gateway, {"model": "gpt", "max_tokens": 64, "messages": ASK})
    assert vendor.wait_for(lambda: len(vendor.requests) == 1 and vendor.open_connections == 1)
    connection.sock.close()
    connection.close()
    assert vendor.wait_for(lambda: vendor.open_connections == 0, timeout=5), "the upstream call was not cancelled"
