"""How caller-supplied values are quoted in error messages: bounded whatever their size."""

from __future__ import annotations

from chatpipe._shown import SHOWN_CHARS, shown


def test_short_value_is_its_repr():
    assert shown("gpt") == "'gpt'"
    assert shown("a" * SHOWN_CHARS) == repr("a" * SHOWN_CHARS)


def test_long_value_is_cut_with_an_ellipsis():
    text = shown("b" * 15_000_000)
    assert text == repr("b" * SHOWN_CHARS) + "…"


def test_escapes_stay_escaped():
    assert shown("x\n" * 200).startswith("'x\\nx\\n")
