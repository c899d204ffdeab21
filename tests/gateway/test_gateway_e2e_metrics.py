"""``chatpipe serve --workers 2`` with metrics: a scrape of either worker counts the requests of both.

The fake vendor answers by the vendor model id a request names (``gpt/ok``, ``gpt/e429``,
``gpt/e503``), so the load is known whatever worker takes each request; load is sent until
both workers have written metrics (their files in the run's ``PROMETHEUS_MULTIPROC_DIR``,
read from the workers' environment).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from chatpipe.testing import FakeResponse
from chatpipe.testing.conformance import OpenAISimulator, Reply

from .conftest import GATEWAY_KEY, VENDOR_KEY, openai_profile

pytest.importorskip("prometheus_client")
from prometheus_text import Scrape  # tests/support, imported after the skip

SIM = OpenAISimulator(provider="openai")
ROUTE = "POST /v1/chat/completions"
PROMPT = "e2e-metrics-secret-prompt-5521"
LOAD = (("ok", False), ("e429", False), ("e503", False), ("e503", False), ("ok", True))
"""One round of load: (vendor model, stream)."""


def _vendor_reply(request) -> FakeResponse:
    body = request.json
    kind = body["model"]
    if kind == "e429":
        return SIM.error(429)
    if kind == "e503":
        return SIM.error(503)
    return SIM.stream(Reply(text="hi")) if body.get("stream") else SIM.reply(Reply(text="hi"))


def _post(url: str, model: str, stream: bool, *, profile: str = "gpt") -> int:
    """POST one chat request to ``profile`` (``model``: the vendor model to ask, ``""``: the profile's)."""
    name = f"{profile}/{model}" if model else profile
    body = {"model": name, "messages": [{"role": "user", "content": PROMPT}], "stream": stream}
    request = urllib.request.Request(
        f"{url}/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {GATEWAY_KEY}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # a new connection each time
            text = response.read().decode()
            assert not stream or "[DONE]" in text
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _scrape(url: str, key: str | None = GATEWAY_KEY) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(f"{url}/metrics", headers=headers), timeout=10) as r:
            return int(r.status), r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


def _multiproc_dir(pid: int) -> Path:
    """The ``PROMETHEUS_MULTIPROC_DIR`` of the workers of the server process ``pid``."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for child in children:
        try:
            environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for entry in environ:
            if entry.startswith(b"PROMETHEUS_MULTIPROC_DIR="):
                return Path(entry.split(b"=", 1)[1].decode())
    raise AssertionError(f"no worker of {pid} has PROMETHEUS_MULTIPROC_DIR")


def _writers(directory: Path) -> set[str]:
    """The pids whose counter files are in ``directory``."""
    return {p.stem.rsplit("_", 1)[1] for p in directory.glob("counter_*.db")}


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the workers' environment from /proc")
def test_a_scrape_of_two_workers_adds_up_their_known_load(start_gateway, vendor):
    vendor.route(ROUTE, _vendor_reply)
    profiles = (
        openai_profile("gpt", vendor)
        + openai_profile("down", vendor, model="e503")
        + "  pair: {route: {targets: [down, gpt], cooldown: null}}\n"
    )
    gateway = start_gateway(profiles, f"{{keys: [{GATEWAY_KEY}]}}", "--workers", "2")
    directory = _multiproc_dir(gateway.process.pid)
    sent: list[tuple[str, bool, int]] = []
    with ThreadPoolExecutor(4) as pool:
        for _ in range(30):  # rounds until both workers took some
            batch = [load for load in LOAD for _ in range(2)]
            statuses = list(pool.map(lambda load: _post(gateway.url, *load), batch))
            sent += [(model, stream, status) for (model, stream), status in zip(batch, statuses, strict=True)]
            if len(_writers(directory)) >= 2:
                break
    assert len(_writers(directory)) == 2, "the load never reached both workers"
    expected = {"ok": 200, "e429": 429, "e503": 503}
    assert all(status == expected[model] for model, _, status in sent)
    ok = sum(1 for model, stream, _ in sent if model == "ok" and not stream)
    streams = sum(1 for _, stream, _ in sent if stream)
    limited = sum(1 for model, _, _ in sent if model == "e429")
    # a router whose first target always fails: each worker's calls write the targets' health
    with ThreadPoolExecutor(4) as pool:
        routed = list(pool.map(lambda _: _post(gateway.url, "", False, profile="pair"), range(8)))
    assert routed == [200] * 8
    overloaded = sum(1 for model, _, _ in sent if model == "e503")

    for _ in range(4):  # whichever worker answers the scrape, the sums are the same
        status, text = _scrape(gateway.url)
        assert status == 200
        got = Scrape(text)
        assert got.value("chatpipe_requests_total") == len(sent) + len(routed)
        assert got.value("chatpipe_requests_total", profile="gpt", status="200") == ok + streams
        assert got.value("chatpipe_requests_total", profile="pair", status="200") == len(routed)
        assert got.value("chatpipe_router_hops_total", profile="pair", from_target="down") == len(routed)
        # the health gauge: the value written last by any worker
        assert got.value("chatpipe_router_target_up", router="pair", target="down") == 0
        assert got.value("chatpipe_router_target_up", router="pair", target="gpt") == 1
        assert got.value("chatpipe_request_errors_total", status="429", code="rate_limit_exceeded") == limited
        assert got.value("chatpipe_request_errors_total", status="503", code="upstream_overloaded") == overloaded
        assert got.value("chatpipe_request_errors_total") == limited + overloaded
        assert got.value("chatpipe_request_duration_seconds_count", stream="false") == len(sent) - streams + len(routed)
        assert got.value("chatpipe_request_duration_seconds_count", stream="true") == streams
        assert got.value("chatpipe_time_to_first_token_seconds_count", profile="gpt") == streams
        answered = ok + streams + len(routed)
        assert got.value("chatpipe_tokens_total", kind="input") == answered * Reply().prompt_tokens
        upstream_overloaded = overloaded + len(routed)  # (and every routed call's first target)
        assert got.value("chatpipe_upstream_errors_total", error="OverloadedError") == upstream_overloaded
        for secret in (GATEWAY_KEY, VENDOR_KEY, PROMPT):
            assert secret not in text

    assert _scrape(gateway.url, key=None)[0] == 401
    assert _scrape(gateway.url, key="not-the-key-dddddddddddd")[0] == 401
    assert gateway.stop() == 0
    assert not directory.exists()  # the run's directory is removed when the server stops
    assert os.environ.get("PROMETHEUS_MULTIPROC_DIR") != str(directory)
