"""Budgets in the gateway app (chatpipe.gateway._budgets): 429 ``budget_exceeded`` once spent."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from chatpipe.state import local_store
from chatpipe.testing import FakeResponse

from .conftest import VENDOR_KEY
from .test_gateway_accounting import PRICED, ROUTE, chunks, completion

KEY_A = "gw-key-team-a-aaaaaaaaaaaa"
KEY_CI = "gw-key-ci-bbbbbbbbbbbbbbbb"
SERVE = f"{{keys: {{team-a: {KEY_A}, ci: {KEY_CI}}}}}"


@pytest.fixture(autouse=True)
def fresh_budgets() -> Iterator[None]:
    local_store().clear()  # the budgets of these apps live in the process's in-process store
    yield
    local_store().clear()


def ask(client: Any, key: str, profile: str = "gpt", stream: bool = False) -> Any:
    body = {"model": profile, "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    return client.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"})


@pytest.mark.parametrize("stream", [False, True])
def test_a_key_over_its_token_budget_gets_429_until_the_reset(make_client, vendor, stream: bool) -> None:
    client = make_client(SERVE, extra="budgets: {team-a: {tokens: 5000, period: 1d}}")
    reply = FakeResponse.sse(chunks("gpt-x")) if stream else FakeResponse.json(completion("gpt-x"))
    vendor.enqueue(ROUTE, reply, reply, reply)
    assert ask(client, KEY_A, stream=stream).status_code == 200  # 3000 tokens spent
    assert ask(client, KEY_A, stream=stream).status_code == 200  # checked at 3000 < 5000: 6000 spent
    refused = ask(client, KEY_A, stream=stream)
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert (error["type"], error["code"]) == ("rate_limit_error", "budget_exceeded")
    assert "'team-a'" in error["message"] and "5000 tokens" in error["message"]
    midnight = datetime.datetime.now(datetime.UTC).date() + datetime.timedelta(days=1)
    assert f"resets at {midnight.isoformat()}T00:00:00Z" in error["message"]
    assert 0 < int(refused.headers["retry-after"]) <= 86400
    assert KEY_A not in refused.text and VENDOR_KEY not in refused.text
    assert len(vendor.requests) == 2  # the refused call never reached the vendor
    assert ask(client, KEY_CI, stream=stream).status_code == 200  # another client, another budget


def test_a_profile_budget_counts_cost_from_every_client(make_client, vendor) -> None:
    client = make_client(SERVE, extra_profiles=PRICED % vendor.url, extra="budgets: {priced: {usd: 0.01}}")
    vendor.enqueue(ROUTE, *[FakeResponse.json(completion("my-model")) for _ in range(2)])
    vendor.enqueue(ROUTE, *[FakeResponse.json(completion("gpt-x")) for _ in range(3)])
    assert ask(client, KEY_A, "priced").status_code == 200  # $0.006
    assert ask(client, KEY_CI, "priced").status_code == 200  # checked at $0.006 < $0.01
    refused = ask(client, KEY_A, "priced")
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "budget_exceeded"
    assert "'priced'" in refused.json()["error"]["message"] and "0.01 USD" in refused.json()["error"]["message"]
    assert all(ask(client, KEY_A, "gpt").status_code == 200 for _ in range(3))  # another profile: no budget


def test_a_call_of_unknown_cost_adds_nothing_to_a_usd_budget(make_client, vendor) -> None:
    client = make_client(SERVE, extra="budgets: {gpt: {usd: 0.000001}}")
    vendor.enqueue(ROUTE, *[FakeResponse.json(completion("gpt-x")) for _ in range(3)])
    assert all(ask(client, KEY_A).status_code == 200 for _ in range(3))  # gpt-x has no price: cost None
