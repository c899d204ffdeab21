"""validate_messages: the role rule (the other rules run per family in tests/reliability/test_bad_input.py)."""

from __future__ import annotations

import pytest
from chatpipe._validate import ROLES, validate_messages
from chatpipe.errors import InvalidRequestError
from chatpipe.models import Message


def test_the_accepted_roles() -> None:
    assert {"system", "developer", "user", "assistant", "tool", "function"} == ROLES


@pytest.mark.parametrize("role", sorted(ROLES - {"tool"}))
def test_every_accepted_role_passes(role: str) -> None:
    validate_messages([Message("user", "Hi"), Message(role, "x")])


@pytest.mark.parametrize(
    ("role", "suggestion"),
    [("usr", "user"), ("User", "user"), ("assistent", "assistant"), ("sytem", "system"), ("bogus", None)],
)
def test_an_unknown_role_is_refused_with_a_did_you_mean(role: str, suggestion: str | None) -> None:
    with pytest.raises(InvalidRequestError) as info:
        validate_messages([Message("user", "Hi"), Message("assistant", "Hello"), Message(role, "x")])
    assert info.value.where == "messages[2].role"
    text = str(info.value)
    assert text.startswith(f"messages[2].role: unknown role {role!r}")
    if suggestion:
        assert f"did you mean {suggestion!r}?" in text
    else:
        assert "did you mean" not in text
    assert "system, tool, user" in text


def test_a_huge_unknown_role_is_quoted_cut_without_a_suggestion() -> None:
    role = "usr" + "x" * 15_000_000
    with pytest.raises(InvalidRequestError) as info:
        validate_messages([Message(role, "x")])
    text = str(info.value)
    assert f"unknown role {role[:100]!r}…;" in text
    assert "did you mean" not in text
    assert len(text) < 500
