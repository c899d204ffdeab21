"""Run conversations through a vendor's batch API: build, submit, poll, download (the I/O).

:func:`run_vendor_batch` is what ``chatpipe batch --vendor-batch`` calls. The vendor part is
sans-IO (:class:`~chatpipe.provider.VendorBatchAPI`, from the pipeline's adapter); this
module sends its requests through the pipeline's transport and keeps the state that makes a
run resumable:

* every item's request is built by the pipeline itself (the user's converters, the provider's
  required ones, the adapter's ``build_chat``): the batch line's body is the body a direct call
  would send. An item whose request cannot be built gets its error at once;
* items are cut into batches within the vendor's limits (requests and bytes per batch, and
  the lines a batch may mix: :meth:`~chatpipe.provider.VendorBatchAPI.batch_group`, e.g. one
  model per OpenAI batch): a larger input becomes several batches, never an error;
* the **state file** records each batch the moment it is created — its id and, per item, the
  ``custom_id`` and a digest of its line — written atomically *before* any polling. A rerun
  with the state file resumes polling the recorded batches: an item already in a recorded
  batch is never submitted again (paying twice is what this prevents); only items in no
  recorded batch are submitted. An item whose line no longer matches its digest (the input
  changed) stops the run with an error saying how to fix it;
* when a batch is over, its results are downloaded and each item's reply or typed error is
  handed to ``on_result``; an item the batch never ran (expired, cancelled, failed batch, or
  simply absent from the results) gets an error too — no item is ever lost.

The state file is kept after the run (a rerun then downloads the same results again instead
of submitting); delete it to submit the same input anew.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from .._files import write_atomically
from ..errors import ChatpipeError, ConfigError, InvalidRequestError, ProviderError
from ..http import HttpRequest, HttpResponse, safe_url
from ..models import ChatResponse
from ..provider import BatchStatus, Provider, VendorBatchAPI, batch_item_not_processed
from ._items import BatchItem
from ._runner import Result

if TYPE_CHECKING:
    from ..pipeline import Pipeline
    from ._runner import BatchSummary

__all__ = [
    "STATE_VERSION",
    "OnResult",
    "VendorBatchSummary",
    "custom_id_for",
    "providers_with_batch_api",
    "run_vendor_batch",
    "run_vendor_batch_file",
]

STATE_VERSION = 1

OnResult = Callable[[str, Result], None]
"""``on_result(item_id, result)``: called once per item, in no particular order."""

_CUSTOM_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_LINE_MARGIN = 64 * 1024  # room for the request envelope around the lines (Anthropic sends them inline)


@attrs.frozen
class VendorBatchSummary:
    """What a run did: the batches it ``submitted`` and ``resumed`` (ids), and how many items
    ended ``succeeded`` or ``failed`` (errors at build time included)."""

    submitted: tuple[str, ...] = ()
    resumed: tuple[str, ...] = ()
    succeeded: int = 0
    failed: int = 0


def custom_id_for(item_id: str) -> str:
    """The ``custom_id`` an item is sent under: its id when it is 1-64 characters of
    ``[A-Za-z0-9_-]`` (every vendor's rule), else ``h-`` and 40 hex digits of its SHA-256."""
    if _CUSTOM_ID.match(item_id):
        return item_id
    return "h-" + hashlib.sha256(item_id.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def _digest(line: Mapping[str, Any]) -> str:
    canonical = json.dumps(line, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _size(line: Mapping[str, Any]) -> int:
    return len(json.dumps(line, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()) + 1


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def providers_with_batch_api(pipe: Pipeline) -> list[str]:
    """The names of the installed providers whose adapter has a batch API (for error messages)."""
    names = []
    for info in pipe.registry.provider_infos():
        try:
            cls = pipe.registry.provider(info.name)
        except ChatpipeError:
            continue
        if cls.batch_api is not Provider.batch_api:
            names.append(info.name)
    return sorted(names)


# --- the state file ------------------------------------------------------------------------


@attrs.define
class _State:
    """The state file's content: the provider, its base URL and each batch created."""

    path: Path
    provider: str
    base_url: str
    created: str
    batches: list[dict[str, Any]] = attrs.field(factory=list)

    @classmethod
    def load(cls, path: Path, provider: str, base_url: str) -> _State:
        """The state in ``path`` (a fresh one when there is no file); refuses another run's file."""
        if not path.exists():
            return cls(path, provider, base_url, _now())
        fix = f"delete {path} to submit the input anew (its batches are still billed), or use another state file"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("version") != STATE_VERSION or not isinstance(data.get("batches"), list):
                raise ValueError("unknown version")
            batches = [dict(b) for b in data["batches"] if isinstance(b["id"], str) and isinstance(b["items"], dict)]
        except (OSError, ValueError, TypeError, AttributeError, KeyError) as exc:
            raise ConfigError(f"the vendor-batch state file {path} is unreadable ({exc}); {fix}") from None
        if data.get("provider") != provider or data.get("base_url") != base_url:
            raise ConfigError(
                f"the vendor-batch state file {path} belongs to provider {data.get('provider')!r} at "
                f"{data.get('base_url')!r}, not {provider!r} at {base_url!r}; {fix}"
            )
        return cls(path, provider, base_url, str(data.get("created") or _now()), batches)

    def add(self, batch_id: str, items: Mapping[str, str]) -> None:
        """Record a created batch and its items (``custom_id -> digest``), then save at once."""
        self.batches.append({"id": batch_id, "created": _now(), "requests": len(items), "items": dict(items)})
        self.save()

    def save(self) -> None:
        """Replace the file atomically: a temporary file beside it, fsync, rename."""
        data = {
            "version": STATE_VERSION,
            "kind": "chatpipe-vendor-batch",
            "provider": self.provider,
            "base_url": self.base_url,
            "created": self.created,
            "batches": self.batches,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.path, json.dumps(data, ensure_ascii=False, separators=(",", ":")))


# --- the run -------------------------------------------------------------------------------


class _Run:
    """One run's I/O: the pipeline's transport, the batch API, the state, the results handed out."""

    def __init__(self, pipe: Pipeline, api: VendorBatchAPI, state: _State, on_result: OnResult) -> None:
        self.pipe, self.api, self.state, self._on_result = pipe, api, state, on_result
        self.owner: dict[str, str] = {}  # custom_id -> the batch id its item is in
        self.item_ids: dict[str, str] = {}  # custom_id -> item id
        self.delivered: set[str] = set()
        self.succeeded = self.failed = 0

    def deliver(self, item_id: str, result: Result) -> None:
        if isinstance(result, ChatResponse):
            self.succeeded += 1
        else:
            self.failed += 1
        self._on_result(item_id, result)

    def send(self, request: HttpRequest, *, retryable: frozenset[int] | None = None) -> HttpResponse:
        """Send ``request``; an error status raises the adapter's typed error."""
        statuses = self.pipe.provider_class.info.retryable_statuses if retryable is None else retryable
        response = self.pipe.transport.send(request, retryable=statuses)
        if response.status >= 400:
            raise self.pipe.adapter.parse_error(response)
        return response

    def submit(self, lines: list[dict[str, Any]], digests: dict[str, str]) -> BatchStatus:
        """Upload and create one batch, and record it in the state file before anything else."""
        upload = self.api.upload(lines)
        file_id = self.api.parse_upload(self.send(upload)) if upload is not None else None
        # Only a 429 is retried: another status might come after the vendor created the batch.
        status = self.api.parse_batch(self.send(self.api.create(lines, file_id), retryable=frozenset({429})))
        self.state.add(status.id, digests)
        for custom_id in digests:
            self.owner[custom_id] = status.id
        return status

    def download(self, status: BatchStatus) -> None:
        """Hand out the results of the finished batch ``status``, and an error for each item without one."""
        for request in self.api.results(status):  # a failed batch may still have some
            for custom_id, result in self.api.parse_results(self.send(request)):
                if self.owner.get(custom_id) == status.id and custom_id not in self.delivered:
                    self.delivered.add(custom_id)
                    self.deliver(self.item_ids[custom_id], result)
        reason = status.state if status.state in ("expired", "cancelled", "failed") else "missing"
        provider = self.pipe.provider_class.info.name
        for custom_id, owner in self.owner.items():
            if owner == status.id and custom_id not in self.delivered:
                self.delivered.add(custom_id)
                error = batch_item_not_processed(reason, provider=provider, batch_id=status.id, detail=status.detail)
                self.deliver(self.item_ids[custom_id], error)


@attrs.define
class _Pending:
    """The lines of one batch being filled, their digests by ``custom_id``, and their size in bytes."""

    lines: list[dict[str, Any]] = attrs.field(factory=list)
    digests: dict[str, str] = attrs.field(factory=dict)
    size: int = 0

    def add(self, line: dict[str, Any], custom_id: str, digest: str, size: int) -> None:
        self.lines.append(line)
        self.digests[custom_id] = digest
        self.size += size


def _batch_api(pipe: Pipeline) -> VendorBatchAPI:
    from ..routing import Router

    if isinstance(pipe, Router):
        names = ", ".join(t.name for t in pipe.targets)
        raise ConfigError(
            f"a vendor batch goes to one provider, and profile {pipe.profile!r} is a router; "
            f"run it with one of its targets ({names}) or without --vendor-batch"
        )
    api = pipe.adapter.batch_api()
    if api is None:
        have = ", ".join(providers_with_batch_api(pipe)) or "none installed"
        raise ConfigError(
            f"provider {pipe.provider_class.info.name!r} has no batch API; providers with one: {have} "
            "(or run without --vendor-batch)"
        )
    return api


def _request_of(pipe: Pipeline, item: BatchItem) -> HttpRequest:
    params = dict(item.params)
    tools, tool_choice = params.pop("tools", None), params.pop("tool_choice", None)
    if params.pop("stream", False):
        raise InvalidRequestError("a vendor batch does not stream; remove 'stream' from the request", where="stream")
    return pipe._call_request(item.messages, tools, tool_choice, params, None)


def run_vendor_batch(
    pipe: Pipeline,
    items: Iterable[BatchItem],
    on_result: OnResult,
    *,
    state_file: str | os.PathLike[str],
    poll_interval: float = 30.0,
    max_poll_interval: float = 300.0,
    on_progress: Callable[[BatchStatus], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> VendorBatchSummary:
    """Run ``items`` through ``pipe``'s provider's batch API; call ``on_result`` once per item.

    ``state_file`` keeps the batch ids (see the module docstring): rerunning with the same file
    resumes instead of submitting again. Batches are polled every ``poll_interval`` seconds,
    the interval growing by half each round up to ``max_poll_interval``; ``on_progress`` sees
    every status polled (and each batch as created). ``items`` is read once; a batch is
    submitted as soon as it is full, the last ones when the input ends, and polling starts
    after that. An item whose request cannot be built (an :class:`InvalidRequestError`) gets
    its error as it is read. ``on_result`` receives a :class:`ChatResponse` or a
    :class:`ChatpipeError` (an :class:`InvalidRequestError` for such an item, else a
    :class:`ProviderError`).

    Raises :class:`ConfigError` for a router, a provider without a batch API, duplicate item
    ids, or a state file of another provider or input; a vendor error while creating, polling
    or downloading is raised as its typed :class:`ProviderError` — the state file is kept, so
    a rerun resumes where this run stopped.
    """
    api = _batch_api(pipe)
    pipe._require_key()
    if not 0 < poll_interval <= max_poll_interval:
        raise ConfigError(f"poll_interval must be positive and at most max_poll_interval, got {poll_interval!r}")
    info = pipe.provider_class.info
    state = _State.load(Path(state_file), info.name, safe_url(pipe.adapter.settings.base_url))
    recorded = {cid: (batch["id"], digest) for batch in state.batches for cid, digest in batch["items"].items()}
    run = _Run(pipe, api, state, on_result)
    statuses: dict[str, BatchStatus | None] = {}
    submitted: list[str] = []
    groups: dict[str, _Pending] = {}  # the lines not submitted yet, by batch group

    def flush(group: str) -> None:
        pending = groups.pop(group)
        status = run.submit(pending.lines, pending.digests)
        statuses[status.id] = status
        submitted.append(status.id)
        if on_progress is not None:
            on_progress(status)

    limit = api.max_bytes - _LINE_MARGIN
    for item in items:
        custom_id = custom_id_for(item.id)
        if custom_id in run.item_ids:
            raise ConfigError(
                f"item id {item.id!r} (line {item.line}) is used twice (or maps to the same batch id as "
                f"{run.item_ids[custom_id]!r}); give every conversation its own id"
            )
        run.item_ids[custom_id] = item.id
        try:
            line = api.batch_line(custom_id, _request_of(pipe, item))
            line_size = _size(line)
            if line_size > limit:
                raise InvalidRequestError(
                    f"this request is {line_size:,} bytes, more than one {info.name} batch may hold ({limit:,})"
                )
        except (InvalidRequestError, ProviderError) as error:
            run.delivered.add(custom_id)
            run.deliver(item.id, error)
            continue
        digest = _digest(line)
        if custom_id in recorded:
            batch_id, was = recorded[custom_id]
            if was != digest:
                raise ConfigError(
                    f"item {item.id!r} (line {item.line}) changed since batch {batch_id} was submitted with it "
                    f"(state file {state.path}); restore the input, or delete the state file to submit anew "
                    "(the recorded batches are still billed)"
                )
            run.owner[custom_id] = batch_id
            statuses.setdefault(batch_id, None)
            continue
        group = api.batch_group(line)
        pending = groups.get(group)
        if pending is not None and (len(pending.lines) >= api.max_requests or pending.size + line_size > limit):
            flush(group)
            pending = None
        if pending is None:
            pending = groups[group] = _Pending()
        pending.add(line, custom_id, digest, line_size)
    for group in list(groups):
        flush(group)
    resumed = tuple(b for b in statuses if b not in submitted)

    interval = poll_interval
    waiting = dict(statuses)  # None: a resumed batch, not polled yet
    while True:
        for batch_id, status in list(waiting.items()):
            if status is not None and status.done:
                run.download(status)
                del waiting[batch_id]
        if not waiting:
            break
        if all(status is not None for status in waiting.values()):
            sleep(interval)
            interval = min(interval * 1.5, max_poll_interval)
        for batch_id in waiting:
            waiting[batch_id] = status = api.parse_batch(run.send(api.poll(batch_id)))
            if on_progress is not None:
                on_progress(status)
    return VendorBatchSummary(tuple(submitted), resumed, run.succeeded, run.failed)


def run_vendor_batch_file(
    pipe: Pipeline,
    input: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    state_file: str | os.PathLike[str] | None = None,
    params: Mapping[str, Any] | None = None,
    poll_interval: float = 30.0,
    max_poll_interval: float = 300.0,
    on_progress: Callable[[BatchStatus], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> BatchSummary:
    """``chatpipe batch --vendor-batch``: :func:`run_vendor_batch` from a JSONL file to another.

    The same files as :func:`~chatpipe.batch.run_batch`: ids already in ``output`` are
    skipped, invalid lines and duplicate ids become error rows, one row per result is
    appended. ``state_file`` (default ``OUTPUT.vendor-batch.json``) keeps the batches
    submitted: a rerun after an interruption resumes polling them instead of submitting the
    items again. ``params`` override every line's request parameters.
    """
    from ._items import read_items
    from ._resume import done_ids
    from ._rows import BatchWriter
    from ._runner import _Run

    started = time.monotonic()
    done = done_ids(output)
    state = Path(state_file) if state_file is not None else Path(f"{os.fspath(output)}.vendor-batch.json")
    with BatchWriter(output, model=str(getattr(pipe, "model", "") or ""), batch=True) as writer:
        run = _Run(done, writer, asyncio.Event(), params or {})
        run_vendor_batch(
            pipe,
            run.items(read_items(input)),
            writer.write,
            state_file=state,
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
            on_progress=on_progress,
            sleep=sleep,
        )
        return run.summary(input, output, started, interrupted=False)
