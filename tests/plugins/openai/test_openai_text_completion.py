"""Text-completion models (gpt-3.5-turbo-instruct, davinci...): /completions, a flattened prompt, the same replies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chatpipe import Pipeline
from chatpipe.errors import ProtocolError
from chatpipe.http import HttpResponse
from chatpipe.models import ChatRequest, Message
from chatpipe.provider import ProviderSettings
from chatpipe.secrets import Secret
from chatpipe.testing import FakeResponse, FakeServer
from chatpipe_openai import OpenAIProvider

KEY = "sk-proj-PLANTED-openai-0123456789"
CONVERSATION = (
    Message("system", "Be brief."),
    Message("system", "Hey there", name="example_user"),
    Message("user", "What is 2+2?"),
    Message("assistant", "4."),
    Message("user", "And 3+3?"),
)
PROMPT = "System: Be brief.\nexample_user: Hey there\nuser: What is 2+2?\nassistant: 4.\nuser: And 3+3?\nassistant:"
REPLY = {
    "id": "cmpl-1",
    "object": "text_completion",
    "created": 1,
    "model": "gpt-3.5-turbo-instruct",
    "choices": [{"index": 0, "text": " 6.", "logprobs": None, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 30, "completion_tokens": 2, "total_tokens": 32},
}


def adapter() -> OpenAIProvider:
    return OpenAIProvider(ProviderSettings(base_url="https://api.openai.com/v1", api_key=Secret(KEY)))


def stream_chunk(text: str, finish: str | None = None) -> dict[str, Any]:
    return {"id": "cmpl-1", "object": "text_completion", "model": "gpt-3.5-turbo-instruct",
            "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": finish}]}  # fmt: skip


@pytest.mark.parametrize("model", ["gpt-3.5-turbo-instruct", "gpt-3.5-turbo-instruct-0914", "davinci-002"])
def test_a_text_completion_model_gets_a_flattened_prompt_at_completions(openai_spec: Any, model: str) -> None:
    request = ChatRequest(model=model, messages=CONVERSATION, params={"max_tokens": 20, "temperature": 0.5})
    http = adapter().build_chat(request)
    assert http.url == "https://api.openai.com/v1/completions"
    assert http.json == {"model": model, "prompt": PROMPT, "stream": False, "max_tokens": 20, "temperature": 0.5}
    openai_spec.check("CreateCompletionRequest", http.json)


def test_a_chat_model_still_goes_to_chat_completions() -> None:
    http = adapter().build_chat(ChatRequest(model="gpt-4o-mini", messages=CONVERSATION))
    assert http.url == "https://api.openai.com/v1/chat/completions" and "messages" in http.json


def test_a_text_completion_reply_is_a_chat_response(openai_spec: Any) -> None:
    openai_spec.check("CreateCompletionResponse", REPLY)
    reply = adapter().parse_chat(HttpResponse(200, {}, json.dumps(REPLY).encode()))
    assert (reply.text, reply.finish_reason, reply.message.role) == (" 6.", "stop", "assistant")
    assert reply.usage is not None and reply.usage.total_tokens == 32


def test_through_a_pipeline_streamed_and_not() -> None:
    with FakeServer() as server:
        chunks = [stream_chunk(" 6"), stream_chunk("."), stream_chunk("", "stop")]
        server.enqueue("POST /v1/completions", FakeResponse.json(REPLY), FakeResponse.sse(chunks))
        pipe = Pipeline("openai", model="gpt-3.5-turbo-instruct", api_key=KEY, base_url=f"{server.url}/v1")
        messages = [{"role": "user", "content": "And 3+3?"}]
        assert pipe.complete(messages).text == " 6."
        streamed = pipe.stream(messages).collect()
        assert (streamed.text, streamed.finish_reason) == (" 6.", "stop")
        assert [r.json["prompt"] for r in server.requests] == ["user: And 3+3?\nassistant:"] * 2
        assert server.requests[1].json["stream"] is True


def test_a_cut_text_completion_stream_is_a_protocol_error() -> None:
    with FakeServer() as server:
        server.enqueue("POST /v1/completions", FakeResponse.sse([stream_chunk(" 6")], done=False))
        pipe = Pipeline("openai", model="gpt-3.5-turbo-instruct", api_key=KEY, base_url=f"{server.url}/v1")
        with pytest.raises(ProtocolError) as info:
            pipe.stream([{"role": "user", "content": "And 3+3?"}]).collect()
        assert info.value.partial_text == " 6"
