"""The gateway logs each answered call with its profile, model, tokens and cost (chatpipe.gateway._accounting)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from chatpipe.testing import FakeResponse

from .conftest import VENDOR_KEY

ROUTE = "POST /v1/chat/completions"
USAGE = {"prompt_tokens": 2000, "completion_tokens": 1000, "total_tokens": 3000}
PRICED = "  priced: {provider: custom, base_url: '%s/v1', model: my-model, prices: {input: 1, output: 4}}"


def completion(model: str) -> dict[str, Any]:
    message = {"role": "assistant", "content": "ok"}
    return {
        "id": "c",
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": USAGE,
    }


def chunks(model: str) -> list[dict[str, Any]]:
    delta = {"index": 0, "delta": {"content": "ok"}, "finish_reason": "stop"}
    return [{"id": "s", "model": model, "choices": [delta]}, {"id": "s", "model": model, "choices": [], "usage": USAGE}]


def replies(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "chatpipe.gateway" and r.getMessage().startswith("reply ")
    ]


@pytest.mark.parametrize("stream", [False, True])
def test_each_answered_call_is_logged_with_its_cost(make_client, vendor, caplog, stream: bool) -> None:
    client = make_client(extra_profiles=PRICED % vendor.url)
    answer = FakeResponse.sse(chunks("my-model")) if stream else FakeResponse.json(completion("my-model"))
    unknown = FakeResponse.sse(chunks("gpt-x")) if stream else FakeResponse.json(completion("gpt-x"))
    vendor.enqueue(ROUTE, answer, unknown)
    with caplog.at_level(logging.INFO, logger="chatpipe.gateway"):
        for profile in ("priced", "gpt"):
            body = {"model": profile, "messages": [{"role": "user", "content": "hi"}], "stream": stream}
            assert client.post("/v1/chat/completions", json=body).status_code == 200
    # 2000 x $1/M + 1000 x $4/M
    assert replies(caplog) == [
        "reply profile=priced model=my-model tokens=2000+1000 cost=0.006 USD",
        "reply profile=gpt model=gpt-x tokens=2000+1000 cost=unknown",
    ]
    assert VENDOR_KEY not in caplog.text


@pytest.mark.parametrize("stream", [False, True])
def test_the_log_line_names_the_client_by_its_key_label_never_the_key(make_client, vendor, caplog, stream: bool):
    key = "gw-key-team-a-0123456789"
    client = make_client(serve=f"{{keys: {{team-a: {key}}}}}")
    vendor.enqueue(ROUTE, FakeResponse.sse(chunks("gpt-x")) if stream else FakeResponse.json(completion("gpt-x")))
    body = {"model": "gpt", "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    with caplog.at_level(logging.INFO, logger="chatpipe.gateway"):
        response = client.post("/v1/chat/completions", json=body, headers={"authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert replies(caplog) == ["reply profile=gpt client=team-a model=gpt-x tokens=2000+1000 cost=unknown"]
    assert key not in caplog.text
