"""The ASGI app in process: endpoints, auth, limits, error JSON (the vendor is a FakeServer)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time

import pytest
from chatpipe.errors import ConfigError
from chatpipe.testing import FakeResponse
from chatpipe.testing.conformance import OpenAISimulator, Reply

from .conftest import GATEWAY_KEY, VENDOR_KEY

SIM = OpenAISimulator(provider="openai")
ROUTE = "POST /v1/chat/completions"
HELLO = {"model": "gpt", "messages": [{"role": "user", "content": "hi"}]}
DEAD = "  dead: {provider: openai, base_url: 'http://127.0.0.1:9/v1', api_key: k-12345, max_retries: 0}"


def assert_openai_error(response, status):
    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert VENDOR_KEY not in response.text
    return error


def test_health_needs_no_key_and_calls_no_vendor(make_client, vendor):
    client = make_client(serve=f"{{keys: [{GATEWAY_KEY}]}}")
    response = client.get("/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert vendor.requests == []


def test_completion_round_trip(make_client, vendor):
    vendor.enqueue(ROUTE, SIM.reply(Reply(text="Hello!")))
    response = make_client().post("/v1/chat/completions", json={**HELLO, "top_k": 3})
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "Hello!"}
    assert body["usage"]["total_tokens"] == 18
    sent = vendor.requests[0]
    assert sent.json["model"] == "gpt-x"
    assert sent.json["top_k"] == 3
    assert sent.headers["authorization"] == f"Bearer {VENDOR_KEY}"


def test_model_override_and_unprefixed_path(make_client, vendor):
    vendor.enqueue(ROUTE, SIM.reply(Reply(text="ok")))
    response = make_client().post("/chat/completions", json={**HELLO, "model": "gpt/gpt-other"})
    assert response.status_code == 200
    assert vendor.requests[0].json["model"] == "gpt-other"


def test_stream_round_trip(make_client, vendor):
    vendor.enqueue(ROUTE, SIM.stream(Reply(text="Streamed reply")))
    with make_client().stream(
        "POST", "/v1/chat/completions", json={**HELLO, "stream": True, "stream_options": {"include_usage": True}}
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[len("data: ") :]) for line in lines[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "Streamed reply"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 18


@pytest.mark.parametrize(
    ("upstream", "status"), [(400, 400), (401, 502), (404, 404), (429, 429), (500, 502), (503, 503)]
)
def test_upstream_errors_keep_their_meaning(make_client, vendor, upstream, status):
    vendor.enqueue(ROUTE, SIM.error(upstream))
    client = make_client()
    error = assert_openai_error(client.post("/v1/chat/completions", json=HELLO), status)
    assert f"simulated {upstream}" in error["message"]
    vendor.enqueue(ROUTE, SIM.error(upstream))
    streamed = client.post("/v1/chat/completions", json={**HELLO, "stream": True})
    assert_openai_error(streamed, status)  # failures before the first chunk keep their status


def test_rate_limit_keeps_retry_after(make_client, vendor):
    vendor.enqueue(
        ROUTE,
        FakeResponse.json({"error": {"message": "slow down", "type": "rate_limit_error"}}, 429, {"Retry-After": "120"}),
    )
    response = make_client().post("/v1/chat/completions", json=HELLO)
    assert_openai_error(response, 429)
    assert response.headers["retry-after"] == "120"


def test_upstream_body_and_key_never_reach_the_client(make_client, vendor):
    vendor.enqueue(
        ROUTE,
        FakeResponse.json({"error": {"message": f"bad key {VENDOR_KEY}"}, "debug": "internal-trace-xyz"}, 500),
    )
    response = make_client().post("/v1/chat/completions", json=HELLO)
    error = assert_openai_error(response, 502)
    assert "internal-trace-xyz" not in response.text
    assert "***" in error["message"]


def test_unknown_model_and_bad_request(make_client):
    client = make_client()
    error = assert_openai_error(client.post("/v1/chat/completions", json={**HELLO, "model": "nope"}), 404)
    assert error["code"] == "model_not_found"
    error = assert_openai_error(client.post("/v1/chat/completions", content=b"{oops"), 400)
    assert "not valid JSON" in error["message"]
    error = assert_openai_error(client.post("/v1/chat/completions", json={**HELLO, "messages": [{"role": 1}]}), 400)
    assert error["param"] == "messages[0].role"


def test_fifteen_megabyte_model_is_a_small_400(make_client, vendor):
    client = make_client()
    model = "gtp" + "x" * 15_000_000
    response = client.post("/v1/chat/completions", json={**HELLO, "model": model})
    error = assert_openai_error(response, 400)
    assert len(response.content) < 2048
    assert error["param"] == "model"
    assert f"model names are at most 256 characters; got {len(model)}" in error["message"]
    assert "Did you mean" not in error["message"]
    assert vendor.requests == []
    assert client.get("/health").status_code == 200


def test_over_long_model_in_the_models_path_is_a_small_400(make_client):
    response = make_client().get("/v1/models/gpt/" + "m" * 300)
    error = assert_openai_error(response, 400)
    assert "at most 256 characters; got 304" in error["message"]
    assert len(response.content) < 2048


def test_unknown_model_keeps_its_did_you_mean(make_client):
    error = assert_openai_error(make_client().post("/v1/chat/completions", json={**HELLO, "model": "gtp"}), 404)
    assert error["code"] == "model_not_found"
    assert "Did you mean 'gpt'?" in error["message"]


def test_unknown_path_is_quoted_cut(make_client):
    response = make_client().get("/" + "p" * 5000)
    error = assert_openai_error(response, 404)
    assert "'/" + "p" * 99 + "'…" in error["message"]
    assert len(response.content) < 2048


@pytest.mark.parametrize("stream", [False, True])
def test_unknown_role_is_400_before_any_vendor_call(make_client, vendor, stream):
    messages = [{"role": "user", "content": "hi"}, {"role": "bogus", "content": "x"}]
    response = make_client().post("/v1/chat/completions", json={**HELLO, "messages": messages, "stream": stream})
    error = assert_openai_error(response, 400)
    assert error["param"] == "messages[1].role"
    assert "'bogus'" in error["message"]
    assert vendor.requests == []


def test_huge_unknown_role_is_a_small_400(make_client, vendor):
    messages = [{"role": "usr" + "x" * 15_000_000, "content": "x"}]
    response = make_client().post("/v1/chat/completions", json={**HELLO, "messages": messages})
    error = assert_openai_error(response, 400)
    assert error["param"] == "messages[0].role"
    assert "'usr" + "x" * 97 + "'…" in error["message"]
    assert len(response.content) < 2048
    assert vendor.requests == []


def test_folding_converter_with_tools_is_400(make_client, vendor):
    folded = "  folded: {provider: openai, base_url: 'http://127.0.0.1:9', converters: [strict]}"
    client = make_client(extra_profiles=folded)
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    error = assert_openai_error(
        client.post("/v1/chat/completions", json={**HELLO, "model": "folded", "tools": tools}), 400
    )
    assert error["param"] == "tools"
    assert vendor.requests == []


def test_unreachable_upstream_is_502(make_client):
    client = make_client(extra_profiles=DEAD)
    error = assert_openai_error(client.post("/v1/chat/completions", json={**HELLO, "model": "dead"}), 502)
    assert error["code"] == "upstream_unreachable"
    assert "127.0.0.1:9" not in error["message"]


BROKEN = (
    "  nokey: {provider: openai}\n"  # no key anywhere
    "  typo: {provider: opnai, api_key: sk-typo-0000000000}\n"  # no such provider
    "  pair: {route: {targets: [gpt, nokey]}}\n"  # routes to a broken profile
)


def test_a_gateway_with_broken_profiles_refuses_to_start_listing_them_all(make_client):
    with pytest.raises(ConfigError) as caught:
        make_client(extra_profiles=BROKEN)
    message = str(caught.value)
    assert "3 of 4 profiles cannot be served" in message
    assert "profiles.nokey:" in message and "OPENAI_API_KEY" in message
    assert "profiles.typo:" in message and "openai" in message  # the did-you-mean, for the operator
    assert "profiles.pair:" in message and "'nokey'" in message
    assert "--skip-broken-profiles" in message and "sk-typo-0000000000" not in message


def test_skipping_broken_profiles_serves_the_others_and_tells_clients_nothing_internal(make_client, vendor, caplog):
    with caplog.at_level(logging.WARNING, logger="chatpipe.gateway"):
        client = make_client(extra_profiles=BROKEN, serve="{broken_profiles: skip}")
    assert {"nokey", "typo", "pair"} == {r.args[0] for r in caplog.records if "is not served" in r.getMessage()}
    listed = [entry["id"] for entry in client.get("/v1/models").json()["data"]]
    assert listed == ["gpt"]
    for model in ("typo", "nokey/gpt-4o", "pair"):
        response = client.post("/v1/chat/completions", json={**HELLO, "model": model})
        error = assert_openai_error(response, 503)
        assert error["code"] == "profile_unavailable"
        assert "log" in error["message"] and "installed" not in error["message"] and "OPENAI" not in error["message"]
    vendor.enqueue(ROUTE, SIM.reply(Reply(text="still served")))
    assert client.post("/v1/chat/completions", json=HELLO).json()["choices"][0]["message"]["content"] == "still served"


def test_broken_profiles_takes_refuse_or_skip(make_client):
    with pytest.raises(ConfigError, match=r"serve\.broken_profiles.*did you mean 'skip'"):
        make_client(serve="{broken_profiles: skipp}")


def test_auth_required_when_keys_are_configured(make_client, vendor):
    client = make_client(serve=f"{{keys: [{GATEWAY_KEY}]}}")
    for headers in ({}, {"Authorization": "Bearer wrong-key-000000000"}, {"Authorization": GATEWAY_KEY}):
        response = client.post("/v1/chat/completions", json=HELLO, headers=headers)
        error = assert_openai_error(response, 401)
        assert error["code"] == "invalid_api_key"
        assert response.headers["www-authenticate"] == "Bearer"
        assert_openai_error(client.get("/v1/models", headers=headers), 401)
    assert vendor.requests == []
    vendor.enqueue(ROUTE, SIM.reply(Reply(text="ok")))
    ok = client.post("/v1/chat/completions", json=HELLO, headers={"Authorization": f"Bearer {GATEWAY_KEY}"})
    assert ok.status_code == 200


def test_body_size_limit(make_client, vendor):
    client = make_client(serve="{max_body_size: 2KB}")
    big = {**HELLO, "messages": [{"role": "user", "content": "x" * 3000}]}
    error = assert_openai_error(client.post("/v1/chat/completions", json=big), 413)
    assert error["code"] == "request_too_large"

    def chunks():
        yield b'{"model": "gpt", "messages": [{"role": "user", "content": "'
        for _ in range(10):
            yield b"y" * 500
        yield b'"}]}'

    error = assert_openai_error(client.post("/v1/chat/completions", content=chunks()), 413)  # no Content-Length
    assert vendor.requests == []


def test_request_timeout_is_504(make_client, vendor):
    vendor.enqueue(ROUTE, FakeResponse.json({}, delay=3.0))
    started = time.monotonic()
    error = assert_openai_error(
        make_client(serve="{request_timeout: 0.5}").post("/v1/chat/completions", json=HELLO), 504
    )
    assert error["code"] == "request_timeout"
    assert time.monotonic() - started < 2.5


def test_models_list_and_get(make_client, vendor):
    client = make_client(extra_profiles="  other: {provider: openai, base_url: 'http://127.0.0.1:9/v1'}")
    listing = client.get("/v1/models").json()
    assert listing["object"] == "list"
    assert [(m["id"], m["object"], m["owned_by"]) for m in listing["data"]] == [
        ("gpt", "model", "chatpipe:openai"),
        ("other", "model", "chatpipe:openai"),
    ]
    assert vendor.requests == []
    assert client.get("/v1/models/gpt/some-model").json()["id"] == "gpt/some-model"
    assert_openai_error(client.get("/v1/models/missing"), 404)


def test_models_upstream_listing(make_client, vendor):
    vendor.enqueue("GET /v1/models", FakeResponse.json({"object": "list", "data": [{"id": "m1"}, {"id": "m2"}]}))
    client = make_client(extra_profiles=DEAD)
    ids = [m["id"] for m in client.get("/v1/models?upstream=true").json()["data"]]
    assert ids == ["gpt", "dead", "gpt/m1", "gpt/m2"]  # a failing profile is skipped, not fatal


def test_unknown_route_and_method_are_openai_errors(make_client):
    client = make_client()
    assert_openai_error(client.get("/v1/embeddings"), 404)
    assert_openai_error(client.get("/v1/chat/completions"), 405)


def test_importing_chatpipe_does_not_import_starlette():
    code = (
        "import chatpipe, chatpipe.cli, chatpipe.config, sys;"
        "print('starlette' in sys.modules, 'uvicorn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"


# --- an open gateway (no serve.keys) answers its own machine only ------------------------------

REMOTE = ("203.0.113.5", 1234)
OPEN_FIX = "set serve.keys"
ALLOW_FIX = "serve.allow_unauthenticated: true"


def assert_refused_open(response):
    error = assert_openai_error(response, 403)
    assert (error["type"], error["code"]) == ("permission_error", "unauthenticated_gateway")
    assert OPEN_FIX in error["message"]
    assert ALLOW_FIX in error["message"]
    return error


def test_open_gateway_refuses_a_remote_client(make_client, vendor):
    client = make_client(client=REMOTE)
    error = assert_refused_open(client.post("/v1/chat/completions", json=HELLO))
    assert "'203.0.113.5'" in error["message"]
    assert_refused_open(client.get("/v1/models"))
    assert_refused_open(client.get("/v1/models/gpt"))
    assert_refused_open(client.get("/no/such/route"))  # not even the route list
    assert vendor.requests == []


def test_open_gateway_keeps_health_open_to_remote_clients(make_client):
    response = make_client(client=REMOTE).get("/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_open_gateway_serves_a_loopback_client(make_client, vendor):
    vendor.enqueue(ROUTE, SIM.reply(Reply(text="local")))
    response = make_client(client=("127.0.0.1", 4321)).post("/v1/chat/completions", json=HELLO)
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == "local"
    assert make_client(client=("::1", 4321)).get("/v1/models").status_code == 200


@pytest.mark.parametrize("header", [{"X-Forwarded-For": "198.51.100.7"}, {"Forwarded": "for=198.51.100.7;proto=https"}])
def test_open_gateway_refuses_a_loopback_client_behind_a_proxy(make_client, vendor, header):
    response = make_client().post("/v1/chat/completions", json=HELLO, headers=header)
    error = assert_refused_open(response)
    assert "through a proxy" in error["message"]
    assert vendor.requests == []


def test_allow_unauthenticated_serves_everyone(make_client, vendor):
    vendor.enqueue(ROUTE, SIM.reply(Reply(text="open")))
    client = make_client(serve="{allow_unauthenticated: true}", client=REMOTE)
    response = client.post("/v1/chat/completions", json=HELLO, headers={"X-Forwarded-For": "198.51.100.7"})
    assert response.status_code == 200
    assert client.get("/v1/models").status_code == 200


def test_keys_configured_keep_the_key_check_for_remote_clients(make_client, vendor):
    vendor.enqueue(ROUTE, SIM.reply(Reply(text="keyed")))
    client = make_client(serve=f"{{keys: [{GATEWAY_KEY}]}}", client=REMOTE)
    error = assert_openai_error(client.post("/v1/chat/completions", json=HELLO), 401)
    assert error["code"] == "invalid_api_key"
    response = client.post("/v1/chat/completions", json=HELLO, headers={"Authorization": f"Bearer {GATEWAY_KEY}"})
    assert response.status_code == 200
    assert assert_openai_error(client.get("/no/such/route"), 404)["type"] == "not_found_error"


# --- upstream error shapes of real servers -------------------------------------------------

LLAMA_CPP_CONTEXT = {
    "error": {
        "code": 400,
        "message": "request (6031 tokens) exceeds the available context size (2048 tokens), try increasing it",
        "type": "exceed_context_size_error",
    }
}


@pytest.mark.parametrize("stream", [False, True])
def test_llama_cpp_context_overflow_is_context_length_exceeded(make_client, vendor, stream):
    vendor.enqueue(ROUTE, FakeResponse.json(LLAMA_CPP_CONTEXT, 400))
    response = make_client().post("/v1/chat/completions", json={**HELLO, "stream": stream})
    error = assert_openai_error(response, 400)
    assert (error["type"], error["code"]) == ("invalid_request_error", "context_length_exceeded")
    assert "exceeds the available context size (2048 tokens)" in error["message"]


def test_a_refused_vendor_key_is_named_by_where_it_came_from(make_client, vendor, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    vendor.enqueue(ROUTE, FakeResponse.json({"error": {"message": "Incorrect API key provided"}}, 401))
    error = assert_openai_error(make_client().post("/v1/chat/completions", json=HELLO), 502)
    assert error["code"] == "upstream_auth_failed"
    assert error["message"] == (
        "upstream openai HTTP 401: Incorrect API key provided. The API key from the profile's api_key (chatpipe.yaml) "
        "was refused; check it — the vendor refused the gateway's credentials for profile 'gpt'; "
        "this is a server-side problem, not the client's key"
    )
