"""What the transport changes in the HTTP library's connection pool — the one module that reaches into it.

Three things the library does not offer:

* **Deadlines at the socket** (:func:`bound_sockets`): the pool's network backend is wrapped so
  that every connect, read and write whose timeout is a :class:`~._deadline.Budget` waits at
  most what is left of the call's deadline, and fails at once with the library's own timeout
  error once nothing is left. A server trickling one byte a second, or sending keep-alives
  forever, then ends in a timeout like a silent one.
* **TLS only for https** (:func:`bound_sockets` too): a pool created with the
  :func:`~._tls.placeholder` context does its handshakes with the process's verified one
  (:func:`~._tls.verified`), made on the first https connection; a pool whose network backend
  cannot be wrapped is given the verified context at once.
* **No reuse after surplus bytes** (:func:`drop_if_surplus`): a response whose server sent more
  than its ``Content-Length`` leaves those bytes in the connection's parser, where the next
  response on that connection would be read from them. Such a connection is marked expired,
  so the pool closes it instead of reusing it.

Both work on httpcore2 and httpcore (the cores of httpx2 and httpx) through attributes their
pools and streams have had for years; where one is missing, the pool is left as it is (the
test suite checks both libraries, so a change shows there first).
"""

from __future__ import annotations

import select
import sys
from collections.abc import Iterable
from typing import Any

from ._deadline import Budget
from ._tls import verified

__all__ = ["bound_sockets", "drop_if_surplus"]


def _bounded(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` for one wait: a :class:`Budget` is :meth:`~Budget.left`; nothing left raises ``error`` at once."""
    if type(timeout) is not Budget:
        return timeout
    left = timeout.left()
    if left <= 0:
        raise error("the call's deadline has passed")
    return left


class _Wrapper:
    """A network stream or backend of the HTTP core (``core``: httpcore2 or httpcore), wrapped."""

    def __init__(self, inner: Any, core: Any) -> None:
        self._inner = inner
        self._core = core
        self._socket: Any = None

    def get_extra_info(self, info: str) -> Any:
        """The inner stream's answer, except for ``socket`` (looked up once) and ``is_readable``.

        The pool asks whether each idle connection's socket is readable (the server closed it)
        every time it hands out a connection, and the async backend builds a dict of every
        attribute of the stream to find the socket: tens of µs a request on a busy pool. A
        stream's socket never changes (``start_tls`` makes a new stream), so it is kept here.
        """
        if info != "socket" and info != "is_readable":
            return self._inner.get_extra_info(info)
        if self._socket is None:
            self._socket = self._inner.get_extra_info("socket")
        return self._socket if info == "socket" else _readable(self._socket)


def _readable(sock: Any) -> bool:
    """Whether ``sock`` has data or an end to read now (what the HTTP core checks: unknown counts as yes)."""
    if sock is None or sock.fileno() == -1:
        return True
    if sys.platform == "win32":  # no poll(); select() is fine for the one descriptor
        return bool(select.select([sock], [], [], 0)[0])
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


class _Stream(_Wrapper):
    """A sync network stream whose waits end with the call's deadline."""

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = self._inner.read(max_bytes, _bounded(timeout, self._core.ReadTimeout))
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, self._core.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> _Stream:
        bounded = _bounded(timeout, self._core.ConnectTimeout)
        return _Stream(self._inner.start_tls(verified(ssl_context), server_hostname, bounded), self._core)


class _AsyncStream(_Wrapper):
    """An async network stream whose waits end with the call's deadline."""

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = await self._inner.read(max_bytes, _bounded(timeout, self._core.ReadTimeout))
        return data

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, _bounded(timeout, self._core.WriteTimeout))

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> _AsyncStream:
        bounded = _bounded(timeout, self._core.ConnectTimeout)
        return _AsyncStream(await self._inner.start_tls(verified(ssl_context), server_hostname, bounded), self._core)


class _Backend(_Wrapper):
    """A sync network backend whose connections end their waits with the call's deadline."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> _Stream:
        bounded = _bounded(timeout, self._core.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, bounded, local_address, socket_options), self._core)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> _Stream:
        bounded = _bounded(timeout, self._core.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, bounded, socket_options), self._core)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _AsyncBackend(_Wrapper):
    """An async network backend whose connections end their waits with the call's deadline."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> _AsyncStream:
        bounded = _bounded(timeout, self._core.ConnectTimeout)
        stream = await self._inner.connect_tcp(host, port, bounded, local_address, socket_options)
        return _AsyncStream(stream, self._core)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> _AsyncStream:
        bounded = _bounded(timeout, self._core.ConnectTimeout)
        return _AsyncStream(await self._inner.connect_unix_socket(path, bounded, socket_options), self._core)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def bound_sockets(client: Any, *, is_async: bool) -> bool:
    """Wrap the network backend of every pool of ``client`` (an httpx2/httpx client); True if one was found."""
    transports = [getattr(client, "_transport", None), *getattr(client, "_mounts", {}).values()]
    wrapped = False
    for transport in transports:
        pool: Any = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if backend is None or isinstance(backend, (_Backend, _AsyncBackend)):
            continue
        core = sys.modules[type(pool).__module__.partition(".")[0]]
        pool._network_backend = _AsyncBackend(backend, core) if is_async else _Backend(backend, core)
        wrapped = True
    for transport in transports:  # a pool that hands the placeholder to handshakes of its own
        pool = getattr(transport, "_pool", None)
        context = getattr(pool, "_ssl_context", None)
        if context is not None and not isinstance(getattr(pool, "_network_backend", None), (_Backend, _AsyncBackend)):
            pool._ssl_context = verified(context)
    return wrapped


_MAX_DEPTH = 6


def drop_if_surplus(response: Any) -> bool:
    """Make sure the connection of ``response`` is not reused if bytes followed its body.

    Call it once the body was read, or when the response is closed. Returns True when bytes
    are left in the connection's parser: the connection is then marked expired, and the pool
    closes it (sync or async, its own way) instead of handing it to the next request. A
    response closed before its end leaves bytes too; its connection is closed anyway.
    """
    stream = response.stream
    for _ in range(_MAX_DEPTH):
        connection = getattr(stream, "_connection", None)
        if connection is not None:
            break
        stream = getattr(stream, "_stream", None) or getattr(stream, "_httpcore_stream", None)
        if stream is None:
            return False
    else:
        return False
    state = getattr(connection, "_h11_state", None)
    if state is None:  # HTTP/2: frames, no surplus
        return False
    if not state.trailing_data[0]:
        return False
    connection._expire_at = 0.0  # has_expired() is now true: the pool closes it before any reuse
    return True
