"""RequestBuilder: the request it builds is the one ``client.build_request`` builds, on both backends."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from chatpipe._transport._prepared import MAX_CACHED, RequestBuilder

URL = "http://127.0.0.1:8080/v1/chat/completions?api-version=2024-10-21"
HEADERS = {"Content-Type": "application/json", "Authorization": "Bearer sk-test-key", "User-Agent": "mine/1.0"}


@pytest.fixture
def library(backend: str) -> Any:
    return importlib.import_module(backend)


def same(built: Any, expected: Any) -> None:
    assert built.method == expected.method
    assert str(built.url) == str(expected.url)
    assert built.headers.raw == expected.headers.raw
    assert built.read() == expected.read()
    assert built.extensions == expected.extensions


@pytest.mark.parametrize("content", [b'{"model":"m"}', None])
def test_the_built_request_equals_build_request(library: Any, content: bytes | None) -> None:
    client = library.Client(timeout=library.Timeout(connect=3.0, read=7.0, write=7.0, pool=7.0))
    builder = RequestBuilder(library)
    for _ in range(2):  # the second time from the caches
        same(
            builder.build(client, "post", URL, HEADERS, content),
            client.build_request("post", URL, headers=HEADERS, content=content),
        )
    client.close()


def test_cookies_the_client_holds_are_sent_as_build_request_sends_them(library: Any) -> None:
    client = library.Client()
    client.cookies.set("session", "abc", domain="127.0.0.1")
    built = RequestBuilder(library).build(client, "GET", URL, {}, None)
    assert built.headers["cookie"] == "session=abc"
    same(built, client.build_request("GET", URL, headers={}))
    client.close()


def test_requests_share_no_mutable_state(library: Any) -> None:
    client = library.Client()
    builder = RequestBuilder(library)
    first = builder.build(client, "POST", URL, HEADERS, b"{}")
    first.headers["X-Changed"] = "1"
    first.extensions["timeout"]["read"] = 99.0
    second = builder.build(client, "POST", URL, HEADERS, b"{}")
    assert "X-Changed" not in second.headers
    assert second.extensions["timeout"]["read"] != 99.0
    client.close()


@pytest.mark.parametrize("url", ["ftp://example.com/v1", "/v1/chat/completions", "http://"])
def test_urls_that_are_not_absolute_http_go_through_build_request(library: Any, url: str) -> None:
    client = library.Client()
    builder = RequestBuilder(library)
    try:
        expected: Any = client.build_request("POST", url, headers=HEADERS)
    except Exception as exc:  # whatever the library raises, the builder must raise too
        with pytest.raises(type(exc)):
            builder.build(client, "POST", url, HEADERS, None)
    else:
        same(builder.build(client, "POST", url, HEADERS, None), expected)
    client.close()


def test_the_caches_are_bounded(library: Any) -> None:
    client = library.Client()
    builder = RequestBuilder(library)
    for index in range(MAX_CACHED * 3):
        url = f"http://127.0.0.1:{1000 + index}/v1"
        built = builder.build(client, "GET", url, {"X-Index": str(index)}, None)
        assert str(built.url) == url and built.headers["x-index"] == str(index)
    assert len(builder._urls) <= MAX_CACHED and len(builder._headers) <= MAX_CACHED
    client.close()


def test_the_transport_s_clients_meet_the_builder_s_precondition(backend: str) -> None:
    import asyncio

    from chatpipe._transport import Transport

    transport = Transport()

    async def async_client() -> Any:
        client = transport._async_client()
        await transport.aclose()
        return client

    sync = transport._sync_client()
    other = asyncio.run(async_client())
    for client in (sync, other):
        assert str(client.base_url) == "" and not client.params
    assert sync.headers.raw == other.headers.raw
    transport.close()
