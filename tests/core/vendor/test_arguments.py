"""arguments_object: a tool call's JSON-text arguments as the object native formats carry."""

from __future__ import annotations

import pytest
from chatpipe.errors import InvalidRequestError
from chatpipe.models import FunctionCall, ToolCall
from chatpipe.vendor import arguments_object


def call(arguments: str) -> ToolCall:
    return ToolCall(id="call_1", function=FunctionCall(name="f", arguments=arguments))


def test_an_object_is_parsed_and_blank_text_is_an_empty_object() -> None:
    assert arguments_object(call('{"city": "Paris"}'), where="w", vendor="V") == {"city": "Paris"}
    assert arguments_object(call("  "), where="w", vendor="V") == {}


@pytest.mark.parametrize(("text", "expected"), [("{oops", "not valid JSON"), ("[1, 2]", "must be a JSON object")])
def test_anything_else_is_an_error_at_the_key_path(text: str, expected: str) -> None:
    with pytest.raises(InvalidRequestError, match=expected) as caught:
        arguments_object(call(text), where="messages[1].tool_calls[0].function.arguments", vendor="Gemini")
    assert caught.value.where == "messages[1].tool_calls[0].function.arguments"
