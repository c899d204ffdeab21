"""chatpipe.testing.openapi validates against each vendor spec, defects patched at load time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from chatpipe.testing.openapi import SpecValidator

Spec = Callable[[str], Any]


def test_openai_request_schema(vendor_spec: Spec) -> None:
    spec = vendor_spec("openai")
    assert (
        spec.errors("CreateChatCompletionRequest", {"model": "m", "messages": [{"role": "user", "content": "hi"}]})
        == []
    )
    assert spec.errors("CreateChatCompletionRequest", {"model": "m"})


def test_nullable_content_is_accepted(vendor_spec: Spec) -> None:
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
    }
    assert vendor_spec("openai").errors("ChatCompletionRequestAssistantMessage", message) == []


def test_cohere_inline_request_body_and_off_enum(vendor_spec: Spec) -> None:
    spec = vendor_spec("cohere")
    chat = SpecValidator.request_body("/v2/chat")
    body = {"model": "command-r", "messages": [{"role": "user", "content": "hi"}], "safety_mode": "OFF"}
    assert spec.errors(chat, body) == []
    assert spec.errors(chat, {**body, "safety_mode": "LOUD"})


def test_anthropic_messages_schema(vendor_spec: Spec) -> None:
    spec = vendor_spec("anthropic")
    good = {"model": "claude", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
    assert spec.errors("CreateMessageParams", good) == []
    problems = spec.errors("CreateMessageParams", {"model": "claude", "messages": [{"role": "system", "content": "x"}]})
    assert any("max_tokens" in p for p in problems) and any("role" in p for p in problems)


def test_mistral_chat_schema(vendor_spec: Spec) -> None:
    spec = vendor_spec("mistral")
    assert spec.errors("ChatCompletionRequest", {"model": "m", "messages": [{"role": "user", "content": "hi"}]}) == []


def test_unknown_schema_name_is_an_error(vendor_spec: Spec) -> None:
    with pytest.raises(KeyError):
        vendor_spec("openai").validator("NoSuchSchema")


def test_a_document_in_memory_and_a_property_named_nullable() -> None:
    # Gemini's Schema declares a property *named* nullable (a JSON spec, loaded by the caller)
    document = {
        "openapi": "3.0.0",
        "components": {
            "schemas": {
                "Schema": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"nullable": {"type": "boolean"}, "type": {"type": "string", "nullable": True}},
                }
            }
        },
    }
    spec = SpecValidator.from_document(document)
    assert spec.errors("Schema", {"nullable": True, "type": None}) == []  # the keyword still means null is fine
    assert spec.errors("Schema", {"nullable": "yes"})  # the property keeps its own type
    assert spec.errors("Schema", {"other": 1})
