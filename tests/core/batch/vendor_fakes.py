"""Stateful loopback fakes of the vendors' batch APIs, on :class:`chatpipe.testing.FakeServer`.

* :class:`FakeOpenAIBatches`: ``POST /v1/files`` (multipart, ``purpose=batch``), ``POST
  /v1/batches``, ``GET /v1/batches/{id}``, ``GET /v1/files/{id}/content``;
* :class:`FakeMistralBatches`: ``POST /v1/files``, ``POST /v1/batch/jobs``, ``GET
  /v1/batch/jobs/{id}``, ``GET /v1/files/{id}/content``;
* :class:`FakeAnthropicBatches`: ``POST /v1/messages/batches``, ``GET
  /v1/messages/batches/{id}``, ``GET {results_url}``.

Every request body they receive is validated against the vendor's OpenAPI file, and so is
every object they answer with; problems are collected in ``problems`` (a test asserts it is
empty) and make the fake answer 400, so a bad request also fails the run visibly.

``answer(custom_id, body)`` decides each request's outcome: ``None`` for a success (a reply
saying ``"echo <custom_id>"``), or ``(status, error_type, message)`` for a per-request error.
``outcome`` is how a batch ends: ``"completed"`` (OpenAI) / ``"ended"`` (Anthropic) after
``polls`` polls, ``"expired"`` (only the first ``processed`` requests have results; Anthropic
reports the rest as ``expired``, OpenAI leaves them out), or ``"failed"`` (OpenAI only).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any, ClassVar

from chatpipe.testing import FakeResponse, FakeServer
from chatpipe.testing.fake_server import RecordedRequest

Answer = Callable[[str, dict[str, Any]], tuple[int, str, str] | None]


def _echo(custom_id: str, body: dict[str, Any]) -> None:
    return None


def parse_multipart(body: bytes, content_type: str) -> dict[str, bytes]:
    """The parts of a ``multipart/form-data`` body by field name (strictly CRLF-framed)."""
    match = re.search(r"boundary=([^;]+)", content_type)
    assert match, f"no boundary in {content_type!r}"
    delimiter = b"--" + match.group(1).encode()
    assert body.startswith(delimiter) and body.endswith(delimiter + b"--\r\n"), "bad multipart framing"
    parts: dict[str, bytes] = {}
    for chunk in body.split(delimiter)[1:-1]:
        assert chunk.startswith(b"\r\n") and chunk.endswith(b"\r\n"), "a part is not CRLF-framed"
        head, data = chunk[2:-2].split(b"\r\n\r\n", 1)
        name = re.search(rb'name="([^"]+)"', head)
        assert name, f"a part without a name: {head!r}"
        parts[name.group(1).decode()] = data
    return parts


class _Fake:
    def __init__(self, server: FakeServer, spec: Any, *, answer: Answer, outcome: str, polls: int, processed: int):
        self.server, self.spec, self.answer = server, spec, answer
        self.outcome, self.polls, self.processed = outcome, polls, processed
        self.problems: list[str] = []
        self.creates = 0
        self.poll_count: dict[str, int] = {}
        self._lock = threading.Lock()

    def _check(self, schema: str, instance: Any) -> bool:
        errors = self.spec.errors(schema, instance)
        self.problems.extend(f"{schema}: {e}" for e in errors)
        return not errors

    def _bad(self, message: str) -> FakeResponse:
        self.problems.append(message)
        return FakeResponse.json({"error": {"message": message, "type": "invalid_request_error"}}, status=400)


class FakeOpenAIBatches(_Fake):
    """OpenAI's files and batches endpoints (see the module docstring)."""

    UPLOAD_SCHEMA = "CreateFileRequest"

    def __init__(
        self,
        server: FakeServer,
        spec: Any,
        *,
        answer: Answer = _echo,
        outcome: str = "completed",
        polls: int = 2,
        processed: int = 0,
    ) -> None:
        super().__init__(server, spec, answer=answer, outcome=outcome, polls=polls, processed=processed)
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        server.route("POST /v1/files", self._upload)
        server.route("POST /v1/batches", self._create)

    def _upload(self, request: RecordedRequest) -> FakeResponse:
        parts = parse_multipart(request.body, request.headers.get("content-type", ""))
        fields = {k: v.decode() for k, v in parts.items() if k != "file"}
        if set(parts) != {"purpose", "file"}:
            return self._bad(f"the upload has fields {sorted(parts)}, expected purpose and file")
        self._check(self.UPLOAD_SCHEMA, {**fields, "file": "<binary>"})
        if fields["purpose"] != "batch":
            return self._bad("purpose must be 'batch'")
        for number, raw in enumerate(parts["file"].splitlines(), 1):
            problem = self._check_line(number, json.loads(raw))
            if problem:
                return self._bad(problem)
        with self._lock:
            file_id = f"file-in{len(self.files) + 1}"
            self.files[file_id] = parts["file"]
        return FakeResponse.json(self._file_object(file_id, len(parts["file"])))

    def _check_line(self, number: int, line: dict[str, Any]) -> str | None:
        if set(line) != {"custom_id", "method", "url", "body"} or line["method"] != "POST":
            return f"input line {number} is not a batch request line: {sorted(line)}"
        if line["url"] != "/v1/chat/completions":
            return f"input line {number} has url {line['url']!r}"
        self._check("CreateChatCompletionRequest", line["body"])
        return None

    def _file_object(self, file_id: str, size: int) -> dict[str, Any]:
        obj = {
            "id": file_id,
            "object": "file",
            "bytes": size,
            "created_at": 1_700_000_000,
            "filename": "chatpipe-batch.jsonl",
            "purpose": "batch",
            "status": "processed",
        }
        self._check("OpenAIFile", obj)
        return obj

    def _create(self, request: RecordedRequest) -> FakeResponse:
        body = request.json
        if not self._check("CreateBatchRequest", body):
            return self._bad("invalid CreateBatchRequest")
        if body["input_file_id"] not in self.files:
            return self._bad(f"unknown input file {body['input_file_id']}")
        batch_id = self._new_batch(body["input_file_id"], body["endpoint"])
        self.server.route(f"GET /v1/batches/{batch_id}", self._poll)
        return self._object(batch_id)

    def _new_batch(self, file_id: str, endpoint: str) -> str:
        with self._lock:
            self.creates += 1
            batch_id = f"batch_{self.creates}"
            self.batches[batch_id] = {
                "id": batch_id,
                "object": "batch",
                "endpoint": endpoint,
                "input_file_id": file_id,
                "completion_window": "24h",
                "status": "validating",
                "created_at": 1_700_000_000,
                "request_counts": {"total": 0, "completed": 0, "failed": 0},
            }
            self.poll_count[batch_id] = 0
        return batch_id

    def _object(self, batch_id: str) -> FakeResponse:
        # The spec types output_file_id & co. as strings (not nullable): fields without a value are left out.
        obj = self.batches[batch_id]
        self._check("Batch", obj)
        return FakeResponse.json(obj)

    def _poll(self, request: RecordedRequest) -> FakeResponse:
        batch_id = request.route.rsplit("/", 1)[1]
        with self._lock:
            self.poll_count[batch_id] += 1
            batch = self.batches[batch_id]
            lines = [json.loads(raw) for raw in self.files[batch["input_file_id"]].splitlines()]
            if self.poll_count[batch_id] < self.polls:
                batch.update(status="in_progress", request_counts={"total": len(lines), "completed": 0, "failed": 0})
            elif batch["status"] == "in_progress" or batch["status"] == "validating":
                self._finish(batch, lines)
        return self._object(batch_id)

    def _finish(self, batch: dict[str, Any], lines: list[dict[str, Any]]) -> None:
        if self.outcome == "failed":
            batch.update(
                status="failed",
                errors={"object": "list", "data": [{"code": "invalid_model", "message": "no such model", "line": 1}]},
            )
            return
        run = lines[: self.processed] if self.outcome == "expired" else lines
        output, errors = [], []
        for n, line in enumerate(run):
            verdict = self.answer(line["custom_id"], line["body"])
            rid = f"req_{n}"
            if verdict is None:
                body = self._reply(n, line["custom_id"], line["body"]["model"])
                output.append(
                    {
                        "id": f"batch_req_{n}",
                        "custom_id": line["custom_id"],
                        "response": {"status_code": 200, "request_id": rid, "body": body},
                        "error": None,
                    }
                )
            else:
                status, kind, message = verdict
                body = {"error": {"message": message, "type": kind, "param": None, "code": kind}}
                errors.append(
                    {
                        "id": f"batch_req_{n}",
                        "custom_id": line["custom_id"],
                        "response": {"status_code": status, "request_id": rid, "body": body},
                        "error": None,
                    }
                )
        batch_id = batch["id"]
        for kind, rows in (("output", output), ("error", errors)):
            if rows:
                file_id = f"file-{kind}-{batch_id}"
                self.files[file_id] = b"".join(json.dumps(r).encode() + b"\n" for r in rows)
                batch[f"{kind}_file_id"] = file_id
                self.server.route(f"GET /v1/files/{file_id}/content", self._content)
        batch.update(
            status="completed" if self.outcome == "completed" else "expired",
            request_counts={"total": len(lines), "completed": len(output), "failed": len(errors)},
        )

    def _reply(self, n: int, custom_id: str, model: str) -> dict[str, Any]:
        body = {
            "id": f"chatcmpl-{n}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": f"echo {custom_id}", "refusal": None},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        }
        self._check("CreateChatCompletionResponse", body)
        return body

    def _content(self, request: RecordedRequest) -> FakeResponse:
        file_id = request.route.split("/")[3]
        return FakeResponse.text(self.files[file_id].decode(), content_type="application/jsonl")


class FakeMistralBatches(FakeOpenAIBatches):
    """Mistral's files and batch-jobs endpoints: OpenAI's flow with Mistral's shapes (``mistral.yaml``).

    The jobs are kept in OpenAI's shape inside and shown as Mistral ``BatchJob`` objects.
    """

    UPLOAD_SCHEMA = "#/paths/~1v1~1files/post/requestBody/content/multipart~1form-data/schema"
    STATUS: ClassVar[dict[str, str]] = {
        "validating": "QUEUED",
        "in_progress": "RUNNING",
        "completed": "SUCCESS",
        "failed": "FAILED",
        "expired": "TIMEOUT_EXCEEDED",
    }

    def __init__(self, server: FakeServer, spec: Any, **kwargs: Any) -> None:
        super().__init__(server, spec, **kwargs)
        server.route("POST /v1/batch/jobs", self._create_job)
        self.models: dict[str, str] = {}

    def _check_line(self, number: int, line: dict[str, Any]) -> str | None:
        if set(line) != {"custom_id", "body"}:
            return f"input line {number} is not a Mistral batch line: {sorted(line)}"
        self._check("BatchRequest", line)
        self._check("ChatCompletionRequest", line["body"])
        return None

    def _file_object(self, file_id: str, size: int) -> dict[str, Any]:
        obj = {
            "id": file_id,
            "object": "file",
            "bytes": size,
            "created_at": 1_700_000_000,
            "filename": "chatpipe-batch.jsonl",
            "purpose": "batch",
            "sample_type": "batch_request",
            "source": "upload",
        }
        self._check("CreateFileResponse", obj)
        return obj

    def _reply(self, n: int, custom_id: str, model: str) -> dict[str, Any]:
        body = {
            "id": f"cmpl-{n}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": f"echo {custom_id}"}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
        }
        # ChatCompletionResponse itself requires a 'data' field no reply has (a defect of the
        # file): its base and each choice are checked instead.
        self._check("ChatCompletionResponseBase", body)
        for choice in body["choices"]:
            self._check("ChatCompletionChoice", choice)
        return body

    def _create_job(self, request: RecordedRequest) -> FakeResponse:
        body = request.json
        if not self._check("CreateBatchJobRequest", body) or len(body.get("input_files") or []) != 1:
            return self._bad("invalid CreateBatchJobRequest")
        [file_id] = body["input_files"]
        models = {json.loads(raw)["body"].get("model") for raw in self.files[file_id].splitlines()}
        if models != {body["model"]}:
            return self._bad(f"the job's model {body['model']!r} is not the lines' {sorted(models)}")
        batch_id = self._new_batch(file_id, body["endpoint"])
        self.models[batch_id] = body["model"]
        self.server.route(f"GET /v1/batch/jobs/{batch_id}", self._poll)
        return self._object(batch_id)

    def _object(self, batch_id: str) -> FakeResponse:
        batch = self.batches[batch_id]
        counts = batch["request_counts"]
        obj = {
            "id": batch_id,
            "object": "batch",
            "input_files": [batch["input_file_id"]],
            "endpoint": batch["endpoint"],
            "model": self.models.get(batch_id),
            "output_file": batch.get("output_file_id"),
            "error_file": batch.get("error_file_id"),
            "errors": [{"message": e["message"]} for e in (batch.get("errors") or {}).get("data", [])],
            "status": self.STATUS[batch["status"]],
            "created_at": batch["created_at"],
            "total_requests": counts["total"],
            "completed_requests": counts["completed"] + counts["failed"],
            "succeeded_requests": counts["completed"],
            "failed_requests": counts["failed"],
        }
        self._check("BatchJob", obj)
        return FakeResponse.json(obj)


class FakeAnthropicBatches(_Fake):
    """Anthropic's Message Batches endpoints (see the module docstring)."""

    def __init__(
        self,
        server: FakeServer,
        spec: Any,
        *,
        answer: Answer = _echo,
        outcome: str = "ended",
        polls: int = 2,
        processed: int = 0,
    ) -> None:
        super().__init__(server, spec, answer=answer, outcome=outcome, polls=polls, processed=processed)
        self.batches: dict[str, dict[str, Any]] = {}
        self.requests: dict[str, list[dict[str, Any]]] = {}
        self.results: dict[str, bytes] = {}
        server.route("POST /v1/messages/batches", self._create)

    def _create(self, request: RecordedRequest) -> FakeResponse:
        body = request.json
        if not self._check("BetaCreateMessageBatchParams", body):
            return self._bad("invalid BetaCreateMessageBatchParams")
        with self._lock:
            self.creates += 1
            batch_id = f"msgbatch_{self.creates:04d}"
            self.requests[batch_id] = body["requests"]
            self.batches[batch_id] = {
                "id": batch_id,
                "type": "message_batch",
                "processing_status": "in_progress",
                "request_counts": {
                    "processing": len(body["requests"]),
                    "succeeded": 0,
                    "errored": 0,
                    "canceled": 0,
                    "expired": 0,
                },
                "ended_at": None,
                "created_at": "2026-12-01T10:00:00Z",
                "expires_at": "2026-12-02T10:00:00Z",
                "archived_at": None,
                "cancel_initiated_at": None,
                "results_url": None,
            }
            self.poll_count[batch_id] = 0
        self.server.route(f"GET /v1/messages/batches/{batch_id}", self._poll)
        return self._object(batch_id)

    def _object(self, batch_id: str) -> FakeResponse:
        obj = self.batches[batch_id]
        self._check("BetaMessageBatch", obj)
        return FakeResponse.json(obj)

    def _poll(self, request: RecordedRequest) -> FakeResponse:
        batch_id = request.route.rsplit("/", 1)[1]
        with self._lock:
            self.poll_count[batch_id] += 1
            if self.poll_count[batch_id] >= self.polls and self.batches[batch_id]["processing_status"] != "ended":
                self._finish(batch_id)
        return self._object(batch_id)

    def _finish(self, batch_id: str) -> None:
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        rows = []
        for n, entry in enumerate(self.requests[batch_id]):
            custom_id, params = entry["custom_id"], entry["params"]
            if self.outcome == "expired" and n >= self.processed:
                result: dict[str, Any] = {"type": "expired"}
            elif (verdict := self.answer(custom_id, params)) is None:
                message = {
                    "id": f"msg_{n}",
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "text", "text": f"echo {custom_id}"}],
                    "model": params["model"],
                    "stop_reason": "end_turn",
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": 3,
                        "output_tokens": 2,
                        "cache_creation_input_tokens": 0,
                        "cache_read_input_tokens": 0,
                    },
                }
                result = {"type": "succeeded", "message": message}
            else:
                _, kind, text = verdict
                result = {"type": "errored", "error": {"type": "error", "error": {"type": kind, "message": text}}}
            counts[result["type"]] += 1
            row = {"custom_id": custom_id, "result": result}
            self._check("BetaMessageBatchIndividualResponse", row)
            rows.append(row)
        url = f"{self.server.url}/v1/messages/batches/{batch_id}/results"
        self.results[batch_id] = b"".join(json.dumps(r).encode() + b"\n" for r in reversed(rows))
        self.server.route(f"GET /v1/messages/batches/{batch_id}/results", self._download)
        self.batches[batch_id].update(
            processing_status="ended", request_counts=counts, ended_at="2026-12-01T11:00:00Z", results_url=url
        )

    def _download(self, request: RecordedRequest) -> FakeResponse:
        batch_id = request.route.split("/")[4]
        return FakeResponse.text(self.results[batch_id].decode(), content_type="application/binary")
