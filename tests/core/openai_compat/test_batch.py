"""OpenAIBatchAPI, sans-IO: the exact requests (validated against openai.yaml) and the parsing
of batch objects and result files."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from chatpipe import wire
from chatpipe.errors import (
    APIStatusError,
    AuthenticationError,
    ContextLengthError,
    InvalidRequestError,
    ProtocolError,
    RateLimitError,
)
from chatpipe.http import HttpResponse
from chatpipe.models import ChatRequest, ChatResponse
from chatpipe.openai_compat import OpenAIBatchAPI, OpenAICompatibleProvider
from chatpipe.provider import BatchStatus

PLANTED_KEY = "sk-test-PLANTED-9f8e7d6c5b4a39281706"


@pytest.fixture
def api(provider: OpenAICompatibleProvider) -> OpenAIBatchAPI:
    return OpenAIBatchAPI(provider)


def chat(provider: OpenAICompatibleProvider, text: str = "Hi", **params: Any) -> Any:
    request = ChatRequest(model="gpt-4o-mini", messages=wire.messages_from_dicts([{"role": "user", "content": text}]))
    if params:
        request = ChatRequest(model=request.model, messages=request.messages, params=params)
    return provider.build_chat(request)


def multipart(body: bytes, content_type: str) -> dict[str, bytes]:
    boundary = re.search(r"boundary=(\S+)", content_type)
    assert boundary
    delimiter = b"--" + boundary.group(1).encode()
    parts = {}
    for chunk in body.split(delimiter)[1:-1]:
        head, data = chunk[2:-2].split(b"\r\n\r\n", 1)
        name = re.search(rb'name="([^"]+)"', head)
        assert name
        parts[name.group(1).decode()] = data
    return parts


def test_a_batch_line_carries_the_adapters_own_body(
    api: OpenAIBatchAPI, provider: OpenAICompatibleProvider, openai_spec: Any
) -> None:
    http = chat(provider, temperature=0.2)
    line = api.batch_line("item-1", http)
    assert line == {"custom_id": "item-1", "method": "POST", "url": "/v1/chat/completions", "body": http.json}
    openai_spec.check("CreateChatCompletionRequest", line["body"])


def test_a_text_completion_request_is_refused(api: OpenAIBatchAPI, provider: OpenAICompatibleProvider) -> None:
    import attrs

    http = attrs.evolve(chat(provider), url="https://api.example.test/v1/completions")
    with pytest.raises(InvalidRequestError, match="chat completions only"):
        api.batch_line("x", http)


def test_upload_is_a_multipart_file_with_purpose_batch(
    api: OpenAIBatchAPI, provider: OpenAICompatibleProvider, openai_spec: Any
) -> None:
    lines = [api.batch_line(f"c{i}", chat(provider, f"q{i} é")) for i in range(3)]
    request = api.upload(lines)
    assert (request.method, request.url) == ("POST", "https://api.example.test/v1/files")
    assert request.json is None and request.content is not None
    assert request.headers["Authorization"] == f"Bearer {PLANTED_KEY}"
    assert "authorization" in {h.lower() for h in request.secret_headers}
    assert request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    parts = multipart(request.content, request.headers["Content-Type"])
    assert set(parts) == {"purpose", "file"} and parts["purpose"] == b"batch"
    openai_spec.check("CreateFileRequest", {"purpose": "batch", "file": "<binary>"})
    assert [json.loads(raw) for raw in parts["file"].splitlines()] == lines
    assert parts["file"].endswith(b"\n") and "é".encode() in parts["file"]
    assert PLANTED_KEY not in repr(request) and PLANTED_KEY not in json.dumps(request.redacted())
    assert request.redacted()["content"] == f"<{len(request.content)} bytes>"


def test_create_poll_and_results_requests(api: OpenAIBatchAPI, openai_spec: Any) -> None:
    create = api.create([], "file-abc")
    assert (create.method, create.url) == ("POST", "https://api.example.test/v1/batches")
    assert create.json == {"input_file_id": "file-abc", "endpoint": "/v1/chat/completions", "completion_window": "24h"}
    openai_spec.check("CreateBatchRequest", create.json)
    poll = api.poll("batch_1")
    assert (poll.method, poll.url, poll.json) == ("GET", "https://api.example.test/v1/batches/batch_1", None)
    assert "Content-Type" not in poll.headers and poll.headers["Authorization"] == f"Bearer {PLANTED_KEY}"
    status = BatchStatus("batch_1", "ended", results=("file-out", "file-err"))
    assert [(r.method, r.url) for r in api.results(status)] == [
        ("GET", "https://api.example.test/v1/files/file-out/content"),
        ("GET", "https://api.example.test/v1/files/file-err/content"),
    ]
    assert api.poll("a/b?c").url.endswith("/batches/a%2Fb%3Fc")
    with pytest.raises(InvalidRequestError, match="upload the lines first"):
        api.create([], None)


def test_parse_upload(api: OpenAIBatchAPI, openai_spec: Any) -> None:
    obj = {
        "id": "file-1",
        "object": "file",
        "bytes": 10,
        "created_at": 1,
        "filename": "x.jsonl",
        "purpose": "batch",
        "status": "processed",
    }
    openai_spec.check("OpenAIFile", obj)
    assert api.parse_upload(HttpResponse(200, {}, json.dumps(obj).encode())) == "file-1"
    with pytest.raises(ProtocolError, match="no file 'id'"):
        api.parse_upload(HttpResponse(200, {}, b"{}"))


def batch(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "batch_1",
        "object": "batch",
        "endpoint": "/v1/chat/completions",
        "input_file_id": "file-in",
        "completion_window": "24h",
        "status": status,
        "created_at": 1_700_000_000,
        "request_counts": {"total": 3, "completed": 2, "failed": 1},
        **extra,
    }


@pytest.mark.parametrize(
    ("vendor", "state"),
    [
        ("validating", "in_progress"),
        ("in_progress", "in_progress"),
        ("finalizing", "in_progress"),
        ("cancelling", "in_progress"),
        ("completed", "ended"),
        ("failed", "failed"),
        ("expired", "expired"),
        ("cancelled", "cancelled"),
    ],
)
def test_parse_batch_maps_every_status(api: OpenAIBatchAPI, openai_spec: Any, vendor: str, state: str) -> None:
    obj = batch(vendor)
    openai_spec.check("Batch", obj)
    status = api.parse_batch(HttpResponse(200, {}, json.dumps(obj).encode()))
    assert (status.id, status.state, status.vendor_status) == ("batch_1", state, vendor)
    assert status.counts == {"total": 3, "completed": 2, "failed": 1}
    assert status.done is (state != "in_progress")


def test_parse_batch_result_files_and_failure_reasons(api: OpenAIBatchAPI, openai_spec: Any) -> None:
    done = batch("completed", output_file_id="file-out", error_file_id="file-err")
    openai_spec.check("Batch", done)
    assert api.parse_batch(HttpResponse(200, {}, json.dumps(done).encode())).results == ("file-out", "file-err")
    only_errors = batch("completed", output_file_id=None, error_file_id="file-err")
    assert api.parse_batch(HttpResponse(200, {}, json.dumps(only_errors).encode())).results == ("file-err",)
    errors = {"object": "list", "data": [{"code": "invalid_json", "message": "bad line", "line": 2, "param": None}]}
    failed = batch("failed", errors=errors)
    openai_spec.check("Batch", failed)
    assert (
        api.parse_batch(HttpResponse(200, {}, json.dumps(failed).encode())).detail == "invalid_json: bad line (line 2)"
    )


@pytest.mark.parametrize(
    "body", [b"not json", b"[]", b'{"id": "b"}', b'{"id": "b", "status": "weird"}', b'{"status": "completed"}']
)
def test_parse_batch_refuses_malformed_objects(api: OpenAIBatchAPI, body: bytes) -> None:
    with pytest.raises(ProtocolError):
        api.parse_batch(HttpResponse(200, {}, body))


def completion(text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def results_file(*lines: Any) -> HttpResponse:
    return HttpResponse(200, {}, b"".join(json.dumps(line).encode() + b"\n" for line in lines))


def test_parse_results_success_and_per_item_errors(api: OpenAIBatchAPI, openai_spec: Any, planted_key: str) -> None:
    openai_spec.check("CreateChatCompletionResponse", completion("hello"))

    def error(code: str, message: str) -> dict[str, Any]:
        return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}

    response = results_file(
        {
            "id": "r1",
            "custom_id": "a",
            "response": {"status_code": 200, "request_id": "req_a", "body": completion("hello")},
            "error": None,
        },
        {
            "id": "r2",
            "custom_id": "b",
            "response": {
                "status_code": 400,
                "request_id": "req_b",
                "body": error("context_length_exceeded", "too long"),
            },
            "error": None,
        },
        {
            "id": "r3",
            "custom_id": "c",
            "response": {"status_code": 429, "request_id": "req_c", "body": error("rate_limit_exceeded", "slow")},
            "error": None,
        },
        {
            "id": "r4",
            "custom_id": "d",
            "response": {"status_code": 401, "body": error("invalid_api_key", f"bad key {planted_key}")},
            "error": None,
        },
        {
            "id": "r5",
            "custom_id": "e",
            "response": None,
            "error": {"code": "batch_expired", "message": "not processed"},
        },
    )
    results = dict(api.parse_results(response))
    assert list(results) == ["a", "b", "c", "d", "e"]
    assert isinstance(results["a"], ChatResponse) and results["a"].choices[0].message.content == "hello"
    assert isinstance(results["b"], ContextLengthError) and results["b"].request_id == "req_b"
    assert isinstance(results["c"], RateLimitError) and results["c"].status == 429
    assert isinstance(results["d"], AuthenticationError)
    assert isinstance(results["e"], APIStatusError) and "not processed" in str(results["e"])
    for value in results.values():
        if isinstance(value, APIStatusError):
            assert planted_key not in str(value) and planted_key not in (value.body or "")


def test_a_malformed_embedded_body_is_that_items_protocol_error(api: OpenAIBatchAPI) -> None:
    response = results_file({"custom_id": "a", "response": {"status_code": 200, "body": {"choices": "nope"}}})
    [(custom_id, result)] = list(api.parse_results(response))
    assert custom_id == "a" and isinstance(result, ProtocolError)


@pytest.mark.parametrize("line", [b"not json", b'{"response": {}}', b"[1, 2]"])
def test_a_line_without_custom_id_is_a_protocol_error(api: OpenAIBatchAPI, line: bytes) -> None:
    with pytest.raises(ProtocolError, match="line 2 of the batch results"):
        list(api.parse_results(HttpResponse(200, {}, b'{"custom_id": "a", "error": {"message": "x"}}\n' + line)))


def test_the_openai_plugin_enables_it_and_other_compatible_vendors_do_not(
    make_provider: Callable[..., OpenAICompatibleProvider],
) -> None:
    from chatpipe.registry import default_registry

    registry = default_registry()
    assert isinstance(adapter_of(registry, "openai").batch_api(), OpenAIBatchAPI)
    for name in ("deepseek", "fireworks", "custom", "openrouter", "xai", "groq", "ollama"):
        assert adapter_of(registry, name).batch_api() is None
    assert make_provider().batch_api() is None


def adapter_of(registry: Any, name: str) -> Any:
    from chatpipe.provider import ProviderSettings

    cls = registry.provider(name)
    return cls(ProviderSettings(base_url=cls.info.default_base_url or "http://127.0.0.1:1/v1"))
