"""A router profile through the gateway: the answering target in a header, routers in the model list."""

from __future__ import annotations

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
