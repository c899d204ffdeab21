"""The example plugin is installed like any third-party package and works through a Pipeline."""

from __future__ import annotations

import json

from chatpipe import Pipeline
from chatpipe.registry import default_registry
from chatpipe.testing import FakeServer
from chatpipe.testing.conformance import OpenAISimulator, Reply

ROUTE = "POST /v1/chat/completions"
KEY = "csk-test-0000"


def test_it_is_found_through_its_entry_point() -> None:
    listing = {name: p.distribution for p in default_registry().listing() for name in p.names}
    assert listing["cerebras"] == "chatpipe-cerebras"
    assert default_registry().provider("cerebras").info.default_base_url == "https://api.cerebras.ai/v1"


def test_a_pipeline_call_drops_what_cerebras_rejects(fake_server: FakeServer) -> None:
    fake_server.enqueue(ROUTE, OpenAISimulator("cerebras").reply(Reply(text="Fast hello.")))
    # A base_url off Cerebras' host is a proxy: the vendor's env var is not read for it, so the key is given.
    pipe = Pipeline(
        "cerebras",
        api_key=KEY,
        base_url=fake_server.url + "/v1",
        converters=["strict"],
        frequency_penalty=0.5,
        presence_penalty=0.5,
        temperature=0.2,
    )
    reply = pipe.complete(
        [{"role": "assistant", "content": "Welcome!"}, {"role": "user", "content": "Hi"}],
        logit_bias={"1": 2},
        parallel_tool_calls=False,
        service_tier="auto",
    )
    assert reply.text == "Fast hello."
    (request,) = fake_server.requests
    assert request.headers["authorization"] == f"Bearer {KEY}"
    body = request.json
    assert body["model"] == "llama3.1-8b" and body["temperature"] == 0.2
    rejected = {"frequency_penalty", "presence_penalty", "logit_bias", "parallel_tool_calls", "service_tier"}
    assert not rejected & set(body)
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]


def test_explain_shows_the_real_url_with_the_key_redacted() -> None:
    request = Pipeline("cerebras", api_key=KEY).explain([{"role": "user", "content": "Hi"}]).request
    assert request["url"] == "https://api.cerebras.ai/v1/chat/completions"
    assert request["headers"]["Authorization"] == "***" and KEY not in json.dumps(request)
