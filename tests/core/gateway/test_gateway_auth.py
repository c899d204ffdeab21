"""Gateway keys: bearer parsing and the constant-time check."""

from __future__ import annotations

import hmac

import pytest
from chatpipe.gateway._auth import KeyChecker, bearer_token

KEY_A = "gw-key-aaaaaaaaaaaaaaaa"
KEY_B = "gw-key-bbbbbbbbbbbbbbbb"


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer   abc  ", "abc"),
        ("BEARER abc", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("Bearer   ", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token(header, token):
    assert bearer_token(header) == token


def test_disabled_without_keys_allows_everything():
    checker = KeyChecker([])
    assert not checker.enabled
    assert checker.allows(None)
    assert checker.allows("Bearer anything")


def test_any_configured_key_is_accepted():
    checker = KeyChecker([KEY_A, KEY_B])
    assert checker.enabled
    assert checker.allows(f"Bearer {KEY_A}")
    assert checker.allows(f"Bearer {KEY_B}")


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", f"Bearer {KEY_A[:-1]}", f"Bearer {KEY_A}x", f"Basic {KEY_A}", KEY_A]
)
def test_wrong_or_missing_keys_are_refused(header):
    assert not KeyChecker([KEY_A]).allows(header)


def test_every_digest_is_compared(monkeypatch):
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr("chatpipe.gateway._auth.hmac.compare_digest", spy)
    checker = KeyChecker([KEY_A, KEY_B, "gw-key-cccccccccccccccc"])
    assert checker.allows(f"Bearer {KEY_A}")  # matches the first key, still compares all three
    assert len(calls) == 3
    assert all(len(a) == len(b) == 32 for a, b in calls)  # digests: equal lengths whatever the key


def test_keys_are_not_kept_or_shown():
    checker = KeyChecker([KEY_A])
    assert KEY_A not in repr(checker)
    assert not any(KEY_A in str(value) for value in checker._digests)
