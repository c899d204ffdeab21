"""The ``serve:`` section (the gateway's settings): defaults, normalisation, errors, secrecy."""

from __future__ import annotations

import pytest
from chatpipe.config import Config, ServeConfig
from chatpipe.config._schema import DEFAULT_MAX_BODY_SIZE

KEY_A = "gw-key-aaaaaaaaaaaaaaaa"
KEY_B = "gw-key-bbbbbbbbbbbbbbbb"


def test_defaults_without_a_serve_section(parse):
    serve = parse("profiles: {a: {provider: openai}}").serve
    assert serve == ServeConfig()
    assert (serve.host, serve.port, serve.keys) == ("127.0.0.1", 8000, ())
    assert serve.max_body_size == DEFAULT_MAX_BODY_SIZE == 16 * 1024 * 1024
    assert (serve.request_timeout, serve.shutdown_timeout) == (600.0, 30.0)
    assert serve.allow_unauthenticated is False


def test_null_serve_section_is_the_default(parse):
    assert parse("serve:\n").serve == ServeConfig()


def test_full_section(parse):
    config = parse(
        "serve: {host: 0.0.0.0, port: 9001, keys: ['${GW_A}', '${GW_B}'], max_body_size: 2MiB,"
        " request_timeout: 30, shutdown_timeout: 5}",
        env={"GW_A": KEY_A, "GW_B": KEY_B},
    )
    assert config.serve == ServeConfig(
        host="0.0.0.0",
        port=9001,
        keys=(KEY_A, KEY_B),
        max_body_size=2 * 1024 * 1024,
        request_timeout=30.0,
        shutdown_timeout=5.0,
    )


@pytest.mark.parametrize(
    ("text", "size"),
    [("1024", 1024), ("20MB", 20_000_000), ("20 mb", 20_000_000), ("3KiB", 3072), ("1GB", 10**9), ("512B", 512)],
)
def test_body_size_units(parse, text, size):
    assert parse(f"serve: {{max_body_size: '{text}'}}").serve.max_body_size == size


def test_body_size_number_and_env(parse):
    assert parse("serve: {max_body_size: 4096}").serve.max_body_size == 4096
    assert parse("serve: {max_body_size: '${N}'}", env={"N": "8MB"}).serve.max_body_size == 8_000_000


def test_allow_unauthenticated(parse):
    assert parse("serve: {allow_unauthenticated: true}").serve.allow_unauthenticated is True
    assert parse("serve: {allow_unauthenticated: false}").serve.allow_unauthenticated is False
    assert parse("serve: {allow_unauthenticated: '${OPEN}'}", env={"OPEN": "yes"}).serve.allow_unauthenticated is True


def test_metrics_auto_true_false_and_metrics_keys(parse):
    assert parse("serve: {}").serve.metrics is None  # auto: on when prometheus_client is installed
    assert parse("serve: {metrics: auto}").serve.metrics is None
    assert parse("serve: {metrics: true}").serve.metrics is True
    assert parse("serve: {metrics: '${M}'}", env={"M": "false"}).serve.metrics is False
    serve = parse("serve: {metrics_keys: '${MK}'}", env={"MK": KEY_A}).serve
    assert serve.metrics_keys == (KEY_A,) and KEY_A not in repr(serve)


def test_single_key_string_and_empty_entries(parse):
    assert parse("serve: {keys: '${GW}'}", env={"GW": KEY_A}).serve.keys == (KEY_A,)
    assert parse("serve: {keys: ['${GW:-}', '']}").serve.keys == ()
    assert parse(f"serve: {{keys: [{KEY_A}, {KEY_A}]}}").serve.keys == (KEY_A,)


def test_port_and_timeouts_from_env(parse):
    serve = parse("serve: {port: '${P}', request_timeout: '${T}'}", env={"P": "8123", "T": "2.5"}).serve
    assert (serve.port, serve.request_timeout) == (8123, 2.5)


@pytest.mark.parametrize(
    ("text", "path", "fragment"),
    [
        ("serve: {port: 0}", "serve.port", "1 to 65535"),
        ("serve: {port: 70000}", "serve.port", "1 to 65535"),
        ("serve: {port: eighty}", "serve.port", "integer"),
        ("serve: {host: ''}", "serve.host", "empty"),
        ("serve: {host: 'a b'}", "serve.host", "host name or IP"),
        ("serve: {max_body_size: 0}", "serve.max_body_size", "more than 0"),
        ("serve: {max_body_size: 12 parsecs}", "serve.max_body_size", "20MB"),
        ("serve: {max_body_size: true}", "serve.max_body_size", "number of bytes"),
        ("serve: {request_timeout: 0}", "serve.request_timeout", "positive"),
        ("serve: {shutdown_timeout: -1}", "serve.shutdown_timeout", "positive"),
        ("serve: {hosts: x}", "serve.hosts", "did you mean 'host'"),
        ("serve: [1]", "serve", "mapping of gateway settings"),
        ("serve: {keys: 5}", "serve.keys", "a key or a list of keys"),
        ("serve: {allow_unauthenticated: 'yes'}", "serve.allow_unauthenticated", "expected true or false"),
        ("serve: {allow_unauthenticated: 1}", "serve.allow_unauthenticated", "expected true or false"),
        ("serve: {allow_unauthenticated: [true]}", "serve.allow_unauthenticated", "expected true or false"),
        ("serve: {metrics: maybe}", "serve.metrics", "expected auto, true or false"),
        ("serve: {metrics: 1}", "serve.metrics", "expected auto, true or false"),
        ("serve: {metrics_keys: [short]}", "serve.metrics_keys[0]", "at least 16"),
    ],
)
def test_invalid_values_name_the_key(fail, text, path, fragment):
    error = fail(text)
    assert error.path == path
    assert fragment in str(error)


def test_short_key_rejected_without_showing_it(fail):
    error = fail("serve: {keys: ['${GW}']}", env={"GW": "short-secret"})
    assert error.path == "serve.keys[0]"
    assert "at least 16" in str(error)
    assert "short-secret" not in str(error)


def test_non_string_key_not_shown(fail):
    error = fail("serve: {keys: [1234567890123456789]}")
    assert error.path == "serve.keys[0]"
    assert "1234567890123456789" not in str(error)


def test_keys_never_in_repr(parse):
    config = parse("serve: {keys: ['${GW}']}", env={"GW": KEY_A})
    assert KEY_A not in repr(config)
    assert KEY_A not in repr(config.serve)
    assert "1 key(s)" in repr(config.serve)


def test_serve_is_a_config_field():
    assert Config().serve == ServeConfig()
