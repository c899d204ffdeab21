"""A router profile through the gateway: the answering target in a header, routers in the model list."""

from __future__ import annotations

import json

import pytest
from chatpipe.gateway._app import target_headers
from chatpipe.testing import FakeResponse
from chatpipe.testing.conformance import OpenAISimulator, Reply

from .conftest import VENDOR_KEY

SIM = OpenAISimulator(provider="openai")
ROUTE = "POST /v1/chat/completions"
HELLO = {"model": "smart", "messages": [{"role": "user", "content": "hi"}]}
DEAD = "  dead: {provider: custom, base_url: 'http://127.0.0.1:9/v1', model: m, max_retries: 0}\n"
ROUTER = "  smart: {route: {strategy: fallback, targets: [dead, gpt]}}\n"


def test_a_router_reply_names_the_target_that_answered(make_client, vendor):
    vendor.enqueue(ROUTE, SIM.reply(Reply(text="Hello!")))
    client = make_client(extra_profiles=DEAD + ROUTER)
    response = client.post("/v1/chat/completions", json=HELLO)
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "Hello!"
    assert response.headers["x-chatpipe-target"] == "gpt"  # the dead primary was skipped


def test_routers_are_listed_as_owned_by_the_router(make_client):
    client = make_client(extra_profiles=DEAD + ROUTER)
    owners = {m["id"]: m["owned_by"] for m in client.get("/v1/models").json()["data"]}
    assert owners["smart"] == "chatpipe:router" and owners["dead"] == "chatpipe:custom"
    assert client.get("/v1/models/smart").json()["owned_by"] == "chatpipe:router"


def test_every_target_failing_is_a_502_listing_each_failure(make_client, vendor):
    vendor.enqueue(ROUTE, FakeResponse.json({"error": {"message": "down"}}, status=500))
    client = make_client(extra_profiles=DEAD + ROUTER)
    response = client.post("/v1/chat/completions", json=HELLO)
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "all_targets_failed"
    assert "dead" in error["message"] and "gpt" in error["message"]
    assert VENDOR_KEY not in response.text


def _sse_text(response) -> tuple[list[str], str]:
    lines = [line for line in response.iter_lines() if line]
    chunks = [json.loads(line[len("data: ") :]) for line in lines if line != "data: [DONE]"]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))
    return lines, text


def test_a_routed_stream_names_the_target_in_its_headers(make_client, vendor):
    vendor.enqueue(ROUTE, SIM.stream(Reply(text="Streamed!")))
    client = make_client(extra_profiles=DEAD + ROUTER)
    with client.stream("POST", "/v1/chat/completions", json={**HELLO, "stream": True}) as response:
        assert response.status_code == 200
        assert response.headers["x-chatpipe-target"] == "gpt"  # the dead primary was skipped before any byte
        lines, text = _sse_text(response)
    assert text == "Streamed!" and lines[-1] == "data: [DONE]"


def test_a_nested_router_stream_names_the_innermost_profile(make_client, vendor):
    vendor.enqueue(ROUTE, SIM.stream(Reply(text="deep")))
    outer = "  outer: {route: {targets: [smart]}}\n"
    client = make_client(extra_profiles=DEAD + ROUTER + outer)
    with client.stream("POST", "/v1/chat/completions", json={**HELLO, "model": "outer", "stream": True}) as response:
        assert response.headers["x-chatpipe-target"] == "gpt"
        assert _sse_text(response)[1] == "deep"


def test_a_plain_profile_stream_has_no_target_header(make_client, vendor):
    vendor.enqueue(ROUTE, SIM.stream(Reply(text="plain")))
    client = make_client(extra_profiles=DEAD + ROUTER)
    with client.stream("POST", "/v1/chat/completions", json={**HELLO, "model": "gpt", "stream": True}) as response:
        assert response.status_code == 200
        assert "x-chatpipe-target" not in response.headers
        assert _sse_text(response)[1] == "plain"


def test_a_plain_profile_json_reply_has_no_target_header(make_client, vendor):
    vendor.enqueue(ROUTE, SIM.reply(Reply(text="plain")))
    response = make_client().post("/v1/chat/completions", json={**HELLO, "model": "gpt"})
    assert response.status_code == 200 and "x-chatpipe-target" not in response.headers


def test_a_routed_stream_whose_targets_all_fail_is_a_502_before_any_byte(make_client, vendor):
    vendor.enqueue(ROUTE, FakeResponse.json({"error": {"message": "down"}}, status=500))
    client = make_client(extra_profiles=DEAD + ROUTER)
    response = client.post("/v1/chat/completions", json={**HELLO, "stream": True})
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "all_targets_failed"
    assert "x-chatpipe-target" not in response.headers


@pytest.mark.parametrize(
    ("name", "sent"), [("fw-a.b_c", "fw-a.b_c"), ("gpt 100%", "gpt 100%25"), ("naïve", "na%C3%AFve"), ("a\nb", "a%0Ab")]
)
def test_the_target_header_is_always_a_valid_header_value(name, sent):
    assert target_headers(name) == {"x-chatpipe-target": sent}
    assert target_headers(None) is None and target_headers("") is None


def test_a_cooling_target_is_listed_in_the_502_when_the_rest_fail(make_client, vendor):
    cooldown = "{failures: 1, window: 60, duration: 60}"
    cooling = f"  smart: {{route: {{strategy: fallback, targets: [dead, gpt], cooldown: {cooldown}}}}}\n"
    vendor.enqueue(ROUTE, SIM.reply(Reply(text="from gpt")))
    vendor.enqueue(ROUTE, FakeResponse.json({"error": {"message": "down"}}, status=500))
    client = make_client(extra_profiles=DEAD + cooling)
    first = client.post("/v1/chat/completions", json=HELLO)  # dead fails once: it cools down
    assert first.status_code == 200 and first.headers["x-chatpipe-target"] == "gpt"
    response = client.post("/v1/chat/completions", json=HELLO)
    assert response.status_code == 502
    error = response.json()["error"]
    assert error["code"] == "all_targets_failed"
    assert "dead: CoolingDownError" in error["message"] and "gpt: ServerError" in error["message"]


def test_a_target_over_its_own_limit_is_passed_over_for_the_next(make_client, vendor):
    limited = (
        f"  lim: {{provider: openai, base_url: '{vendor.url}/v1', api_key: {VENDOR_KEY}, model: gpt-x,"
        " max_retries: 0, limits: {rpm: 1, window: 60, max_wait: 0}}\n"
        "  smart: {route: {targets: [lim, gpt]}}\n"
    )
    for text in ("one", "two"):
        vendor.enqueue(ROUTE, SIM.stream(Reply(text=text)))
    client = make_client(extra_profiles=limited)
    answered = []
    for _ in range(2):
        with client.stream("POST", "/v1/chat/completions", json={**HELLO, "stream": True}) as response:
            answered.append((response.headers["x-chatpipe-target"], _sse_text(response)[1]))
    assert answered == [("lim", "one"), ("gpt", "two")]
