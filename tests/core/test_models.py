"""The models' fast construction paths build the instances their ``__init__`` builds."""

from __future__ import annotations

import pickle

import attrs
import pytest
from chatpipe.models import ChatChunk, ToolCallDelta, chat_chunk


def test_chat_chunk_builds_the_instance_init_builds() -> None:
    calls = (ToolCallDelta(0, "c1", "f", "{}"),)
    values = dict(
        index=1,
        text="t",
        reasoning="r",
        tool_calls=calls,
        role="assistant",
        finish_reason="stop",
        raw_finish_reason="stop",
        id="i",
        model="m",
        logprobs={"content": []},
        created=7,
        extra={"k": 1},
    )
    fast = chat_chunk(*values.values())
    built = ChatChunk(**values)  # type: ignore[arg-type]
    assert fast == built
    assert vars(fast) == vars(built)
    assert set(vars(fast)) == {field.name for field in attrs.fields(ChatChunk)}  # every field set
    assert fast.usage is None and fast.message_extra == {}
    assert fast.message_extra is not chat_chunk(*values.values()).message_extra  # a fresh dict each
    assert pickle.loads(pickle.dumps(fast)) == built
    assert attrs.evolve(fast, text="u") == attrs.evolve(built, text="u")


def test_a_fast_chunk_is_frozen() -> None:
    fast = chat_chunk(0, "t", "", (), None, None, None, None, None, None, None, {})
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        fast.text = "x"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        del fast.text
