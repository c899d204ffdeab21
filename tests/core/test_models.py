"""The models' fast construction paths build the instances their ``__init__`` builds."""

from __future__ import annotations

import pickle

import attrs
import pytest
from chatpipe.models import ChatChunk, ToolCallDelta, chat_chunk, chat_chunk_with_text


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


def test_chat_chunk_with_text_is_evolve_with_its_own_dicts() -> None:
    chunk = ChatChunk(index=2, text="a", id="i", model="m", created=7, extra={"k": 1}, message_extra={"m": 2})
    copy = chat_chunk_with_text(chunk, "b")
    assert vars(copy) == vars(attrs.evolve(chunk, text="b"))
    assert copy.extra is not chunk.extra and copy.message_extra is not chunk.message_extra
    assert chunk.text == "a"  # the original is untouched
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        copy.text = "x"  # type: ignore[misc]
