"""Parsing chat completion bodies: own fields, pass-through params, 400s naming the field."""

from __future__ import annotations

import json

import pytest
from chatpipe.gateway import GatewayError
from chatpipe.gateway._request import parse_chat_body
from chatpipe.models import Message

TOOL = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}


def body(**fields):
    return json.dumps({"model": "p", "messages": [{"role": "user", "content": "hi"}], **fields}).encode()


def test_minimal():
    call = parse_chat_body(body())
    assert call.model == "p"
    assert call.messages == (Message("user", "hi"),)
    assert (call.stream, call.include_usage, call.tools, call.tool_choice) == (False, False, None, None)
    assert call.params == {}


def test_vendor_and_openai_fields_pass_through():
    call = parse_chat_body(body(temperature=0.2, max_tokens=10, top_k=40, thinking={"type": "enabled"}, n=1))
    assert call.params == {"temperature": 0.2, "max_tokens": 10, "top_k": 40, "thinking": {"type": "enabled"}, "n": 1}


def test_stream_and_usage():
    call = parse_chat_body(body(stream=True, stream_options={"include_usage": True}))
    assert (call.stream, call.include_usage) == (True, True)
    assert "stream_options" not in call.params
    assert parse_chat_body(body(stream=False, stream_options={"include_usage": True})).include_usage is False
    assert parse_chat_body(body(stream=None)).stream is False


def test_tools():
    call = parse_chat_body(body(tools=[TOOL], tool_choice="auto"))
    assert call.tools is not None and call.tools[0].function.name == "f"
    assert call.tool_choice == "auto"
    assert parse_chat_body(body(tools=[])).tools is None


@pytest.mark.parametrize(
    ("raw", "param", "fragment"),
    [
        (b"", None, "empty"),
        (b"{not json", None, "not valid JSON"),
        (b"\xff\xfe", None, "not"),
        (b"[1, 2]", None, "JSON object"),
        (json.dumps({"messages": []}).encode(), "model", "'model' is required"),
        (json.dumps({"model": 5, "messages": []}).encode(), "model", "'model' is required"),
        (json.dumps({"model": "p"}).encode(), "messages", "'messages' is required"),
        (body(messages=[]), "messages", "at least one"),
        (body(messages="hi"), "messages", "list"),
        (body(messages=[{"content": "x"}]), "messages[0].role", "role"),
        (body(stream="yes"), "stream", "true or false"),
        (body(stream_options=[1]), "stream_options", "object"),
        (body(stream_options={"include_usage": "y"}), "stream_options.include_usage", "true or false"),
        (body(tools=[{"type": "function"}]), "tools[0]", "function"),
        (body(tool_choice=3), "tool_choice", "string"),
    ],
)
def test_bad_bodies_are_400_naming_the_field(raw, param, fragment):
    with pytest.raises(GatewayError) as info:
        parse_chat_body(raw)
    error = info.value
    assert error.status == 400
    assert error.param == param
    assert fragment in error.message
