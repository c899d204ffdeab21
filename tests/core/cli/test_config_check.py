"""``chatpipe config check``: every problem of every profile, one line each, the way a call would meet it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from chatpipe.testing.fake_server import FakeResponse, FakeServer

CHATPIPE = str(Path(sys.executable).parent / "chatpipe")
KEY = "sk-check-PLANTED-0123456789"


def check(config: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHATPIPE, "--config", str(config), "config", "check", *args],
        env={**os.environ, **env},
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "chatpipe.yaml"
    path.write_text(text)
    return path


def problem_lines(stdout: str) -> dict[str, str]:
    """``{key path: message}`` of the problem lines (those starting with ``profiles.``)."""
    lines = [line.strip() for line in stdout.splitlines() if line.strip().startswith("profiles")]
    return dict(line.split(": ", 1) for line in lines)


def test_every_problem_of_every_profile_is_reported_with_its_key_path(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        "profiles:\n"
        "  sound: {provider: custom, base_url: 'http://127.0.0.1:9/v1', params: {temperature: 0.2, top_k: 3}}\n"
        "  nobase: {provider: custom}\n"
        "  typos: {provider: openai, params: {temprature: 0.2, max_tokens: ten, n: 2}}\n"
        "  names: {provider: opnai, converters: [strict, strct]}\n"
        "  opts: {provider: custom, options: {bogus: 1}, converters: [nonex]}\n",
    )
    result = check(config)
    assert result.returncode == 3, result.stderr
    found = problem_lines(result.stdout)
    assert set(found) == {
        "profiles.nobase.base_url",
        "profiles.typos.params.temprature",
        "profiles.typos.params.max_tokens",
        "profiles.typos.api_key",
        "profiles.names.provider",
        "profiles.names.converters[1]",
        "profiles.opts.options",
        "profiles.opts.converters[0]",
        "profiles.opts.base_url",
    }
    assert "did you mean 'temperature'?" in found["profiles.typos.params.temprature"]
    assert found["profiles.typos.params.max_tokens"] == "expected an integer, got 'ten'"
    assert "chatpipe keys set typos" in found["profiles.typos.api_key"]
    assert "OPENAI_API_KEY" in found["profiles.typos.api_key"]
    assert "Did you mean 'openai'" in found["profiles.names.provider"]
    assert "Did you mean 'strict'" in found["profiles.names.converters[1]"]
    assert "bogus" in found["profiles.opts.options"]
    assert "  sound: ok (custom, converters: none)" in result.stdout
    assert result.stdout.splitlines()[-1] == "9 problems in 4 of 5 profiles"


def test_a_key_from_the_environment_or_not_needed_is_no_problem(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        "profiles:\n"
        "  vendor: {provider: openai}\n"
        "  proxy: {provider: openai, base_url: 'http://127.0.0.1:9/v1'}\n"
        "  local: {provider: local}\n",
    )
    result = check(config, OPENAI_API_KEY=KEY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "all 3 profiles ok"
    assert KEY not in result.stdout + result.stderr
    without = check(config)
    assert (without.returncode, list(problem_lines(without.stdout))) == (3, ["profiles.vendor.api_key"])


def test_a_key_stored_with_keys_set_counts(tmp_path: Path) -> None:
    config = write(tmp_path, "profiles:\n  work: {provider: openai}\n")
    stored = subprocess.run(
        [CHATPIPE, "--config", str(config), "keys", "set", "work"], input=KEY + "\n", capture_output=True, text=True
    )
    assert stored.returncode == 0, stored.stderr
    result = check(config)
    assert result.returncode == 0, result.stdout
    assert KEY not in result.stdout + result.stderr


def test_a_passing_through_provider_checks_only_the_types_of_known_params(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        "profiles:\n  lm: {provider: custom, base_url: 'http://127.0.0.1:9/v1', "
        "params: {min_p: 0.1, repeat_penalty: 1.1, stop: 7, temperature: warm}}\n",
    )
    found = problem_lines(check(config).stdout)
    assert found == {
        "profiles.lm.params.stop": "expected a string or an array, got 7",
        "profiles.lm.params.temperature": "expected a number, got 'warm'",
    }


def test_a_router_with_a_broken_target_is_reported_and_a_sound_one_is_ok(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        "profiles:\n"
        "  good: {provider: custom, base_url: 'http://127.0.0.1:9/v1'}\n"
        "  bad: {provider: custom}\n"
        "  both: {route: {targets: [good, bad]}}\n"
        "  fine: {route: {targets: [good], context_fallbacks: []}}\n",
    )
    result = check(config)
    found = problem_lines(result.stdout)
    assert result.returncode == 3
    assert found["profiles.both.route"] == "its target(s) 'bad' have problems (listed under them)"
    assert "profiles.bad.base_url" in found
    assert "  fine: ok (router, fallback: good)" in result.stdout


def test_problems_the_loader_finds_are_listed_each_on_its_own_line(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        "profiles:\n  a: {provider: custom, base_url: nope}\n  b: {provider: custom, max_retries: -1}\n",
    )
    result = check(config)
    assert result.returncode == 3
    assert set(problem_lines(result.stdout)) == {"profiles.a.base_url", "profiles.b.max_retries"}
    assert result.stdout.splitlines()[-1] == "2 problems in the file; profiles not checked"


def test_online_runs_the_status_check_of_each_sound_profile(tmp_path: Path, fake_server: FakeServer) -> None:
    listing = {"object": "list", "data": [{"id": "m", "object": "model"}]}
    fake_server.enqueue("GET /up/models", FakeResponse.json(listing))
    fake_server.enqueue("GET /down/models", FakeResponse.text("nope", status=500))
    config = write(
        tmp_path,
        "max_retries: 0\nprofiles:\n"
        f"  up: {{provider: custom, base_url: '{fake_server.url}/up'}}\n"
        f"  down: {{provider: custom, base_url: '{fake_server.url}/down'}}\n",
    )
    offline = check(config)
    assert offline.returncode == 0 and not fake_server.requests  # no network without --online
    result = check(config, "--online")
    assert result.returncode == 5, result.stdout + result.stderr
    assert "  up: ok:" in result.stdout
    assert "  down: failed:" in result.stderr
    assert sorted(r.path for r in fake_server.requests) == ["/down/models", "/up/models"]


def test_an_unknown_observer_is_named_where_it_is_listed(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        "profiles:\n  a: {provider: custom, base_url: 'http://127.0.0.1:9/v1', observers: [otle]}\n",
    )
    result = check(config)
    assert result.returncode == 3
    assert "Did you mean 'otel'" in problem_lines(result.stdout)["profiles.a.observers"]


def test_a_top_level_problem_every_profile_meets_is_listed_once(tmp_path: Path) -> None:
    base = "{provider: custom, base_url: 'http://127.0.0.1:9/v1'}"
    config = write(tmp_path, f"observers: [otle]\nprofiles:\n  a: {base}\n  b: {base}\n")
    result = check(config)
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip().startswith("observers: ")]
    assert len(lines) == 1 and "Did you mean 'otel'" in lines[0]
    assert result.stdout.splitlines()[-1] == "1 problem in 2 of 2 profiles"
