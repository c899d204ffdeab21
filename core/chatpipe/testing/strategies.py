"""Hypothesis strategies for chat messages: every shape a converter must handle.

Needs ``hypothesis`` (``pip install hypothesis``); nothing else in :mod:`chatpipe.testing`
imports this module at import time. The converter conformance suite draws its conversations
from :data:`message_lists` and :data:`contexts`.

Covered: the roles system / user / assistant / tool / developer; ``None``, string and
part-list content with plain text parts, text parts carrying ``cache_control``, images,
audio and unknown part types (``video_url``, ``audio_url``, ``file``, vendor blocks); names
including ``example_user`` and ``example_assistant``; tool calls with unique ids;
``tool_call_id``; extra message keys.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from ..converter import ConvertContext, Names
from ..models import (
    AudioPart,
    FunctionCall,
    ImagePart,
    ImageURL,
    InputAudio,
    Message,
    OtherPart,
    Part,
    TextPart,
    ToolCall,
)

__all__ = ["ROLES", "contexts", "message_lists", "messages", "names", "parts", "tool_calls"]

ROLES = ("system", "user", "assistant", "tool", "developer")
SPEAKERS = ("Alex", "Seraphina", "Rook", "narrator")

# Short texts drawn from an alphabet that makes name prefixes, blank lines and colons collide.
texts = st.text(alphabet="abcAR: \n", max_size=12) | st.sampled_from(
    ["Alex: hi", "Seraphina: hello", "Rook: yo", "", "\n\n", "x"]
)

text_parts = st.builds(
    TextPart,
    texts,
    extra=st.sampled_from([{}, {}, {"cache_control": {"type": "ephemeral"}}]),
)
image_parts = st.builds(
    ImagePart,
    st.builds(
        ImageURL,
        url=st.sampled_from(["https://example.com/cat.png", "data:image/png;base64,iVBORw0KGgo="]),
        detail=st.sampled_from([None, "low", "high"]),
    ),
)
audio_parts = st.builds(
    AudioPart, st.builds(InputAudio, data=st.sampled_from(["UklGRg==", "SUQz"]), format=st.sampled_from(["wav", "mp3"]))
)
other_parts = st.builds(
    OtherPart,
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["video_url", "audio_url", "file", "x_vendor_block"]),
            "payload": st.integers(0, 10**6),
        }
    ),
)
parts: st.SearchStrategy[Part] = st.one_of(text_parts, text_parts, image_parts, audio_parts, other_parts)
"""One content part of any kind."""

contents = st.one_of(st.none(), texts, st.lists(parts, max_size=4).map(tuple))

tool_calls: st.SearchStrategy[ToolCall] = st.builds(
    ToolCall,
    id=st.uuids().map(lambda u: f"call_{u.hex[:12]}"),
    function=st.builds(
        FunctionCall,
        name=st.sampled_from(["get_weather", "search"]),
        arguments=st.sampled_from(["{}", '{"city":"Paris"}', '{"q": "a\\nb"}']),
    ),
)
"""A tool call with a (practically) unique id."""

extras: st.SearchStrategy[dict[str, Any]] = st.sampled_from(
    [{}, {}, {"cache_control": {"type": "ephemeral"}}, {"signature": "sig"}, {"prefix": True}]
)


@st.composite
def messages(draw: st.DrawFn) -> Message:
    """One message of any role, with any content, name, tool fields and extra keys."""
    role = draw(st.sampled_from(ROLES))
    name = draw(st.none() | st.sampled_from(("example_user", "example_assistant", "", *SPEAKERS)))
    calls = None
    if role == "assistant" or draw(st.integers(0, 9)) == 0:
        calls = draw(st.none() | st.lists(tool_calls, min_size=1, max_size=2).map(tuple))
    call_id = draw(st.sampled_from(["call_1", "call_2"])) if role == "tool" else None
    extra: dict[str, Any] = draw(extras)
    return Message(role=role, content=draw(contents), name=name, tool_calls=calls, tool_call_id=call_id, extra=extra)


message_lists: st.SearchStrategy[list[Message]] = st.lists(messages(), max_size=8)
"""A conversation of up to eight messages (possibly empty)."""

names: st.SearchStrategy[Names] = st.one_of(
    st.just(Names()),
    st.builds(
        Names,
        user=st.sampled_from(["", "Alex"]),
        char=st.sampled_from(["", "Seraphina"]),
        group=st.sampled_from([(), ("Rook",), ("Rook", "Seraphina")]),
    ),
)
"""Speaker names: none set, or any mix of user, character and group."""

contexts: st.SearchStrategy[ConvertContext] = st.builds(
    ConvertContext, placeholder=st.sampled_from(["[Start a new chat]", "Let's get started."]), names=names
)
"""A converter context with one of two placeholders and any names."""
