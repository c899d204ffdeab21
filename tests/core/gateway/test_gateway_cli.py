"""``chatpipe serve`` argument handling that needs no running server."""

from __future__ import annotations

import importlib.util
import os

import pytest
from chatpipe.cli import main

REAL_FIND_SPEC = importlib.util.find_spec


def run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as info:
        main(argv)
    code = info.value.code
    return code if isinstance(code, int) else 1


def test_missing_extra_names_the_install_command(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(
        "chatpipe.cli._serve.importlib.util.find_spec",
        lambda name, *a: None if name == "uvicorn" else REAL_FIND_SPEC(name, *a),
    )
    config = tmp_path / "c.yaml"
    config.write_text("profiles: {a: {provider: openai}}\n")
    assert run(["serve", "--config", str(config)]) == 3
    err = capsys.readouterr().err
    assert "uvicorn" in err
    assert "pip install 'chatpipe[serve]'" in err


def test_public_host_without_keys_is_refused_before_serving(monkeypatch, capsys, tmp_path):
    served: list[object] = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: served.append(a))
    config = tmp_path / "c.yaml"
    config.write_text("profiles: {a: {provider: openai}}\n")
    assert run(["serve", "--config", str(config), "--host", "0.0.0.0"]) == 3
    err = capsys.readouterr().err
    assert "serve.keys" in err
    assert "serve.allow_unauthenticated: true" in err
    assert served == []


def test_public_host_with_allow_unauthenticated_serves(monkeypatch, tmp_path):
    served: list[dict[str, object]] = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: served.append(k))
    config = tmp_path / "c.yaml"
    config.write_text(
        "profiles: {a: {provider: openai, api_key: sk-test-0000000000}}\nserve: {allow_unauthenticated: true}\n"
    )
    main(["serve", "--config", str(config), "--host", "0.0.0.0"])
    assert [k["host"] for k in served] == ["0.0.0.0"]


def test_options_reach_uvicorn(monkeypatch, tmp_path):
    calls: list[tuple[tuple[object, ...], dict[str, object]]] = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: calls.append((a, k)))
    config = tmp_path / "c.yaml"
    config.write_text(
        "profiles: {a: {provider: openai, api_key: sk-test-0000000000}}\n"
        "serve: {host: 0.0.0.0, port: 9100, keys: [gw-key-aaaaaaaaaaaaaaaa], shutdown_timeout: 7.5}\n"
    )
    main(["serve", "--config", str(config)])
    (args, kwargs) = calls[0]
    assert (kwargs["host"], kwargs["port"], kwargs["timeout_graceful_shutdown"]) == ("0.0.0.0", 9100, 8)
    assert callable(args[0])  # one worker: the app object itself
    monkeypatch.setenv("CHATPIPE_CONFIG", "unset-by-the-test")  # run() sets it for the workers; restored after
    main(["serve", "--config", str(config), "--host", "127.0.0.1", "--port", "9200", "--workers", "3"])
    (args, kwargs) = calls[1]
    assert args[0] == "chatpipe.gateway:create_app"
    assert (kwargs["host"], kwargs["port"], kwargs["workers"], kwargs["factory"]) == ("127.0.0.1", 9200, 3, True)
    assert os.environ["CHATPIPE_CONFIG"] == str(config.resolve())


def test_the_served_profiles_and_their_url_are_said_at_start(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: None)
    config = tmp_path / "c.yaml"
    key = "sk-test-0000000000"
    config.write_text(
        f"profiles: {{a: {{provider: openai, api_key: {key}}}, b: {{provider: openai, api_key: {key}}}}}\n"
    )
    main(["serve", "--config", str(config), "--port", "9300"])
    assert "chatpipe gateway: 2 profiles at http://127.0.0.1:9300/v1: a, b" in capsys.readouterr().err


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_broken_profile_stops_the_start_unless_skipped(monkeypatch, capsys, tmp_path, workers):
    monkeypatch.setenv("CHATPIPE_SERVE_SKIP_BROKEN", "0")  # restored after the test (the flag sets it)
    monkeypatch.setenv("CHATPIPE_CONFIG", "unset-by-the-test")  # (--workers sets it)
    served: list[object] = []
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: served.append(a))
    config = tmp_path / "c.yaml"
    config.write_text("profiles: {a: {provider: openai, api_key: sk-test-0000000000}, b: {provider: opnai}}\n")
    assert run(["serve", "--config", str(config), "--workers", workers]) == 3
    err = capsys.readouterr().err
    assert "1 of 2 profiles cannot be served" in err and "profiles.b:" in err and "--skip-broken-profiles" in err
    assert served == []
    main(["serve", "--config", str(config), "--workers", workers, "--skip-broken-profiles"])
    assert len(served) == 1
    assert "chatpipe gateway: 1 profile at http://127.0.0.1:8000/v1: a" in capsys.readouterr().err


def test_help_lists_the_options(capsys):
    main(["serve", "--help"])  # standalone_mode=False: help returns instead of exiting
    out = capsys.readouterr().out
    for option in ("--host", "--port", "--config", "--workers"):
        assert option in out
