"""Transport.send against a fake server, on both HTTP backends: responses, retries, failures."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from chatpipe._transport import Transport
from chatpipe.errors import APIConnectionError, APITimeoutError, InvalidRequestError
from chatpipe.http import HttpRequest, HttpResponse
from chatpipe.testing import FakeResponse, FakeServer

MakeTransport = Callable[..., Transport]
RETRYABLE = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


def post(server: FakeServer, path: str = "/v1/chat/completions", **kwargs: Any) -> HttpRequest:
    return HttpRequest("POST", server.url + path, json=kwargs.pop("json", {"model": "m"}), **kwargs)


def test_200_json_and_request_as_sent(server: FakeServer, make_transport: MakeTransport, backend: str) -> None:
    server.enqueue(
        "POST /v1/chat/completions", FakeResponse.json({"id": "x", "ok": True}, headers={"X-Request-Id": "r1"})
    )
    transport = make_transport()
    request = post(server, headers={"X-Team": "a"}, json={"model": "m", "messages": [{"role": "user", "content": "é"}]})

    response = transport.send(request, retryable=RETRYABLE)

    assert transport.backend_name == backend
    assert response.status == 200
    assert response.json() == {"id": "x", "ok": True}
    assert response.headers["x-request-id"] == "r1"
    assert response.request_id == "r1"
    (seen,) = server.requests
    assert seen.method == "POST"
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["x-team"] == "a"
    assert seen.json == {"model": "m", "messages": [{"role": "user", "content": "é"}]}


def test_get_without_body(server: FakeServer, make_transport: MakeTransport) -> None:
    server.enqueue("GET /v1/models", FakeResponse.json({"data": []}))
    response = make_transport().send(HttpRequest("GET", server.url + "/v1/models"), retryable=RETRYABLE)
    assert response.json() == {"data": []}
    assert server.requests[0].body == b""
    assert "content-type" not in server.requests[0].headers


def test_raw_content_is_sent_as_it_is(server: FakeServer, make_transport: MakeTransport, backend: str) -> None:
    server.enqueue("POST /v1/files", FakeResponse.json({"id": "file-1"}))
    body = b'--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n--b--\r\n\xff'
    request = HttpRequest(
        "POST", server.url + "/v1/files", headers={"Content-Type": "multipart/form-data; boundary=b"}, content=body
    )
    assert make_transport().send(request, retryable=RETRYABLE).json() == {"id": "file-1"}
    (seen,) = server.requests
    assert seen.body == body
    assert seen.headers["content-type"] == "multipart/form-data; boundary=b"
    assert seen.headers["content-length"] == str(len(body))


def test_a_request_has_json_or_content_never_both() -> None:
    with pytest.raises(ValueError, match="not both"):
        HttpRequest("POST", "http://127.0.0.1:1/x", json={"a": 1}, content=b"x")
    request = HttpRequest("POST", "http://127.0.0.1:1/x", content=b"12345")
    assert request.redacted()["content"] == "<5 bytes>" and "json" not in request.redacted()


def test_connections_are_pooled(server: FakeServer, make_transport: MakeTransport) -> None:
    server.route("/v1/chat/completions", lambda request: FakeResponse.json({"n": len(server.requests)}))
    transport = make_transport()
    bodies = [transport.send(post(server), retryable=RETRYABLE).json()["n"] for _ in range(5)]
    assert bodies == [1, 2, 3, 4, 5]
    assert server.open_connections == 1


@pytest.mark.parametrize(("retry_after", "expected"), [("0", 0.0), ("2", 2.0), ("1.5", 1.5)])
def test_429_with_retry_after_then_200(
    server: FakeServer, make_transport: MakeTransport, recorder: Any, retry_after: str, expected: float
) -> None:
    server.enqueue(
        "/v1/chat/completions",
        FakeResponse.json({"error": "slow down"}, status=429, headers={"Retry-After": retry_after}),
        FakeResponse.json({"ok": True}),
    )
    response = make_transport().send(post(server), retryable=RETRYABLE)
    assert response.status == 200
    assert len(server.requests) == 2
    assert recorder.sleeps == [expected]
    assert len(recorder.sent) == 2


def test_retry_after_ms_wins(server: FakeServer, make_transport: MakeTransport, recorder: Any) -> None:
    server.enqueue(
        "/v1/chat/completions",
        FakeResponse.json({}, status=429, headers={"retry-after-ms": "250", "retry-after": "9"}),
        FakeResponse.json({"ok": True}),
    )
    assert make_transport().send(post(server), retryable=RETRYABLE).status == 200
    assert recorder.sleeps == [0.25]


def test_503_then_200_uses_exponential_backoff(
    server: FakeServer, make_transport: MakeTransport, recorder: Any
) -> None:
    server.enqueue(
        "/v1/chat/completions",
        FakeResponse.text("busy", status=503),
        FakeResponse.text("busy", status=503),
        FakeResponse.json({"ok": True}),
    )
    assert make_transport().send(post(server), retryable=RETRYABLE).json() == {"ok": True}
    assert len(server.requests) == 3
    assert recorder.sleeps == [0.5, 1.0]


def test_non_retryable_400_is_returned_at_once(
    server: FakeServer, make_transport: MakeTransport, recorder: Any
) -> None:
    server.enqueue("/v1/chat/completions", FakeResponse.json({"error": "bad"}, status=400))
    response = make_transport().send(post(server), retryable=RETRYABLE)
    assert response.status == 400
    assert response.json() == {"error": "bad"}
    assert len(server.requests) == 1
    assert recorder.sleeps == []


def test_exhausted_retries_return_the_last_response(
    server: FakeServer, make_transport: MakeTransport, recorder: Any
) -> None:
    server.enqueue(
        "/v1/chat/completions",
        *[FakeResponse.json({"attempt": n}, status=429, headers={"retry-after": "0"}) for n in range(3)],
    )
    response = make_transport(max_retries=2).send(post(server), retryable=RETRYABLE)
    assert response.status == 429
    assert response.json() == {"attempt": 2}
    assert len(server.requests) == 3
    assert recorder.sleeps == [0.0, 0.0]


def test_no_retries_when_max_retries_is_zero(server: FakeServer, make_transport: MakeTransport) -> None:
    server.enqueue("/v1/chat/completions", FakeResponse.text("busy", status=503))
    assert make_transport(max_retries=0).send(post(server), retryable=RETRYABLE).status == 503
    assert len(server.requests) == 1


def test_x_should_retry_false_stops_retries(server: FakeServer, make_transport: MakeTransport, recorder: Any) -> None:
    server.enqueue("/v1/chat/completions", FakeResponse.json({}, status=429, headers={"x-should-retry": "false"}))
    assert make_transport().send(post(server), retryable=RETRYABLE).status == 429
    assert len(server.requests) == 1
    assert recorder.sleeps == []


def test_x_should_retry_true_retries_any_error_status(server: FakeServer, make_transport: MakeTransport) -> None:
    server.enqueue(
        "/v1/chat/completions",
        FakeResponse.json({}, status=400, headers={"x-should-retry": "true"}),
        FakeResponse.json({"ok": True}),
    )
    assert make_transport().send(post(server), retryable=RETRYABLE).status == 200
    assert len(server.requests) == 2


def test_retry_after_beyond_the_limit_is_not_waited_for(
    server: FakeServer, make_transport: MakeTransport, recorder: Any
) -> None:
    server.enqueue("/v1/chat/completions", FakeResponse.json({}, status=429, headers={"retry-after": "3600"}))
    assert make_transport().send(post(server), retryable=RETRYABLE).status == 429
    assert len(server.requests) == 1
    assert recorder.sleeps == []


def test_connection_refused_is_retried_then_raised(
    make_transport: MakeTransport, recorder: Any, closed_port: int
) -> None:
    url = f"http://127.0.0.1:{closed_port}/v1/chat/completions"
    with pytest.raises(APIConnectionError) as caught:
        make_transport(max_retries=2).send(HttpRequest("POST", url, json={}), retryable=RETRYABLE)
    error = caught.value
    assert not isinstance(error, APITimeoutError)
    assert f"could not connect to {url}" in str(error)
    assert "is the server running" in str(error)
    assert error.provider == "fake"
    assert len(recorder.sent) == 3
    assert recorder.sleeps == [0.5, 1.0]


def test_read_timeout_is_retried_then_raised(server: FakeServer, make_transport: MakeTransport, recorder: Any) -> None:
    server.enqueue("/v1/chat/completions", *[FakeResponse.json({}, delay=5.0) for _ in range(2)])
    with pytest.raises(APITimeoutError) as caught:
        make_transport(max_retries=1, read=0.2).send(post(server), retryable=RETRYABLE)
    message = str(caught.value)
    assert "read timeout" in message
    assert "0.2s" in message
    assert "Timeouts.read" in message
    assert len(server.requests) == 2
    assert recorder.sleeps == [0.5]


def test_read_timeout_then_success(server: FakeServer, make_transport: MakeTransport) -> None:
    server.enqueue("/v1/chat/completions", FakeResponse.json({}, delay=5.0), FakeResponse.json({"ok": True}))
    assert make_transport(read=0.2).send(post(server), retryable=RETRYABLE).json() == {"ok": True}


def test_reset_before_headers_is_retried_then_raised(
    server: FakeServer, make_transport: MakeTransport, recorder: Any
) -> None:
    server.enqueue("/v1/chat/completions", *[FakeResponse.reset() for _ in range(3)])
    with pytest.raises(APIConnectionError) as caught:
        make_transport(max_retries=2).send(post(server), retryable=RETRYABLE)
    assert not isinstance(caught.value, APITimeoutError)
    assert server.url in str(caught.value)
    assert len(server.requests) == 3
    assert len(recorder.sleeps) == 2


def test_reset_before_headers_then_success(server: FakeServer, make_transport: MakeTransport) -> None:
    server.enqueue("/v1/chat/completions", FakeResponse.reset(), FakeResponse.json({"ok": True}))
    assert make_transport().send(post(server), retryable=RETRYABLE).json() == {"ok": True}
    assert len(server.requests) == 2


def test_malformed_response_is_a_connection_error(server: FakeServer, make_transport: MakeTransport) -> None:
    server.enqueue("/v1/chat/completions", FakeResponse.raw(b"HTTX/9 what\r\n\r\n"))
    with pytest.raises(APIConnectionError, match="before a response arrived"):
        make_transport(max_retries=0).send(post(server), retryable=RETRYABLE)


def test_body_cut_short_is_a_connection_error(server: FakeServer, make_transport: MakeTransport) -> None:
    cut = b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"partial":'
    server.enqueue("/v1/chat/completions", FakeResponse.raw(cut))
    with pytest.raises(APIConnectionError, match="while reading the response body"):
        make_transport(max_retries=0).send(post(server), retryable=RETRYABLE)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "not a url", "http://[::1/v1"])
def test_invalid_url_is_an_invalid_request(make_transport: MakeTransport, recorder: Any, url: str) -> None:
    with pytest.raises(InvalidRequestError, match="http:// or https://"):
        make_transport().send(HttpRequest("POST", url, json={}), retryable=RETRYABLE)
    assert recorder.sleeps == []


def test_body_that_is_not_json_is_an_invalid_request(server: FakeServer, make_transport: MakeTransport) -> None:
    with pytest.raises(InvalidRequestError, match="not valid JSON"):
        make_transport().send(post(server, json={"x": object()}), retryable=RETRYABLE)
    with pytest.raises(InvalidRequestError, match="not valid JSON"):
        make_transport().send(post(server, json={"x": float("nan")}), retryable=RETRYABLE)
    assert server.requests == []


def test_credentials_in_the_url_are_not_shown(make_transport: MakeTransport, closed_port: int) -> None:
    url = f"http://user:hunter2pass@127.0.0.1:{closed_port}/v1/models?key=abc123secret&page=2"
    with pytest.raises(APIConnectionError) as caught:
        make_transport(max_retries=0).send(HttpRequest("GET", url), retryable=RETRYABLE)
    message = str(caught.value)
    assert "hunter2pass" not in message
    assert "abc123secret" not in message
    assert f"127.0.0.1:{closed_port}/v1/models?key=***&page=2" in message


def test_on_send_sees_every_attempt(server: FakeServer, make_transport: MakeTransport, recorder: Any) -> None:
    server.enqueue("/v1/chat/completions", FakeResponse.text("", status=500), FakeResponse.json({}))
    request = post(server)
    make_transport().send(request, retryable=RETRYABLE)
    assert recorder.sent == [request, request]


def test_transport_reopens_after_close(server: FakeServer, make_transport: MakeTransport) -> None:
    server.enqueue("/v1/chat/completions", FakeResponse.json({"n": 1}), FakeResponse.json({"n": 2}))
    with make_transport() as transport:
        assert transport.send(post(server), retryable=RETRYABLE).json() == {"n": 1}
    assert server.wait_for(lambda: server.open_connections == 0)
    assert transport.send(post(server), retryable=RETRYABLE).json() == {"n": 2}


def test_should_retry_vetoes_a_retryable_status(
    server: FakeServer, make_transport: MakeTransport, recorder: Any
) -> None:
    quota = FakeResponse.json({"error": {"type": "insufficient_quota"}}, status=429, headers={"Retry-After": "0"})
    server.enqueue("/v1/chat/completions", quota, FakeResponse.json({"ok": True}))
    seen: list[int] = []

    def should_retry(response: HttpResponse) -> bool:
        seen.append(response.status)
        return "insufficient_quota" not in response.text

    response = make_transport(should_retry=should_retry).send(post(server), retryable=RETRYABLE)
    assert response.status == 429 and seen == [429]
    assert len(server.requests) == 1 and recorder.sleeps == []
