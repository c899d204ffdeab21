"""chatpipe._transport._tls: no TLS context for http, one verified context per process for https.

An https fake vendor with a certificate from a local authority (trustme): trusted through
``SSL_CERT_FILE``, which the HTTP libraries' default context reads, the call goes through;
without it the handshake fails — verification is on.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chatpipe._transport import _tls
from chatpipe.errors import APIConnectionError
from chatpipe.http import HttpRequest
from chatpipe.testing import FakeResponse, FakeServer

trustme = pytest.importorskip("trustme")

OK = FakeResponse.json({"ok": True})


@pytest.fixture
def made(backend: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every loading of CA certificates into a TLS context (the cost this module avoids), from a
    process without a verified context yet."""
    calls: list[str] = []
    for name in ("load_verify_locations", "load_default_certs", "set_default_verify_paths"):
        original = getattr(ssl.SSLContext, name)

        def counting(self: ssl.SSLContext, *args: Any, _original: Any = original, _name: str = name, **kw: Any) -> Any:
            calls.append(_name)
            return _original(self, *args, **kw)

        monkeypatch.setattr(ssl.SSLContext, name, counting)
    monkeypatch.setattr(_tls, "_verified", {})
    yield calls


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """A local certificate authority and its certificate's PEM file."""
    ca = trustme.CA()
    pem = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    return ca, pem


@pytest.fixture
def https_server(authority: tuple[Any, Path]) -> Iterator[FakeServer]:
    ca, _ = authority
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with FakeServer(tls=context) as server:
        yield server


def get(url: str) -> HttpRequest:
    return HttpRequest(method="GET", url=f"{url}/v1/x")


def test_an_http_call_makes_no_tls_context(make_transport, server: FakeServer, made: list[str]) -> None:
    server.enqueue("/v1/x", OK, OK)
    transport = make_transport()
    assert transport.send(get(server.url), retryable=frozenset()).status == 200

    async def call() -> int:
        return (await transport.asend(get(server.url), retryable=frozenset())).status

    assert asyncio.run(call()) == 200
    assert made == []


def test_https_calls_share_one_verified_context(
    make_transport, https_server: FakeServer, authority: tuple[Any, Path], made: list[str], monkeypatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(authority[1]))  # read by the library's default context
    https_server.enqueue("/v1/x", OK, OK, OK)
    first, second = make_transport(), make_transport()
    assert https_server.url.startswith("https://")
    assert first.send(get(https_server.url), retryable=frozenset()).status == 200
    assert second.send(get(https_server.url), retryable=frozenset()).status == 200

    async def call() -> int:
        return (await first.asend(get(https_server.url), retryable=frozenset())).status

    assert asyncio.run(call()) == 200
    assert made == ["load_verify_locations"], "one verified context for the process, at the first https connection"


def test_an_untrusted_certificate_is_refused(
    make_transport, https_server: FakeServer, made: list[str], monkeypatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    https_server.enqueue("/v1/x", OK)
    with pytest.raises(APIConnectionError) as caught:
        make_transport(max_retries=0).send(get(https_server.url), retryable=frozenset())
    assert "CERTIFICATE_VERIFY_FAILED" in repr(caught.value.__cause__) or "certificate" in str(caught.value).lower()
    assert https_server.requests == []  # nothing was sent over an unverified connection
    assert len(made) == 1  # the verified context was made, and it refused the certificate


def test_the_placeholder_trusts_nothing(backend: str) -> None:
    import importlib

    context = _tls.placeholder(importlib.import_module(backend))
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname
    assert context.get_ca_certs() == []
    assert _tls.verified(ssl.create_default_context()) is not context  # any other context is used as given
