"""chatpipe.postprocess._pieces and _names: the content representation and prefix helpers."""

from __future__ import annotations

import pytest
from chatpipe.converter import Names
from chatpipe.errors import InvalidRequestError
from chatpipe.models import ImagePart, ImageURL, Message, OtherPart, TextPart
from chatpipe.postprocess._names import example_prefixed, prefix_as_char, prefix_as_user, prefix_unless_present
from chatpipe.postprocess._pieces import first_text, join, prepend, render, to_pieces

IMG = ImagePart(ImageURL("https://example.com/i.png"))
CACHED = TextPart("c", extra={"cache_control": {"type": "ephemeral"}})


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, ()),
        ("", ()),
        ("x", ("x",)),
        ((TextPart("a"), TextPart(""), TextPart("b")), ("a\n\nb",)),
        ((TextPart("a"), IMG, TextPart("b")), ("a", IMG, "b")),
        ((CACHED, TextPart("b")), (CACHED, "b")),
        ((OtherPart({"type": "file"}),), (OtherPart({"type": "file"}),)),
        ((TextPart(""), IMG, TextPart(""), TextPart("")), (TextPart(""), IMG, TextPart(""))),
        ((TextPart(""), TextPart("a"), IMG), ("a", IMG)),
        ((TextPart(""),), (TextPart(""),)),
    ],
)
def test_to_pieces(content, expected):
    assert to_pieces(content) == expected


def test_to_pieces_rejects_non_part_elements_with_location():
    with pytest.raises(InvalidRequestError, match=r"here\[1\].*TextPart"):
        to_pieces((TextPart("a"), {"type": "text"}), where="here")


def test_to_pieces_rejects_non_content():
    with pytest.raises(InvalidRequestError, match="string, None or a tuple of parts"):
        to_pieces(42)


def test_join_skips_empty_sides_and_joins_runs_at_the_seam():
    assert join((), ("b",)) == ("b",)
    assert join(("a",), ()) == ("a",)
    assert join(("a", IMG, "b"), ("c",)) == ("a", IMG, "b\n\nc")
    assert join((IMG,), (IMG,)) == (IMG, IMG)


def test_first_text():
    assert first_text(()) == ""
    assert first_text(("x", IMG)) == "x"
    assert first_text((CACHED,)) == "c"
    assert first_text((IMG, "x")) == ""


def test_prepend_glues_onto_a_leading_run_or_adds_a_new_run():
    assert prepend(("hi",), "A: ") == ("A: hi",)
    assert prepend((IMG,), "A: ") == ("A: ", IMG)
    assert prepend((), "A: ") == ("A: ",)


def test_render():
    assert render(()) == ""
    assert render(("a",)) == "a"
    assert render(("a", IMG, "b")) == (TextPart("a"), IMG, TextPart("b"))
    assert render((CACHED,)) == (CACHED,)


def test_prefix_unless_present():
    assert prefix_unless_present(("Rook: x",), "Rook") == ("Rook: x",)
    assert prefix_unless_present(("x",), "Rook") == ("Rook: x",)


def test_user_and_char_prefix_rules():
    names = Names(user="Alex", char="Seraphina", group=("Rook",))
    assert prefix_as_user(("hi",), names) == ("Alex: hi",)
    assert prefix_as_user(("hi",), Names()) == ("hi",)
    assert prefix_as_char(("hi",), names) == ("Seraphina: hi",)
    assert prefix_as_char(("Rook: hi",), names) == ("Rook: hi",)
    assert prefix_as_char(("hi",), Names(user="Alex")) == ("hi",)


def test_example_messages_get_their_speakers_prefix_and_lose_their_name():
    names = Names(user="Alex", char="Seraphina")
    user = Message("system", "hi", name="example_user")
    assert example_prefixed(user, names) == Message("system", "Alex: hi")
    assert example_prefixed(Message("system", (IMG,), name="example_assistant"), names) == Message(
        "system", (TextPart("Seraphina: "), IMG)
    )
    unprefixed = example_prefixed(user, Names())  # no user name: the same content, the name gone
    assert unprefixed == Message("system", "hi") and unprefixed.content is user.content
    for other in (Message("system", "x", name="narrator"), Message("user", "x", name="example_user")):
        assert example_prefixed(other, names) is other
    with pytest.raises(InvalidRequestError, match=r"messages\[3\]\.content"):
        example_prefixed(Message("system", 42, name="example_user"), names, where="messages[3]")  # type: ignore[arg-type]


def test_an_empty_text_part_stays_in_a_part_list_and_renders_as_nothing_in_a_string():
    assert render(to_pieces((TextPart(""), IMG, TextPart("")))) == (TextPart(""), IMG, TextPart(""))
    assert render(to_pieces((TextPart(""),))) == ""
    assert render(join(to_pieces((IMG, TextPart(""))), ("b",))) == (IMG, TextPart("b"))
    assert prepend(to_pieces((TextPart(""), IMG)), "Rook: ") == ("Rook: ", IMG)
