"""ClaudeBatchAPI, sans-IO: the Message Batches requests (validated against anthropic.yaml) and
the parsing of batch objects and results."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from chatpipe.errors import (
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    OverloadedError,
    ProtocolError,
    ProviderError,
)
from chatpipe.http import HttpResponse
from chatpipe.models import ChatRequest, ChatResponse
from chatpipe.provider import BatchStatus
from chatpipe_claude import ClaudeProvider
from chatpipe_claude._batch import ClaudeBatchAPI

KEY = "sk-ant-PLANTED-claude-0123456789abcdef"  # the key conftest's adapter factory plants


@pytest.fixture
def spec(vendor_spec: Callable[[str], Any]) -> Any:
    return vendor_spec("anthropic")


@pytest.fixture
def api(adapter_factory: Callable[..., ClaudeProvider], claude_key: str) -> ClaudeBatchAPI:
    assert claude_key == KEY
    api = adapter_factory().batch_api()
    assert isinstance(api, ClaudeBatchAPI)
    return api


def test_lines_carry_the_adapters_body_and_create_sends_them_inline(
    api: ClaudeBatchAPI, spec: Any, request_factory: Callable[..., ChatRequest]
) -> None:
    adapter = api.adapter
    http = adapter.build_chat(request_factory([{"role": "user", "content": "Hi"}], max_tokens=20, temperature=0.3))
    line = api.batch_line("c-1", http)
    assert line == {"custom_id": "c-1", "params": {k: v for k, v in http.json.items() if k != "stream"}}
    assert api.upload([line]) is None
    create = api.create([line, api.batch_line("c_2", http)], None)
    assert (create.method, create.url) == ("POST", "https://api.anthropic.com/v1/messages/batches")
    spec.check("BetaCreateMessageBatchParams", create.json)
    assert [r["custom_id"] for r in create.json["requests"]] == ["c-1", "c_2"]
    assert create.headers["x-api-key"] == KEY and create.headers["anthropic-version"] == "2023-06-01"
    assert KEY not in repr(create)


def test_poll_and_results_requests(api: ClaudeBatchAPI) -> None:
    poll = api.poll("msgbatch_01")
    assert (poll.method, poll.url, poll.json) == (
        "GET",
        "https://api.anthropic.com/v1/messages/batches/msgbatch_01",
        None,
    )
    assert "Content-Type" not in poll.headers
    url = "https://api.anthropic.com/v1/messages/batches/msgbatch_01/results"
    [download] = api.results(BatchStatus("msgbatch_01", "ended", results=(url,)))
    assert (download.method, download.url) == ("GET", url) and download.headers["x-api-key"] == KEY


@pytest.mark.parametrize(
    "url", ["https://files.elsewhere.example/r", "http://api.anthropic.com/v1/r", "https://api.anthropic.com:8443/r"]
)
def test_a_results_url_off_the_base_url_is_refused(api: ClaudeBatchAPI, url: str) -> None:
    with pytest.raises(ProtocolError, match="another host"):
        api.results(BatchStatus("b", "ended", results=(url,)))


def batch(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "msgbatch_01",
        "type": "message_batch",
        "processing_status": status,
        "request_counts": {"processing": 0, "succeeded": 2, "errored": 1, "canceled": 0, "expired": 1},
        "ended_at": None,
        "created_at": "2026-12-01T10:00:00Z",
        "expires_at": "2026-12-02T10:00:00Z",
        "archived_at": None,
        "cancel_initiated_at": None,
        "results_url": None,
        **extra,
    }


@pytest.mark.parametrize(("vendor", "state"), [("in_progress", "in_progress"), ("canceling", "in_progress")])
def test_parse_batch_while_running(api: ClaudeBatchAPI, spec: Any, vendor: str, state: str) -> None:
    obj = batch(vendor)
    spec.check("BetaMessageBatch", obj)
    status = api.parse_batch(HttpResponse(200, {}, json.dumps(obj).encode()))
    assert (status.id, status.state, status.results, status.done) == ("msgbatch_01", state, (), False)


def test_parse_batch_ended(api: ClaudeBatchAPI, spec: Any) -> None:
    url = "https://api.anthropic.com/v1/messages/batches/msgbatch_01/results"
    obj = batch("ended", ended_at="2026-12-01T11:00:00Z", results_url=url)
    spec.check("BetaMessageBatch", obj)
    status = api.parse_batch(HttpResponse(200, {}, json.dumps(obj).encode()))
    assert (status.state, status.results, status.counts["expired"]) == ("ended", (url,), 1)


@pytest.mark.parametrize("body", [b"nope", b"[]", b'{"id": "b", "processing_status": "done"}'])
def test_parse_batch_refuses_malformed_objects(api: ClaudeBatchAPI, body: bytes) -> None:
    with pytest.raises(ProtocolError):
        api.parse_batch(HttpResponse(200, {}, body))


def message(text: str) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": text}],
        "model": "claude-sonnet-4-5",
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 1,
            "output_tokens": 1,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }


def errored(kind: str, text: str) -> dict[str, Any]:
    return {"type": "errored", "error": {"type": "error", "error": {"type": kind, "message": text}}}


def test_parse_results_maps_each_result_type(api: ClaudeBatchAPI, spec: Any) -> None:
    rows = [
        {"custom_id": "a", "result": {"type": "succeeded", "message": message("hello")}},
        {"custom_id": "b", "result": errored("invalid_request_error", "bad")},
        {"custom_id": "c", "result": errored("overloaded_error", "busy")},
        {"custom_id": "d", "result": errored("authentication_error", f"key {KEY} refused")},
        {"custom_id": "e", "result": {"type": "expired"}},
        {"custom_id": "f", "result": {"type": "canceled"}},
    ]
    for row in rows:
        spec.check("BetaMessageBatchIndividualResponse", row)
    body = b"".join(json.dumps(r).encode() + b"\n" for r in rows)
    results = dict(api.parse_results(HttpResponse(200, {}, body)))
    assert isinstance(results["a"], ChatResponse) and results["a"].choices[0].message.content == "hello"
    assert isinstance(results["b"], BadRequestError) and results["b"].status == 400
    assert isinstance(results["c"], OverloadedError)
    assert isinstance(results["d"], AuthenticationError) and KEY not in str(results["d"])
    assert isinstance(results["e"], APITimeoutError) and "expired" in str(results["e"])
    assert type(results["f"]) is ProviderError and "cancelled" in str(results["f"])


def test_parse_results_refuses_unattributable_lines(api: ClaudeBatchAPI) -> None:
    with pytest.raises(ProtocolError, match=r"line 1 .* no 'custom_id'"):
        list(api.parse_results(HttpResponse(200, {}, b'{"result": {"type": "expired"}}\n')))
    with pytest.raises(ProtocolError, match="no 'result' object"):
        list(api.parse_results(HttpResponse(200, {}, b'{"custom_id": "a"}\n')))
    [(_, unknown)] = api.parse_results(HttpResponse(200, {}, b'{"custom_id": "a", "result": {"type": "new"}}'))
    assert isinstance(unknown, ProtocolError)
