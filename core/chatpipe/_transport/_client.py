"""The transport: pooled HTTP clients, timeouts, retries, streaming. The only module doing I/O.

One :class:`Transport` holds one sync client and one async client per event loop, created on
first use and reused (connection pooling). The HTTP library (httpx2, else httpx; see
:mod:`._backend`) is imported on the first request.

Retry rules (the policy is :class:`~._policy.RetryPolicy`):

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

``on_send`` is called with the request before every attempt. Errors are always
:mod:`chatpipe.errors` exceptions whose messages are scrubbed of the request's secrets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING

from .._log import get_logger
from ..errors import APIConnectionError, ChatpipeError, InvalidRequestError
from ..http import REQUEST_ID_HEADERS, HttpRequest, HttpResponse
from ..secrets import Secret, scrub
from ._backend import load_backend
from ._errors import BODY, REQUEST, map_exception, safe_url
from ._policy import RetryPolicy, Timeouts
from ._prepared import RequestBuilder
from ._response import AsyncStreamResponse, StreamResponse, lower_headers

if TYPE_CHECKING:
    import httpx2

__all__ = ["Transport"]

# The HTTP library's default pool (100 connections, 20 kept alive). More connections make a
# concurrent burst slower, not faster: 500 concurrent calls took 2.4x longer with a
# 1000-connection cap (connection set-up dominates; see docs/performance.md).
MAX_CONNECTIONS = 100
MAX_KEEPALIVE = 20
DEFAULT_TIMEOUTS = Timeouts()
DEFAULT_RETRY = RetryPolicy()
_log = get_logger("transport")


class Transport:
    """Sends :class:`~chatpipe.sansio.HttpRequest` objects; the only place chatpipe does HTTP.

    ``timeouts`` and ``retry`` configure waiting and retrying; ``provider`` is stamped on
    every raised error; ``secrets`` (plus the values of the request's ``secret_headers``) are
    scrubbed from every error message; ``on_send`` is called before each attempt.
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
        provider: str | None = None,
        secrets: Sequence[Secret] = (),
        on_send: Callable[[HttpRequest], None] | None = None,
        should_retry: Callable[[HttpResponse], bool] | None = None,
        backend: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.timeouts = timeouts
        self.retry = retry
        self.provider = provider
        self._secrets: tuple[Secret, ...] = tuple(secrets)
        self._on_send = on_send
        self._should_retry = should_retry
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
        }

    def _sync_client(self) -> httpx2.Client:
        with self._lock:
            if self._client is None:
                self._client = self.backend.Client(**self._client_options())
            return self._client

    def _async_client(self) -> httpx2.AsyncClient:
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._async_clients.get(loop)
            if client is None:
                # An AsyncClient's connections belong to the loop that opened them: one per loop.
                client = self.backend.AsyncClient(**self._client_options())
                self._async_clients[loop] = client
            return client

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
        loop = asyncio.get_running_loop()
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
        unless the request sets its own content type.
        """
        headers = request.headers
        content: bytes | None = None
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

    def _fail(self, request: HttpRequest, exc: BaseException, phase: str, events: int = 0) -> ChatpipeError:
        error = map_exception(
            self.backend,
            exc,
            url=request.url,
            phase=phase,
            timeouts=self.timeouts,
            provider=self.provider,
            secrets=self._secrets_for(request),
            events=events,
        )
        if error is None:  # not an HTTP library error: never expected here
            raise exc
        return error

    def _status_wait(
        self, attempt: int, status: int, headers: Mapping[str, str], retryable: frozenset[int]
    ) -> float | None:
        """Seconds to wait before retrying a response, or None to hand it back."""
        if status < 400 or attempt >= self.retry.max_retries:
            return None
        flag = headers.get("x-should-retry", "").strip().lower()
        if flag == "false" or (flag != "true" and status not in retryable):
            return None
        return self.retry.delay(attempt, headers)

    def _vetoed(self, response: HttpResponse) -> bool:
        """True when the provider says this error response must not be retried."""
        return self._should_retry is not None and not self._should_retry(response)

    def _error_wait(self, attempt: int, error: ChatpipeError, *, retriable: bool = True) -> float | None:
        """Seconds to wait before retrying after ``error``, or None to raise it.

        Only connection-level failures (APIConnectionError and its APITimeoutError) are
        retried; ``retriable=False`` vetoes (a read timeout waiting for a stream's head).
        """
        if not retriable or attempt >= self.retry.max_retries or not isinstance(error, APIConnectionError):
            return None
        return self.retry.delay(attempt, {})

    @staticmethod
    def _stream_idle(response: httpx2.Response, idle: float) -> None:
        # From here on, the read timeout bounds the silence between body bytes (the HTTP core
        # reads it from the request's extensions when the body iteration starts).
        timeout = dict(response.request.extensions.get("timeout") or {})
        timeout["read"] = idle
        response.request.extensions["timeout"] = timeout

    def _emit(self, level: int, request: HttpRequest, text: str) -> None:
        """Log ``text`` (scrubbed of the request's secrets) on ``chatpipe.transport``."""
        _log.log(level, "%s", scrub(text, self._secrets_for(request)))

    def _where(self, request: HttpRequest) -> str:
        return f"{request.method} {safe_url(request.url)} provider={self.provider}"

    def _notify(self, request: HttpRequest, attempt: int = 0, *, stream: bool = False) -> None:
        if _log.isEnabledFor(logging.DEBUG):
            kind = "stream request" if stream else "request"
            total = self.retry.max_retries + 1
            self._emit(logging.DEBUG, request, f"{kind} {self._where(request)} attempt={attempt + 1}/{total}")
        if self._on_send is not None:
            self._on_send(request)

    def _log_response(self, request: HttpRequest, status: int, headers: Mapping[str, str]) -> None:
        if _log.isEnabledFor(logging.DEBUG):
            ids = REQUEST_ID_HEADERS
            request_id = next((headers[n] for n in ids if n in headers), None)
            self._emit(logging.DEBUG, request, f"response {status} to {self._where(request)} request_id={request_id}")

    def _log_retry(self, request: HttpRequest, wait: float, reason: str) -> None:
        if _log.isEnabledFor(logging.INFO):
            self._emit(logging.INFO, request, f"retry of {self._where(request)} in {wait:.2f}s after {reason}")

    def _debug(self, request: HttpRequest, what: str) -> None:
        if _log.isEnabledFor(logging.DEBUG):
            self._emit(logging.DEBUG, request, f"{what}: {self._where(request)}")

    def _log_failure(self, request: HttpRequest, error: ChatpipeError, final: bool) -> None:
        if _log.isEnabledFor(logging.DEBUG):
            what = "giving up" if final else "attempt failed"
            self._emit(logging.DEBUG, request, f"{what} on {self._where(request)}: {type(error).__name__}: {error}")

    # --- sync -----------------------------------------------------------------------------

    def send(self, request: HttpRequest, *, retryable: frozenset[int]) -> HttpResponse:
        """Send ``request`` and return the complete response, retrying per the policy.

        An error status is returned (not raised) once retries are exhausted or when it is not
        retryable. Raises APIConnectionError / APITimeoutError when no response could be had,
        InvalidRequestError for a bad URL, header or body.
        """
        client = self._sync_client()
        attempt = 0
        while True:
            built = self._build(client, request)
            self._notify(request, attempt)
            error: ChatpipeError | None = None
            phase = REQUEST
            try:
                response = client.send(built, stream=True)
                phase = BODY
                try:
                    content = response.read()
                finally:
                    response.close()
            except self.backend.HTTPError as exc:
                error = self._fail(request, exc, phase)
            if error is not None:
                wait = self._error_wait(attempt, error)
                self._log_failure(request, error, wait is None)
                if wait is None:
                    raise error
                reason = type(error).__name__
            else:
                result = HttpResponse(response.status_code, lower_headers(response), content)
                self._log_response(request, result.status, result.headers)
                wait = self._status_wait(attempt, result.status, result.headers, retryable)
                if wait is None or self._vetoed(result):
                    return result
                reason = f"status {result.status}"
            self._log_retry(request, wait, reason)
            self._sleep(wait)
            attempt += 1

    @contextlib.contextmanager
    def stream(self, request: HttpRequest, *, retryable: frozenset[int]) -> Iterator[StreamResponse]:
        """Open a streaming response; the connection closes when the ``with`` block exits.

        Retries happen only before the response is yielded (see the module docstring). The
        yielded :class:`StreamResponse` may carry an error status: call ``read()`` for its body.
        """
        client = self._sync_client()
        attempt = 0
        while True:
            built = self._build(client, request)
            self._notify(request, attempt, stream=True)
            error: ChatpipeError | None = None
            head_timeout = False
            try:
                response = client.send(built, stream=True)
            except self.backend.HTTPError as exc:
                error = self._fail(request, exc, REQUEST)
                head_timeout = isinstance(exc, self.backend.ReadTimeout)
            if error is not None:
                wait = self._error_wait(attempt, error, retriable=not head_timeout)
                self._log_failure(request, error, wait is None)
                if wait is None:
                    raise error
                reason = type(error).__name__
            else:
                head = lower_headers(response)
                self._log_response(request, response.status_code, head)
                wait = self._status_wait(attempt, response.status_code, head, retryable)
                if wait is None:
                    break
                reason = f"status {response.status_code}"
                if self._should_retry is not None:
                    try:
                        content = response.read()
                    except self.backend.HTTPError as exc:
                        response.close()
                        raise self._fail(request, exc, BODY) from None
                    if self._vetoed(HttpResponse(response.status_code, lower_headers(response), content)):
                        break
                response.close()
            self._log_retry(request, wait, reason)
            self._sleep(wait)
            attempt += 1
        self._stream_idle(response, self.timeouts.idle)
        opened = StreamResponse(response, self.backend.HTTPError, lambda e, p, n: self._fail(request, e, p, n))
        self._debug(request, "stream opened")
        try:
            yield opened
        finally:
            opened.close()
            self._debug(request, "stream closed")

    # --- async ----------------------------------------------------------------------------

    async def _wait(self, seconds: float) -> None:
        if self._async_sleep is not None:
            await self._async_sleep(seconds)
        else:
            await asyncio.sleep(seconds)

    async def asend(self, request: HttpRequest, *, retryable: frozenset[int]) -> HttpResponse:
        """Async twin of :meth:`send` (same contract)."""
        client = self._async_client()
        attempt = 0
        while True:
            built = self._build(client, request)
            self._notify(request, attempt)
            error: ChatpipeError | None = None
            phase = REQUEST
            try:
                response = await client.send(built, stream=True)
                phase = BODY
                try:
                    content = await response.aread()
                finally:
                    await response.aclose()
            except self.backend.HTTPError as exc:
                error = self._fail(request, exc, phase)
            if error is not None:
                wait = self._error_wait(attempt, error)
                self._log_failure(request, error, wait is None)
                if wait is None:
                    raise error
                reason = type(error).__name__
            else:
                result = HttpResponse(response.status_code, lower_headers(response), content)
                self._log_response(request, result.status, result.headers)
                wait = self._status_wait(attempt, result.status, result.headers, retryable)
                if wait is None or self._vetoed(result):
                    return result
                reason = f"status {result.status}"
            self._log_retry(request, wait, reason)
            await self._wait(wait)
            attempt += 1

    @contextlib.asynccontextmanager
    async def astream(self, request: HttpRequest, *, retryable: frozenset[int]) -> AsyncIterator[AsyncStreamResponse]:
        """Async twin of :meth:`stream` (same contract)."""
        client = self._async_client()
        attempt = 0
        while True:
            built = self._build(client, request)
            self._notify(request, attempt, stream=True)
            error: ChatpipeError | None = None
            head_timeout = False
            try:
                response = await client.send(built, stream=True)
            except self.backend.HTTPError as exc:
                error = self._fail(request, exc, REQUEST)
                head_timeout = isinstance(exc, self.backend.ReadTimeout)
            if error is not None:
                wait = self._error_wait(attempt, error, retriable=not head_timeout)
                self._log_failure(request, error, wait is None)
                if wait is None:
                    raise error
                reason = type(error).__name__
            else:
                head = lower_headers(response)
                self._log_response(request, response.status_code, head)
                wait = self._status_wait(attempt, response.status_code, head, retryable)
                if wait is None:
                    break
                reason = f"status {response.status_code}"
                if self._should_retry is not None:
                    try:
                        content = await response.aread()
                    except self.backend.HTTPError as exc:
                        await response.aclose()
                        raise self._fail(request, exc, BODY) from None
                    if self._vetoed(HttpResponse(response.status_code, lower_headers(response), content)):
                        break
                await response.aclose()
            self._log_retry(request, wait, reason)
            await self._wait(wait)
            attempt += 1
        self._stream_idle(response, self.timeouts.idle)
        opened = AsyncStreamResponse(response, self.backend.HTTPError, lambda e, p, n: self._fail(request, e, p, n))
        self._debug(request, "stream opened")
        try:
            yield opened
        finally:
            await opened.aclose()
            self._debug(request, "stream closed")
