"""Replies (chatpipe_gemini._response through the adapter's parse_chat): text, reasoning, tool
calls, signatures, finish reasons, usage, logprobs, several candidates, blocked prompts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from chatpipe.errors import ContentFilterError, ProtocolError, RateLimitError
from chatpipe.http import HttpResponse
from chatpipe.models import ChatResponse
from chatpipe.testing.openapi import SpecValidator
from chatpipe_gemini import GeminiProvider

Factory = Callable[..., GeminiProvider]

THINKING_REPLY: dict[str, Any] = {
    "candidates": [
        {
            "content": {
                "role": "model",
                "parts": [
                    {"text": "The user wants weather. ", "thought": True},
                    {"text": "I should call the tool.", "thought": True},
                    {"text": "Let me check. "},
                    {
                        "functionCall": {"name": "get_weather", "args": {"city": "Paris"}},
                        "thoughtSignature": "c2lnLWNhbGw=",
                    },
                ],
            },
            "finishReason": "STOP",
            "index": 0,
        }
    ],
    "usageMetadata": {
        "promptTokenCount": 100,
        "candidatesTokenCount": 20,
        "thoughtsTokenCount": 30,
        "cachedContentTokenCount": 40,
        "totalTokenCount": 150,
    },
    "modelVersion": "gemini-2.5-flash",
    "responseId": "resp-1",
}


def parse(adapter_factory: Factory, body: Any) -> ChatResponse:
    return adapter_factory().parse_chat(HttpResponse(200, {}, json.dumps(body).encode()))


def test_thoughts_text_tool_calls_signatures_and_usage(adapter_factory: Factory, gemini_spec: SpecValidator) -> None:
    gemini_spec.check("GenerateContentResponse", THINKING_REPLY)
    reply = parse(adapter_factory, THINKING_REPLY)
    choice = reply.choices[0]
    assert choice.reasoning == "The user wants weather. I should call the tool."
    assert reply.text == "Let me check. "
    (call,) = reply.tool_calls
    assert (call.function.name, json.loads(call.function.arguments)) == ("get_weather", {"city": "Paris"})
    assert call.id.startswith("call_")
    assert choice.message.extra["thought_signatures"] == [
        {"part": "function_call", "tool_call_id": call.id, "signature": "c2lnLWNhbGw="}
    ]
    assert (choice.finish_reason, choice.raw_finish_reason) == ("tool_calls", "STOP")
    assert (reply.id, reply.model, reply.provider) == ("resp-1", "gemini-2.5-flash", "gemini")
    usage = reply.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (100, 50, 150)
    assert (usage.reasoning_tokens, usage.cached_tokens) == (30, 40)
    assert usage.extra["thoughtsTokenCount"] == 30


def test_call_ids_are_stable_and_gemini_ids_are_kept(adapter_factory: Factory) -> None:
    first = parse(adapter_factory, THINKING_REPLY).tool_calls[0].id
    assert parse(adapter_factory, THINKING_REPLY).tool_calls[0].id == first
    with_id = json.loads(json.dumps(THINKING_REPLY))
    with_id["candidates"][0]["content"]["parts"][3]["functionCall"]["id"] = "fc-9"
    assert parse(adapter_factory, with_id).tool_calls[0].id == "fc-9"


@pytest.mark.parametrize(
    ("raw", "finish"),
    [
        ("STOP", "stop"),
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("IMAGE_SAFETY", "content_filter"),
        ("MALFORMED_FUNCTION_CALL", "error"),
        ("OTHER", "error"),
        ("SOMETHING_NEW", None),
    ],
)
def test_finish_reasons(adapter_factory: Factory, raw: str, finish: str | None) -> None:
    body = {"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": raw}]}
    choice = parse(adapter_factory, body).choices[0]
    assert (choice.finish_reason, choice.raw_finish_reason) == (finish, raw)


def test_a_candidate_without_content_is_an_empty_reply(adapter_factory: Factory) -> None:
    reply = parse(adapter_factory, {"candidates": [{"finishReason": "SAFETY", "safetyRatings": []}]})
    assert (reply.text, reply.finish_reason) == ("", "content_filter")


def test_several_candidates_are_choices(adapter_factory: Factory) -> None:
    body = {
        "candidates": [
            {"content": {"parts": [{"text": "A"}]}, "finishReason": "STOP", "index": 0},
            {"content": {"parts": [{"text": "B"}]}, "finishReason": "MAX_TOKENS", "index": 1},
        ]
    }
    reply = parse(adapter_factory, body)
    assert [(c.index, c.message.content, c.finish_reason) for c in reply.choices] == [
        (0, "A", "stop"),
        (1, "B", "length"),
    ]


def test_text_signatures_signed_thoughts_and_vendor_parts_are_kept(adapter_factory: Factory) -> None:
    body = {
        "candidates": [
            {
                "content": {
                    "parts": [
                        {"text": "hm", "thought": True, "thoughtSignature": "t1"},
                        {"executableCode": {"language": "PYTHON", "code": "1+1"}},
                        {"text": "Two.", "thoughtSignature": "t2"},
                    ]
                },
                "finishReason": "STOP",
            }
        ]
    }
    message = parse(adapter_factory, body).choices[0].message
    assert message.extra["thought_signatures"] == [
        {"part": "thought", "text": "hm", "signature": "t1"},
        {"part": "text", "signature": "t2"},
    ]
    assert message.extra["vendor_parts"] == [{"executableCode": {"language": "PYTHON", "code": "1+1"}}]


def test_logprobs_take_openai_shape(adapter_factory: Factory) -> None:
    body = {
        "candidates": [
            {
                "content": {"parts": [{"text": "Hi"}]},
                "finishReason": "STOP",
                "logprobsResult": {
                    "chosenCandidates": [{"token": "Hi", "logProbability": -0.1}],
                    "topCandidates": [
                        {
                            "candidates": [
                                {"token": "Hi", "logProbability": -0.1},
                                {"token": "Yo", "logProbability": -2.5},
                            ]
                        }
                    ],
                },
            }
        ]
    }
    assert parse(adapter_factory, body).choices[0].logprobs == {
        "content": [
            {
                "token": "Hi",
                "logprob": -0.1,
                "bytes": None,
                "top_logprobs": [
                    {"token": "Hi", "logprob": -0.1, "bytes": None},
                    {"token": "Yo", "logprob": -2.5, "bytes": None},
                ],
            }
        ]
    }


def test_a_blocked_prompt_is_a_content_filter_error(adapter_factory: Factory, gemini_key: str) -> None:
    body = {"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": []}, "usageMetadata": {"promptTokenCount": 5}}
    with pytest.raises(ContentFilterError, match="blockReason SAFETY") as info:
        parse(adapter_factory, body)
    assert info.value.vendor_type == "SAFETY"
    assert "safety_settings" in str(info.value)


def test_an_error_envelope_in_a_200_body_is_its_typed_error(adapter_factory: Factory) -> None:
    body = {"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}
    with pytest.raises(RateLimitError, match="Quota exceeded"):
        parse(adapter_factory, body)


@pytest.mark.parametrize(
    "body",
    [
        {"candidates": [{"content": {"parts": "x"}}]},
        {"candidates": [{"content": {"parts": [{"functionCall": {"args": {}}}]}}]},
        {"candidates": [{"content": "text"}]},
    ],
)
def test_malformed_replies_are_protocol_errors(adapter_factory: Factory, body: Any) -> None:
    with pytest.raises(ProtocolError, match="Gemini"):
        parse(adapter_factory, body)
