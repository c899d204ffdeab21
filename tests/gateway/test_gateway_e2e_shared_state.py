"""``chatpipe serve --workers 4`` with ``state: {backend: redis}``: the workers share one rate
limit, and a Redis that goes away gives clients a clean answer.

Many concurrent clients offer several times the limit; the fake vendor records when each
request arrives (tests/support/shared_state.py). Over the limit a call fails with 429 once
``max_wait`` is spent (docs/configuration.md, ``limits``), so with ``max_wait: 0`` the vendor's
arrivals plus the clients' 429s account for every request.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from shared_state import TimedVendor, max_in_window

from .conftest import openai_profile

pytestmark = pytest.mark.slow

WORKERS = "4"
WINDOW = 1.5  # limits.window, seconds
QUOTA = 10  # calls per window
RUN = 3.2  # seconds of load
SKEW = 0.25  # see tests/core/state/test_redis_store_processes.py: arrival-time spread allowed
CLIENTS = 16
CHAT = {"model": "gpt", "messages": [{"role": "user", "content": "Hi"}]}


@pytest.fixture
def vendor() -> Iterator[TimedVendor]:
    with TimedVendor() as server:
        yield server


def state(url: str, **extra: object) -> str:
    fields = ", ".join(f"{k}: {v}" for k, v in {"backend": "redis", "url": f"'{url}'", **extra}.items())
    return f"state: {{{fields}}}\n"


def profiles(vendor: TimedVendor, limits: str) -> str:
    # "warm" (no limits) lets every worker make its first upstream call, with its lazy imports
    # and connection setup, before the measured run
    return openai_profile("gpt", vendor.server, limits=limits) + openai_profile("warm", vendor.server)


async def load(
    url: str, model: str, seconds: float, clients: int, *, streams: bool = False
) -> tuple[Counter[int], list[httpx.Response]]:
    """``clients`` concurrent clients posting ``model`` calls for ``seconds`` (with ``streams``,
    every other client streams): the statuses, and every non-200 response."""
    statuses: Counter[int] = Counter()
    refused: list[httpx.Response] = []
    deadline = time.monotonic() + seconds

    async def client(stream: bool) -> None:
        body = {**CHAT, "model": model, "stream": stream}
        async with httpx.AsyncClient(base_url=url, timeout=15) as http:
            while time.monotonic() < deadline:
                response = await http.post("/v1/chat/completions", json=body)
                statuses[response.status_code] += 1
                if response.status_code != 200:
                    refused.append(response)
                elif stream and not response.text.rstrip().endswith("data: [DONE]"):
                    statuses[-1] += 1  # a stream that did not end properly

    await asyncio.gather(*(client(streams and i % 2 == 1) for i in range(clients)))
    return statuses, refused


async def warm_up(url: str) -> None:
    """Fresh connections in parallel, so every worker serves some of them."""

    async def one() -> int:
        async with httpx.AsyncClient(base_url=url, timeout=15) as http:
            return (await http.post("/v1/chat/completions", json={**CHAT, "model": "warm"})).status_code

    assert set(await asyncio.gather(*(one() for _ in range(64)))) == {200}


def test_workers_share_the_rpm_limit(start_gateway, vendor, redis_url):
    rpm = int(QUOTA * 60 / WINDOW)
    gateway = start_gateway(
        profiles(vendor, f"{{rpm: {rpm}, window: {WINDOW}, max_wait: 0}}"),
        "{}",
        "--workers",
        WORKERS,
        top=state(redis_url),
    )
    asyncio.run(warm_up(gateway.url))
    vendor.forget()
    statuses, refused = asyncio.run(load(gateway.url, "gpt", RUN, CLIENTS))
    arrivals = vendor.times()

    assert set(statuses) <= {200, 429}, statuses
    assert statuses[200] == len(arrivals)
    offered_per_window = sum(statuses.values()) / RUN * WINDOW
    assert offered_per_window > 5 * QUOTA, f"only {offered_per_window:.0f} requests per window were offered"
    busiest = max_in_window(arrivals, WINDOW - SKEW)
    assert busiest <= QUOTA, f"the vendor saw {busiest} calls within {WINDOW - SKEW} s (quota {QUOTA} per {WINDOW} s)"
    windows = int(RUN // WINDOW)
    assert QUOTA * windows <= statuses[200] <= QUOTA * (windows + 1), f"{statuses[200]} admitted in {RUN} s"
    for response in refused[:20]:
        error = response.json()["error"]
        assert (error["type"], error["code"]) == ("rate_limit_error", "rate_limit_exceeded")
        assert "rpm" in error["message"]
        assert 1 <= int(response.headers["retry-after"]) <= WINDOW + 1
    assert "Traceback" not in gateway.output()


def test_workers_share_the_concurrency_limit(start_gateway, redis_url):
    limit, hold, run = 3, 0.1, 2.0
    with TimedVendor(hold=hold) as vendor:
        gateway = start_gateway(
            profiles(vendor, f"{{concurrency: {limit}, max_wait: 10}}"),
            "{}",
            "--workers",
            WORKERS,
            top=state(redis_url),
        )
        asyncio.run(warm_up(gateway.url))
        vendor.forget()
        statuses, _ = asyncio.run(load(gateway.url, "gpt", run, 16, streams=True))  # a stream holds its slot
        peak = vendor.max_in_flight

    assert set(statuses) == {200}, statuses  # every call waited for a slot (max_wait 10 s)
    assert peak == limit, f"the vendor saw {peak} calls at once (concurrency {limit})"
    capacity = limit * run / hold
    assert statuses[200] >= 0.5 * capacity, f"{statuses[200]} calls done of a possible {capacity:.0f}"


TIMEOUT = 0.3  # state.timeout
SLACK = 0.7


def post(gateway, *, stream: bool = False) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.post(f"{gateway.url}/v1/chat/completions", json={**CHAT, "stream": stream}, timeout=10)
    return response, time.monotonic() - started


def test_redis_down_with_on_state_error_closed_answers_a_clean_error(start_gateway, vendor, own_redis_server):
    gateway = start_gateway(
        openai_profile("gpt", vendor.server, limits="{rpm: 6000, window: 1}"),
        top=state(own_redis_server.url, timeout=TIMEOUT, on_state_error="closed"),
    )
    assert post(gateway)[0].status_code == 200
    own_redis_server.stop()
    sent = len(vendor.times())
    for stream in (False, True):
        response, seconds = post(gateway, stream=stream)
        assert seconds < TIMEOUT + SLACK
        assert response.status_code == 503, response.text  # what docs/configuration.md names
        assert response.headers["content-type"].startswith("application/json")
        error = response.json()["error"]
        assert error["code"] == "state_unavailable" and "state is unreachable" in error["message"]
        assert "Traceback" not in response.text and 'File "' not in response.text
    assert len(vendor.times()) == sent  # nothing reached the vendor
    own_redis_server.start()
    assert post(gateway)[0].status_code == 200
    os.kill(own_redis_server.pid, signal.SIGSTOP)  # accepts connections, answers nothing
    try:
        response, seconds = post(gateway)
    finally:
        os.kill(own_redis_server.pid, signal.SIGCONT)
    assert response.status_code == 503, response.text
    assert TIMEOUT * 0.9 <= seconds < TIMEOUT + SLACK  # state.timeout bounds the wait
    assert "Traceback" not in gateway.output()


def test_redis_down_with_on_state_error_open_keeps_serving(start_gateway, vendor, own_redis_server):
    gateway = start_gateway(
        openai_profile("gpt", vendor.server, limits="{rpm: 6000, window: 1}"),
        top=state(own_redis_server.url, timeout=TIMEOUT, on_state_error="open"),
    )
    assert post(gateway)[0].status_code == 200
    own_redis_server.stop()
    replies = [post(gateway, stream=stream) for stream in (False, True, False, True)]
    assert [response.status_code for response, _ in replies] == [200] * 4
    assert max(seconds for _, seconds in replies) < TIMEOUT + SLACK
    assert json.loads(replies[0][0].text)["choices"][0]["message"]["content"] == "ok"
    assert replies[1][0].text.rstrip().endswith("data: [DONE]")
    log = gateway.output()
    assert log.count("limits, cooldowns and in-flight counts are kept in this process") == 1, log
    assert "Traceback" not in log
