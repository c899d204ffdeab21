"""chatpipe.vendor: the one malformed-payload signal, JSON decoding, the protocol-error and auth-hint builders."""

from __future__ import annotations

import pytest
from chatpipe.errors import ProtocolError
from chatpipe.secrets import Secret
from chatpipe.vendor import MAX_BODY, ErrorInBody, MalformedPayload, auth_hint, decode_json, protocol_error

KEY = "sk-vendor-PLANTED-0123456789"


@pytest.mark.parametrize("body", [b'{"a": 1}', b'\n\n  {"a": 1}\n', '{"a": 1}'])
def test_decode_json_skips_surrounding_whitespace(body: bytes | str) -> None:
    assert decode_json(body) == {"a": 1}


@pytest.mark.parametrize(
    ("body", "problem"), [(b"", "the body was empty"), (b" \n", "the body was empty"), (b"{x", "not valid JSON")]
)
def test_decode_json_raises_the_one_malformed_signal(body: bytes, problem: str) -> None:
    with pytest.raises(MalformedPayload, match=problem):
        decode_json(body)


def test_error_in_body_carries_the_envelope() -> None:
    assert ErrorInBody({"error": {"message": "m"}}).data == {"error": {"message": "m"}}


def test_protocol_error_names_the_contract_and_keeps_a_scrubbed_cut_body() -> None:
    body = (f"key={KEY} " + "x" * (MAX_BODY * 2)).encode()
    error = protocol_error(
        "the reply has no 'choices' list",
        body,
        provider="acme",
        expected="speak Acme's chat API",
        secrets=[Secret(KEY)],
        status=200,
        request_id="req-1",
    )
    assert isinstance(error, ProtocolError)
    assert str(error) == (
        "acme HTTP 200: the reply has no 'choices' list; the server may not speak Acme's chat API, "
        "or a proxy altered the reply (request id req-1)"
    )
    assert (error.provider, error.status, error.request_id) == ("acme", 200, "req-1")
    assert error.body is not None and KEY not in error.body and error.body.startswith("key=*** ")
    assert "more characters]" in error.body


@pytest.mark.parametrize(
    ("env_vars", "key_sent", "hint"),
    [
        (("ACME_API_KEY",), True, "Check the API key: set ACME_API_KEY or run 'chatpipe keys set acme'"),
        (("A_KEY", "B_KEY"), False, "No API key was sent; set A_KEY or B_KEY or run 'chatpipe keys set acme'"),
        ((), False, "No API key was sent; run 'chatpipe keys set acme'"),
    ],
)
def test_auth_hint_names_where_the_key_comes_from(env_vars: tuple[str, ...], key_sent: bool, hint: str) -> None:
    assert auth_hint("acme", env_vars, key_sent=key_sent) == hint


@pytest.mark.parametrize(("text", "expected"), [('{"a": 1}', {"a": 1}), (b"[1]", [1]), ("<html>", None), ("", None)])
def test_json_or_none_decodes_json_and_gives_none_for_anything_else(text: str | bytes, expected: object) -> None:
    from chatpipe.vendor import json_or_none

    assert json_or_none(text) == expected


def test_loads_json_makes_too_deep_nesting_a_value_error() -> None:
    from chatpipe.vendor import json_or_none, loads_json

    with pytest.raises(ValueError, match="nested too deeply"):
        loads_json("[" * 100_000)
    assert json_or_none("[" * 100_000) is None
    with pytest.raises(MalformedPayload, match="nested too deeply"):
        decode_json(b"[" * 100_000)
    assert loads_json('{"a": [1]}') == {"a": [1]}


def test_a_malformed_body_error_does_not_keep_the_decoder_error_holding_the_body() -> None:
    with pytest.raises(MalformedPayload) as info:
        decode_json(b'{"key": "sk-secret-in-a-broken-body"')
    assert info.value.__context__ is None and info.value.__cause__ is None


def test_auth_hint_names_the_source_of_a_refused_key() -> None:
    source = "the profile's api_key (chatpipe.yaml)"
    assert auth_hint("custom", (), key_sent=True, key_source=source) == (
        "The API key from the profile's api_key (chatpipe.yaml) was refused; check it"
    )
    missing = auth_hint("custom", (), key_sent=False, key_source=None)
    assert missing == "No API key was sent; run 'chatpipe keys set custom'"
