"""``chatpipe config path``: the file in use and every place looked at; a wrong $CHATPIPE_CONFIG named."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CHATPIPE = str(Path(sys.executable).parent / "chatpipe")


def run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("CHATPIPE_CONFIG", "CHATPIPE_CONFIG_DIR")}
    return subprocess.run(
        [CHATPIPE, *args], cwd=cwd, env={**clean, **env}, input="", capture_output=True, text=True, timeout=60
    )


def test_without_a_config_every_place_is_listed_in_order(tmp_path: Path) -> None:
    user = tmp_path / "user"
    result = run("config", "path", cwd=tmp_path, CHATPIPE_CONFIG_DIR=str(user))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "config: none"
    listed = [line.split("  (")[0].strip() for line in lines[2:]]
    expected = [tmp_path / "chatpipe.yaml", tmp_path / "chatpipe.yml", user / "config.yaml", user / "config.yml"]
    assert listed == [str(path) for path in expected]
    assert all("not found" in line for line in lines[2:])
    check = run("config", "check", cwd=tmp_path, CHATPIPE_CONFIG_DIR=str(user))
    assert check.returncode == 0 and str(user / "config.yaml") in check.stdout  # the same places


def test_the_file_in_use_is_named(tmp_path: Path) -> None:
    user = tmp_path / "user"
    user.mkdir()
    (user / "config.yaml").write_text("profiles: {}\n")
    (tmp_path / "chatpipe.yaml").write_text("profiles: {}\n")
    result = run("config", "path", cwd=tmp_path, CHATPIPE_CONFIG_DIR=str(user))
    assert result.stdout.splitlines()[0] == f"config: {tmp_path / 'chatpipe.yaml'}"
    assert f"{tmp_path / 'chatpipe.yaml'}  (the current directory; in use)" in result.stdout
    assert f"{user / 'config.yaml'}  (the user config directory; exists)" in result.stdout


def test_a_wrong_config_variable_is_named(tmp_path: Path) -> None:
    result = run("config", "path", cwd=tmp_path, CHATPIPE_CONFIG=str(tmp_path / "missing.yaml"))
    assert result.returncode == 3
    assert "$CHATPIPE_CONFIG points to" in result.stderr and "missing.yaml" in result.stderr
    explicit = run("--config", str(tmp_path / "missing.yaml"), "config", "path", cwd=tmp_path)
    assert explicit.returncode == 3 and "the config file" in explicit.stderr


def test_show_prints_the_file_with_its_secrets_hidden(tmp_path: Path) -> None:
    literal, header, gateway = "sk-show-PLANTED-1234567890", "hdr-PLANTED-abcdef", "gw-PLANTED-0123456789abcdef"
    (tmp_path / "chatpipe.yaml").write_text(
        "profiles:\n"
        f"  a: {{provider: openai, api_key: {literal}, headers: {{X-Token: {header}}}}}\n"
        "  b: {provider: openai, api_key: '${OPENAI_API_KEY}'}\n"
        "  c: {provider: custom, base_url: 'http://user:pass-PLANTED@127.0.0.1:9/v1'}\n"
        f"serve: {{keys: [{gateway}]}}\n"
    )
    result = run("config", "show", cwd=tmp_path, CHATPIPE_CONFIG_DIR=str(tmp_path / "user"))
    assert result.returncode == 0, result.stderr
    for secret in (literal, header, gateway, "pass-PLANTED"):
        assert secret not in result.stdout
    assert "${OPENAI_API_KEY}" in result.stdout  # a reference holds no secret
    assert result.stdout.count("***") >= 3 and "127.0.0.1:9/v1" in result.stdout
    assert result.stdout.splitlines()[0] == f"# {tmp_path / 'chatpipe.yaml'}"
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = run("config", "show", cwd=empty, CHATPIPE_CONFIG_DIR=str(empty))
    assert nothing.returncode == 2 and "chatpipe config path" in nothing.stderr


def test_init_writes_a_starter_that_loads_and_never_overwrites(tmp_path: Path) -> None:
    result = run("config", "init", cwd=tmp_path)
    assert result.returncode == 0 and "chatpipe config check" in result.stdout
    from chatpipe.config import load_config

    config = load_config(tmp_path / "chatpipe.yaml", env={})
    assert set(config.profiles) == {"openai", "claude", "local-server"} and config.default == "openai"
    again = run("config", "init", cwd=tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr
    assert run("config", "init", "--force", cwd=tmp_path).returncode == 0


def test_keys_path_names_the_key_store(tmp_path: Path) -> None:
    result = run("keys", "path", cwd=tmp_path, CHATPIPE_CONFIG_DIR=str(tmp_path / "user"))
    assert result.stdout.strip() == str(tmp_path / "user" / "keys.yaml")
