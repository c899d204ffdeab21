"""Secrets: a planted key never appears in anything chatpipe emits.

The fake server echoes the Authorization header back inside its error bodies (as some
proxies do), so scrubbing is tested, not just "the key was never put there". Checked: CLI
stdout/stderr in every mode (with and without --verbose), ``explain``, DEBUG logs, exception
messages and reprs, and every object reachable from a raised error (its ``__cause__`` /
``__context__`` chain, arguments and attributes: ``rel_harness.reachable``); the key file is
0600 and a looser one is refused.
"""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from chatpipe.errors import ConfigError, NotFoundError, ProviderError
from chatpipe.keys import KeyStore
from chatpipe.testing import FakeResponse, FakeServer, RecordedRequest
from rel_harness import CONVERSATION, KEY, MODES, Family, call, make_pipeline, reachable

CHATPIPE = str(Path(sys.executable).parent / "chatpipe")
FRAGMENTS = (KEY, KEY[8:24], KEY[-12:])  # the key, and pieces long enough to identify it


def assert_clean(text: str, where: str) -> None:
    for fragment in FRAGMENTS:
        assert fragment not in text, f"the key leaked into {where}: ...{text[max(0, text.find(fragment) - 80) :][:200]}"


PASSWORD = "hunter2-in-the-base-url"
"""The password of a ``base_url`` with userinfo (``http://alice:<PASSWORD>@host/...``)."""


def with_password(url: str) -> str:
    return url.replace("://", f"://alice:{PASSWORD}@", 1)


def echoing_server(server: FakeServer, family: Family, status: int) -> None:
    """Every request gets ``status`` with the request's own Authorization header in the body."""

    def answer(request: RecordedRequest) -> FakeResponse:
        seen = request.headers.get("authorization", "") + " " + request.headers.get("x-api-key", "")
        return FakeResponse.json({"error": {"message": f"bad credentials: {seen}", "type": "auth"}}, status=status)

    server.route(family.route, answer)
    server.route("/v1/models", answer)


@pytest.mark.parametrize("status", [400, 401, 429, 500])
def test_errors_never_show_the_key(family: Family, server: FakeServer, mode: str, status: int) -> None:
    echoing_server(server, family, status)
    pipe = make_pipeline(family, server.url, max_retries=0)
    with pytest.raises(ProviderError) as info:
        call(pipe, mode)
    error = info.value
    assert server.requests, "the request was not sent"
    for text, where in ((str(error), "str"), (repr(error), "repr"), (error.body or "", "body"),
                        (reachable(error), "an object reachable from the error")):  # fmt: skip
        assert_clean(text, where)
    assert_clean(repr(pipe) + repr(pipe.adapter) + repr(pipe.adapter.settings) + repr(pipe.transport), "reprs")


def test_a_password_in_the_base_url_never_shows(
    family: Family, server: FakeServer, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="chatpipe")
    server.enqueue(family.route, family.error(404))
    pipe = make_pipeline(family, with_password(server.url), max_retries=0)
    with pytest.raises(NotFoundError) as info:
        call(pipe, mode)
    assert server.requests, "the request was not sent"
    text = reachable(info.value)
    assert PASSWORD not in text
    if family.provider in ("custom", "openai", "claude"):  # their 404 hint names the base URL, without userinfo
        assert f"base URL ({family.simulator.base_url(server.url)}" in str(info.value)
    shown = repr(pipe) + repr(pipe.adapter) + repr(pipe.adapter.settings) + repr(pipe.transport)
    shown += repr(pipe.explain(CONVERSATION).to_dict()) + "\n".join(r.getMessage() for r in caplog.records)
    assert PASSWORD not in shown and "127.0.0.1" in shown


def test_debug_logs_never_show_the_key(family: Family, server: FakeServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="chatpipe")
    echoing_server(server, family, 503)
    for mode in MODES:
        pipe = make_pipeline(family, server.url, max_retries=1)
        with pytest.raises(ProviderError):
            call(pipe, mode)
    pipe.explain(CONVERSATION)
    text = "\n".join(f"{r.name} {r.levelname} {r.getMessage()}" for r in caplog.records)
    assert "request POST" in text and "response 503" in text and "retry of" in text, text[:2000]
    assert "stream opened" in text and "stream closed" in text
    assert_clean(text, "DEBUG logs")


def test_explain_never_shows_the_key(family: Family, server: FakeServer) -> None:
    pipe = make_pipeline(family, server.url, headers={"X-Echo": f"token {KEY}"})
    for stream in (False, True):
        explanation = pipe.explain(CONVERSATION, stream=stream)
        assert_clean(repr(explanation.to_dict()) + repr(explanation), "explain")
    assert server.requests == []


def test_the_key_file_is_private_and_a_loose_one_is_refused(hermetic_environment: Path) -> None:
    store = KeyStore()
    store.set("custom", KEY)
    mode = stat.S_IMODE(store.path.stat().st_mode)
    assert mode == 0o600, oct(mode)
    assert stat.S_IMODE(store.path.parent.stat().st_mode) & 0o077 == 0
    store.path.chmod(0o644)
    with pytest.raises(ConfigError) as info:
        KeyStore().get("custom")
    assert "chmod 600" in str(info.value) and str(store.path) in str(info.value)
    assert_clean(str(info.value), "the permission error")
    result = run_cli("keys", "list")
    assert result.returncode == 3 and "chmod 600" in result.stderr
    assert_clean(result.stdout + result.stderr, "keys list on a loose file")


# --- the command line, every mode -------------------------------------------------------------


def run_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHATPIPE, *args], input=stdin, capture_output=True, text=True, env=dict(os.environ), timeout=60
    )


def completion(text: str) -> dict[str, Any]:
    message = {"role": "assistant", "content": text}
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}  # fmt: skip


@pytest.mark.timeout(180)
def test_cli_output_never_shows_the_key(server: FakeServer, tmp_path: Path) -> None:
    """Every command, plain and --verbose, against a server that answers and one that echoes the key."""
    config = tmp_path / "chatpipe.yaml"
    config.write_text(
        f"default: fake\nprofiles:\n  fake: {{provider: custom, base_url: '{server.url}/v1', model: m}}\n"
        f"  broken: {{provider: custom, base_url: '{server.url}/broken', model: m}}\n"
    )
    stored = run_cli("--config", str(config), "keys", "set", "fake", stdin=KEY + "\n")
    assert stored.returncode == 0, stored.stderr
    assert run_cli("--config", str(config), "keys", "set", "broken", stdin=KEY + "\n").returncode == 0

    def ok(request: RecordedRequest) -> FakeResponse:
        assert request.headers.get("authorization") == f"Bearer {KEY}"  # the stored key is really used
        if request.json.get("stream"):
            return FakeResponse.sse([{"choices": [{"index": 0, "delta": {"content": "Hello"}}]}])
        return FakeResponse.json(completion("Hello"))

    server.route("POST /v1/chat/completions", ok)
    server.route("GET /v1/models", lambda r: FakeResponse.json({"object": "list", "data": [{"id": "m"}]}))

    def echo(request: RecordedRequest) -> FakeResponse:
        return FakeResponse.json({"error": {"message": f"bad key {request.headers.get('authorization')}"}}, status=401)

    server.route("/broken/chat/completions", echo)
    server.route("/broken/models", echo)
    base = ["--config", str(config)]
    commands = [
        ["chat", "Hi"], ["chat", "--no-stream", "Hi"], ["chat", "--json", "Hi"],
        ["explain", "Hi"], ["explain", "--json", "--stream", "Hi"], ["models"], ["models", "--json"],
        ["check"], ["test"], ["keys", "list"], ["config", "check"], ["plugins"],
        ["chat", "-p", "broken", "Hi"], ["chat", "-p", "broken", "--no-stream", "Hi"], ["check", "-p", "broken"],
        ["test", "-p", "broken"], ["models", "-p", "broken"], ["explain", "-p", "broken", "Hi"],
    ]  # fmt: skip
    outputs = []
    for command in commands:
        for verbose in ([], ["--verbose"]):
            result = run_cli(*verbose, *base, *command)
            outputs.append(result)
            assert_clean(result.stdout + result.stderr, f"chatpipe {' '.join(verbose + command)}")
    succeeded = [r for r in outputs if r.returncode == 0]
    failed = [r for r in outputs if r.returncode != 0]
    assert len(succeeded) >= 20 and len(failed) >= 8  # both paths really ran
    verbose_chat = outputs[1]
    assert "DEBUG chatpipe.transport" in verbose_chat.stderr and "***" not in verbose_chat.stdout
    assert "bad key" in "".join(r.stderr + r.stdout for r in failed)  # the echoed body is shown, scrubbed


@pytest.mark.parametrize("provider", ["custom", "openai"])
def test_the_gateway_404_never_shows_a_base_url_password(provider: str, caplog: pytest.LogCaptureFixture) -> None:
    pytest.importorskip("starlette")
    from chatpipe.config import parse_config
    from chatpipe.gateway import create_app
    from starlette.testclient import TestClient

    caplog.set_level(logging.DEBUG)
    hello = {"model": "gpt", "messages": [{"role": "user", "content": "Hi"}]}
    with FakeServer() as vendor:
        missing = FakeResponse.json({"error": {"message": "no such model"}}, 404)
        vendor.route("POST /chat/completions", lambda request: missing)
        config = parse_config(
            f"profiles:\n  gpt: {{provider: {provider}, base_url: '{with_password(vendor.url)}', api_key: {KEY}, "
            "model: m, max_retries: 0}\n",
            env={},
        )
        with TestClient(create_app(config), raise_server_exceptions=False, client=("127.0.0.1", 50000)) as client:
            answers = [
                client.post("/v1/chat/completions", json=hello),
                client.post("/v1/chat/completions", json={**hello, "stream": True}),
            ]
    assert [a.status_code for a in answers] == [404, 404]
    for answer in answers:
        assert PASSWORD not in answer.text
        assert vendor.url in answer.json()["error"]["message"]
    # httpx's own "HTTP Request: POST <url>" INFO line is the HTTP library's, not chatpipe's
    assert PASSWORD not in "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("chatpipe"))


def test_gateway_responses_and_logs_never_show_the_vendor_key(caplog: pytest.LogCaptureFixture) -> None:
    """The gateway, in process: every kind of answer and every log line, with the key echoed upstream."""
    pytest.importorskip("starlette")
    from chatpipe.config import parse_config
    from chatpipe.gateway import create_app
    from starlette.testclient import TestClient

    caplog.set_level(logging.DEBUG)
    hello = {"model": "gpt", "messages": [{"role": "user", "content": "Hi"}]}
    with FakeServer() as vendor:

        def echo(request: RecordedRequest) -> FakeResponse:
            auth = request.headers.get("authorization", "")
            if request.json and request.json.get("stream"):
                return FakeResponse.sse([{"choices": [{"index": 0, "delta": {"content": f"ok {auth[-4:]}"}}]}])
            return FakeResponse.json({"error": {"message": f"rejected {auth}", "type": "invalid_request_error"}}, 401)

        vendor.route("POST /v1/chat/completions", echo)
        config = parse_config(
            f"profiles:\n  gpt: {{provider: openai, base_url: '{vendor.url}/v1', api_key: {KEY}, model: m, "
            "max_retries: 0}\n  down: {provider: openai, base_url: 'http://127.0.0.1:9/v1', "
            f"api_key: {KEY}, model: m, max_retries: 0}}\n",
            env={},
        )
        with TestClient(create_app(config), raise_server_exceptions=False, client=("127.0.0.1", 50000)) as client:
            answers = [
                client.post("/v1/chat/completions", json=hello),
                client.post("/v1/chat/completions", json={**hello, "stream": True}),
                client.post("/v1/chat/completions", json={**hello, "model": "down"}),
                client.post("/v1/chat/completions", json={**hello, "model": "nope"}),
                client.get("/v1/models"),
                client.get("/health"),
            ]
    assert [a.status_code for a in answers][:1] == [502], "a vendor 401 is the gateway's upstream failure"
    for answer in answers:
        assert_clean(answer.text, f"gateway answer {answer.request.url}")
        assert_clean(str(answer.headers), "gateway headers")
    assert caplog.records, "the gateway logged nothing at DEBUG"
    assert_clean("\n".join(r.getMessage() for r in caplog.records), "gateway logs")
