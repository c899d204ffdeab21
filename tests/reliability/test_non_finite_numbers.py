"""Non-finite and out-of-range numbers in usage: unknown (``None``), raw value kept, standard JSON out.

A vendor reply whose usage says ``1e999`` (JSON for a number Python decodes to ``inf``) is
a correct reply with that count unknown, in every family and mode; the gateway answers it
in standard JSON only (no ``Infinity`` / ``NaN``), streaming or not.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import pytest
from chatpipe.testing import FakeResponse, FakeServer
from chatpipe.testing.conformance import OpenAISimulator, Reply
from rel_harness import FAMILIES, KEY, TEXT, Family, call, make_pipeline

MARK = 987654321
"""The prompt-token count the simulators write, replaced by ``1e999`` in the raw bytes."""


OUT_OF_RANGE = {"1e999": math.inf, "-1e999": -math.inf, "1" + "0" * 30: 10**30, "-3": -3}
"""JSON literals no token count can be, and what Python decodes them to."""


def overflowing(response: FakeResponse, literal: str = "1e999") -> FakeResponse:
    """``response`` with every ``MARK`` count sent as ``literal``."""

    def swap(data: bytes) -> bytes:
        return data.replace(str(MARK).encode(), literal.encode())

    return dataclasses.replace(response, body=swap(response.body), chunks=tuple(swap(c) for c in response.chunks))


def holds(value: Any, raw: float) -> bool:
    """Whether ``value`` (decoded JSON) holds the number ``raw`` anywhere."""
    if isinstance(value, dict):
        return any(holds(v, raw) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(holds(v, raw) for v in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == raw


def strict_json(text: str) -> Any:
    """``text`` decoded as standard JSON: ``Infinity``, ``-Infinity`` and ``NaN`` are refused."""

    def refuse(constant: str) -> Any:
        raise AssertionError(f"non-standard JSON constant {constant} in {text[:300]}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("literal", list(OUT_OF_RANGE))
def test_an_out_of_range_prompt_count_is_unknown_and_kept(
    family: Family, server: FakeServer, mode: str, literal: str
) -> None:
    reply = Reply(text=TEXT, prompt_tokens=MARK)
    scripted = family.simulator.stream(reply) if mode.endswith("stream") else family.simulator.reply(reply)
    sent = overflowing(scripted, literal)
    assert any(literal.encode() in part for part in (sent.body, *sent.chunks))
    server.enqueue(family.route, sent)
    response = call(make_pipeline(family, server.url, max_retries=0), mode)
    assert response.text == TEXT
    if response.usage is not None:
        assert response.usage.prompt_tokens is None
        assert response.usage.completion_tokens == 7
        assert holds(dict(response.usage.extra), OUT_OF_RANGE[literal]), "the raw value is kept in usage.extra"


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("family", [f for f in FAMILIES if f.provider in ("openai", "cohere")], ids=lambda f: f.name)
def test_the_gateway_answers_standard_json_for_such_usage(family: Family, stream: bool) -> None:
    pytest.importorskip("starlette")
    from chatpipe.config import parse_config
    from chatpipe.gateway import create_app
    from starlette.testclient import TestClient

    sim = family.simulator
    reply = Reply(text=TEXT, prompt_tokens=MARK)
    with FakeServer() as vendor:
        vendor.enqueue(family.route, overflowing(sim.stream(reply) if stream else sim.reply(reply)))
        config = parse_config(
            f"profiles:\n  p: {{provider: {family.provider}, base_url: '{sim.base_url(vendor.url)}', "
            f"api_key: {KEY}, model: {sim.model}, max_retries: 0}}\n",
            env={},
        )
        body = {"model": "p", "messages": [{"role": "user", "content": "Hi"}], "stream": stream}
        if stream:
            body["stream_options"] = {"include_usage": True}
        with TestClient(create_app(config), raise_server_exceptions=False, client=("127.0.0.1", 50000)) as client:
            answer = client.post("/v1/chat/completions", json=body)
    assert answer.status_code == 200, answer.text
    if stream:
        frames = [line[len("data: ") :] for line in answer.text.splitlines() if line.startswith("data: ")]
        assert frames[-1] == "[DONE]"
        chunks = [strict_json(frame) for frame in frames[:-1]]
        assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]) == TEXT
        usage = chunks[-1]["usage"]
    else:
        reply_json = strict_json(answer.text)
        assert reply_json["choices"][0]["message"]["content"] == TEXT
        usage = reply_json["usage"]
    assert usage.get("prompt_tokens") is None
    assert usage["completion_tokens"] == 7


def test_openai_simulator_marks_the_prompt_count() -> None:
    """The substitution above relies on the simulator writing the count as a plain integer."""
    assert str(MARK).encode() in OpenAISimulator(provider="openai").reply(Reply(text="x", prompt_tokens=MARK)).body
