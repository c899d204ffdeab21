"""Mistral's batch API (files + ``/v1/batch/jobs``), sans-IO: OpenAI's flow with Mistral's shapes.

What differs from OpenAI's (``OpenAIBatchAPI``, whose upload, result download and result
parsing this reuses), per ``mistral.yaml`` and Mistral's "Batch Inference" guide:

* a line is ``{"custom_id", "body"}`` (no ``method``/``url``); the body is the adapter's own;
* ``POST {base}/batch/jobs`` ``{"input_files": [id], "endpoint": "/v1/chat/completions",
  "model", "timeout_hours": 24}`` creates the job (one model per job: the lines' model);
* ``GET {base}/batch/jobs/{id}`` polls: ``QUEUED``, ``RUNNING`` and ``CANCELLATION_REQUESTED``
  are still running, ``SUCCESS`` is ``ended``, ``FAILED`` ``failed``, ``TIMEOUT_EXCEEDED``
  ``expired``, ``CANCELLED`` ``cancelled``; results are in ``output_file`` / ``error_file``.

Limits of one job: 100,000 requests and a 512 MB file (Mistral's "Known limitations").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from chatpipe.plugin import (
    BatchState,
    BatchStatus,
    HttpRequest,
    HttpResponse,
    InvalidRequestError,
    OpenAIBatchAPI,
)

__all__ = ["MistralBatchAPI"]

STATES: Mapping[str, BatchState] = {
    "QUEUED": "in_progress",
    "RUNNING": "in_progress",
    "CANCELLATION_REQUESTED": "in_progress",
    "SUCCESS": "ended",
    "FAILED": "failed",
    "TIMEOUT_EXCEEDED": "expired",
    "CANCELLED": "cancelled",
}
ENDPOINT = "/v1/chat/completions"


class MistralBatchAPI(OpenAIBatchAPI):
    """Mistral's batch jobs for a Mistral adapter (see the module docstring)."""

    max_requests: ClassVar[int] = 100_000
    max_bytes: ClassVar[int] = 512 * 1000 * 1000

    def batch_line(self, custom_id: str, request: HttpRequest) -> dict[str, Any]:
        """``{"custom_id", "body": <request's body>}``."""
        super().batch_line(custom_id, request)  # the same refusal of non-chat requests
        return {"custom_id": custom_id, "body": request.json}

    def create(self, lines: Sequence[Mapping[str, Any]], file_id: str | None) -> HttpRequest:
        """``POST {base}/batch/jobs`` for the uploaded file, with the lines' model and a 24-hour timeout."""
        if not file_id or not lines:
            raise InvalidRequestError("a Mistral batch job is created from an uploaded file: upload the lines first")
        body = {
            "input_files": [file_id],
            "endpoint": ENDPOINT,
            "model": self.batch_group(lines[0]),
            "timeout_hours": 24,
        }
        return self._request("POST", "/batch/jobs", json_body=body)

    def poll(self, batch_id: str) -> HttpRequest:
        """``GET {base}/batch/jobs/{batch_id}``."""
        from urllib.parse import quote

        return self._request("GET", f"/batch/jobs/{quote(batch_id, safe='')}")

    def parse_batch(self, response: HttpResponse) -> BatchStatus:
        """A ``BatchJob`` object as a :class:`BatchStatus`."""
        data = self._json(response)
        if not isinstance(data, Mapping):
            raise self._protocol("the batch job answer is not a JSON object", response)
        job_id, vendor = data.get("id"), data.get("status")
        if not isinstance(job_id, str) or not job_id or not isinstance(vendor, str) or vendor not in STATES:
            raise self._protocol("the batch job lacks an 'id' or a known 'status'", response)
        files = tuple(v for v in (data.get("output_file"), data.get("error_file")) if isinstance(v, str) and v)
        counts = {
            key: data[f"{key}_requests"]
            for key in ("total", "completed", "succeeded", "failed")
            if isinstance(data.get(f"{key}_requests"), int)
        }
        errors = data.get("errors")
        detail = (
            "; ".join(str(e.get("message")) for e in errors[:5] if isinstance(e, Mapping) and e.get("message"))
            if isinstance(errors, list)
            else ""
        )
        return BatchStatus(
            id=job_id, state=STATES[vendor], counts=counts, results=files, detail=detail or None, vendor_status=vendor
        )
