"""The command line on a router profile: explain and check every target, chat -v names the one that answered."""

from __future__ import annotations

import json
from pathlib import Path

from chatpipe.testing.fake_server import FakeResponse, FakeServer

from .test_cli import KEY, chunk, completion, run

LISTING = {"object": "list", "data": [{"id": "m", "object": "model"}]}


def routed_config(tmp_path: Path, server: FakeServer, targets: str = "[dead, live]") -> str:
    config = tmp_path / "routed.yaml"
    common = f"api_key: {KEY}, max_retries: 0"
    config.write_text(
        "profiles:\n"
        f"  dead: {{provider: custom, base_url: 'http://127.0.0.1:9/v1', model: dead-m, {common}}}\n"
        f"  live: {{provider: custom, base_url: '{server.url}/v1', model: live-m, {common}}}\n"
        f"  smart: {{route: {{strategy: fallback, targets: {targets}}}}}\n"
    )
    return str(config)


def test_explain_shows_each_target_in_order_with_keys_redacted(tmp_path: Path, fake_server: FakeServer) -> None:
    config = routed_config(tmp_path, fake_server)
    result = run("--config", config, "explain", "-p", "smart", "Hi")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("router smart (fallback): targets in order dead, live")
    assert out.index("target 1: dead") < out.index("model dead-m") < out.index("target 2: live") < out.index("live-m")
    assert out.count("== HTTP request") == 2
    assert "POST http://127.0.0.1:9/v1/chat/completions" in out and f"POST {fake_server.url}/v1/chat/completions" in out
    assert "tries target 2 of 2" in result.stderr  # the notes, on stderr
    assert KEY not in out + result.stderr
    assert fake_server.requests == []  # nothing sent


def test_explain_json_lists_every_target(tmp_path: Path, fake_server: FakeServer) -> None:
    config = routed_config(tmp_path, fake_server)
    result = run("--config", config, "explain", "-p", "smart", "--json", "--stream", "Hi")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["router"] == "smart" and document["strategy"] == "fallback"
    targets = document["targets"]
    assert [(t["target"], t["model"]) for t in targets] == [("dead", "dead-m"), ("live", "live-m")]
    assert all(t["request"]["json"]["stream"] is True and t["stages"][0]["converter"] == "input" for t in targets)
    assert targets[0]["notes"][0].startswith("router 'smart' (fallback) tries target 1 of 2")
    assert KEY not in result.stdout


def test_check_checks_every_target_and_fails_if_any_fails(tmp_path: Path, fake_server: FakeServer) -> None:
    fake_server.enqueue("GET /v1/models", FakeResponse.json(LISTING))
    result = run("--config", routed_config(tmp_path, fake_server), "check", "-p", "smart")
    assert result.returncode == 5
    assert "live: ok: connected: 1 model(s) available" in result.stdout
    assert result.stderr.count("dead: failed:") == 1 and "dead" not in result.stdout


def test_check_passes_when_every_target_passes(tmp_path: Path, fake_server: FakeServer) -> None:
    fake_server.enqueue("GET /v1/models", FakeResponse.json(LISTING), FakeResponse.json(LISTING))
    config = routed_config(tmp_path, fake_server, targets="[live, inner]")
    with open(config, "a") as file:  # a nested router: its targets are checked, each profile once
        file.write("  other: {provider: custom, base_url: '" + fake_server.url + "/v1', model: o, max_retries: 0}\n")
        file.write("  inner: {route: {targets: [other, live]}}\n")
    result = run("--config", config, "check", "-p", "smart")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "live: ok: connected: 1 model(s) available",
        "other: ok: connected: 1 model(s) available",
    ]


def test_verbose_chat_names_the_answering_profile_on_stderr_only(tmp_path: Path, fake_server: FakeServer) -> None:
    config = routed_config(tmp_path, fake_server)
    fake_server.enqueue("POST /v1/chat/completions", FakeResponse.sse([chunk("Hel"), chunk("lo", finish="stop")]))
    streamed = run("--config", config, "-v", "chat", "-p", "smart", "Hi")
    assert streamed.returncode == 0, streamed.stderr
    assert streamed.stdout == "Hello\n"
    assert "answered by profile 'live'" in streamed.stderr
    fake_server.enqueue("POST /v1/chat/completions", FakeResponse.json(completion("whole")))
    whole = run("--config", config, "-v", "chat", "-p", "smart", "--no-stream", "Hi")
    assert whole.stdout == "whole\n" and "answered by profile 'live'" in whole.stderr
    fake_server.enqueue("POST /v1/chat/completions", FakeResponse.json(completion("quiet")))
    quiet = run("--config", config, "chat", "-p", "smart", "--no-stream", "Hi")
    assert quiet.stdout == "quiet\n" and "answered by" not in quiet.stderr
