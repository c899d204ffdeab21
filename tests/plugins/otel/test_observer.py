"""chatpipe_otel.OtelObserver: the spans of sync, async, streamed, retried, routed and failed calls."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from chatpipe import Pipeline
from chatpipe.config import parse_config
from chatpipe.errors import RateLimitError
from chatpipe.registry import Registry
from chatpipe.testing import FakeResponse, FakeServer
from chatpipe_otel import OtelObserver
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

KEY = "sk-test-PLANTED-otel-0123456789abcdef"
ROUTE = "POST /v1/chat/completions"
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"}]


def completion(text: str, model: str = "m-2024") -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9},
    }


def chunks(*texts: str) -> FakeResponse:
    items: list[Any] = [{"id": "s-1", "model": "m-2024", "choices": [{"index": 0, "delta": {"role": "assistant"}}]}]
    items += [{"id": "s-1", "model": "m-2024", "choices": [{"index": 0, "delta": {"content": t}}]} for t in texts]
    items.append({"id": "s-1", "model": "m-2024", "choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]})
    items += [{"id": "s-1", "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 3}}, "[DONE]"]
    return FakeResponse.sse(items)


BUSY = FakeResponse.json({"error": {"message": f"slow down {KEY}"}}, status=429, headers={"retry-after": "0"})


class Traced:
    """A registry with an OtelObserver writing to an in-memory exporter."""

    def __init__(self, capture_content: bool | None = False) -> None:
        self.exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.registry = Registry()
        self.registry.register(OtelObserver(tracer_provider=provider, capture_content=capture_content), "otel-test")

    def spans(self) -> tuple[ReadableSpan, ...]:
        return tuple(self.exporter.get_finished_spans())

    def pipe(self, server: FakeServer, **kw: Any) -> Pipeline:
        return Pipeline("custom", "m", base_url=f"{server.url}/v1", api_key=KEY, registry=self.registry, **kw)


@pytest.fixture
def traced() -> Iterator[Traced]:
    yield Traced()


def host_port(server: FakeServer) -> tuple[str, int]:
    host, port = server.url.split("//")[1].split(":")
    return host, int(port)


def check_call_span(span: ReadableSpan, server: FakeServer, *, stream: bool) -> None:
    attrs = dict(span.attributes or {})
    assert span.name == "chat m" and span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    host, port = host_port(server)
    expected = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "custom",
        "gen_ai.request.model": "m",
        "gen_ai.response.model": "m-2024",
        "gen_ai.response.id": "s-1" if stream else "chatcmpl-1",
        "gen_ai.response.finish_reasons": ("length",) if stream else ("stop",),
        "gen_ai.usage.input_tokens": 5 if stream else 7,
        "gen_ai.usage.output_tokens": 3 if stream else 2,
        "server.address": host,
        "server.port": port,
        "chatpipe.provider": "custom",
        "chatpipe.stream": stream,
    }
    assert {k: attrs.get(k) for k in expected} == expected
    assert "error.type" not in attrs and "gen_ai.input.messages" not in attrs


def test_sync_async_and_stream_calls_each_make_one_span(fake_server: FakeServer, traced: Traced) -> None:
    fake_server.enqueue(ROUTE, FakeResponse.json(completion("A")), FakeResponse.json(completion("B")), chunks("C"))
    with traced.pipe(fake_server) as p:
        assert p.complete(MESSAGES).text == "A"
        assert asyncio.run(p.acomplete(MESSAGES)).text == "B"
        assert p.stream(MESSAGES).collect().text == "C"
    spans = traced.spans()
    assert len(spans) == 3
    for span, stream in zip(spans, [False, False, True], strict=True):
        check_call_span(span, fake_server, stream=stream)
    assert len({s.attributes["chatpipe.call.id"] for s in spans if s.attributes}) == 3
    ttft = spans[2].attributes["chatpipe.time_to_first_token"] if spans[2].attributes else None
    assert isinstance(ttft, float) and ttft >= 0
    assert [e.name for e in spans[2].events] == ["chatpipe.first_token"]
    assert [e.name for e in spans[0].events] == []


def test_an_async_stream_makes_one_span(fake_server: FakeServer, traced: Traced) -> None:
    fake_server.enqueue(ROUTE, chunks("x", "y"))

    async def run() -> str:
        async with traced.pipe(fake_server) as p:
            return "".join([c.text or "" async for c in p.astream(MESSAGES)])

    assert asyncio.run(run()) == "xy"
    (span,) = traced.spans()
    check_call_span(span, fake_server, stream=True)


def test_a_span_is_a_child_of_the_current_span(fake_server: FakeServer, traced: Traced) -> None:
    fake_server.enqueue(ROUTE, FakeResponse.json(completion("A")))
    provider = TracerProvider()
    with provider.get_tracer("app").start_as_current_span("request") as parent, traced.pipe(fake_server) as p:
        p.complete(MESSAGES)
    (span,) = traced.spans()
    assert span.parent is not None and span.parent.span_id == parent.get_span_context().span_id


@pytest.mark.parametrize("stream", [False, True])
def test_a_retry_is_an_event_of_the_call_span(fake_server: FakeServer, traced: Traced, stream: bool) -> None:
    fake_server.enqueue(ROUTE, BUSY, chunks("ok") if stream else FakeResponse.json(completion("ok")))
    with traced.pipe(fake_server) as p:
        assert (p.stream(MESSAGES).collect() if stream else p.complete(MESSAGES)).text == "ok"
    (span,) = traced.spans()
    retries = [e for e in span.events if e.name == "chatpipe.retry"]
    assert len(retries) == 1
    assert dict(retries[0].attributes or {}) == {
        "chatpipe.retry.attempt": 2,
        "chatpipe.retry.reason": "status 429",
        "chatpipe.retry.wait": 0.0,
        "http.response.status_code": 429,
    }
    assert span.status.status_code is StatusCode.UNSET


def test_a_failed_call_has_its_error_type_and_status_error(fake_server: FakeServer, traced: Traced) -> None:
    fake_server.enqueue(ROUTE, BUSY)
    with traced.pipe(fake_server, max_retries=0) as p, pytest.raises(RateLimitError):
        p.complete(MESSAGES)
    (span,) = traced.spans()
    attrs = dict(span.attributes or {})
    assert attrs["error.type"] == "RateLimitError" and attrs["http.response.status_code"] == 429
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description and "slow down" in span.status.description


def test_cache_and_reasoning_tokens_are_recorded_when_reported(fake_server: FakeServer, traced: Traced) -> None:
    reply = completion("A")
    reply["usage"] = {
        "prompt_tokens": 100,
        "completion_tokens": 40,
        "total_tokens": 140,
        "prompt_tokens_details": {"cached_tokens": 64},
        "completion_tokens_details": {"reasoning_tokens": 30},
    }
    fake_server.enqueue(ROUTE, FakeResponse.json(reply), FakeResponse.json(completion("B")))
    with traced.pipe(fake_server) as p:
        p.complete(MESSAGES)
        p.complete(MESSAGES)
    reported, plain = (dict(span.attributes or {}) for span in traced.spans())
    assert reported["gen_ai.usage.input_tokens"] == 100 and reported["gen_ai.usage.cache_read.input_tokens"] == 64
    assert reported["chatpipe.usage.reasoning_tokens"] == 30
    assert not {"gen_ai.usage.cache_read.input_tokens", "chatpipe.usage.reasoning_tokens"} & plain.keys()


def test_a_wait_for_room_in_the_rate_limits_is_an_event(fake_server: FakeServer, traced: Traced) -> None:
    fake_server.route(ROUTE, lambda _: FakeResponse.json(completion("ok")))
    limits = {"rpm": 200, "window": 0.3, "max_wait": 5}  # one call per 0.3 s
    with traced.pipe(fake_server, profile="paced", limits=limits) as p:
        p.complete(MESSAGES)
        p.complete(MESSAGES)
    first, second = traced.spans()
    assert [e.name for e in first.events] == []
    (wait,) = second.events
    attrs = dict(wait.attributes or {})
    assert wait.name == "chatpipe.rate_limit.wait"
    assert attrs["chatpipe.rate_limit.limit"] == "rpm" and attrs["chatpipe.rate_limit.admitted"] is True
    assert 0.1 < float(attrs["chatpipe.rate_limit.seconds"]) < 1.5  # type: ignore[arg-type]


ROUTER = """
max_retries: 0
profiles:
  down: {{provider: custom, base_url: '{url}/down/v1', model: m1, api_key: {key}}}
  up: {{provider: custom, base_url: '{url}/v1', model: m2, api_key: {key}}}
  both: {{route: {{targets: [down, up]}}}}
"""


@pytest.mark.parametrize("stream", [False, True])
def test_a_router_fallback_is_two_linked_spans_with_a_hop_event(
    fake_server: FakeServer, traced: Traced, stream: bool
) -> None:
    fake_server.enqueue("POST /down/v1/chat/completions", FakeResponse.json({"error": {"message": "x"}}, status=503))
    fake_server.enqueue(ROUTE, chunks("ok") if stream else FakeResponse.json(completion("ok")))
    config = parse_config(ROUTER.format(url=fake_server.url, key=KEY))
    with Pipeline.from_config("both", config=config, registry=traced.registry) as router:
        reply = router.stream(MESSAGES).collect() if stream else router.complete(MESSAGES)
    assert reply.text == "ok"
    failed, answered = traced.spans()
    fa, aa = dict(failed.attributes or {}), dict(answered.attributes or {})
    assert (failed.name, fa["chatpipe.route"], fa["chatpipe.profile"], fa["error.type"]) == (
        "chat m1",
        "down",
        "down",
        "OverloadedError",
    )
    assert failed.status.status_code is StatusCode.ERROR
    assert (answered.name, aa["chatpipe.route"], answered.status.status_code) == ("chat m2", "up", StatusCode.UNSET)
    assert fa["chatpipe.call.id"] == aa["chatpipe.call.id"]
    assert fa["chatpipe.router"] == aa["chatpipe.router"] == "both"
    (hop,) = [e for e in answered.events if e.name == "chatpipe.router.hop"]
    assert dict(hop.attributes or {}) == {
        "chatpipe.router.from": "down",
        "chatpipe.router.to": "up",
        "error.type": "OverloadedError",
    }
    assert [link.context.span_id for link in answered.links] == [failed.context.span_id if failed.context else None]


def everything(spans: tuple[ReadableSpan, ...]) -> str:
    """Every attribute, event, link and status of ``spans`` as one text."""
    out = []
    for span in spans:
        out.append(json.dumps(dict(span.attributes or {}), default=str))
        out += [f"{e.name} {json.dumps(dict(e.attributes or {}), default=str)}" for e in span.events]
        out += [json.dumps(dict(link.attributes or {}), default=str) for link in span.links]
        out.append(f"{span.name} {span.status.description}")
    return "\n".join(out)


@pytest.mark.parametrize("capture", [False, True])
def test_no_planted_key_in_any_span(fake_server: FakeServer, capture: bool) -> None:
    traced = Traced(capture_content=capture)
    fake_server.enqueue(ROUTE, BUSY, FakeResponse.json(completion("A")), BUSY, BUSY)
    with traced.pipe(fake_server, max_retries=1) as p:
        p.complete(MESSAGES)
        with pytest.raises(RateLimitError):
            p.complete(MESSAGES)
    spans = traced.spans()
    text = everything(spans)
    assert len(spans) == 2 and "slow down" in text  # the error made it into the span, without its key
    assert KEY not in text and KEY[:20] not in text


def test_no_content_unless_opted_in(fake_server: FakeServer, traced: Traced) -> None:
    fake_server.enqueue(ROUTE, FakeResponse.json(completion("The secret reply")), chunks("Streamed reply"))
    with traced.pipe(fake_server) as p:
        p.complete(MESSAGES)
        p.stream(MESSAGES).collect()
    text = everything(traced.spans())
    assert len(traced.spans()) == 2
    for content in ("Hi there", "Be brief", "The secret reply", "Streamed reply"):
        assert content not in text


@pytest.mark.parametrize("stream", [False, True])
def test_content_when_opted_in(fake_server: FakeServer, stream: bool) -> None:
    traced = Traced(capture_content=True)
    fake_server.enqueue(ROUTE, chunks("Hel", "lo") if stream else FakeResponse.json(completion("Hello")))
    with traced.pipe(fake_server) as p:
        p.stream(MESSAGES).collect() if stream else p.complete(MESSAGES)
    (span,) = traced.spans()
    attrs = dict(span.attributes or {})
    assert json.loads(str(attrs["gen_ai.input.messages"])) == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Hi there"}]},
    ]
    assert json.loads(str(attrs["gen_ai.output.messages"])) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "Hello"}],
            "finish_reason": "length" if stream else "stop",
        }
    ]


def test_content_capture_reads_the_opt_in_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)
    monkeypatch.delenv("CHATPIPE_OTEL_CAPTURE_CONTENT", raising=False)
    assert OtelObserver().capture_content is False
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    assert OtelObserver().capture_content is True
    monkeypatch.setenv("CHATPIPE_OTEL_CAPTURE_CONTENT", "false")  # chatpipe's own wins
    assert OtelObserver().capture_content is False
    assert OtelObserver(capture_content=True).capture_content is True


def test_an_abandoned_stream_span_is_ended_once_too_many_are_open(fake_server: FakeServer) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    registry = Registry()
    registry.register(OtelObserver(tracer_provider=provider, max_open=1), "otel-test")
    fake_server.enqueue(ROUTE, chunks("a", "b", "c"), FakeResponse.json(completion("A")))
    with Pipeline("custom", "m", base_url=f"{fake_server.url}/v1", api_key=KEY, registry=registry) as p:
        stream = p.stream(MESSAGES)
        next(iter(stream))
        stream.close()  # closed early: neither finished nor failed
        assert exporter.get_finished_spans() == ()
        p.complete(MESSAGES)
    abandoned, done = exporter.get_finished_spans()
    assert abandoned.attributes and abandoned.attributes.get("chatpipe.abandoned") is True
    assert done.attributes and "chatpipe.abandoned" not in done.attributes
