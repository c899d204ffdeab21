"""No API key in any error raised by the transport, even when the server echoes it back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from chatpipe._transport import Transport
from chatpipe.errors import ChatpipeError
from chatpipe.http import HttpRequest
from chatpipe.secrets import Secret
from chatpipe.testing import FakeResponse, FakeServer, RecordedRequest

MakeTransport = Callable[..., Transport]
KEY = "sk-planted-0123456789abcdef"
RETRYABLE = frozenset({429, 503})
PATH = "/v1/chat/completions"


def keyed_request(url: str, extra: dict[str, str] | None = None) -> HttpRequest:
    headers = {"Authorization": f"Bearer {KEY}", "x-api-key": KEY, **(extra or {})}
    return HttpRequest(
        "POST", url, headers=headers, json={"m": 1}, secret_headers=frozenset({"authorization", "x-api-key"})
    )


def assert_clean(error: BaseException) -> None:
    """Neither the error nor anything chained to it shows the key."""
    seen: BaseException | None = error
    while seen is not None:
        for text in (str(seen), repr(seen), repr(seen.args), repr(vars(seen))):
            assert KEY not in text, text
        seen = seen.__cause__ or seen.__context__


def echo_in_status_line(request: RecordedRequest) -> FakeResponse:
    return FakeResponse.raw(f"HTTP/1.1 20x {request.headers['x-api-key']}\r\n\r\n".encode())


def echo_then_cut(request: RecordedRequest) -> FakeResponse:
    return FakeResponse.sse([{"echo": request.headers["authorization"]}, {"n": 2}], cut_after=1)


@pytest.mark.parametrize("with_secrets", [True, False], ids=["transport-secrets", "secret-headers-only"])
def test_key_echoed_in_a_malformed_response_is_scrubbed(
    server: FakeServer, make_transport: MakeTransport, with_secrets: bool
) -> None:
    server.route(PATH, echo_in_status_line)
    transport = make_transport(max_retries=1, secrets=[Secret(KEY)] if with_secrets else [])
    with pytest.raises(ChatpipeError) as caught:
        transport.send(keyed_request(server.url + PATH), retryable=RETRYABLE)
    assert "***" in str(caught.value)  # the echoed line is reported, minus the key
    assert_clean(caught.value)
    with pytest.raises(ChatpipeError) as caught_stream:  # noqa: SIM117
        with transport.stream(keyed_request(server.url + PATH), retryable=RETRYABLE):
            pass
    assert_clean(caught_stream.value)


def test_key_echoed_before_a_cut_stream_is_not_in_the_error(server: FakeServer, make_transport: MakeTransport) -> None:
    server.route(PATH, echo_then_cut)
    transport = make_transport(secrets=[Secret(KEY)])
    with pytest.raises(ChatpipeError) as caught:  # noqa: SIM117
        with transport.stream(keyed_request(server.url + PATH), retryable=RETRYABLE) as response:
            for _ in response.events():
                pass
    assert_clean(caught.value)


def test_async_paths_are_scrubbed_too(server: FakeServer, make_transport: MakeTransport) -> None:
    server.route(PATH, echo_in_status_line)
    transport = make_transport(max_retries=0, secrets=[Secret(KEY)])

    async def main() -> None:
        async with transport:
            await transport.asend(keyed_request(server.url + PATH), retryable=RETRYABLE)

    with pytest.raises(ChatpipeError) as caught:
        asyncio.run(main())
    assert_clean(caught.value)


def test_key_in_an_invalid_header_value_is_scrubbed(server: FakeServer, make_transport: MakeTransport) -> None:
    transport = make_transport(max_retries=0, secrets=[Secret(KEY)])
    request = keyed_request(server.url + PATH, {"x-api-key": f"{KEY}\n"})
    with pytest.raises(ChatpipeError) as caught:
        transport.send(request, retryable=RETRYABLE)
    assert_clean(caught.value)


def test_key_in_the_url_query_is_not_shown(make_transport: MakeTransport, closed_port: int) -> None:
    transport = make_transport(max_retries=0, secrets=[Secret(KEY)])
    url = f"http://127.0.0.1:{closed_port}/v1beta/models?key={KEY}"
    with pytest.raises(ChatpipeError) as caught:
        transport.send(HttpRequest("GET", url), retryable=RETRYABLE)
    assert "key=***" in str(caught.value)
    assert_clean(caught.value)


def test_transport_repr_shows_no_key(make_transport: MakeTransport) -> None:
    transport = make_transport(secrets=[Secret(KEY)])
    assert KEY not in repr(transport)
