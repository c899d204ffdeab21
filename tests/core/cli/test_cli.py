"""The chatpipe command line, end to end as a subprocess."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from chatpipe.testing.fake_server import FakeResponse, FakeServer

KEY = "sk-cli-PLANTED-9876543210"
CHATPIPE = str(Path(sys.executable).parent / "chatpipe")


def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [CHATPIPE, *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
    )


def completion(text: str) -> dict[str, Any]:
    return {
        "id": "c1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def chunk(text: str, finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "c2",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}],
    }


def custom(server: FakeServer) -> list[str]:
    return ["--provider", "custom", "--base-url", f"{server.url}/v1", "-m", "m"]


def test_help_loads_no_provider_and_no_http_library() -> None:
    """--help imports no provider adapter; only light chatpipe.commands modules may load."""
    code = textwrap.dedent(
        """
        import sys
        from chatpipe.cli import main
        for args in (["--help"], ["chat", "--help"], ["explain", "--help"], ["keys", "--help"]):
            try:
                main(args)
            except SystemExit:
                pass
        from chatpipe.registry import COMMAND_GROUP, default_registry
        allowed = {e.value.split(":")[0] for e in default_registry().entry_points() if e.group == COMMAND_GROUP}
        allowed |= {name.rsplit(".", 1)[0] for name in allowed}
        loaded = [m for m in sys.modules if m.startswith("chatpipe_") and m not in allowed]
        loaded += [m for m in ("httpx", "httpx2", "chatpipe.openai_compat", "chatpipe.pipeline") if m in sys.modules]
        print(sorted(loaded))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
    assert "Exit codes" in out


def test_explain_shows_stages_and_redacted_request() -> None:
    result = run("explain", "--provider", "openai", "--converter", "strict", "Hello", env={"OPENAI_API_KEY": KEY})
    assert result.returncode == 0, result.stderr
    assert "== input" in result.stdout and "== strict" in result.stdout
    assert "POST https://api.openai.com/v1/chat/completions" in result.stdout
    assert "Authorization: ***" in result.stdout
    assert KEY not in result.stdout + result.stderr


def test_explain_json_of_the_sample_conversation() -> None:
    sample = Path(__file__).resolve().parents[3] / "examples" / "conversation.json"
    result = run("explain", "--provider", "openai", "--converter", "strict", "--messages", str(sample), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [s["converter"] for s in data["stages"]] == ["input", "strict"]
    assert data["request"]["json"]["messages"] == data["stages"][-1]["messages"]


def test_chat_streams_to_stdout(fake_server: FakeServer) -> None:
    fake_server.enqueue("POST /v1/chat/completions", FakeResponse.sse([chunk("Hel"), chunk("lo", "stop")]))
    result = run("chat", *custom(fake_server), "Hi")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello\n"
    assert fake_server.requests[0].json["stream"] is True


def test_chat_reads_the_prompt_from_stdin_and_prints_json(fake_server: FakeServer) -> None:
    fake_server.enqueue("POST /v1/chat/completions", FakeResponse.json(completion("from stdin")))
    result = run("chat", *custom(fake_server), "--no-stream", "--json", stdin="piped question\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["choices"][0]["message"]["content"] == "from stdin"
    assert fake_server.requests[0].json["messages"] == [{"role": "user", "content": "piped question"}]


def test_chat_joins_the_prompt_and_piped_stdin(fake_server: FakeServer) -> None:
    fake_server.enqueue("POST /v1/chat/completions", FakeResponse.json(completion("a summary")))
    result = run("chat", *custom(fake_server), "--no-stream", "Summarize this", stdin="line one\nline two\n")
    assert (result.returncode, result.stdout) == (0, "a summary\n"), result.stderr
    content = "Summarize this\n\nline one\nline two"
    assert fake_server.requests[0].json["messages"] == [{"role": "user", "content": content}]


def test_messages_from_stdin_are_read_once_and_the_prompt_follows(fake_server: FakeServer) -> None:
    fake_server.enqueue("POST /v1/chat/completions", FakeResponse.json(completion("ok")))
    history = json.dumps([{"role": "user", "content": "earlier"}, {"role": "assistant", "content": "yes"}])
    result = run("chat", *custom(fake_server), "--no-stream", "--messages", "-", "and now?", stdin=history)
    assert result.returncode == 0, result.stderr
    assert [m["content"] for m in fake_server.requests[0].json["messages"]] == ["earlier", "yes", "and now?"]


def test_chat_no_stream_prints_text(fake_server: FakeServer) -> None:
    fake_server.enqueue("POST /v1/chat/completions", FakeResponse.json(completion("whole reply")))
    result = run("chat", *custom(fake_server), "--no-stream", "Hi")
    assert (result.returncode, result.stdout) == (0, "whole reply\n")


def test_models_check_and_test(fake_server: FakeServer) -> None:
    listing = {"object": "list", "data": [{"id": "alpha", "object": "model"}]}
    fake_server.enqueue("GET /v1/models", FakeResponse.json(listing), FakeResponse.json(listing))
    fake_server.enqueue("POST /v1/chat/completions", FakeResponse.json(completion("hello back")))
    assert run("models", *custom(fake_server)).stdout.strip() == "alpha"
    check = run("check", *custom(fake_server))
    assert check.returncode == 0 and "ok" in check.stdout
    test = run("test", *custom(fake_server))
    assert test.returncode == 0 and "hello back" in test.stdout


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (401, {"error": {"message": "Invalid API Key", "type": "authentication_error"}}, 4),
        (400, {"error": {"message": "bad", "type": "invalid_request_error"}}, 1),
    ],
)
def test_exit_codes_for_vendor_errors(fake_server: FakeServer, status: int, body: dict[str, Any], code: int) -> None:
    fake_server.enqueue("POST /v1/chat/completions", FakeResponse.json(body, status=status))
    result = run("chat", *custom(fake_server), "--no-stream", "Hi")
    assert result.returncode == code, result.stderr
    assert result.stderr.startswith("error: custom HTTP")
    assert "Traceback" not in result.stderr


def test_exit_codes_for_local_problems(fake_server: FakeServer, tmp_path: Path) -> None:
    assert run("chat", "--provider", "opena1", "Hi").returncode == 3
    assert "Did you mean 'openai'" in run("chat", "--provider", "opena1", "Hi").stderr
    assert run("chat", *custom(fake_server)).returncode == 2  # no prompt at all
    two = tmp_path / "two.yaml"
    two.write_text("profiles:\n  a: {provider: openai}\n  b: {provider: openai}\n")
    ambiguous = run("--config", str(two), "chat", "Hi")
    assert ambiguous.returncode == 3 and "several profiles" in ambiguous.stderr
    fake_server.enqueue("GET /models", FakeResponse.text("nope", status=404))
    failed = run("check", "--provider", "custom", "--base-url", fake_server.url)
    assert failed.returncode == 5 and "/v1" in failed.stderr


def test_missing_key_exit_code_and_hint() -> None:
    result = run("chat", "--provider", "openai", "Hi")
    assert result.returncode == 4
    assert "chatpipe keys set openai" in result.stderr and "OPENAI_API_KEY" in result.stderr


def test_keys_set_list_remove(hermetic_environment: Path) -> None:
    assert run("keys", "set", "openai", stdin=KEY + "\n").returncode == 0
    keyfile = next(hermetic_environment.glob("keys*"))
    assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600
    listed = run("keys", "list")
    assert "openai" in listed.stdout and KEY not in listed.stdout
    explained = run("explain", "--provider", "openai", "Hi")
    assert "Authorization: ***" in explained.stdout and KEY not in explained.stdout
    assert run("keys", "remove", "openai").returncode == 0
    assert "openai" not in run("keys", "list").stdout


def test_plugins_lists_packages_and_versions() -> None:
    result = run("plugins", "--json")
    rows = json.loads(result.stdout)
    by_package = {row["package"]: row for row in rows}
    assert by_package["chatpipe-openai"]["kind"] == "provider"
    assert "strict-tools" in by_package["chatpipe-strict"]["names"]
    assert by_package["chatpipe-strict"]["version"] == "0.1.0"
    assert (by_package["chatpipe-otel"]["kind"], by_package["chatpipe-otel"]["names"]) == ("observer", ["otel"])
    strict = by_package["chatpipe-strict"]
    assert (strict["name"], strict["aliases"]) == ("strict", ["strict-tools", "strict_tools"])
    assert by_package["chatpipe-merge"]["name"] == "merge" and "claude" in by_package["chatpipe-merge"]["aliases"]
    text = run("plugins").stdout
    assert text.index("converters:") < text.index("observers:") < text.index("chatpipe-otel")
    # a plugin's own name first, its aliases apart
    (line,) = [row for row in text.splitlines() if "chatpipe-strict" in row]
    assert line.split()[0] == "strict" and line.endswith("(also: strict-tools, strict_tools)")


def test_config_check(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("profiles:\n  a: {provider: openai, converters: [strict]}\n")
    ok = run("--config", str(good), "config", "check", env={"OPENAI_API_KEY": KEY})
    assert ok.returncode == 0 and "a: ok" in ok.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("profiles:\n  a: {provider: openai, converters: [strikt]}\n")
    failed = run("--config", str(bad), "config", "check")
    assert failed.returncode == 3 and "Did you mean 'strict'" in failed.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text("profiles:\n  a: {provider: custom, base_url: nope}\n")
    result = run("--config", str(broken), "config", "check")
    assert result.returncode == 3 and "  profiles.a.base_url: " in result.stdout


def test_profile_option_falls_back_to_a_provider_name(tmp_path: Path) -> None:
    result = run("explain", "-p", "openai", "Hi", env={"OPENAI_API_KEY": KEY})
    assert result.returncode == 0, result.stderr
    assert "POST https://api.openai.com/v1/chat/completions" in result.stdout
    config = tmp_path / "c.yaml"
    config.write_text("profiles:\n  openai: {provider: custom, base_url: 'http://127.0.0.1:9/v1', model: m}\n")
    from_profile = run("--config", str(config), "explain", "-p", "openai", "Hi")
    assert "POST http://127.0.0.1:9/v1/chat/completions" in from_profile.stdout, "a profile wins over a provider"
    unknown = run("--config", str(config), "explain", "-p", "nosuch", "Hi")
    assert unknown.returncode == 3 and "unknown profile 'nosuch'" in unknown.stderr


def test_config_check_reports_a_router_profile_by_its_targets(tmp_path: Path) -> None:
    config = tmp_path / "routed.yaml"
    config.write_text(
        "profiles:\n  a: {provider: openai}\n  b: {provider: openai}\n"
        "  smart: {route: {strategy: fallback, targets: [a, b]}}\n"
    )
    result = run("--config", str(config), "config", "check", env={"OPENAI_API_KEY": KEY})
    assert result.returncode == 0 and "smart: ok (router, fallback: a, b)" in result.stdout


def test_per_call_options_reach_the_request(fake_server: FakeServer) -> None:
    fake_server.enqueue("POST /v1/chat/completions", FakeResponse.json(completion("tuned")))
    one_off = "sk-oneoff-PLANTED-55555555"
    options = ["-o", "temperature", "0.2", "-o", "stop", '["###"]', "-o", "user", "me", "--max-tokens", "5"]
    result = run("chat", *custom(fake_server), "--no-stream", *options, "--key", one_off, "Hi")
    assert (result.returncode, result.stdout) == (0, "tuned\n"), result.stderr
    sent = fake_server.requests[0]
    assert (sent.json["temperature"], sent.json["stop"], sent.json["user"], sent.json["max_tokens"]) == (
        0.2,
        ["###"],
        "me",
        5,
    )
    assert sent.headers["authorization"] == f"Bearer {one_off}"
    shown = run("explain", *custom(fake_server), "--json", "-o", "temperature", "0.7", "--key", one_off, "Hi")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["request"]["json"]["temperature"] == 0.7
    assert one_off not in shown.stdout + shown.stderr


def test_an_option_overrides_the_profiles_params(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.enqueue("POST /v1/chat/completions", FakeResponse.json(completion("ok")))
    config = tmp_path / "chatpipe.yaml"
    profile = (
        f"{{provider: custom, base_url: '{fake_server.url}/v1', model: m, params: {{temperature: 1.0, top_p: 0.5}}}}"
    )
    config.write_text(f"profiles:\n  p: {profile}\n")
    result = run("--config", str(config), "chat", "-p", "p", "--no-stream", "-o", "temperature", "0.1", "Hi")
    assert result.returncode == 0, result.stderr
    sent = fake_server.requests[0].json
    assert (sent["temperature"], sent["top_p"]) == (0.1, 0.5)


def test_keys_set_refuses_a_name_no_provider_or_profile_has(hermetic_environment: Path, tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("profiles:\n  work: {provider: openai}\n")
    typo = run("--config", str(config), "keys", "set", "opnai", stdin=KEY + "\n")
    assert typo.returncode == 2
    assert "did you mean 'openai'?" in typo.stderr and "--force" in typo.stderr and KEY not in typo.stderr
    profile_typo = run("--config", str(config), "keys", "set", "wrok", stdin=KEY + "\n")
    assert profile_typo.returncode == 2 and "did you mean 'work'?" in profile_typo.stderr
    assert "no keys stored" in run("keys", "list").stdout
    assert run("--config", str(config), "keys", "set", "work", stdin=KEY + "\n").returncode == 0
    forced = run("--config", str(config), "keys", "set", "later", "--force", stdin=KEY + "\n")
    assert forced.returncode == 0, forced.stderr
    listed = run("keys", "list").stdout
    assert "work" in listed and "later" in listed and KEY not in listed
