"""A profile's own rate limits and the shared state through the gateway: 429 + Retry-After, 503."""

from __future__ import annotations

import json
import socket

import pytest
from chatpipe.testing import FakeResponse
from chatpipe.testing.conformance import OpenAISimulator, Reply

from .conftest import VENDOR_KEY
from .test_gateway_app import assert_openai_error

SIM = OpenAISimulator(provider="openai")
ROUTE = "POST /v1/chat/completions"
LIMITED = {"model": "limited", "messages": [{"role": "user", "content": "hi"}]}
STATE_PASSWORD = "redis-pw-31337"


def _limited(vendor_url: str) -> str:
    return (
        f"  limited: {{provider: openai, base_url: '{vendor_url}/v1', api_key: {VENDOR_KEY}, model: gpt-x,"
        " max_retries: 0, limits: {rpm: 1, window: 60, max_wait: 0}}\n"
    )


def _free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize("stream", [False, True])
def test_a_profile_over_its_own_limit_is_a_429_with_retry_after(make_client, vendor, stream):
    vendor.enqueue(ROUTE, SIM.reply(Reply(text="first")))
    client = make_client(extra_profiles=_limited(vendor.url))
    assert client.post("/v1/chat/completions", json=LIMITED).status_code == 200
    response = client.post("/v1/chat/completions", json={**LIMITED, "stream": stream})
    error = assert_openai_error(response, 429)
    assert error["code"] == "rate_limit_exceeded" and error["type"] == "rate_limit_error"
    assert "limits.rpm" in error["message"] and "'limited'" in error["message"]
    assert not error["message"].startswith("upstream")  # no vendor was called
    retry = int(response.headers["retry-after"])
    assert 1 <= retry <= 60
    assert len(vendor.requests) == 1  # the refused call never reached the vendor


def test_a_vendor_429_is_still_passed_through(make_client, vendor):
    vendor.enqueue(
        ROUTE, FakeResponse.json({"error": {"message": "slow down"}}, status=429, headers={"Retry-After": "7"})
    )
    response = make_client().post("/v1/chat/completions", json={**LIMITED, "model": "gpt"})
    error = assert_openai_error(response, 429)
    assert error["code"] == "rate_limit_exceeded" and error["message"].startswith("upstream openai HTTP 429")
    assert response.headers["retry-after"] == "7"


def _closed_state() -> str:
    url = f"redis://:{STATE_PASSWORD}@127.0.0.1:{_free_port()}/0"
    return f"state: {{backend: redis, url: '{url}', on_state_error: closed, timeout: 0.5}}"


@pytest.mark.parametrize("stream", [False, True])
def test_unreachable_shared_state_with_on_state_error_closed_is_a_503(make_client, vendor, stream):
    client = make_client(extra_profiles=_limited(vendor.url), extra=_closed_state())
    response = client.post("/v1/chat/completions", json={**LIMITED, "stream": stream})
    error = assert_openai_error(response, 503)
    assert error["code"] == "state_unavailable" and error["type"] == "server_error"
    assert "on_state_error" in error["message"]
    assert STATE_PASSWORD not in response.text and "127.0.0.1" not in response.text  # the state server stays private
    assert vendor.requests == []


def test_a_limit_reached_mid_stream_becomes_the_error_frame():
    import asyncio

    from chatpipe.errors import LimitExceededError, StateUnavailableError
    from chatpipe.gateway._errors import from_chatpipe_error
    from chatpipe.gateway._render import StreamRenderer
    from chatpipe.gateway._stream import SSEResponse
    from chatpipe.models import ChatChunk

    class _Stream:
        async def aclose(self) -> None:
            return None

    def frames_for(error: Exception) -> list[dict]:
        async def chunks():
            yield ChatChunk(text="b")
            raise error

        sent: list[dict] = []

        async def send(message: dict) -> None:
            sent.append(message)

        async def receive() -> dict:
            await asyncio.sleep(10)
            return {"type": "http.disconnect"}

        async def run() -> None:
            loop = asyncio.get_running_loop()
            response = SSEResponse(
                _Stream(),  # type: ignore[arg-type]
                chunks(),
                ChatChunk(text="a"),
                StreamRenderer(model="limited", include_usage=False),
                deadline=loop.time() + 5,
                map_error=lambda exc: from_chatpipe_error(exc, profile="limited"),
            )
            await response({"type": "http"}, receive, send)

        asyncio.run(run())
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body").decode()
        assert sent[0]["status"] == 200 and "[DONE]" not in body
        return [json.loads(line[len("data: ") :]) for line in body.splitlines() if line.startswith("data: ")]

    limit = LimitExceededError("profile 'limited' is at its limit (limits.rpm)", limit="rpm", retry_after=2.5)
    assert frames_for(limit)[-1]["error"]["code"] == "rate_limit_exceeded"
    state = StateUnavailableError("the shared state did not answer: Redis at redis://10.0.0.9:6379/0")
    last = frames_for(state)[-1]["error"]
    assert last["code"] == "state_unavailable" and "10.0.0.9" not in last["message"]
