"""An empty text part is kept in a part list by every merging mode (issue 14, point 12).

The reference keeps it (its text joins contribute an empty piece); chatpipe keeps it where it
is the only text between or around other parts, and sends it, e.g. to OpenAI.
"""

from __future__ import annotations

from typing import Any

import chatpipe
import pytest
from chatpipe import Pipeline

IMAGE = {"type": "image_url", "image_url": {"url": "https://example.test/cat.png"}}
EMPTY = {"type": "text", "text": ""}
CONVERSATION = [
    {"role": "system", "content": "Describe images."},
    {"role": "user", "content": [EMPTY, IMAGE, EMPTY]},
]


@pytest.mark.parametrize("mode", ["merge", "merge-tools", "semi-strict", "semi-strict-tools", "strict", "strict-tools"])
def test_the_merging_modes_keep_it(mode: str) -> None:
    assert chatpipe.convert(CONVERSATION, [mode]) == [
        {"role": "system", "content": "Describe images."},
        {"role": "user", "content": [EMPTY, IMAGE, EMPTY]},
    ]


def test_single_user_keeps_it_behind_the_joined_text() -> None:
    assert chatpipe.convert(CONVERSATION, ["single-user"]) == [
        {"role": "user", "content": [{"type": "text", "text": "Describe images."}, IMAGE, EMPTY]},
    ]


def test_text_next_to_it_takes_its_place() -> None:
    messages = [{"role": "user", "content": [EMPTY, IMAGE, EMPTY]}, {"role": "user", "content": "Cute?"}]
    assert chatpipe.convert(messages, ["merge"]) == [
        {"role": "user", "content": [EMPTY, IMAGE, {"type": "text", "text": "Cute?"}]},
    ]


def test_all_text_content_is_still_a_string() -> None:
    messages = [{"role": "user", "content": [{"type": "text", "text": "a"}, EMPTY, {"type": "text", "text": "b"}]}]
    assert chatpipe.convert(messages, ["merge"]) == [{"role": "user", "content": "a\n\nb"}]


def test_openai_is_sent_it(openai_spec: Any) -> None:
    body = Pipeline("openai", api_key="sk-test", converters=["strict"]).explain(CONVERSATION).request["json"]
    assert body == {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Describe images."},
            {"role": "user", "content": [EMPTY, IMAGE, EMPTY]},
        ],
        "stream": False,
    }
    openai_spec.check("CreateChatCompletionRequest", body)
