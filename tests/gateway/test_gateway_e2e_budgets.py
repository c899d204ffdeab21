"""``chatpipe serve --workers 2`` sharing Redis: a key's budget is spent across both workers,
answered with 429 ``budget_exceeded``, and is available again after its period."""

from __future__ import annotations

import time

import httpx
import pytest
from chatpipe.testing import FakeResponse

from .conftest import openai_profile

pytestmark = pytest.mark.slow

KEY_A = "gw-key-team-a-aaaaaaaaaaaa"
KEY_WARM = "gw-key-warm-bbbbbbbbbbbbbb"
PERIOD = 2.0
USAGE = {"prompt_tokens": 2, "completion_tokens": 2, "total_tokens": 4}
BUDGET = 10  # tokens: calls are checked at 0, 4, 8 spent, so exactly 3 go through per period


def reply(_: object) -> FakeResponse:
    message = {"role": "assistant", "content": "ok"}
    choice = {"index": 0, "message": message, "finish_reason": "stop"}
    return FakeResponse.json({"id": "c", "model": "vendor-model", "choices": [choice], "usage": USAGE})


def ask(url: str, key: str, model: str = "gpt") -> httpx.Response:
    # a new connection per request, so the kernel spreads the requests over the workers
    with httpx.Client(base_url=url, timeout=15, headers={"Authorization": f"Bearer {key}"}) as http:
        return http.post("/v1/chat/completions", json={"model": model, "messages": [{"role": "user", "content": "Hi"}]})


def test_a_key_budget_is_shared_by_the_workers_and_resets_after_its_period(start_gateway, vendor, redis_url):
    vendor.route("POST /v1/chat/completions", reply)
    gateway = start_gateway(
        openai_profile("gpt", vendor),
        f"{{keys: {{team-a: {KEY_A}, warm: {KEY_WARM}}}}}",
        "--workers",
        "2",
        top=f"state: {{backend: redis, url: '{redis_url}'}}\n"
        f"budgets: {{team-a: {{tokens: {BUDGET}, period: {PERIOD}}}}}\n",
    )
    assert all(ask(gateway.url, KEY_WARM).status_code == 200 for _ in range(8))  # warm-up: first calls import, connect

    time.sleep(PERIOD - time.time() % PERIOD + 0.05)  # start right after a period boundary
    started = time.time()
    statuses = [ask(gateway.url, KEY_A).status_code for _ in range(10)]
    refused = ask(gateway.url, KEY_A)
    assert time.time() - started < PERIOD - 0.2, "the requests took longer than one period"
    assert statuses == [200] * 3 + [429] * 7, statuses  # per-worker budgets would let up to 6 through
    error = refused.json()["error"]
    assert (refused.status_code, error["code"], error["type"]) == (429, "budget_exceeded", "rate_limit_error")
    assert "'team-a'" in error["message"] and "resets at" in error["message"]
    assert 1 <= int(refused.headers["retry-after"]) <= PERIOD
    assert ask(gateway.url, KEY_WARM).status_code == 200  # another client is not held back

    time.sleep(PERIOD - time.time() % PERIOD + 0.05)  # the next period
    assert [ask(gateway.url, KEY_A).status_code for _ in range(4)] == [200] * 3 + [429]
    assert KEY_A not in gateway.output() and "Traceback" not in gateway.output()
