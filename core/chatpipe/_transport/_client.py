"""The transport: pooled HTTP clients, timeouts, retries, streaming. The only module doing I/O.

One :class:`Transport` holds one sync client and one async client per event loop, created on
first use and reused (connection pooling). The HTTP library (httpx2, else httpx; see
:mod:`._backend`) is imported on the first request.

Retry rules (the waits are :class:`~._policy.RetryPolicy`'s; the decisions are made in one
place, the sans-IO state machine :class:`~._retry.Retry`, which the four methods drive):

* a response whose status is in ``retryable`` is retried, unless its ``x-should-retry``
  header says ``false`` (``true`` makes any error status retryable) or its ``Retry-After``
  asks for longer than ``RetryPolicy.max_retry_after``; once retries are exhausted the last
  error *response* is returned, for the caller to map;
* failures to connect (refused, connect timeout, pool timeout), failures to send, and a
  connection closed before the response head are retried; for :meth:`Transport.send` a read
  timeout, or a connection dropped while reading the body, is retried too (nothing reached the
  caller yet);
* a stream is retried only before its response head arrives (or for a retryable error
  status, whose body is not a stream) — never once it has been handed to the caller.
  A read timeout waiting for a stream's head is not retried.

``on_send`` is called with the request before every attempt, ``on_retry`` with each retry
granted (the attempt number, reason, status and wait). Errors are always
:mod:`chatpipe.errors` exceptions whose messages are scrubbed of the request's secrets.
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, TypeVar

from .._log import DEBUG, INFO, get_logger
from ..errors import ChatpipeError, InvalidRequestError
from ..http import REQUEST_ID_HEADERS, HttpRequest, HttpResponse, safe_url
from ..secrets import Secret, scrub
from ._backend import load_backend
from ._deadline import Deadline
from ._errors import BODY, REQUEST, BodyTooLarge, map_exception
from ._policy import Limits, RetryPolicy, Timeouts
from ._pool import bound_sockets
from ._prepared import RequestBuilder
from ._response import AsyncStreamResponse, StreamResponse, aread_body, lower_headers, read_body
from ._retry import RAISE, READ, RETURN, WAIT, Retry, Verdict
from ._tls import placeholder

if TYPE_CHECKING:
    import asyncio

    import httpx2

__all__ = ["Transport"]

# The HTTP library's default pool (100 connections, 20 kept alive). More connections make a
# concurrent burst slower, not faster: 500 concurrent calls took 2.4x longer with a
# 1000-connection cap (connection set-up dominates; see docs/performance.md).
MAX_CONNECTIONS = 100
MAX_KEEPALIVE = 20
DEFAULT_TIMEOUTS = Timeouts()
DEFAULT_RETRY = RetryPolicy()
DEFAULT_LIMITS = Limits()
_log = get_logger("transport")
_Opened = TypeVar("_Opened", StreamResponse, AsyncStreamResponse)


def _running_asyncio() -> ModuleType:
    """asyncio, imported where async calls need it (it is then loaded; importing it costs ~30 ms,
    which a process making only sync calls should not pay)."""
    import asyncio

    return asyncio


def _running_loop() -> asyncio.AbstractEventLoop:
    loop: asyncio.AbstractEventLoop = _running_asyncio().get_running_loop()
    return loop


class Transport:
    """Sends :class:`~chatpipe.http.HttpRequest` objects; the only place chatpipe does HTTP.

    ``timeouts`` and ``retry`` configure waiting and retrying — every call ends by its
    deadline (:mod:`._deadline`: ``timeouts``, or the request's own ``deadline``) — and
    ``limits`` the size of a body or an event; ``provider`` is stamped on
    every raised error; ``secrets`` (plus the values of the request's ``secret_headers``) are
    scrubbed from every error message; ``on_send`` is called before each attempt and
    ``on_retry(attempt, reason, status, wait)`` before each wait for a retry (``attempt`` 2
    is the first retry).
    ``should_retry`` may veto the retry of an otherwise retryable error response (it sees
    the whole response, e.g. a 429 whose body says the quota is exhausted).
    ``backend`` forces ``"httpx2"`` or ``"httpx"`` (default: ``CHATPIPE_HTTP_BACKEND``, else
    whichever is installed, httpx2 first). ``sleep``/``async_sleep`` wait between retries
    (injectable for tests). Use as a (async) context manager, or call :meth:`close` /
    :meth:`aclose`; a closed transport reopens its pool on next use.

    Async pools belong to one event loop each: a call from a new loop gets a new pool, and
    ``aclose()`` closes the running loop's pool. Call ``aclose()`` before a loop ends (e.g.
    at the end of the coroutine given to ``asyncio.run``); a pool left behind by a finished
    loop is dropped with that loop and its sockets are reclaimed by the garbage collector.
    """

    def __init__(
        self,
        *,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        retry: RetryPolicy = DEFAULT_RETRY,
        limits: Limits = DEFAULT_LIMITS,
        provider: str | None = None,
        secrets: Sequence[Secret] = (),
        on_send: Callable[[HttpRequest], None] | None = None,
        should_retry: Callable[[HttpResponse], bool] | None = None,
        on_retry: Callable[[int, str, int | None, float], None] | None = None,
        backend: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.timeouts = timeouts
        self.retry = retry
        self.limits = limits
        self.provider = provider
        self._secrets: tuple[Secret, ...] = tuple(secrets)
        self._on_send = on_send
        self._should_retry = should_retry
        self._on_retry = on_retry
        self._backend_name = backend
        self._backend: ModuleType | None = None
        self._builder: RequestBuilder | None = None
        self._sleep = sleep
        self._async_sleep = async_sleep
        self._lock = threading.Lock()
        self._client: httpx2.Client | None = None
        self._async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx2.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        return f"Transport(provider={self.provider!r}, backend={self.backend_name!r})"

    # --- backend and clients --------------------------------------------------------------

    @property
    def backend(self) -> ModuleType:
        """The HTTP library module in use (imported on first access)."""
        if self._backend is None:
            self._backend = load_backend(self._backend_name)
            self._builder = RequestBuilder(self._backend)
        return self._backend

    @property
    def backend_name(self) -> str | None:
        """``"httpx2"`` or ``"httpx"`` once the library was loaded, else ``None``."""
        return None if self._backend is None else self._backend.__name__

    def _client_options(self) -> dict[str, object]:
        b = self.backend
        t = self.timeouts
        return {
            "timeout": b.Timeout(connect=t.connect, read=t.read, write=t.read, pool=t.read),
            "limits": b.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_KEEPALIVE),
            "follow_redirects": False,
            "verify": placeholder(b),  # the verified context is made on the first https connection (._tls)
        }

    def _sync_client(self) -> httpx2.Client:
        with self._lock:
            if self._client is None:
                self._client = self.backend.Client(**self._client_options())
                bound_sockets(self._client, is_async=False)
            return self._client

    def _async_client(self) -> httpx2.AsyncClient:
        loop = _running_loop()
        with self._lock:
            client = self._async_clients.get(loop)
            if client is None:
                # An AsyncClient's connections belong to the loop that opened them: one per loop.
                client = self.backend.AsyncClient(**self._client_options())
                bound_sockets(client, is_async=True)
                self._async_clients[loop] = client
            return client

    def prepare(self, *, is_async: bool) -> None:
        """Build the pool a call would use now: the sync one, or the running loop's for ``is_async``.

        The first use imports the HTTP library and loads the CA certificates (over 100 ms, far
        more on a busy machine); a rate-limited call prepares before taking its lease, so the
        lease is granted when its request can leave rather than that long before it.
        """
        if is_async:
            self._async_client()
        else:
            self._sync_client()

    def close(self) -> None:
        """Close the sync connection pool (and forget async pools of loops that are closed)."""
        with self._lock:
            client, self._client = self._client, None
            for loop in [loop for loop in self._async_clients if loop.is_closed()]:
                del self._async_clients[loop]
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        """Close the async pool of the running event loop, and the sync pool."""
        loop = _running_loop()
        with self._lock:
            client = self._async_clients.pop(loop, None)
        if client is not None:
            await client.aclose()
        self.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Transport:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- helpers shared by sync and async -------------------------------------------------

    def _secrets_for(self, request: HttpRequest) -> list[Secret | str]:
        values: list[Secret | str] = list(self._secrets)
        secret_names = {name.lower() for name in request.secret_headers}
        for name, value in request.headers.items():
            if name.lower() in secret_names and value:
                values.append(value)
                values.extend(token for token in value.split() if len(token) >= 8)
        return values

    def _build(self, client: httpx2.Client | httpx2.AsyncClient, request: HttpRequest) -> httpx2.Request:
        """The backend request for ``request``; bad URL/headers/body raise InvalidRequestError.

        A JSON body is sent compact (no spaces), UTF-8, with ``content-type: application/json``
        unless the request sets its own content type; raw ``content`` is sent as it is.
        """
        headers = request.headers
        content: bytes | None = request.content
        problem: str | None = None
        if request.json is not None:
            try:
                content = json.dumps(request.json, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
            except (TypeError, ValueError) as exc:
                problem = f"the request body is not valid JSON ({exc}); pass only JSON-serialisable values"
            if not any(name.lower() == "content-type" for name in headers):
                headers = {**headers, "content-type": "application/json"}
        if problem is None:
            b = self.backend
            assert self._builder is not None  # set with the backend
            try:
                return self._builder.build(client, request.method, request.url, headers, content)
            except (b.InvalidURL, b.UnsupportedProtocol) as exc:
                problem = (
                    f"invalid or unsupported URL {safe_url(request.url)!r}: {exc}; base_url must be an absolute "
                    "http:// or https:// URL such as 'http://127.0.0.1:1234/v1'"
                )
            except (TypeError, ValueError) as exc:
                problem = f"could not build the request to {safe_url(request.url)}: {exc} (check the headers)"
        raise InvalidRequestError(scrub(problem, self._secrets_for(request)))

    def _fail(
        self, request: HttpRequest, exc: BaseException, phase: str, events: int = 0, *, deadline: Deadline
    ) -> ChatpipeError:
        error = map_exception(
            self.backend,
            exc,
            url=request.url,
            phase=phase,
            timeouts=self.timeouts,
            provider=self.provider,
            secrets=self._secrets_for(request),
            events=events,
            deadline=deadline,
        )
        if error is None:  # not an HTTP library error: never expected here
            raise exc
        return error

    # --- the retry loop: the state machine (._retry) decides, these log, the drivers do I/O --

    def _begin(
        self, client: httpx2.Client | httpx2.AsyncClient, request: HttpRequest, retry: Retry, deadline: Deadline
    ) -> httpx2.Request:
        """The backend request for attempt ``retry.attempt``, its waits bounded by ``deadline``, announced."""
        built = self._build(client, request)
        built.extensions["timeout"] = deadline.timeouts(self.timeouts.connect, self.timeouts.read)
        self._notify(request, retry.attempt, stream=retry.stream)
        return built

    def _deadline(self, request: HttpRequest, *, stream: bool) -> Deadline:
        """The deadline of one call (see :mod:`._deadline`): the request's own, else the configured one."""
        t = self.timeouts
        if stream:
            if request.deadline is not None:
                return Deadline(request.deadline, progress=t.progress, setting="deadline=")
            return Deadline(t.stream_deadline, progress=t.progress, setting="timeout.stream_deadline")
        if request.deadline is not None:
            return Deadline(request.deadline, setting="deadline=")
        return Deadline(t.total)

    def _retry(self, retryable: frozenset[int], deadline: Deadline, *, stream: bool = False) -> Retry:
        return Retry(self.retry, retryable, self._should_retry, stream=stream, deadline=deadline)

    def _settled(
        self, retry: Retry, request: HttpRequest, outcome: HttpResponse | BaseException, phase: str, deadline: Deadline
    ) -> HttpResponse | None:
        """A ``send`` attempt judged: the response to return, or None to send again after ``retry.wait``.

        ``outcome`` is the whole response, or the backend exception raised in ``phase``; a
        final error is raised.
        """
        if isinstance(outcome, BaseException):
            self._failed(retry, request, outcome, phase, deadline)
            return None
        self._log_response(request, outcome.status, outcome.headers)
        if retry.answered(outcome.status, outcome.headers, outcome) is RETURN:
            return outcome
        self._log_retry(request, retry)  # a whole response is never answered READ
        return None

    def _judged(
        self,
        retry: Retry,
        request: HttpRequest,
        outcome: BaseException | StreamResponse | AsyncStreamResponse,
        deadline: Deadline,
    ) -> Verdict:
        """A ``stream`` attempt judged: RETURN (open it), READ (its body first) or WAIT; a final error is raised."""
        if isinstance(outcome, BaseException):
            self._failed(retry, request, outcome, REQUEST, deadline)
            return WAIT
        self._log_response(request, outcome.status, outcome.headers)
        return self._logged(retry, request, retry.answered(outcome.status, outcome.headers))

    def _read(self, retry: Retry, request: HttpRequest, response: HttpResponse) -> Verdict:
        """The verdict on the whole body of a response answered READ (RETURN or WAIT)."""
        return self._logged(retry, request, retry.read(response))

    def _failed(self, retry: Retry, request: HttpRequest, exc: BaseException, phase: str, deadline: Deadline) -> None:
        """Map and log a failed attempt; raise the error unless it is retried after ``retry.wait``."""
        error = self._fail(request, exc, phase, deadline=deadline)
        verdict = retry.failed(error, read_timeout=isinstance(exc, self.backend.ReadTimeout))
        self._log_failure(request, error, verdict is RAISE)
        if verdict is RAISE:
            raise error
        self._logged(retry, request, verdict)

    def _logged(self, retry: Retry, request: HttpRequest, verdict: Verdict) -> Verdict:
        if verdict is WAIT:
            self._log_retry(request, retry)
        return verdict

    @staticmethod
    def _whole(response: httpx2.Response, content: bytes) -> HttpResponse:
        return HttpResponse(response.status_code, lower_headers(response), content)

    def _open(
        self, kind: type[_Opened], request: HttpRequest, response: httpx2.Response, deadline: Deadline
    ) -> _Opened:
        fail = functools.partial(self._fail, request, deadline=deadline)
        limits = self.limits
        return kind(response, self.backend.HTTPError, fail, deadline, limits.max_event_bytes, limits.max_body_bytes)

    def _hand_over(self, request: HttpRequest, opened: StreamResponse | AsyncStreamResponse) -> None:
        # From here on, the read timeout bounds the silence between body bytes.
        opened.limit_idle(self.timeouts.idle)
        self._debug(request, "stream opened")

    def _emit(self, level: int, request: HttpRequest, text: str) -> None:
        """Log ``text`` (scrubbed of the request's secrets) on ``chatpipe.transport``."""
        _log.log(level, "%s", scrub(text, self._secrets_for(request)))

    def _where(self, request: HttpRequest) -> str:
        return f"{request.method} {safe_url(request.url)} provider={self.provider}"

    def _notify(self, request: HttpRequest, attempt: int, *, stream: bool) -> None:
        if _log.isEnabledFor(DEBUG):
            kind = "stream request" if stream else "request"
            total = self.retry.max_retries + 1
            self._emit(DEBUG, request, f"{kind} {self._where(request)} attempt={attempt + 1}/{total}")
        if self._on_send is not None:
            self._on_send(request)

    def _log_response(self, request: HttpRequest, status: int, headers: Mapping[str, str]) -> None:
        if _log.isEnabledFor(DEBUG):
            ids = REQUEST_ID_HEADERS
            request_id = next((headers[n] for n in ids if n in headers), None)
            self._emit(DEBUG, request, f"response {status} to {self._where(request)} request_id={request_id}")

    def _log_retry(self, request: HttpRequest, retry: Retry) -> None:
        if _log.isEnabledFor(INFO):
            self._emit(INFO, request, f"retry of {self._where(request)} in {retry.wait:.2f}s after {retry.reason}")
        if self._on_retry is not None:
            self._on_retry(retry.attempt + 1, retry.reason, retry.status, retry.wait)

    def _debug(self, request: HttpRequest, what: str) -> None:
        if _log.isEnabledFor(DEBUG):
            self._emit(DEBUG, request, f"{what}: {self._where(request)}")

    def _log_failure(self, request: HttpRequest, error: ChatpipeError, final: bool) -> None:
        if _log.isEnabledFor(DEBUG):
            what = "giving up" if final else "attempt failed"
            self._emit(DEBUG, request, f"{what} on {self._where(request)}: {type(error).__name__}: {error}")

    # --- sync -----------------------------------------------------------------------------

    def send(self, request: HttpRequest, *, retryable: frozenset[int]) -> HttpResponse:
        """Send ``request`` and return the complete response, retrying per the policy.

        An error status is returned (not raised) once retries are exhausted or when it is not
        retryable. Raises APIConnectionError / APITimeoutError when no response could be had
        (APITimeoutError too when the call's deadline passes), ProtocolError for a body over
        ``limits.max_body_bytes``, InvalidRequestError for a bad URL, header or body.
        """
        client = self._sync_client()  # first: it may import the HTTP library, which is no part of the call
        deadline = self._deadline(request, stream=False)
        retry = self._retry(retryable, deadline)
        while True:
            built = self._begin(client, request, retry, deadline)
            phase = REQUEST
            try:
                response = client.send(built, stream=True)
                phase = BODY
                try:
                    outcome: HttpResponse | BaseException = self._whole(
                        response, read_body(response, self.limits.max_body_bytes)
                    )
                finally:
                    response.close()
            except (self.backend.HTTPError, BodyTooLarge) as exc:
                outcome = exc
            result = self._settled(retry, request, outcome, phase, deadline)
            if result is not None:
                return result
            self._sleep(retry.wait)

    @contextlib.contextmanager
    def stream(self, request: HttpRequest, *, retryable: frozenset[int]) -> Iterator[StreamResponse]:
        """Open a streaming response; the connection closes when the ``with`` block exits.

        Retries happen only before the response is yielded (see the module docstring). The
        yielded :class:`StreamResponse` may carry an error status: call ``read()`` for its body.
        """
        client = self._sync_client()  # first: it may import the HTTP library, which is no part of the call
        deadline = self._deadline(request, stream=True)
        retry = self._retry(retryable, deadline, stream=True)
        while True:
            built = self._begin(client, request, retry, deadline)
            try:
                outcome: StreamResponse | BaseException = self._open(
                    StreamResponse, request, client.send(built, stream=True), deadline
                )
            except self.backend.HTTPError as exc:
                outcome = exc
            verdict = self._judged(retry, request, outcome, deadline)
            if isinstance(outcome, StreamResponse):
                if verdict is READ:
                    verdict = self._read(retry, request, outcome.read())
                if verdict is RETURN:
                    break
                outcome.close()
            self._sleep(retry.wait)
        self._hand_over(request, outcome)
        try:
            yield outcome
        finally:
            outcome.close()
            self._debug(request, "stream closed")

    # --- async ----------------------------------------------------------------------------

    async def _wait(self, seconds: float) -> None:
        if self._async_sleep is not None:
            await self._async_sleep(seconds)
        else:
            await _running_asyncio().sleep(seconds)

    async def asend(self, request: HttpRequest, *, retryable: frozenset[int]) -> HttpResponse:
        """Async twin of :meth:`send` (same contract)."""
        client = self._async_client()  # first: it may import the HTTP library, which is no part of the call
        deadline = self._deadline(request, stream=False)
        retry = self._retry(retryable, deadline)
        while True:
            built = self._begin(client, request, retry, deadline)
            phase = REQUEST
            try:
                response = await client.send(built, stream=True)
                phase = BODY
                try:
                    outcome: HttpResponse | BaseException = self._whole(
                        response, await aread_body(response, self.limits.max_body_bytes)
                    )
                finally:
                    await response.aclose()
            except (self.backend.HTTPError, BodyTooLarge) as exc:
                outcome = exc
            result = self._settled(retry, request, outcome, phase, deadline)
            if result is not None:
                return result
            await self._wait(retry.wait)

    @contextlib.asynccontextmanager
    async def astream(self, request: HttpRequest, *, retryable: frozenset[int]) -> AsyncIterator[AsyncStreamResponse]:
        """Async twin of :meth:`stream` (same contract)."""
        client = self._async_client()  # first: it may import the HTTP library, which is no part of the call
        deadline = self._deadline(request, stream=True)
        retry = self._retry(retryable, deadline, stream=True)
        while True:
            built = self._begin(client, request, retry, deadline)
            try:
                outcome: AsyncStreamResponse | BaseException = self._open(
                    AsyncStreamResponse, request, await client.send(built, stream=True), deadline
                )
            except self.backend.HTTPError as exc:
                outcome = exc
            verdict = self._judged(retry, request, outcome, deadline)
            if isinstance(outcome, AsyncStreamResponse):
                if verdict is READ:
                    verdict = self._read(retry, request, await outcome.aread())
                if verdict is RETURN:
                    break
                await outcome.aclose()
            await self._wait(retry.wait)
        self._hand_over(request, outcome)
        try:
            yield outcome
        finally:
            await outcome.aclose()
            self._debug(request, "stream closed")
