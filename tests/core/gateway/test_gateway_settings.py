"""The loopback rule, bind checks and the settings taken from ``serve:``."""

from __future__ import annotations

import pytest
from chatpipe.config import parse_config
from chatpipe.errors import ConfigError
from chatpipe.gateway import GatewayError, GatewaySettings, is_loopback
from chatpipe.gateway._run import check_bind
from chatpipe.gateway._settings import is_local_client

KEY = "gw-key-aaaaaaaaaaaaaaaa"


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST", "a.localhost", "::ffff:127.0.0.1"]
)
def test_loopback(host):
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "::", "192.168.1.5", "10.0.0.1", "example.com", "my-host", "testclient", "::ffff:10.0.0.1"]
)
def test_not_loopback(host):
    assert not is_loopback(host)


def test_settings_from_config():
    serve = parse_config(f"serve: {{keys: [{KEY}], max_body_size: 1KB, request_timeout: 3}}", env={}).serve
    settings = GatewaySettings.from_config(serve)
    assert settings.keys.enabled and settings.keys.allows(f"Bearer {KEY}")
    assert (settings.max_body_size, settings.request_timeout) == (1000, 3.0)


@pytest.mark.parametrize(
    ("host", "headers", "local"),
    [
        ("127.0.0.1", {}, True),
        ("::1", {"authorization": "Bearer x"}, True),
        ("203.0.113.5", {}, False),
        (None, {}, False),  # no address reported (a Unix socket): not certainly local
        ("127.0.0.1", {"x-forwarded-for": "198.51.100.7"}, False),
        ("127.0.0.1", {"forwarded": "for=198.51.100.7"}, False),
    ],
)
def test_local_client(host, headers, local):
    assert is_local_client(host, headers) is local


def test_settings_of_an_open_gateway_refuse_remote_clients_only():
    settings = GatewaySettings.from_config(parse_config("", env={}).serve)
    assert settings.local_only
    settings.check_client("127.0.0.1", {})
    with pytest.raises(GatewayError) as info:
        settings.check_client("203.0.113.5", {})
    assert (info.value.status, info.value.type, info.value.code) == (403, "permission_error", "unauthenticated_gateway")
    for serve in (f"serve: {{keys: [{KEY}]}}", "serve: {allow_unauthenticated: true}"):
        settings = GatewaySettings.from_config(parse_config(serve, env={}).serve)
        assert not settings.local_only
        settings.check_client("203.0.113.5", {"x-forwarded-for": "198.51.100.7"})


def test_bind_refuses_public_host_without_keys():
    config = parse_config("profiles: {a: {provider: openai}}", env={})
    check_bind(config, "127.0.0.1")
    with pytest.raises(ConfigError) as info:
        check_bind(config, "0.0.0.0")
    assert info.value.path == "serve.keys"
    assert "refusing to listen on '0.0.0.0'" in str(info.value)
    assert "set serve.keys" in str(info.value)
    assert "serve.allow_unauthenticated: true" in str(info.value)


def test_bind_allows_public_host_with_allow_unauthenticated():
    config = parse_config("profiles: {a: {provider: openai}}\nserve: {allow_unauthenticated: true}", env={})
    check_bind(config, "0.0.0.0")
    assert config.serve.allow_unauthenticated is True


def test_bind_allows_public_host_with_keys():
    config = parse_config(f"profiles: {{a: {{provider: openai}}}}\nserve: {{keys: [{KEY}]}}", env={})
    check_bind(config, "0.0.0.0")
    assert config.serve.keys == (KEY,)


def test_bind_refuses_no_profiles():
    with pytest.raises(ConfigError, match="no profiles are configured"):
        check_bind(parse_config("", env={}), "127.0.0.1")
