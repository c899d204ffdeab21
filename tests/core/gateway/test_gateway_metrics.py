"""chatpipe.gateway._metrics: GET /metrics after a known load, its keys, and metrics turned off."""

from __future__ import annotations

from typing import Any

import pytest
from chatpipe.errors import ConfigError
from chatpipe.testing import FakeResponse
from chatpipe.testing.conformance import OpenAISimulator, Reply

from .conftest import GATEWAY_KEY, VENDOR_KEY

pytest.importorskip("prometheus_client")
from prometheus_text import Scrape  # tests/support, imported after the skip

SIM = OpenAISimulator(provider="openai")
ROUTE = "POST /v1/chat/completions"
SECRET_PROMPT = "the-secret-prompt-text-7781"
METRICS_KEY = "metrics-key-bbbbbbbbbbbb"


def chat(model: str = "gpt", **extra: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": SECRET_PROMPT}], **extra}


def scrape(client: Any, **headers: str) -> Scrape:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return Scrape(response.text)


def test_the_counters_and_histograms_add_up_after_a_known_load(make_client, vendor):
    ok, streams = 3, 2
    vendor.enqueue(ROUTE, *[SIM.reply(Reply(text="hello")) for _ in range(ok)])
    vendor.enqueue(ROUTE, SIM.error(429), SIM.error(503), SIM.error(503))
    vendor.enqueue(ROUTE, *[SIM.stream(Reply(text="streamed")) for _ in range(streams)])
    client = make_client()
    for _ in range(ok):
        assert client.post("/v1/chat/completions", json=chat()).status_code == 200
    assert [client.post("/v1/chat/completions", json=chat()).status_code for _ in range(3)] == [429, 503, 503]
    for _ in range(streams):
        response = client.post("/v1/chat/completions", json=chat(stream=True))
        assert response.status_code == 200 and "[DONE]" in response.text
    assert client.post("/v1/chat/completions", json=chat("nope")).status_code == 404

    got = scrape(client)
    assert got.value("chatpipe_requests_total", profile="gpt", status="200") == ok + streams
    assert got.value("chatpipe_requests_total", profile="gpt", status="503") == 2
    assert got.value("chatpipe_requests_total") == ok + 3 + streams + 1
    assert got.value("chatpipe_request_errors_total", code="rate_limit_exceeded", status="429") == 1
    assert got.value("chatpipe_request_errors_total", code="upstream_overloaded", status="503") == 2
    assert got.value("chatpipe_request_errors_total", code="model_not_found", profile="") == 1  # not routed
    assert got.value("chatpipe_request_errors_total") == 4
    assert got.value("chatpipe_request_duration_seconds_count", stream="false") == ok + 3 + 1
    assert got.value("chatpipe_request_duration_seconds_count", stream="true") == streams
    assert got.value("chatpipe_time_to_first_token_seconds_count", profile="gpt", provider="openai") == streams
    reply = Reply()
    assert got.value("chatpipe_tokens_total", profile="gpt", kind="input") == (ok + streams) * reply.prompt_tokens
    assert got.value("chatpipe_tokens_total", kind="output") == (ok + streams) * reply.completion_tokens
    assert got.value("chatpipe_upstream_errors_total", error="RateLimitError") == 1
    assert got.value("chatpipe_upstream_errors_total", error="OverloadedError") == 2
    assert SECRET_PROMPT not in got.text and VENDOR_KEY not in got.text and "hello" not in got.text


def test_a_profiles_own_rate_limit_and_a_router_hop_are_counted(make_client, vendor):
    base = f"provider: openai, base_url: '{vendor.url}/v1', api_key: {VENDOR_KEY}, model: gpt-x, max_retries: 0"
    profiles = (
        f"  limited: {{{base}, limits: {{rpm: 1, window: 60, max_wait: 0}}}}\n"
        f"  backup: {{{base}}}\n"
        "  both: {route: {strategy: fallback, targets: [gpt, backup]}}\n"
    )
    vendor.enqueue(ROUTE, SIM.reply(Reply()), SIM.error(503), SIM.reply(Reply()))
    client = make_client(extra_profiles=profiles)
    assert client.post("/v1/chat/completions", json=chat("limited")).status_code == 200
    assert client.post("/v1/chat/completions", json=chat("limited")).status_code == 429
    assert client.post("/v1/chat/completions", json=chat("both")).status_code == 200

    got = scrape(client)
    assert got.value("chatpipe_rate_limited_total", profile="limited", limit="rpm") == 1
    assert got.value("chatpipe_request_errors_total", profile="limited", code="rate_limit_exceeded") == 1
    assert got.value("chatpipe_router_hops_total", profile="both", from_target="gpt", to_target="backup") == 1
    assert got.labels("chatpipe_router_hops_total", "error") == {"OverloadedError"}
    assert got.value("chatpipe_requests_total", profile="both", status="200") == 1
    assert got.value("chatpipe_tokens_total", profile="backup", kind="input") == Reply().prompt_tokens
    # the refused call waited not at all (max_wait 0) and was refused; the router's targets' health
    assert got.value("chatpipe_rate_limit_wait_seconds_count", profile="limited", limit="rpm", outcome="refused") == 1
    assert got.value("chatpipe_router_target_up", router="both", target="gpt") == 0
    assert got.value("chatpipe_router_target_up", router="both", target="backup") == 1


def test_a_wait_for_room_is_measured_and_a_target_recovering_is_up_again(make_client, vendor):
    base = f"provider: openai, base_url: '{vendor.url}/v1', api_key: {VENDOR_KEY}, model: gpt-x, max_retries: 0"
    profiles = (
        f"  paced: {{{base}, limits: {{rpm: 200, window: 0.3, max_wait: 5}}}}\n"  # one call per 0.3 s
        "  both: {route: {strategy: fallback, targets: [gpt, paced], cooldown: {failures: 5}}}\n"
    )
    vendor.route(ROUTE, lambda _: SIM.reply(Reply()))
    vendor.enqueue(ROUTE, SIM.error(503))
    client = make_client(extra_profiles=profiles)
    assert client.post("/v1/chat/completions", json=chat("both")).status_code == 200  # gpt 503, paced answers
    assert scrape(client).value("chatpipe_router_target_up", router="both", target="gpt") == 0
    assert client.post("/v1/chat/completions", json=chat("paced")).status_code == 200  # waits ~0.3 s
    assert client.post("/v1/chat/completions", json=chat("both")).status_code == 200  # gpt answers again

    got = scrape(client)
    assert got.value("chatpipe_router_target_up", router="both", target="gpt") == 1
    assert got.value("chatpipe_rate_limit_wait_seconds_count", profile="paced", outcome="admitted") == 1
    assert 0.1 < got.value("chatpipe_rate_limit_wait_seconds_sum", profile="paced") < 2.0
    assert got.value("chatpipe_rate_limit_wait_seconds_count", outcome="refused") == 0


def test_a_stream_failing_after_its_start_is_an_error_by_code_with_status_200(make_client, vendor):
    head = [{"choices": [{"index": 0, "delta": {"role": "assistant", "content": "a"}}]}]
    vendor.enqueue(ROUTE, FakeResponse.sse([*head, "not json"]))
    client = make_client()
    response = client.post("/v1/chat/completions", json=chat(stream=True))
    assert response.status_code == 200 and '"error"' in response.text
    got = scrape(client)
    assert got.value("chatpipe_request_errors_total", status="200", code="upstream_protocol_error") == 1
    assert got.value("chatpipe_request_duration_seconds_count", stream="true") == 1


def test_with_gateway_keys_metrics_need_a_gateway_key_or_a_metrics_key(make_client):
    client = make_client(serve=f"{{keys: [{GATEWAY_KEY}], metrics_keys: {METRICS_KEY}}}")
    refused = client.get("/metrics")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong-key-cccccccccccc"}).status_code == 401
    scrape(client, Authorization=f"Bearer {GATEWAY_KEY}")
    got = scrape(client, Authorization=f"Bearer {METRICS_KEY}")
    # the metrics key reads metrics only: it cannot spend vendor credits
    chat_call = client.post("/v1/chat/completions", json=chat(), headers={"Authorization": f"Bearer {METRICS_KEY}"})
    assert chat_call.status_code == 401
    assert GATEWAY_KEY not in got.text and METRICS_KEY not in got.text
    assert METRICS_KEY not in scrape(client, Authorization=f"Bearer {GATEWAY_KEY}").text


def test_an_open_gateway_shows_metrics_to_this_machine_only(make_client):
    assert make_client().get("/metrics").status_code == 200
    remote = make_client(client=("203.0.113.9", 40000)).get("/metrics")
    assert remote.status_code == 403 and remote.json()["error"]["code"] == "unauthenticated_gateway"


def test_metrics_off_is_a_404_and_counts_nothing(make_client, vendor):
    vendor.enqueue(ROUTE, SIM.reply(Reply()))
    client = make_client(serve="{metrics: false}")
    assert client.post("/v1/chat/completions", json=chat()).status_code == 200
    assert client.get("/metrics").status_code == 404
    assert client.app.state.gateway.metrics is None


def test_metrics_true_without_prometheus_client_is_a_config_error(make_client, monkeypatch):
    from chatpipe.gateway import _metrics

    monkeypatch.setattr(_metrics, "metrics_available", lambda: False)
    with pytest.raises(ConfigError, match=r"chatpipe\[metrics\]") as caught:
        make_client(serve="{metrics: true}")
    assert "serve.metrics" in str(caught.value)
    assert make_client(serve="{metrics: auto}").app.state.gateway.metrics is None  # auto: off without it


def test_two_apps_in_one_process_count_apart(make_client, vendor):
    vendor.enqueue(ROUTE, SIM.reply(Reply()))
    first, second = make_client(), make_client()
    assert first.post("/v1/chat/completions", json=chat()).status_code == 200
    assert scrape(first).value("chatpipe_requests_total") == 1
    assert scrape(second).value("chatpipe_requests_total") == 0
    assert scrape(second).value("chatpipe_tokens_total") == 0


def test_metrics_off_never_imports_prometheus_client(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from chatpipe.config import parse_config\n"
        "from chatpipe.gateway import create_app\n"
        'profiles = "profiles: {gpt: {provider: openai, model: m, api_key: sk-test-000000000}}"\n'
        'create_app(parse_config(profiles + "\\nserve: {metrics: false}", env={}))\n'
        "print('prometheus_client' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_the_cost_of_the_calls_is_counted_where_it_is_known(make_client, vendor):
    priced = (
        f"  priced: {{provider: custom, base_url: '{vendor.url}/v1', model: m, max_retries: 0,"
        " prices: {input: 1000, output: 2000}}"
    )
    vendor.enqueue(ROUTE, *[SIM.reply(Reply(text="hello")) for _ in range(3)])
    client = make_client(extra_profiles=priced)
    for profile in ("priced", "priced", "gpt"):
        assert client.post("/v1/chat/completions", json=chat(profile)).status_code == 200
    reply = Reply()
    per_call = (reply.prompt_tokens * 1000 + reply.completion_tokens * 2000) / 1_000_000
    got = scrape(client)
    assert got.value("chatpipe_cost_usd_total", profile="priced", provider="custom") == pytest.approx(2 * per_call)
    assert got.value("chatpipe_cost_usd_total", profile="gpt") == 0, "gpt-x has no price: nothing is counted"


def test_requests_and_spending_are_counted_per_client_label_never_per_key(make_client, vendor):
    team_a, team_b = "gw-key-team-a-0123456789", "gw-key-team-b-0123456789"
    client = make_client(serve=f"{{keys: {{team-a: {team_a}, team-b: {team_b}}}}}")
    vendor.enqueue(ROUTE, *[SIM.reply(Reply(text="hello", prompt_tokens=11, completion_tokens=7)) for _ in range(3)])
    vendor.enqueue(ROUTE, SIM.stream(Reply(text="streamed", prompt_tokens=11, completion_tokens=7)))
    for key, body in ((team_a, chat()), (team_a, chat()), (team_b, chat()), (team_b, chat(stream=True))):
        assert (
            client.post("/v1/chat/completions", json=body, headers={"authorization": f"Bearer {key}"}).status_code
            == 200
        )
    got = scrape(client, authorization=f"Bearer {team_a}")
    assert got.value("chatpipe_requests_total", client="team-a") == 2
    assert got.value("chatpipe_requests_total", client="team-b") == 2
    assert got.value("chatpipe_client_tokens_total", client="team-a", kind="input") == 22
    assert got.value("chatpipe_client_tokens_total", client="team-b", kind="output") == 14
    text = client.get("/metrics", headers={"authorization": f"Bearer {team_a}"}).text
    assert team_a not in text and team_b not in text
