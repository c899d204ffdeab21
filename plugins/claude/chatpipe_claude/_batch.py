"""Anthropic's Message Batches API (``/v1/messages/batches``), sans-IO (docs/vendor-batch.md).

* No upload: the requests go inline, ``POST {base}/v1/messages/batches`` with ``{"requests":
  [{"custom_id", "params": <the adapter's own Messages body>}]}``;
* ``GET {base}/v1/messages/batches/{id}`` polls: ``processing_status`` ``in_progress`` and
  ``canceling`` are still running, ``ended`` is over (each request then has a result:
  ``succeeded``, ``errored``, ``canceled`` or ``expired``);
* ``GET results_url`` downloads the results as JSON lines ``{"custom_id", "result"}``. The
  URL comes from the batch object; it is fetched with the key only when it is on the host of
  the configured base URL (a results URL elsewhere is a :class:`ProtocolError`: the key never
  goes to another host).

Limits of one batch: 100,000 requests and 256 MB. The shapes follow ``anthropic.yaml``
(``BetaCreateMessageBatchParams``, ``BetaMessageBatch``, ``BetaMessageBatchIndividualResponse``);
the API is generally available now, without the ``?beta=true`` / ``anthropic-beta`` of that
snapshot.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from chatpipe.plugin import (
    BatchStatus,
    ChatResponse,
    HttpRequest,
    HttpResponse,
    ProtocolError,
    ProviderError,
    VendorBatchAPI,
    batch_item_not_processed,
    join_url,
    loads_json,
)

from ._errors import TYPE_STATUS

if TYPE_CHECKING:
    from ._provider import ClaudeProvider

__all__ = ["BATCHES_PATH", "ClaudeBatchAPI"]

BATCHES_PATH = "/v1/messages/batches"


class ClaudeBatchAPI(VendorBatchAPI):
    """Anthropic's Message Batches API for ``adapter`` (its base URL, headers, key and parsers)."""

    max_requests: ClassVar[int] = 100_000
    max_bytes: ClassVar[int] = 256 * 1000 * 1000

    def __init__(self, adapter: ClaudeProvider) -> None:
        self.adapter = adapter

    def _request(self, method: str, url: str, *, json_body: Any = None) -> HttpRequest:
        headers, secret = self.adapter.headers(body=json_body is not None)
        return HttpRequest(method, url, headers=headers, json=json_body, secret_headers=secret)

    def _protocol(self, problem: str, response: HttpResponse) -> ProtocolError:
        return self.adapter._protocol_error(problem, response.content, response)

    # --- building -------------------------------------------------------------------------

    def batch_line(self, custom_id: str, request: HttpRequest) -> dict[str, Any]:
        """``{"custom_id", "params": <request's Messages body>}`` (without ``stream``: a batch never streams)."""
        params = {k: v for k, v in dict(request.json).items() if k != "stream"}
        return {"custom_id": custom_id, "params": params}

    def upload(self, lines: Sequence[Mapping[str, Any]]) -> None:
        """None: the requests go inline in :meth:`create`."""
        return None

    def create(self, lines: Sequence[Mapping[str, Any]], file_id: str | None) -> HttpRequest:
        """``POST {base}/v1/messages/batches`` with ``{"requests": lines}``."""
        return self._request("POST", join_url(self.adapter.base_url, BATCHES_PATH), json_body={"requests": list(lines)})

    def poll(self, batch_id: str) -> HttpRequest:
        """``GET {base}/v1/messages/batches/{batch_id}``."""
        segment = urllib.parse.quote(batch_id, safe="")
        return self._request("GET", join_url(self.adapter.base_url, f"{BATCHES_PATH}/{segment}"))

    def results(self, status: BatchStatus) -> list[HttpRequest]:
        """``GET results_url`` (refused unless it is on the base URL's host and scheme)."""
        requests = []
        for url in status.results:
            if _origin(url) != _origin(self.adapter.base_url):
                raise ProtocolError(
                    f"batch {status.id}'s results_url is on another host than the base URL; it is not fetched "
                    "with the API key",
                    provider=self.adapter.info.name,
                )
            requests.append(self._request("GET", url))
        return requests

    # --- parsing --------------------------------------------------------------------------

    def parse_batch(self, response: HttpResponse) -> BatchStatus:
        """A ``message_batch`` object as a :class:`BatchStatus` (an ended batch: ``ended``)."""
        data = self._json(response)
        if not isinstance(data, Mapping):
            raise self._protocol("the batch answer is not a JSON object", response)
        batch_id, vendor = data.get("id"), data.get("processing_status")
        if not isinstance(batch_id, str) or not batch_id or vendor not in ("in_progress", "canceling", "ended"):
            raise self._protocol("the batch object lacks an 'id' or a known 'processing_status'", response)
        counts = data.get("request_counts")
        url = data.get("results_url")
        return BatchStatus(
            id=batch_id,
            state="ended" if vendor == "ended" else "in_progress",
            counts={k: v for k, v in counts.items() if isinstance(v, int)} if isinstance(counts, Mapping) else {},
            results=(url,) if isinstance(url, str) and url and vendor == "ended" else (),
            vendor_status=vendor,
        )

    def parse_results(self, response: HttpResponse) -> Iterator[tuple[str, ChatResponse | ProviderError]]:
        """Each results line as ``(custom_id, reply or typed error)``."""
        for number, raw in enumerate(response.content.splitlines(), 1):
            if not raw.strip():
                continue
            try:
                line = loads_json(raw)
            except ValueError:
                line = None
            result = line.get("result") if isinstance(line, Mapping) else None
            if not isinstance(line, Mapping) or not isinstance(line.get("custom_id"), str):
                raise self._protocol(f"line {number} of the batch results has no 'custom_id'", response)
            if not isinstance(result, Mapping):
                raise self._protocol(f"line {number} of the batch results has no 'result' object", response)
            yield line["custom_id"], self._result(result)

    def _result(self, result: Mapping[str, Any]) -> ChatResponse | ProviderError:
        kind = result.get("type")
        name = self.adapter.info.name
        try:
            if kind == "succeeded":
                body = json.dumps(result.get("message"), ensure_ascii=False).encode()
                return self.adapter.parse_chat(HttpResponse(200, {}, body))
            if kind == "errored":
                envelope = result.get("error")
                inner = envelope.get("error") if isinstance(envelope, Mapping) else None
                error_type = inner.get("type") if isinstance(inner, Mapping) else None
                status = TYPE_STATUS.get(error_type, 500) if isinstance(error_type, str) else 500
                request_id = envelope.get("request_id") if isinstance(envelope, Mapping) else None
                headers = {"request-id": request_id} if isinstance(request_id, str) else {}
                body = json.dumps(envelope, ensure_ascii=False).encode()
                return self.adapter.parse_error(HttpResponse(status, headers, body))
        except ProviderError as error:
            error.__context__ = None
            return error
        if kind in ("expired", "canceled"):
            return batch_item_not_processed("expired" if kind == "expired" else "cancelled", provider=name)
        return ProtocolError(f"unknown batch result type {kind!r}", provider=name)


def _origin(url: str) -> tuple[str, str | None, int | None]:
    try:
        parts = urllib.parse.urlsplit(url.strip())
        return parts.scheme.lower(), parts.hostname, parts.port
    except ValueError:
        return "", None, None
