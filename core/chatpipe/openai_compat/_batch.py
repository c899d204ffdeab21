"""OpenAI's batch API (files + ``/v1/batches``), sans-IO, on top of an OpenAI-compatible adapter.

The flow (OpenAI's "Batch API" guide; request and object shapes per ``openai.yaml``):

* every request becomes one JSONL line ``{"custom_id", "method": "POST", "url":
  "/v1/chat/completions", "body"}`` whose ``body`` is the adapter's own ``build_chat`` body;
* :meth:`OpenAIBatchAPI.upload`: ``POST {base}/files`` as ``multipart/form-data`` with
  ``purpose=batch`` and the lines as the file; :meth:`~OpenAIBatchAPI.create`: ``POST
  {base}/batches`` ``{"input_file_id", "endpoint": "/v1/chat/completions",
  "completion_window": "24h"}``;
* :meth:`~OpenAIBatchAPI.poll`: ``GET {base}/batches/{id}``; statuses ``validating``,
  ``in_progress``, ``finalizing`` and ``cancelling`` are :data:`in_progress
  <chatpipe.provider.BatchState>`, ``completed`` is ``ended``;
* :meth:`~OpenAIBatchAPI.results`: ``GET {base}/files/{id}/content`` of the output file and of
  the error file; each line ``{"custom_id", "response": {"status_code", "request_id", "body"},
  "error"}`` is parsed with the adapter's ``parse_chat`` (2xx) or ``parse_error``.

Limits of one batch: 50,000 requests and a 200 MB input file, all to the same model
(:meth:`OpenAIBatchAPI.batch_group`).
"""

from __future__ import annotations

import json
import secrets as _random
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import InvalidRequestError, ProviderError
from ..http import HttpRequest, HttpResponse
from ..models import ChatResponse
from ..provider import BatchState, BatchStatus, VendorBatchAPI
from ..vendor import ErrorDetails, MalformedPayload, join_url, loads_json, make_error

if TYPE_CHECKING:
    from ._provider import OpenAICompatibleProvider

__all__ = ["OpenAIBatchAPI", "jsonl"]

ENDPOINT = "/v1/chat/completions"
STATES: Mapping[str, BatchState] = {
    "validating": "in_progress",
    "in_progress": "in_progress",
    "finalizing": "in_progress",
    "cancelling": "in_progress",
    "completed": "ended",
    "failed": "failed",
    "expired": "expired",
    "cancelled": "cancelled",
}
"""OpenAI's batch statuses as chatpipe's states."""


def jsonl(lines: Sequence[Mapping[str, Any]]) -> bytes:
    """``lines`` as JSON Lines: compact UTF-8 JSON, one object per ``\\n``-terminated line."""
    return b"".join(
        json.dumps(line, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode() + b"\n" for line in lines
    )


def _multipart(fields: Mapping[str, str], name: str, filename: str, data: bytes) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body of ``fields`` and one file part; returns ``(body, content type)``."""
    boundary = f"chatpipe-{_random.token_hex(16)}"
    while boundary.encode() in data:  # never for JSON lines in practice; cheap to make sure
        boundary = f"chatpipe-{_random.token_hex(16)}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        "Content-Type: application/jsonl\r\n\r\n"
    ).encode()
    body = b"".join([*parts, head, data, f"\r\n--{boundary}--\r\n".encode()])
    return body, f"multipart/form-data; boundary={boundary}"


class OpenAIBatchAPI(VendorBatchAPI):
    """OpenAI's files + batches API for ``adapter`` (its base URL, headers, key and parsers).

    Only chat-completion requests can be batched: a request the adapter sends to
    ``/completions`` (a legacy text-completion model) is refused by :meth:`batch_line`.
    """

    max_requests: ClassVar[int] = 50_000
    max_bytes: ClassVar[int] = 200 * 1000 * 1000

    def __init__(self, adapter: OpenAICompatibleProvider) -> None:
        self.adapter = adapter

    def _name(self) -> str:
        return self.adapter.info.name

    def _request(self, method: str, path: str, *, json_body: Any = None) -> HttpRequest:
        headers, secret = self.adapter.headers()
        if json_body is None:
            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        return HttpRequest(
            method, join_url(self.adapter.base_url, path), headers=headers, json=json_body, secret_headers=secret
        )

    def _protocol(self, problem: str, response: HttpResponse) -> ProviderError:
        return self.adapter._protocol_error(problem, response.content, response.status, response.request_id)

    # --- building -------------------------------------------------------------------------

    def batch_line(self, custom_id: str, request: HttpRequest) -> dict[str, Any]:
        """``{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body": <request's body>}``."""
        if not request.url.endswith(self.adapter.chat_path):
            raise InvalidRequestError(
                f"{self._name()}'s batch API takes chat completions only; this model is served by "
                "/completions (a legacy text-completion model): run it without --vendor-batch"
            )
        return {"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": request.json}

    def batch_group(self, line: Mapping[str, Any]) -> str:
        """The line's model: an OpenAI batch file holds requests to one model only."""
        return str(line["body"].get("model", ""))

    def upload(self, lines: Sequence[Mapping[str, Any]]) -> HttpRequest:
        """``POST {base}/files``: multipart ``purpose=batch`` and ``file`` (the lines as JSONL)."""
        body, content_type = _multipart({"purpose": "batch"}, "file", "chatpipe-batch.jsonl", jsonl(lines))
        headers, secret = self.adapter.headers()
        headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        headers["Content-Type"] = content_type
        return HttpRequest(
            "POST", join_url(self.adapter.base_url, "/files"), headers=headers, content=body, secret_headers=secret
        )

    def parse_upload(self, response: HttpResponse) -> str:
        """The ``id`` of the ``OpenAIFile`` object answering the upload."""
        data = self._json(response)
        file_id = data.get("id") if isinstance(data, Mapping) else None
        if not isinstance(file_id, str) or not file_id:
            raise self._protocol("the file upload's answer has no file 'id'", response)
        return file_id

    def create(self, lines: Sequence[Mapping[str, Any]], file_id: str | None) -> HttpRequest:
        """``POST {base}/batches`` for the uploaded ``file_id`` (24-hour window)."""
        if not file_id:
            raise InvalidRequestError("an OpenAI batch is created from an uploaded file: upload the lines first")
        body = {"input_file_id": file_id, "endpoint": ENDPOINT, "completion_window": "24h"}
        return self._request("POST", "/batches", json_body=body)

    def poll(self, batch_id: str) -> HttpRequest:
        """``GET {base}/batches/{batch_id}``."""
        return self._request("GET", f"/batches/{_path_id(batch_id)}")

    def results(self, status: BatchStatus) -> list[HttpRequest]:
        """``GET {base}/files/{id}/content`` for the output file and the error file, when there are any."""
        return [self._request("GET", f"/files/{_path_id(file_id)}/content") for file_id in status.results]

    # --- parsing --------------------------------------------------------------------------

    def parse_batch(self, response: HttpResponse) -> BatchStatus:
        """A ``Batch`` object as a :class:`~chatpipe.provider.BatchStatus`."""
        data = self._json(response)
        if not isinstance(data, Mapping):
            raise self._protocol("the batch answer is not a JSON object", response)
        batch_id, vendor = data.get("id"), data.get("status")
        if not isinstance(batch_id, str) or not batch_id or not isinstance(vendor, str) or vendor not in STATES:
            raise self._protocol("the batch object lacks an 'id' or a known 'status'", response)
        counts = data.get("request_counts")
        files = tuple(
            value
            for value in (data.get("output_file_id"), data.get("error_file_id"))
            if isinstance(value, str) and value
        )
        return BatchStatus(
            id=batch_id,
            state=STATES[vendor],
            counts={k: v for k, v in counts.items() if isinstance(v, int)} if isinstance(counts, Mapping) else {},
            results=files,
            detail=_batch_errors(data.get("errors")),
            vendor_status=vendor,
        )

    def parse_results(self, response: HttpResponse) -> Iterator[tuple[str, ChatResponse | ProviderError]]:
        """Each output/error-file line as ``(custom_id, reply or typed error)``.

        A ``response`` without ``status_code`` but with a ``body`` counts as a 200 (vendors
        copying OpenAI's format do not all send it).
        """
        for number, raw in enumerate(response.content.splitlines(), 1):
            if not raw.strip():
                continue
            try:
                line = loads_json(raw)
                if not isinstance(line, Mapping) or not isinstance(line.get("custom_id"), str):
                    raise MalformedPayload("no 'custom_id'")
            except (ValueError, MalformedPayload) as exc:
                raise self._protocol(f"line {number} of the batch results is malformed ({exc})", response) from None
            yield line["custom_id"], self._result(line)

    def _result(self, line: Mapping[str, Any]) -> ChatResponse | ProviderError:
        reply = line.get("response")
        status = reply.get("status_code", 200 if "body" in reply else None) if isinstance(reply, Mapping) else None
        if isinstance(reply, Mapping) and isinstance(status, int):
            rid = reply.get("request_id")
            headers = {"x-request-id": rid} if isinstance(rid, str) else {}
            body = reply.get("body")
            content = json.dumps(body, ensure_ascii=False).encode() if not isinstance(body, str) else body.encode()
            http = HttpResponse(status, headers, content)
            try:
                if http.status >= 400:
                    return self.adapter.parse_error(http)
                return self.adapter.parse_chat(http)
            except ProviderError as error:
                error.__context__ = None
                return error
        failure = line.get("error")
        details = (
            ErrorDetails(
                message=str(failure.get("message") or "the request failed in the batch"),
                code=failure.get("code") if isinstance(failure.get("code"), str) else None,
            )
            if isinstance(failure, Mapping)
            else ErrorDetails(message="the batch result line has neither a response nor an error")
        )
        return make_error(
            details,
            provider=self._name(),
            status=None,
            headers={},
            body=json.dumps(line, ensure_ascii=False),
            secrets=self.adapter.secrets(),
        )


def _batch_errors(errors: Any) -> str | None:
    """The messages of a batch's ``errors.data`` (why it failed), joined; ``None`` when there are none."""
    data = errors.get("data") if isinstance(errors, Mapping) else None
    if not isinstance(data, list):
        return None
    texts = []
    for item in data[:5]:
        if isinstance(item, Mapping):
            where = f" (line {item['line']})" if isinstance(item.get("line"), int) else ""
            texts.append(f"{item.get('code') or 'error'}: {item.get('message') or ''}{where}".strip())
    return "; ".join(texts) or None


def _path_id(value: str) -> str:
    """``value`` safe as one URL path segment (vendor ids are ``[A-Za-z0-9_-]``)."""
    from urllib.parse import quote

    return quote(value, safe="")
