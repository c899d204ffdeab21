"""Pipeline end to end over real HTTP against a fake OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from chatpipe import Pipeline, hookimpl
from chatpipe.errors import (
    APIConnectionError,
    AuthenticationError,
    ConfigError,
    InvalidRequestError,
    PluginNotFoundError,
    ProtocolError,
    RateLimitError,
    ServerError,
)
from chatpipe.http import HttpRequest, HttpResponse
from chatpipe.keys import KeyStore
from chatpipe.models import ModelInfo
from chatpipe.openai_compat import OpenAICompatibleProvider
from chatpipe.provider import ProviderInfo
from chatpipe.registry import Registry
from chatpipe.testing import MockTransport
from chatpipe.testing.fake_server import FakeResponse, FakeServer

KEY = "sk-test-PLANTED-0123456789"
CHAT = "/v1/chat/completions"


def completion(text: str = "Hello!", **message: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text, **message}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }


def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-2",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def pipe_for(server: FakeServer, provider: str = "custom", **kwargs: Any) -> Pipeline:
    kwargs.setdefault("model", "m")
    kwargs.setdefault("api_key", KEY)
    return Pipeline(provider, base_url=f"{server.url}/v1", max_retries=kwargs.pop("max_retries", 2), **kwargs)


def test_complete_sends_the_converted_conversation(fake_server: FakeServer) -> None:
    fake_server.enqueue(f"POST {CHAT}", FakeResponse.json(completion()))
    pipe = pipe_for(fake_server, converters=["strict"], temperature=0.3)
    reply = pipe.complete([{"role": "assistant", "content": "Welcome"}, {"role": "user", "content": "Hi"}])
    assert reply.text == "Hello!"
    assert reply.usage is not None and reply.usage.total_tokens == 7
    sent = fake_server.requests[0]
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.json["model"] == "m"
    assert sent.json["temperature"] == 0.3
    assert [m["role"] for m in sent.json["messages"]] == ["user", "assistant", "user"]
    assert sent.json["messages"][0]["content"] == "[Start a new chat]"


def test_per_call_params_override_pipeline_params(fake_server: FakeServer) -> None:
    fake_server.enqueue(f"POST {CHAT}", FakeResponse.json(completion()))
    pipe_for(fake_server, temperature=0.3, max_tokens=10).complete([{"role": "user", "content": "x"}], temperature=1.0)
    assert fake_server.requests[0].json["temperature"] == 1.0
    assert fake_server.requests[0].json["max_tokens"] == 10


def test_a_profile_param_named_provider_is_a_body_field_not_the_vendor() -> None:
    from chatpipe.config import parse_config

    config = parse_config(
        "profiles:\n  p:\n    provider: custom\n    base_url: http://127.0.0.1:9/v1\n    model: m\n"
        "    params: {provider: {order: [a, b]}, temperature: 0.5}\n"
    )
    pipe = Pipeline.from_config("p", config=config)
    assert pipe.provider_class.info.name == "custom"
    body = pipe.explain([{"role": "user", "content": "Hi"}]).request["json"]
    assert (body["provider"], body["temperature"]) == ({"order": ["a", "b"]}, 0.5)


def test_provider_required_conversion_runs_after_the_user_chain(fake_server: FakeServer) -> None:
    pipe = Pipeline("perplexity", model="sonar", converters=["merge"], api_key=KEY)
    explanation = pipe.explain([{"role": "assistant", "content": "Hi"}, {"role": "user", "content": "Q"}])
    assert [name for name, _ in explanation.stages] == ["input", "merge", "strict"]
    assert explanation.stages[-1][1][0] == {"role": "user", "content": "[Start a new chat]"}
    assert explanation.request["json"]["messages"] == list(explanation.stages[-1][1])


def test_tools_with_a_folding_chain_is_an_error_before_any_request(fake_server: FakeServer) -> None:
    pipe = pipe_for(fake_server, converters=["strict"])
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    with pytest.raises(InvalidRequestError, match="strict-tools"):
        pipe.complete([{"role": "user", "content": "x"}], tools=[tool])
    assert fake_server.requests == []


def test_explain_redacts_the_key_everywhere() -> None:
    pipe = Pipeline("openai", api_key=KEY, headers={"X-Echo": KEY})
    explanation = pipe.explain([{"role": "user", "content": "Hi"}])
    dumped = json.dumps(explanation.to_dict())
    assert KEY not in dumped
    assert explanation.request["headers"]["Authorization"] == "***"
    assert explanation.request["url"] == "https://api.openai.com/v1/chat/completions"
    assert KEY not in repr(pipe) and KEY not in repr(pipe.adapter.settings)


def test_missing_key_fails_before_sending() -> None:
    transport = MockTransport()
    pipe = Pipeline("openai", transport=transport)  # the vendor's own URL; a proxy needs no key
    with pytest.raises(AuthenticationError, match="OPENAI_API_KEY"):
        pipe.complete([{"role": "user", "content": "Hi"}])
    assert transport.requests == []
    assert any("no API key" in note for note in pipe.explain([{"role": "user", "content": "Hi"}]).notes)


def test_key_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    transport = MockTransport()  # the vendor's own URL, without a network: the vendor's env var is read for it
    transport.enqueue(FakeResponse.json(completion()))
    Pipeline("openai", transport=transport).complete([{"role": "user", "content": "Hi"}])
    assert transport.requests[0].headers["Authorization"] == f"Bearer {KEY}"


def test_custom_endpoint_without_key_sends_no_authorization(fake_server: FakeServer) -> None:
    fake_server.enqueue(f"POST {CHAT}", FakeResponse.json(completion()))
    Pipeline("custom", model="m", base_url=f"{fake_server.url}/v1/").complete([{"role": "user", "content": "Hi"}])
    assert "authorization" not in fake_server.requests[0].headers
    assert fake_server.requests[0].path == CHAT


def test_stream_yields_text_reasoning_and_assembled_tool_calls(fake_server: FakeServer) -> None:
    events = [
        chunk({"role": "assistant", "content": None}),
        chunk({"reasoning_content": "thinking..."}),
        chunk({"content": "Hel"}),
        chunk({"content": "lo"}),
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"ci'},
                    }
                ]
            }
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'ty": "Paris"}'}}]}),
        chunk({}, finish="tool_calls"),
        {
            "id": "chatcmpl-2",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [],
            "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7},
        },
    ]
    fake_server.enqueue(f"POST {CHAT}", FakeResponse.sse(events))
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
    stream = pipe_for(fake_server, converters=["strict-tools"]).stream(
        [{"role": "user", "content": "Hi"}], tools=[tool]
    )
    chunks = list(stream)
    assert "".join(c.text for c in chunks) == "Hello"
    assert "".join(c.reasoning for c in chunks) == "thinking..."
    response = stream.response
    assert response.text == "Hello"
    assert response.reasoning == "thinking..."
    assert response.finish_reason == "tool_calls"
    (call,) = response.tool_calls
    assert (call.id, call.function.name, json.loads(call.function.arguments)) == (
        "call_1",
        "get_weather",
        {"city": "Paris"},
    )
    assert response.usage is not None and response.usage.total_tokens == 7
    body = fake_server.requests[0].json
    assert body["stream"] is True and body["tools"][0]["function"]["name"] == "get_weather"


def test_stream_cut_midway_keeps_the_text_received(fake_server: FakeServer) -> None:
    events = [chunk({"content": "Once upon"}), chunk({"content": " a time"}), chunk({"content": " there"})]
    fake_server.enqueue(f"POST {CHAT}", FakeResponse.sse(events, done=False, cut_after=2))
    stream = pipe_for(fake_server).stream([{"role": "user", "content": "story"}])
    received = []
    with pytest.raises(APIConnectionError) as info:
        for part in stream:
            received.append(part.text)
    assert "".join(received) == "Once upon a time"
    assert info.value.partial_text == "Once upon a time"
    assert KEY not in str(info.value)
    assert len(fake_server.requests) == 1, "a stream is never retried after its first byte"


def test_rate_limit_is_retried_honouring_retry_after(fake_server: FakeServer) -> None:
    fake_server.enqueue(
        f"POST {CHAT}",
        FakeResponse.json(
            {"error": {"message": "slow down", "type": "rate_limit"}}, status=429, headers={"Retry-After": "0"}
        ),
        FakeResponse.json(completion("after retry")),
    )
    assert pipe_for(fake_server).complete([{"role": "user", "content": "x"}]).text == "after retry"
    assert len(fake_server.requests) == 2


def test_rate_limit_exhausted_is_a_typed_error(fake_server: FakeServer) -> None:
    limited = FakeResponse.json({"error": {"message": "slow down"}}, status=429, headers={"retry-after-ms": "1"})
    fake_server.enqueue(f"POST {CHAT}", limited, limited)
    with pytest.raises(RateLimitError) as info:
        pipe_for(fake_server, max_retries=1).complete([{"role": "user", "content": "x"}])
    assert info.value.status == 429 and info.value.provider == "custom"
    assert len(fake_server.requests) == 2


def test_server_error_after_retries(fake_server: FakeServer) -> None:
    failing = FakeResponse.json({"error": {"message": "boom"}}, status=500)
    fake_server.enqueue(f"POST {CHAT}", failing, failing)
    with pytest.raises(ServerError, match="boom"):
        pipe_for(fake_server, max_retries=1).complete([{"role": "user", "content": "x"}])


def test_malformed_json_is_a_protocol_error(fake_server: FakeServer) -> None:
    fake_server.enqueue(f"POST {CHAT}", FakeResponse.text('{"choices": [', status=200, content_type="application/json"))
    with pytest.raises(ProtocolError):
        pipe_for(fake_server).complete([{"role": "user", "content": "x"}])


def test_unknown_provider_and_converter_are_clear() -> None:
    with pytest.raises(PluginNotFoundError, match="Did you mean 'openai'"):
        Pipeline("opena1")
    with pytest.raises(PluginNotFoundError, match="Did you mean 'strict'"):
        Pipeline("openai", converters=["strikt"])


def test_custom_needs_a_base_url() -> None:
    with pytest.raises(ConfigError, match="base_url"):
        Pipeline("custom", model="m")


def test_models_and_check(fake_server: FakeServer) -> None:
    listing = {
        "object": "list",
        "data": [{"id": "a", "object": "model", "owned_by": "me"}, {"id": "b", "object": "model"}],
    }
    fake_server.enqueue("GET /v1/models", FakeResponse.json(listing), FakeResponse.json(listing))
    pipe = pipe_for(fake_server)
    assert [m.id for m in pipe.models()] == ["a", "b"]
    result = pipe.check()
    assert result.ok and result.status == 200 and len(result.models) == 2


def test_failed_check_hints_v1_and_bypass_keeps_going(fake_server: FakeServer) -> None:
    fake_server.enqueue("GET /models", FakeResponse.text("not found", status=404), FakeResponse.text("nf", status=404))
    strict = Pipeline("custom", model="m", base_url=fake_server.url)
    result = strict.check()
    assert not result.ok and result.status == 404 and "/v1" in result.detail
    bypassed = Pipeline("custom", model="m", base_url=fake_server.url, bypass_status_check=True).check()
    assert bypassed.ok and bypassed.bypassed


def test_test_message_sends_one_plain_hi(fake_server: FakeServer) -> None:
    fake_server.enqueue(f"POST {CHAT}", FakeResponse.json(completion("Hi there")))
    assert pipe_for(fake_server).test_message().text == "Hi there"
    body = fake_server.requests[0].json
    assert body["messages"] == [{"role": "user", "content": "Hi"}]
    assert body.get("stream") in (False, None) and "tools" not in body


def test_async_complete_and_stream(fake_server: FakeServer) -> None:
    fake_server.enqueue(f"POST {CHAT}", FakeResponse.json(completion("async!")))
    fake_server.enqueue(
        f"POST {CHAT}", FakeResponse.sse([chunk({"content": "a"}), chunk({"content": "b"}, finish="stop")])
    )
    pipe = pipe_for(fake_server)

    async def run() -> tuple[str, str]:
        async with pipe:
            reply = await pipe.acomplete([{"role": "user", "content": "x"}])
            texts = [c.text async for c in pipe.astream([{"role": "user", "content": "y"}])]
            return reply.text, "".join(texts)

    assert asyncio.run(run()) == ("async!", "ab")


def test_shared_pipeline_across_concurrent_tasks(fake_server: FakeServer) -> None:
    def echo(request: Any) -> FakeResponse:
        return FakeResponse.json(completion(request.json["messages"][-1]["content"]))

    fake_server.route(f"POST {CHAT}", echo)
    pipe = pipe_for(fake_server)

    async def run() -> list[str]:
        replies = await asyncio.gather(*(pipe.acomplete([{"role": "user", "content": f"n{i}"}]) for i in range(50)))
        await pipe.aclose()
        return [r.text for r in replies]

    assert asyncio.run(run()) == [f"n{i}" for i in range(50)]


def test_observer_hooks_see_requests_and_replies(fake_server: FakeServer) -> None:
    from chatpipe.registry import Registry

    seen: list[Any] = []

    class Observer:
        @hookimpl
        def chatpipe_before_send(self, provider: str, request: Any) -> None:
            seen.append(("send", provider, repr(request)))

        @hookimpl
        def chatpipe_after_response(self, provider: str, response: Any) -> None:
            seen.append(("reply", provider, response.text))

    registry = Registry()
    registry.register(Observer())
    fake_server.enqueue(f"POST {CHAT}", FakeResponse.json(completion("observed")))
    pipe_for(fake_server, registry=registry).complete([{"role": "user", "content": "x"}])
    assert [s[0] for s in seen] == ["send", "reply"]
    assert seen[1] == ("reply", "custom", "observed")
    assert KEY not in seen[0][2]


def test_from_config(fake_server: FakeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_KEY", KEY)
    config = tmp_path / "chatpipe.yaml"
    config.write_text(
        textwrap.dedent(
            f"""
            default: local
            prompt_placeholder: "[Begin]"
            profiles:
              local:
                provider: custom
                base_url: "{fake_server.url}/v1"
                model: tiny
                api_key: "${{LOCAL_KEY}}"
                converters: [strict]
                headers: {{X-Team: a}}
                include_body: {{min_p: 0.1}}
                exclude_body: [temperature]
                params: {{temperature: 0.5, max_tokens: 9}}
            """
        )
    )
    fake_server.enqueue(f"POST {CHAT}", FakeResponse.json(completion()))
    Pipeline.from_config(path=config).complete([{"role": "assistant", "content": "hello"}])
    sent = fake_server.requests[0]
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["x-team"] == "a"
    assert sent.json["model"] == "tiny" and sent.json["min_p"] == 0.1 and sent.json["max_tokens"] == 9
    assert "temperature" not in sent.json
    assert sent.json["messages"][0] == {"role": "user", "content": "[Begin]"}


def test_building_a_pipeline_imports_only_the_named_plugins() -> None:
    code = textwrap.dedent(
        """
        import sys
        from chatpipe import Pipeline
        Pipeline("openai", converters=["strict"], api_key="k")
        loaded = sorted({m.split(".")[0] for m in sys.modules if m.startswith("chatpipe_")})
        print(",".join(loaded))
        print("httpx" in sys.modules or "httpx2" in sys.modules)
        print("cattrs" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0].split(",") == ["chatpipe_openai", "chatpipe_strict"]
    assert out[1] == "False", "the HTTP library must not be imported before the first request"
    assert out[2] == "False", "cattrs is imported only when a config file is read"


def test_exhausted_quota_is_not_retried(fake_server: FakeServer) -> None:
    quota = {"error": {"message": "You exceeded your current quota", "type": "insufficient_quota"}}
    fake_server.enqueue(f"POST {CHAT}", FakeResponse.json(quota, status=429, headers={"Retry-After": "0"}))
    with pytest.raises(RateLimitError, match="retrying will not help"):
        pipe_for(fake_server).complete([{"role": "user", "content": "x"}])
    fake_server.enqueue(f"POST {CHAT}", FakeResponse.json(quota, status=429, headers={"Retry-After": "0"}))
    with pytest.raises(RateLimitError, match="retrying will not help"):
        list(pipe_for(fake_server).stream([{"role": "user", "content": "x"}]))
    assert len(fake_server.requests) == 2, "one request per call: the quota error was not retried"


def test_timeout_and_limits_mappings_reach_the_transport() -> None:
    timeout = {"read": 30, "deadline": 90, "stream_progress": 20}
    pipe = Pipeline("custom", base_url="http://127.0.0.1:9/v1", timeout=timeout, limits={"max_event_bytes": 2048})
    transport: Any = pipe.transport
    assert (transport.timeouts.read, transport.timeouts.total, transport.timeouts.progress) == (30, 90, 20)
    assert transport.limits.max_event_bytes == 2048
    with pytest.raises(ConfigError, match="valid keys") as info:
        Pipeline("custom", base_url="http://127.0.0.1:9/v1", timeout={"deadlin": 5}).transport  # noqa: B018
    assert info.value.path == "timeout.deadlin"


def test_from_config_passes_the_profile_deadlines_and_limits() -> None:
    from chatpipe.config import parse_config

    config = parse_config(
        "timeout: {deadline: 45}\nlimits: {max_body_bytes: 1MiB}\n"
        "profiles: {p: {provider: custom, base_url: 'http://127.0.0.1:9/v1', timeout: {stream_deadline: 300}}}"
    )
    transport: Any = Pipeline.from_config("p", config=config).transport
    assert (transport.timeouts.total, transport.timeouts.stream_deadline) == (600.0, 300.0)  # the profile's mapping
    assert transport.limits.max_body_bytes == 1024 * 1024


@pytest.mark.parametrize("deadline", [0, -1, float("inf"), "10", True])
def test_a_bad_deadline_argument_is_refused_before_sending(fake_server: FakeServer, deadline: Any) -> None:
    with pytest.raises(InvalidRequestError, match="deadline= must be a positive number"):
        pipe_for(fake_server).complete([{"role": "user", "content": "Hi"}], deadline=deadline)
    assert fake_server.requests == []


def test_a_deadline_argument_is_not_sent_to_the_vendor(fake_server: FakeServer) -> None:
    fake_server.enqueue("POST /v1/chat/completions", FakeResponse.json(completion()))
    pipe_for(fake_server).complete([{"role": "user", "content": "Hi"}], deadline=30)
    assert "deadline" not in fake_server.requests[0].json


def test_a_refused_key_from_the_profile_is_named_by_its_source(fake_server: FakeServer, tmp_path: Any) -> None:
    config = tmp_path / "chat-setup.yaml"
    config.write_text(f"profiles:\n  local: {{provider: custom, base_url: '{fake_server.url}/v1', api_key: {KEY}}}\n")
    fake_server.enqueue(f"POST {CHAT}", FakeResponse.json({"error": {"message": "Invalid API Key"}}, status=401))
    store = KeyStore(tmp_path / "keys.yaml")
    pipe = Pipeline.from_config("local", config, model="m", key_store=store, max_retries=0)
    with pytest.raises(AuthenticationError) as info:
        pipe.complete([{"role": "user", "content": "Hi"}])
    assert str(info.value) == (
        "custom HTTP 401: Invalid API Key. "
        "The API key from the profile's api_key (chat-setup.yaml) was refused; check it"
    )
    assert KEY not in str(info.value) and str(tmp_path) not in str(info.value)


def test_a_refused_key_from_the_environment_is_named_by_its_variable(
    fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    transport = MockTransport()
    transport.enqueue(FakeResponse.json({"error": {"message": "Invalid API Key"}}, status=401))
    pipe = Pipeline("openai", key_store=KeyStore(tmp_path / "k.yaml"), transport=transport)
    refused = r"The API key from the environment variable OPENAI_API_KEY was refused; check it"
    with pytest.raises(AuthenticationError, match=refused):
        pipe.complete([{"role": "user", "content": "Hi"}])


class _DetailedProvider(OpenAICompatibleProvider):
    """A list endpoint whose entries are completed by one detail request each (as Ollama's /api/show)."""

    info = ProviderInfo(
        name="detailed", package="chatpipe-detailed", display_name="Detailed", default_base_url=None, key_required=False
    )

    def build_model_details(self, model: ModelInfo) -> HttpRequest:
        return HttpRequest("GET", f"{self.base_url}/details/{model.id}")

    def parse_model_details(self, model: ModelInfo, response: HttpResponse) -> ModelInfo:
        length = json.loads(response.content)["context"]
        if not isinstance(length, int):
            raise ProtocolError("context is not an integer", provider="detailed")
        return ModelInfo(model.id, context_length=length)

    def unreachable_hint(self) -> str:
        return "start the detailed server"


def _detailed(server_url: str) -> Pipeline:
    class Plugin:
        @hookimpl
        def chatpipe_register_providers(self, register: Any) -> None:
            register(_DetailedProvider)

    registry = Registry(entry_points=[])
    registry.register(Plugin())
    return Pipeline("detailed", model="m", base_url=server_url, registry=registry, retries=0)


def test_models_are_completed_by_detail_requests_and_a_failed_one_keeps_the_entry(fake_server: FakeServer) -> None:
    fake_server.enqueue("GET /models", FakeResponse.json({"data": [{"id": "a"}, {"id": "b"}, {"id": "c"}]}))
    fake_server.enqueue("GET /details/a", FakeResponse.json({"context": 4096}))
    fake_server.enqueue("GET /details/b", FakeResponse.json({"error": "gone"}, status=404))
    fake_server.enqueue("GET /details/c", FakeResponse.json({"context": "big"}))
    models = _detailed(fake_server.url).models()
    assert [(m.id, m.context_length) for m in models] == [("a", 4096), ("b", None), ("c", None)]
    assert [r.route for r in fake_server.requests] == ["/models", "/details/a", "/details/b", "/details/c"]


def test_a_check_that_cannot_connect_carries_the_provider_hint() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = _detailed(f"http://127.0.0.1:{port}").check()
    assert not result.ok and "could not connect" in result.detail
    assert result.detail.endswith("— start the detailed server")
