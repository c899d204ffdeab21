"""Moving a leading <think> block into reasoning, whole and incrementally."""

from __future__ import annotations

import pytest
from chatpipe.models import ChatChunk, Choice, Message
from chatpipe.openai_compat import ThinkSplitter, split_choice, split_think


@pytest.mark.parametrize(
    ("text", "reasoning", "rest"),
    [
        ("<think>\nweigh options\n</think>\n\nParis.", "weigh options", "Paris."),
        ("  <think>a</think>b", "a", "b"),
        ("<think>cut off by the length lim", "cut off by the length lim", ""),
        ("No thinking here.", None, "No thinking here."),
        ("Text then <think>x</think>", None, "Text then <think>x</think>"),
    ],
)
def test_split_think(text: str, reasoning: str | None, rest: str) -> None:
    assert split_think(text) == (reasoning, rest)


def test_split_choice_moves_the_block_and_keeps_existing_reasoning() -> None:
    choice = Choice(0, Message("assistant", "<think>b</think>answer"), reasoning="a")
    out = split_choice(choice)
    assert out.message.content == "answer" and out.reasoning == "a\n\nb"
    parts = Choice(0, Message("assistant", None))
    assert split_choice(parts) is parts


def feed_all(pieces: list[str]) -> tuple[str, str]:
    splitter = ThinkSplitter()
    reasoning, text = "", ""
    for piece in pieces:
        r, t = splitter.feed(piece)
        reasoning += r
        text += t
    r, t = splitter.flush()
    return reasoning + r, text + t


WHOLE = "<think>\nweigh options\n</think>\n\nParis is the capital."


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 13, len(WHOLE)])
def test_streamed_think_block_split_at_any_point(size: int) -> None:
    pieces = [WHOLE[i : i + size] for i in range(0, len(WHOLE), size)]
    reasoning, text = feed_all(pieces)
    assert reasoning.strip() == "weigh options"
    assert text == "Paris is the capital."


@pytest.mark.parametrize("size", [1, 3, 100])
def test_streamed_text_without_think_is_untouched(size: int) -> None:
    whole = "<thin is not a tag; neither is <think> later."
    pieces = [whole[i : i + size] for i in range(0, len(whole), size)]
    assert feed_all(pieces) == ("", whole)


def test_an_unclosed_block_is_reasoning_at_the_end() -> None:
    assert feed_all(["<think>still ", "thinking</thi"]) == ("still thinking</thi", "")


def test_text_is_held_back_only_while_it_could_be_a_tag() -> None:
    splitter = ThinkSplitter()
    assert splitter.feed("<thi") == ("", "")
    assert splitter.feed("nk>abc</") == ("abc", "")
    assert splitter.feed("think>Done") == ("", "Done")


def test_think_stream_parser_routes_per_choice() -> None:
    from chatpipe.http import SSEEvent
    from chatpipe.openai_compat import ThinkStreamParser
    from chatpipe.provider import StreamParser

    class Scripted(StreamParser):
        def __init__(self) -> None:
            self.done = False

        def feed(self, event: SSEEvent) -> list[ChatChunk]:
            index, text = event.data.split("|", 1)
            return [ChatChunk(index=int(index), text=text)]

    parser = ThinkStreamParser(Scripted())
    out: list[ChatChunk] = []
    for data in ["0|<think>r0", "1|plain", "0|</think>t0", "1|<think>x"]:
        out.extend(parser.feed(SSEEvent(data)))
    out.extend(parser.finish())
    by_index: dict[int, tuple[str, str]] = {}
    for c in out:
        r, t = by_index.get(c.index, ("", ""))
        by_index[c.index] = (r + c.reasoning, t + c.text)
    assert by_index == {0: ("r0", "t0"), 1: ("", "plain<think>x")}
