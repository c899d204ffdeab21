"""Process-level behaviour: client disconnects cancel upstream calls, SIGTERM finishes streams,
several workers, and the CLI's refusals."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import time

from chatpipe.testing import FakeResponse

from .conftest import CHATPIPE, free_port, openai_profile

ROUTE = "POST /v1/chat/completions"
BODY = json.dumps({"model": "gpt", "messages": [{"role": "user", "content": "Hi"}]})


def _chunk(text: str, finish: str | None = None) -> dict:
    return {"id": "c", "model": "m", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}


def _open(gateway, body: str, timeout: float = 10.0) -> http.client.HTTPConnection:
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=timeout)
    connection.request("POST", "/v1/chat/completions", body=body, headers={"Content-Type": "application/json"})
    return connection


def test_client_disconnect_mid_stream_cancels_upstream(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor))
    vendor.enqueue(ROUTE, FakeResponse.sse([_chunk("one "), _chunk("two ")], stall_after=2))
    connection = _open(gateway, json.dumps({**json.loads(BODY), "stream": True}))
    response = connection.getresponse()
    assert response.status == 200
    assert b"one" in response.readline()
    connection.sock.close()  # the client goes away while the vendor is still "generating"
    connection.close()
    assert vendor.wait_for(lambda: vendor.disconnects == 1, timeout=5), "the upstream stream was not closed"


def test_client_disconnect_before_the_reply_cancels_upstream(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor))
    vendor.enqueue(ROUTE, FakeResponse.json({}, delay=60))
    connection = _open(gateway, BODY)
    assert vendor.wait_for(lambda: len(vendor.requests) == 1 and vendor.open_connections == 1)
    connection.sock.close()
    connection.close()
    assert vendor.wait_for(lambda: vendor.open_connections == 0, timeout=5), "the upstream call was not cancelled"


def test_sigterm_finishes_the_stream_in_flight(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor))
    words = [f"w{i} " for i in range(8)]
    vendor.enqueue(ROUTE, FakeResponse.sse([*(_chunk(w) for w in words), _chunk("", "stop")], delay=0.2))
    connection = _open(gateway, json.dumps({**json.loads(BODY), "stream": True}))
    response = connection.getresponse()
    first = response.readline()
    assert b"w0" in first
    gateway.process.send_signal(signal.SIGTERM)
    rest = response.read().decode()
    lines = [line for line in (first.decode() + rest).split("\n") if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    text = "".join((json.loads(line[6:])["choices"][0]["delta"].get("content") or "") for line in lines[:-1])
    assert text == "".join(words)
    # uvicorn re-raises the signal after its graceful shutdown, so the exit status says SIGTERM
    assert gateway.process.wait(10) in (0, -signal.SIGTERM)
    assert "Traceback" not in gateway.output()
    refused = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=2)
    try:
        refused.request("GET", "/health")
        refused.getresponse()
        raise AssertionError("the gateway still accepts connections after SIGTERM")
    except OSError:
        pass


def test_several_workers_serve(start_gateway, vendor):
    gateway = start_gateway(openai_profile("gpt", vendor), "{}", "--workers", "2")
    vendor.route(
        ROUTE,
        lambda request: FakeResponse.json(
            {
                "id": "x",
                "model": "m",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
            }
        ),
    )
    client = gateway.client()
    for _ in range(6):
        assert (
            client.chat.completions.create(model="gpt", messages=[{"role": "user", "content": "Hi"}])
            .choices[0]
            .message.content
            == "ok"
        )


def test_refuses_a_public_host_without_keys(tmp_path, vendor):
    config = tmp_path / "c.yaml"
    config.write_text("profiles:\n" + openai_profile("gpt", vendor))
    started = time.monotonic()
    result = subprocess.run(
        [CHATPIPE, "serve", "--config", str(config), "--host", "0.0.0.0", "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 3
    assert "refusing to listen on '0.0.0.0' without gateway keys" in result.stderr
    assert time.monotonic() - started < 30


def test_refuses_without_profiles(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("serve: {port: 8123}\n")
    result = subprocess.run([CHATPIPE, "serve", "--config", str(config)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 3
    assert "no profiles are configured" in result.stderr
