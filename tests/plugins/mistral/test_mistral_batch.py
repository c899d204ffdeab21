"""MistralBatchAPI, sans-IO: the batch-jobs requests (validated against mistral.yaml) and the
parsing of job objects and result lines."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from chatpipe import wire
from chatpipe.errors import BadRequestError, InvalidRequestError, ProtocolError
from chatpipe.http import HttpResponse
from chatpipe.models import ChatRequest, ChatResponse
from chatpipe.provider import ProviderSettings
from chatpipe.secrets import Secret
from chatpipe_mistral import MistralProvider
from chatpipe_mistral._batch import MistralBatchAPI

KEY = "sk-mistral-PLANTED-0123456789abcdef"


@pytest.fixture
def spec(vendor_spec: Callable[[str], Any]) -> Any:
    return vendor_spec("mistral")


@pytest.fixture
def adapter() -> MistralProvider:
    return MistralProvider(ProviderSettings(base_url="https://api.mistral.ai/v1", api_key=Secret(KEY)))


@pytest.fixture
def api(adapter: MistralProvider) -> MistralBatchAPI:
    api = adapter.batch_api()
    assert isinstance(api, MistralBatchAPI)
    return api


def chat(adapter: MistralProvider, model: str = "mistral-small-latest", **params: Any) -> Any:
    messages = wire.messages_from_dicts([{"role": "user", "content": "Hi"}])
    return adapter.build_chat(ChatRequest(model=model, messages=messages, params=params))


def test_lines_upload_and_create(api: MistralBatchAPI, adapter: MistralProvider, spec: Any) -> None:
    http = chat(adapter, temperature=0.1)
    line = api.batch_line("c1", http)
    assert line == {"custom_id": "c1", "body": http.json}
    spec.check("BatchRequest", line)
    spec.check("ChatCompletionRequest", line["body"])
    upload = api.upload([line])
    assert (upload.method, upload.url) == ("POST", "https://api.mistral.ai/v1/files")
    assert upload.content is not None and b'name="purpose"\r\n\r\nbatch' in upload.content
    spec.check(spec.request_body("/v1/files", media_type="multipart/form-data"), {"purpose": "batch", "file": "x"})
    create = api.create([line], "5b6a1c3e-0000-4000-8000-000000000001")
    assert (create.method, create.url) == ("POST", "https://api.mistral.ai/v1/batch/jobs")
    assert create.json == {
        "input_files": ["5b6a1c3e-0000-4000-8000-000000000001"],
        "endpoint": "/v1/chat/completions",
        "model": "mistral-small-latest",
        "timeout_hours": 24,
    }
    spec.check("CreateBatchJobRequest", create.json)
    assert create.headers["Authorization"] == f"Bearer {KEY}" and KEY not in repr(create)
    poll = api.poll("job-1")
    assert (poll.method, poll.url) == ("GET", "https://api.mistral.ai/v1/batch/jobs/job-1")
    with pytest.raises(InvalidRequestError, match="upload the lines first"):
        api.create([line], None)


def test_one_model_per_job(api: MistralBatchAPI, adapter: MistralProvider) -> None:
    small, large = (api.batch_line("a", chat(adapter, m)) for m in ("mistral-small-latest", "mistral-large-latest"))
    assert api.batch_group(small) != api.batch_group(large)


def job(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "job-1",
        "object": "batch",
        "input_files": ["5b6a1c3e-0000-4000-8000-000000000001"],
        "endpoint": "/v1/chat/completions",
        "model": "mistral-small-latest",
        "errors": [],
        "status": status,
        "created_at": 1,
        "total_requests": 4,
        "completed_requests": 3,
        "succeeded_requests": 2,
        "failed_requests": 1,
        **extra,
    }


@pytest.mark.parametrize(
    ("vendor", "state"),
    [
        ("QUEUED", "in_progress"),
        ("RUNNING", "in_progress"),
        ("CANCELLATION_REQUESTED", "in_progress"),
        ("SUCCESS", "ended"),
        ("FAILED", "failed"),
        ("TIMEOUT_EXCEEDED", "expired"),
        ("CANCELLED", "cancelled"),
    ],
)
def test_parse_batch_maps_every_status(api: MistralBatchAPI, spec: Any, vendor: str, state: str) -> None:
    obj = job(vendor, output_file="out-id", error_file=None)
    spec.check("BatchJob", obj)
    status = api.parse_batch(HttpResponse(200, {}, json.dumps(obj).encode()))
    assert (status.id, status.state, status.results) == ("job-1", state, ("out-id",))
    assert status.counts == {"total": 4, "completed": 3, "succeeded": 2, "failed": 1}


def test_parse_batch_failure_detail_and_malformed_jobs(api: MistralBatchAPI, spec: Any) -> None:
    failed = job("FAILED", errors=[{"message": "invalid file", "count": 1}])
    spec.check("BatchJob", failed)
    assert api.parse_batch(HttpResponse(200, {}, json.dumps(failed).encode())).detail == "invalid file"
    with pytest.raises(ProtocolError):
        api.parse_batch(HttpResponse(200, {}, json.dumps(job("DONE")).encode()))


def test_parse_results(api: MistralBatchAPI) -> None:
    reply = {
        "id": "cmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "mistral-small-latest",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "bonjour"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    error = {"object": "error", "message": "bad input", "type": "invalid_request_error", "code": "3001"}
    lines = [
        {"id": "r1", "custom_id": "a", "response": {"status_code": 200, "body": reply}, "error": None},
        {"id": "r2", "custom_id": "b", "response": {"body": reply}, "error": None},
        {"id": "r3", "custom_id": "c", "response": {"status_code": 400, "body": error}, "error": None},
    ]
    body = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    results = dict(api.parse_results(HttpResponse(200, {}, body)))
    assert isinstance(results["a"], ChatResponse) and results["a"].choices[0].message.content == "bonjour"
    assert isinstance(results["b"], ChatResponse)
    assert isinstance(results["c"], BadRequestError) and "bad input" in str(results["c"])
