"""Step (chatpipe.gateway._ready) and the stream pump's batching of chunks that are already here."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from chatpipe.errors import APIConnectionError
from chatpipe.gateway._errors import from_chatpipe_error
from chatpipe.gateway._ready import END, Step
from chatpipe.gateway._render import StreamRenderer
from chatpipe.gateway._stream import BATCH_FRAMES, SSEResponse
from chatpipe.models import ChatChunk


async def items(*plan: Any) -> AsyncIterator[Any]:
    """Yields each item of ``plan``; ``"wait"`` sleeps a moment first; an exception is raised."""
    for item in plan:
        if item == "wait":
            await asyncio.sleep(0.01)
        elif isinstance(item, BaseException):
            raise item
        else:
            yield item


def test_items_already_there_are_ready_and_the_end_is_END() -> None:
    async def run() -> list[Any]:
        iterator = items(1, 2)
        steps = [Step(iterator) for _ in range(3)]
        assert all(step.ready for step in steps)
        return [await step for step in steps]

    assert asyncio.run(run()) == [1, 2, END]


def test_an_item_that_must_be_waited_for_comes_when_awaited() -> None:
    async def run() -> tuple[bool, Any, Any]:
        iterator = items("wait", 7)
        step = Step(iterator)
        return step.ready, await step, await Step(iterator)

    assert asyncio.run(run()) == (False, 7, END)


def test_errors_come_from_the_step_before_and_after_a_wait() -> None:
    async def run() -> None:
        with pytest.raises(ValueError, match="early"):
            Step(items(ValueError("early")))
        step = Step(items("wait", ValueError("late")))
        assert not step.ready
        with pytest.raises(ValueError, match="late"):
            await step

    asyncio.run(run())


def test_an_abandoned_step_lets_its_generator_clean_up_and_close() -> None:
    cleaned: list[str] = []

    async def slow() -> AsyncIterator[int]:
        try:
            yield 1
            await asyncio.sleep(10)
            yield 2
        finally:
            await asyncio.sleep(0)  # cleanup that waits, as closing a connection does
            cleaned.append("closed")

    async def run() -> None:
        iterator = slow()
        assert await Step(iterator) == 1
        step = Step(iterator)
        assert not step.ready
        await step.abandon(asyncio.CancelledError())
        await iterator.aclose()  # would raise "already running" for a step left half-way

    asyncio.run(run())
    assert cleaned == ["closed"]


def test_a_cancelled_wait_reaches_the_generator() -> None:
    cleaned: list[str] = []

    async def slow() -> AsyncIterator[int]:
        try:
            await asyncio.sleep(10)
            yield 1
        finally:
            cleaned.append("cancelled")

    async def run() -> None:
        task = asyncio.ensure_future(_await_step(slow()))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run())
    assert cleaned == ["cancelled"]


async def _await_step(iterator: AsyncIterator[int]) -> int:
    step: Step[int] = Step(iterator)
    value: int = await step
    return value


# --- the pump -----------------------------------------------------------------------------------


class _Stream:
    @property
    def response(self) -> Any:
        raise RuntimeError("not assembled")  # what a stream says before its reply is whole

    async def aclose(self) -> None:
        return None


def pump(chunks: AsyncIterator[ChatChunk], first: ChatChunk | None = None) -> list[dict[str, Any]]:
    """The ASGI messages SSEResponse sends for ``chunks`` (the first one given apart, as the gateway does)."""
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(10)
        return {"type": "http.disconnect"}

    async def run() -> None:
        loop = asyncio.get_running_loop()
        response = SSEResponse(
            _Stream(),  # type: ignore[arg-type]
            chunks,
            first or ChatChunk(role="assistant"),
            StreamRenderer(model="p", include_usage=False),
            deadline=loop.time() + 5,
            map_error=lambda exc: from_chatpipe_error(exc, profile="p"),
        )
        await response({"type": "http"}, receive, send)

    asyncio.run(run())
    return [m for m in sent if m["type"] == "http.response.body"]


def texts(bodies: list[dict[str, Any]]) -> list[str]:
    data = b"".join(m["body"] for m in bodies).decode()
    out = []
    for line in data.splitlines():
        if line.startswith("data: {"):
            payload = json.loads(line[len("data: ") :])
            out.append(payload["choices"][0]["delta"].get("content", "") if payload.get("choices") else "!error")
    return out


def test_chunks_already_here_go_out_together_in_batches() -> None:
    words = [f"w{i} " for i in range(40)]
    bodies = pump(items(*[ChatChunk(text=w) for w in words]))
    assert texts(bodies)[1:] == words
    # the role frame with the first text at once, then batches of at most BATCH_FRAMES, the last one with [DONE]
    assert texts(bodies[:1]) == ["", "w0 "]
    assert len(bodies) == 1 + -(-39 // BATCH_FRAMES)
    assert bodies[-1]["body"].endswith(b"data: [DONE]\n\n") and bodies[-1]["more_body"] is False


def test_a_chunk_that_was_waited_for_sends_what_came_before_it_first() -> None:
    plan = [ChatChunk(text="a"), ChatChunk(text="b"), "wait", ChatChunk(text="c"), "wait", ChatChunk(text="d")]
    bodies = pump(items(*plan))
    assert [texts([b]) for b in bodies] == [["", "a"], ["b"], ["c"], ["d"]]


def test_the_first_output_goes_out_at_once_with_the_frames_before_it() -> None:
    # the first token is never held back behind those that came with it; reasoning is output too
    plan = [ChatChunk(role="assistant"), ChatChunk(reasoning="hm"), ChatChunk(text="a"), ChatChunk(text="b")]
    bodies = pump(items(*plan))
    assert [b["body"].count(b"data: ") for b in bodies] == [3, 3]  # role, role, reasoning | a, b, [DONE]
    assert bodies[0]["body"].endswith(b'"reasoning_content":"hm"},"finish_reason":null}]}\n\n')
    assert texts(bodies[1:]) == ["a", "b"]


def test_a_first_chunk_with_output_goes_out_alone() -> None:
    bodies = pump(items(ChatChunk(text="b"), ChatChunk(text="c")), first=ChatChunk(text="a"))
    assert [texts([b]) for b in bodies] == [["a"], ["b", "c"]]


def test_frames_not_yet_sent_when_the_stream_fails_go_out_with_the_error() -> None:
    failure = APIConnectionError("the vendor hung up", provider="openai")
    bodies = pump(items(ChatChunk(text="a"), ChatChunk(text="b"), failure))
    assert texts(bodies) == ["", "a", "b", "!error"]
    assert b"[DONE]" not in b"".join(m["body"] for m in bodies)
