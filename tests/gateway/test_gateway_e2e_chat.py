"""The official ``openai`` client against ``chatpipe serve`` (subprocess) and a fake OpenAI vendor."""

from __future__ import annotations

import asyncio
import json

from chatpipe.testing.conformance import TOOL_ARGUMENTS, TOOL_NAME, TOOL_SCHEMA, OpenAISimulator, Reply

from .conftest import VENDOR_KEY, openai_profile

SIM = OpenAISimulator(provider="openai")
ROUTE = "POST /v1/chat/completions"
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather in Paris?"}]


def test_sync_completion_with_pass_through_fields(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor))
    vendor.enqueue(ROUTE, SIM.reply(Reply(text="Sunny.")))
    reply = gateway.client().chat.completions.create(
        model="gpt", messages=MESSAGES, temperature=0.5, extra_body={"top_k": 7, "min_p": 0.1}
    )
    assert reply.choices[0].message.content == "Sunny."
    assert reply.choices[0].finish_reason == "stop"
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens) == (11, 7)
    sent = vendor.requests[0]
    assert sent.json["model"] == "vendor-model"
    assert sent.json["messages"] == MESSAGES
    assert (sent.json["temperature"], sent.json["top_k"], sent.json["min_p"]) == (0.5, 7, 0.1)
    assert sent.headers["authorization"] == f"Bearer {VENDOR_KEY}"


def test_model_override_routes_to_the_vendor_model(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor))
    vendor.enqueue(ROUTE, SIM.reply(Reply(text="ok")))
    gateway.client().chat.completions.create(model="gpt/org/special-model:v2", messages=MESSAGES)
    assert vendor.requests[0].json["model"] == "org/special-model:v2"


def test_sync_stream_with_usage(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor))
    vendor.enqueue(ROUTE, SIM.stream(Reply(text="It is sunny in Paris.")))
    chunks = list(
        gateway.client().chat.completions.create(
            model="gpt", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "It is sunny in Paris."
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == 18
    assert len({c.id for c in chunks}) == 1


def test_stream_without_usage_option_sends_no_usage(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor))
    vendor.enqueue(ROUTE, SIM.stream(Reply(text="Hi.")))
    chunks = list(gateway.client().chat.completions.create(model="gpt", messages=MESSAGES, stream=True))
    assert all(c.usage is None and c.choices for c in chunks)


def test_async_completion_and_stream(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor))
    vendor.enqueue(ROUTE, SIM.reply(Reply(text="Async reply.")), SIM.stream(Reply(text="Async stream.")))

    async def run() -> tuple[str, str]:
        client = gateway.async_client()
        reply = await client.chat.completions.create(model="gpt", messages=MESSAGES)
        stream = await client.chat.completions.create(model="gpt", messages=MESSAGES, stream=True)
        parts = [c.choices[0].delta.content or "" async for c in stream if c.choices]
        await client.close()
        return reply.choices[0].message.content or "", "".join(parts)

    assert asyncio.run(run()) == ("Async reply.", "Async stream.")


def test_concurrent_async_requests(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor))
    vendor.route(ROUTE, lambda request: SIM.reply(Reply(text=request.json["messages"][-1]["content"])))

    async def run() -> list[str]:
        client = gateway.async_client()
        replies = await asyncio.gather(
            *(
                client.chat.completions.create(model="gpt", messages=[{"role": "user", "content": f"n{i}"}])
                for i in range(40)
            )
        )
        await client.close()
        return [r.choices[0].message.content or "" for r in replies]

    assert asyncio.run(run()) == [f"n{i}" for i in range(40)]


def _call_history(call) -> list[dict]:
    return [
        *MESSAGES,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.function.name, "arguments": call.function.arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": call.id, "content": "18 C and sunny"},
    ]


def test_tool_call_round_trip(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor))
    client = gateway.client()
    vendor.enqueue(ROUTE, SIM.reply(Reply(tool_call=("call_1", TOOL_NAME, TOOL_ARGUMENTS))))
    first = client.chat.completions.create(model="gpt", messages=MESSAGES, tools=[TOOL_SCHEMA], tool_choice="auto")
    assert first.choices[0].finish_reason == "tool_calls"
    (call,) = first.choices[0].message.tool_calls
    assert (call.id, call.function.name, json.loads(call.function.arguments)) == ("call_1", TOOL_NAME, TOOL_ARGUMENTS)
    assert vendor.requests[0].json["tools"] == [TOOL_SCHEMA]
    assert vendor.requests[0].json["tool_choice"] == "auto"

    vendor.enqueue(ROUTE, SIM.reply(Reply(text="Sunny, 18 C.")))
    second = client.chat.completions.create(model="gpt", messages=_call_history(call), tools=[TOOL_SCHEMA])
    assert second.choices[0].message.content == "Sunny, 18 C."
    SIM.tool_history(vendor.requests[-1].json, "call_1", TOOL_NAME, TOOL_ARGUMENTS, "18 C and sunny")


def test_streamed_tool_call(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor))
    vendor.enqueue(ROUTE, SIM.stream(Reply(tool_call=("call_9", TOOL_NAME, TOOL_ARGUMENTS))))
    stream = gateway.client().chat.completions.create(model="gpt", messages=MESSAGES, tools=[TOOL_SCHEMA], stream=True)
    ids, names, arguments, finish = [], [], [], None
    for chunk in stream:
        for choice in chunk.choices:
            for delta in choice.delta.tool_calls or []:
                ids.append(delta.id)
                names.append(delta.function.name)
                arguments.append(delta.function.arguments or "")
            finish = choice.finish_reason or finish
    assert [i for i in ids if i] == ["call_9"]
    assert [n for n in names if n] == [TOOL_NAME]
    assert json.loads("".join(arguments)) == TOOL_ARGUMENTS
    assert finish == "tool_calls"


def test_reasoning_deltas_are_carried(start_gateway, vendor):
    from chatpipe.testing import FakeResponse

    gateway = start_gateway(openai_profile("ds", vendor))

    def chunk(delta, finish=None):
        return {"id": "c", "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    vendor.enqueue(
        ROUTE,
        FakeResponse.sse(
            [
                chunk({"role": "assistant", "reasoning_content": "Thinking..."}),
                chunk({"content": "Answer."}),
                chunk({}, "stop"),
            ]
        ),
    )
    chunks = list(gateway.client().chat.completions.create(model="ds", messages=MESSAGES, stream=True))
    reasoning = "".join((c.choices[0].delta.model_extra or {}).get("reasoning_content") or "" for c in chunks)
    assert reasoning == "Thinking..."
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Answer."
