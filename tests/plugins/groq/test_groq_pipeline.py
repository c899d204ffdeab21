"""The groq plugin is found through its entry point and works through a Pipeline against a local server."""

from __future__ import annotations

from chatpipe import Pipeline
from chatpipe.registry import default_registry
from chatpipe.testing import FakeServer
from chatpipe.testing.conformance import OpenAISimulator, Reply

ROUTE = "POST /openai/v1/chat/completions"


def test_it_is_found_through_its_entry_point() -> None:
    listing = {name: p.distribution for p in default_registry().listing() for name in p.names}
    assert listing["groq"] == "chatpipe-groq"
    assert default_registry().provider("groq").info.default_base_url == "https://api.groq.com/openai/v1"


def test_a_pipeline_call_drops_what_groq_rejects(fake_server: FakeServer) -> None:
    fake_server.enqueue(ROUTE, OpenAISimulator("groq").reply(Reply(text="Fast hello.")))
    # A base_url off Groq's host is a proxy: the vendor's env var is not read for it, so the key is given.
    pipe = Pipeline(
        "groq",
        api_key="gsk_test_0000",
        base_url=fake_server.url + "/openai/v1",
        converters=["strict"],
        logit_bias={"1": 2},
        n=1,
    )
    reply = pipe.complete(
        [{"role": "assistant", "content": "Welcome!"}, {"role": "user", "content": "Hi"}], logprobs=True
    )
    assert reply.text == "Fast hello."
    (request,) = fake_server.requests
    assert request.headers["authorization"] == "Bearer gsk_test_0000"
    body = request.json
    assert body["model"] == "llama-3.1-8b-instant"
    assert not {"logit_bias", "n", "logprobs"} & set(body)
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
