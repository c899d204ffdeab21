"""Router: fallback, weighted and least-busy routing across profiles, against loopback fake vendors."""

from __future__ import annotations

import asyncio
import random
import threading
from typing import Any

import pytest
from chatpipe import Pipeline
from chatpipe.config import parse_config
from chatpipe.errors import (
    AllTargetsFailedError,
    APIConnectionError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigError,
    ContextLengthError,
    ProviderError,
)
from chatpipe.routing import Router
from chatpipe.testing import FakeResponse, FakeServer, MockTransport
from chatpipe.testing.conformance import Reply
from fake_vendors import HI, KEY, ROUTE, SIM, pipe, reply_json

CONTEXT_400 = FakeResponse.json(
    {
        "error": {
            "message": "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens.",
            "type": "invalid_request_error",
            "code": "context_length_exceeded",
        }
    },
    status=400,
)


def config_for(a: FakeServer, b: FakeServer, c: FakeServer, route: str) -> str:
    def profile(name: str, server: FakeServer) -> str:
        settings = f"model: model-{name}, base_url: '{server.url}/v1', api_key: {KEY}, max_retries: 0"
        return f"  {name}: {{provider: openai, {settings}}}\n"

    return f"profiles:\n{profile('a', a)}{profile('b', b)}{profile('big', c)}  smart: {{route: {route}}}\n"


def expected_body(model: str, **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": HI, "stream": False, **extra}


# --- fallback on complete ------------------------------------------------------------------


@pytest.mark.parametrize("failure", [503, 500, 429], ids=["overloaded", "server-error", "rate-limited"])
def test_fallback_moves_on_after_a_status_the_router_names(vendors, failure):
    a, b, _ = vendors
    a.enqueue(ROUTE, SIM.error(failure))
    b.enqueue(ROUTE, SIM.reply(Reply(text="from b")))
    with Router([pipe(a, "a"), pipe(b, "b")]) as router:
        reply = router.complete(HI)
    assert (reply.text, reply.route) == ("from b", "b")
    assert [r.json for r in a.requests] == [expected_body("model-a")]
    assert [r.json for r in b.requests] == [expected_body("model-b")]


def test_fallback_moves_on_when_the_primary_refuses_connections(vendors):
    _, b, _ = vendors
    b.enqueue(ROUTE, SIM.reply(Reply(text="from b")))
    reply = Router([pipe(None, "dead"), pipe(b, "b")]).complete(HI)
    assert (reply.text, reply.route) == ("from b", "b")
    assert [r.json for r in b.requests] == [expected_body("model-b")]


def test_fallback_moves_on_when_the_primary_times_out(vendors):
    a, b, _ = vendors
    a.enqueue(ROUTE, FakeResponse.json({}, delay=2.0))
    b.enqueue(ROUTE, SIM.reply(Reply(text="from b")))
    router = Router([pipe(a, "a", timeout={"connect": 1.0, "read": 0.3}), pipe(b, "b")])
    assert router.complete(HI).route == "b"


@pytest.mark.parametrize(("status", "error"), [(401, AuthenticationError), (400, BadRequestError)])
def test_no_fallback_on_a_refused_key_or_a_bad_request(vendors, status, error):
    a, b, _ = vendors
    a.enqueue(ROUTE, SIM.error(status))
    with pytest.raises(error, match=f"simulated {status}"):
        Router([pipe(a, "a"), pipe(b, "b")]).complete(HI)
    assert b.requests == []


def test_fallback_on_is_configurable(vendors):
    a, b, _ = vendors
    a.enqueue(ROUTE, SIM.error(401))
    b.enqueue(ROUTE, SIM.reply(Reply(text="from b")))
    assert Router([pipe(a, "a"), pipe(b, "b")], fallback_on=["auth"]).complete(HI).route == "b"
    a.enqueue(ROUTE, SIM.error(503))
    with pytest.raises(ProviderError, match="simulated 503"):
        Router([pipe(a, "a"), pipe(b, "b")], fallback_on=[]).complete(HI)
    assert len(b.requests) == 1


def test_context_length_moves_only_to_the_context_fallbacks(vendors):
    a, b, c = vendors
    a.enqueue(ROUTE, CONTEXT_400)
    c.enqueue(ROUTE, SIM.reply(Reply(text="long context")))
    big = pipe(c, "big")
    reply = Router([pipe(a, "a"), pipe(b, "b")], context_fallbacks=[big]).complete(HI)
    assert (reply.text, reply.route) == ("long context", "big")
    assert b.requests == []
    assert [r.json for r in c.requests] == [expected_body("model-big")]


def test_context_length_without_context_fallbacks_is_raised(vendors):
    a, b, _ = vendors
    a.enqueue(ROUTE, CONTEXT_400)
    with pytest.raises(ContextLengthError):
        Router([pipe(a, "a"), pipe(b, "b")]).complete(HI)
    assert b.requests == []


def test_when_every_target_fails_one_error_lists_them_all(vendors):
    a, _, _ = vendors
    a.enqueue(ROUTE, SIM.error(503))
    with pytest.raises(AllTargetsFailedError) as caught:
        Router([pipe(a, "a"), pipe(None, "dead")]).complete(HI)
    error = caught.value
    assert [name for name, _ in error.failures] == ["a", "dead"]
    assert isinstance(error.failures[0][1], ProviderError) and error.failures[0][1].status == 503
    assert isinstance(error.failures[1][1], APIConnectionError)
    assert str(error).startswith("every target failed (a: OverloadedError: openai HTTP 503: simulated 503; dead: ")
    assert KEY not in str(error)


def test_async_complete_falls_back(vendors):
    a, b, _ = vendors
    a.enqueue(ROUTE, SIM.error(503))
    b.enqueue(ROUTE, SIM.reply(Reply(text="async b")))

    async def run() -> tuple[str, str | None]:
        async with Router([pipe(a, "a"), pipe(b, "b")]) as router:
            reply = await router.acomplete(HI)
        return reply.text, reply.route

    assert asyncio.run(run()) == ("async b", "b")


# --- streams ------------------------------------------------------------------------------


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [choice]}


def test_a_stream_falls_back_before_its_first_content(vendors):
    a, b, _ = vendors
    a.enqueue(ROUTE, SIM.error(503))
    b.enqueue(ROUTE, SIM.stream(Reply(text="Streamed from b")))
    stream = Router([pipe(a, "a"), pipe(b, "b")]).stream(HI)
    text = "".join(chunk.text for chunk in stream)
    assert text == "Streamed from b" == stream.response.text
    assert stream.response.route == "b"
    assert b.requests[0].json["messages"] == HI and b.requests[0].json["stream"] is True


def test_a_stream_that_stalls_after_a_role_only_chunk_still_falls_back(vendors):
    a, b, _ = vendors
    a.enqueue(ROUTE, FakeResponse.sse([_chunk({"role": "assistant"})], stall_after=1))
    b.enqueue(ROUTE, SIM.stream(Reply(text="from b")))
    router = Router([pipe(a, "a", timeout={"connect": 1.0, "read": 0.3}), pipe(b, "b")])
    chunks = list(stream := router.stream(HI))
    assert "".join(c.text for c in chunks) == "from b"
    assert stream.response.route == "b"


def test_a_stream_that_fails_after_content_raises_with_the_text_received(vendors):
    a, b, _ = vendors
    events = [_chunk({"role": "assistant", "content": "Hel"}), _chunk({"content": "lo"})]
    a.enqueue(ROUTE, FakeResponse.sse(events, stall_after=2))
    stream = Router([pipe(a, "a", timeout={"connect": 1.0, "read": 0.3}), pipe(b, "b")]).stream(HI)
    received = []
    with pytest.raises(APITimeoutError) as caught:
        for chunk in stream:
            received.append(chunk.text)
    assert "".join(received) == "Hello" == caught.value.partial_text
    assert b.requests == []  # never a silent restart


def test_async_stream_falls_back_and_keeps_partial_text(vendors):
    a, b, _ = vendors
    a.enqueue(ROUTE, SIM.error(429))
    b.enqueue(ROUTE, SIM.stream(Reply(text="async stream")))
    events = [_chunk({"role": "assistant", "content": "Par"}), _chunk({"content": "tial"})]
    a.enqueue(ROUTE, FakeResponse.sse(events, stall_after=2))

    async def run() -> tuple[str, str | None, str]:
        router = Router([pipe(a, "a", timeout={"connect": 1.0, "read": 0.3}), pipe(b, "b")])
        stream = router.astream(HI)
        text = "".join([chunk.text async for chunk in stream])
        try:
            async for _ in router.astream(HI):
                pass
        except APITimeoutError as error:
            partial = error.partial_text
        await router.aclose()
        return text, stream.response.route, partial

    assert asyncio.run(run()) == ("async stream", "b", "Partial")


# --- strategies ---------------------------------------------------------------------------


def test_weighted_shares_follow_the_weights():
    # 2,000 calls through whole pipelines, without sockets (loopback HTTP is below): the share
    # of each target is its weight's share within 5 points.
    transports = {name: MockTransport(lambda _, n=name: SIM.reply(Reply(text=n))) for name in ("a", "b")}
    targets = [Pipeline("openai", api_key=KEY, profile=n, transport=t) for n, t in transports.items()]
    router = Router(targets, "weighted", weights=[3, 1], rng=random.Random(15))
    replies = [router.complete(HI) for _ in range(2000)]
    assert all(reply.text == reply.route for reply in replies)
    share_a = sum(reply.route == "a" for reply in replies) / 2000
    assert abs(share_a - 0.75) < 0.05
    assert len(transports["a"].requests) + len(transports["b"].requests) == 2000


def test_weighted_calls_reach_the_chosen_vendor(vendors):
    a, b, _ = vendors
    a.route(ROUTE, lambda _: SIM.reply(Reply(text="a")))
    b.route(ROUTE, lambda _: SIM.reply(Reply(text="b")))
    router = Router([pipe(a, "a"), pipe(b, "b")], "weighted", weights=[3, 1], rng=random.Random(15))
    routes = [router.complete(HI).route for _ in range(40)]
    assert (len(a.requests), len(b.requests)) == (routes.count("a"), routes.count("b"))
    assert routes.count("a") > routes.count("b") > 0


def test_weighted_falls_back_to_the_other_target(vendors):
    a, b, _ = vendors
    a.route(ROUTE, lambda _: SIM.error(503))
    b.route(ROUTE, lambda _: SIM.reply(Reply(text="b")))
    router = Router([pipe(a, "a"), pipe(b, "b")], "weighted", weights=[1000, 1], rng=random.Random(1))
    assert {router.complete(HI).route for _ in range(5)} == {"b"}
    assert len(a.requests) >= 1


def test_least_busy_picks_the_idle_target(vendors):
    a, b, _ = vendors
    a.enqueue(ROUTE, FakeResponse.json(reply_json("slow a"), delay=1.0))
    b.enqueue(ROUTE, SIM.reply(Reply(text="quick b")))
    router = Router([pipe(a, "a"), pipe(b, "b")], "least-busy")
    slow: list[str | None] = []
    worker = threading.Thread(target=lambda: slow.append(router.complete(HI).route))
    worker.start()
    assert a.wait_for(lambda: len(a.requests) == 1)
    assert router.complete(HI).route == "b"  # a is busy with the slow call
    worker.join()
    assert slow == ["a"]


# --- from the config ----------------------------------------------------------------------


def test_pipeline_from_config_on_a_router_profile(vendors):
    a, b, c = vendors
    config = parse_config(config_for(a, b, c, "{strategy: fallback, targets: [a, b], context_fallbacks: [big]}"))
    router = Pipeline.from_config("smart", config=config)
    assert isinstance(router, Router)
    assert [t.name for t in router.targets] == ["a", "b"] and router.context_targets[0].name == "big"
    a.enqueue(ROUTE, SIM.error(503))
    b.enqueue(ROUTE, SIM.reply(Reply(text="from b")))
    assert router.complete(HI).route == "b"
    assert [r.json for r in b.requests] == [expected_body("model-b")]
    assert router.model == "model-a"  # other attributes are the primary target's


def test_nested_router_names_the_innermost_profile(vendors):
    a, b, c = vendors
    text = config_for(a, b, c, "{targets: [inner, big]}") + "  inner: {route: {targets: [a, b]}}\n"
    a.enqueue(ROUTE, SIM.error(503))
    b.enqueue(ROUTE, SIM.error(503))
    c.enqueue(ROUTE, SIM.reply(Reply(text="big")))
    router = Router.from_config("smart", config=parse_config(text))
    assert router.complete(HI).route == "big"
    a.enqueue(ROUTE, SIM.error(503))
    b.enqueue(ROUTE, SIM.reply(Reply(text="b")))
    assert router.complete(HI).route == "b"


def test_router_profile_refuses_single_profile_overrides(vendors):
    a, b, c = vendors
    config = parse_config(config_for(a, b, c, "{targets: [a, b]}"))
    with pytest.raises(ConfigError, match="'smart' is a router: model cannot be overridden"):
        Pipeline.from_config("smart", config=config, model="x")
    with pytest.raises(ConfigError, match="'a' is not a router profile"):
        Router.from_config("a", config=config)


def test_python_router_rejects_bad_arguments(vendors):
    a, _, _ = vendors
    with pytest.raises(ConfigError, match="unknown strategy 'random'"):
        Router([pipe(a, "a")], "random")
    with pytest.raises(ConfigError, match="fallback_on"):
        Router([pipe(a, "a")], fallback_on=["network"])
    with pytest.raises(ConfigError, match="weights"):
        Router([pipe(a, "a")], "weighted", weights=[0])


def test_a_stream_whose_targets_all_fail_raises_one_error(vendors):
    a, b, _ = vendors
    a.enqueue(ROUTE, SIM.error(503))
    b.enqueue(ROUTE, SIM.error(429))
    with pytest.raises(AllTargetsFailedError) as caught:
        list(Router([pipe(a, "a"), pipe(b, "b")]).stream(HI))
    assert [(name, error.status) for name, error in caught.value.failures] == [("a", 503), ("b", 429)]


def test_least_busy_counts_an_open_stream_as_busy(vendors):
    a, b, _ = vendors
    a.enqueue(ROUTE, SIM.stream(Reply(text="long answer from a")))
    b.enqueue(ROUTE, SIM.reply(Reply(text="quick b")))
    router = Router([pipe(a, "a"), pipe(b, "b")], "least-busy")
    stream = router.stream(HI)
    first = next(iter(stream))  # the stream to a is open
    assert router.complete(HI).route == "b"
    assert first.text + "".join(c.text for c in stream) == "long answer from a"
    assert stream.response.route == "a"
