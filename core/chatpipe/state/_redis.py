"""The Redis store: the state of :mod:`._store` in a Redis server, shared by every process
and machine that uses the same server and ``prefix``.

Each operation is one Lua script (:mod:`._scripts`): one round trip, atomic, on the server's
clock. Uses the ``redis`` client package (``pip install 'chatpipe[redis]'``), imported when a
store is built. Every socket operation is bounded by ``timeout``; the client never retries on
its own (a down server fails fast and the caller decides: see ``on_state_error``). Any failure
to reach the server is raised as :class:`~chatpipe.state.StoreUnreachable`, with the server's
URL password masked and no client exception attached.
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from ..http import safe_url
from . import _scripts
from ._store import Admission, Breaker, Grant, Quota, Spent, StoreUnreachable

__all__ = ["RedisStore"]

_NO_WAIT = -1


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _import_redis() -> Any:
    try:
        import redis
        import redis.asyncio
    except ImportError:
        from ..errors import ConfigError

        raise ConfigError(
            "state.backend 'redis' needs the redis client package: pip install 'chatpipe[redis]'", path="state.backend"
        ) from None
    return redis


class RedisStore:
    """The :class:`~chatpipe.state.Store` in the Redis server at ``url`` (see the module docs).

    ``prefix`` starts every key (several deployments may share a server under different
    prefixes); ``timeout`` bounds connecting and each command, in seconds.
    """

    shared = True

    def __init__(self, url: str, *, prefix: str = "chatpipe", timeout: float = 1.0) -> None:
        self._redis = _import_redis()
        self.description = f"Redis at {safe_url(url)}"
        self._url, self._prefix, self._timeout = url, prefix, timeout
        self._sync: Any = None
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()
        self._pid = os.getpid()

    def __repr__(self) -> str:
        return f"<RedisStore {self.description} prefix={self._prefix!r}>"

    # --- clients and scripts ----------------------------------------------------------------

    def _options(self, retry_module: Any) -> dict[str, Any]:
        from redis.backoff import NoBackoff

        return {
            "socket_timeout": self._timeout,
            "socket_connect_timeout": self._timeout,
            "retry": retry_module.Retry(NoBackoff(), 0),
            "decode_responses": True,
        }

    def _client(self) -> Any:
        """The sync client with its scripts (a new one in a forked child: sockets are not shared)."""
        if self._sync is None or self._pid != os.getpid():
            import redis.retry

            client = self._redis.Redis.from_url(self._url, **self._options(redis.retry))
            self._sync = (client, self._register(client))
            self._pid = os.getpid()
        return self._sync

    def _aclient(self) -> Any:
        """The async client of the running event loop (a client's connections belong to one loop)."""
        loop = asyncio.get_running_loop()
        found = self._async.get(loop)
        if found is None:
            import redis.asyncio.retry

            client = self._redis.asyncio.Redis.from_url(self._url, **self._options(redis.asyncio.retry))
            found = self._async[loop] = (client, self._register(client))
        return found

    @staticmethod
    def _register(client: Any) -> dict[str, Any]:
        names = ("ACQUIRE", "RELEASE", "IN_FLIGHT", "ADMIT", "RECORD", "SPEND", "SPENT")
        return {name: client.register_script(getattr(_scripts, name)) for name in names}

    def _key(self, key: str, part: str) -> str:
        return f"{self._prefix}:{{{key}}}:{part}"

    def _unreachable(self, error: BaseException) -> StoreUnreachable:
        reason = type(error).__name__
        text = str(error).replace(self._url, self.description)
        return StoreUnreachable(f"{self.description} did not answer ({reason}: {text})")

    def _run(self, name: str, keys: list[str], args: list[Any]) -> Any:
        try:
            return self._client()[1][name](keys=keys, args=args)
        except (self._redis.RedisError, OSError) as error:
            raise self._unreachable(error) from None

    async def _arun(self, name: str, keys: list[str], args: list[Any]) -> Any:
        try:
            return await self._aclient()[1][name](keys=keys, args=args)
        except (self._redis.RedisError, OSError) as error:
            raise self._unreachable(error) from None

    # --- the operations, as script calls --------------------------------------------------

    def _acquire_call(self, key: str, quota: Quota, tokens: int, ttl: float) -> tuple[list[str], list[Any]]:
        keys = [self._key(key, "c"), self._key(key, "t"), self._key(key, "l")]
        args = [
            quota.calls or 0,
            quota.tokens or 0,
            quota.concurrency or 0,
            _ms(quota.window),
            tokens,
            _ms(ttl),
            os.urandom(8).hex(),
            1 if quota.holds_leases else 0,
        ]
        return keys, args

    @staticmethod
    def _grant(reply: list[Any], lease: str) -> Grant:
        if int(reply[0]) == 1:
            return Grant(lease)
        wait = int(reply[1])
        return Grant(None, None if wait == _NO_WAIT else wait / 1000, str(reply[2]))

    def _release_call(self, key: str, lease: str, tokens: int | None) -> tuple[list[str], list[Any]]:
        return [self._key(key, "t"), self._key(key, "l")], [lease, -1 if tokens is None else tokens]

    def _admit_call(self, key: str, breaker: Breaker) -> tuple[list[str], list[Any]]:
        return [self._key(key, "h")], [_ms(breaker.duration)]

    @staticmethod
    def _admission(reply: list[Any]) -> Admission:
        allowed, probe, failures, wait = (int(v) for v in reply)
        return Admission(bool(allowed), probe=bool(probe), failures=failures, retry_after=wait / 1000)

    def _record_call(
        self, key: str, breaker: Breaker, failed: bool, retry_after: float | None
    ) -> tuple[list[str], list[Any]]:
        args = [
            1 if failed else 0,
            breaker.failures,
            _ms(breaker.window),
            _ms(breaker.duration),
            _ms(retry_after) if retry_after else 0,
        ]
        return [self._key(key, "h")], args

    def _spend_call(self, key: str, amounts: Mapping[str, float], period: float) -> tuple[list[str], list[Any]]:
        args: list[Any] = [_ms(period)]
        for name, amount in amounts.items():
            args += [name, repr(float(amount))]
        return [self._key(key, f"s:{_ms(period)}")], args

    def _spent_call(self, key: str, period: float) -> tuple[list[str], list[Any]]:
        return [self._key(key, f"s:{_ms(period)}")], [_ms(period)]

    @staticmethod
    def _spent(reply: list[Any]) -> Spent:
        pairs = reply[1:]
        amounts = {str(pairs[i]): float(pairs[i + 1]) for i in range(0, len(pairs), 2)}
        return Spent(amounts, int(reply[0]) / 1000)

    def spend(self, key: str, amounts: Mapping[str, float], period: float) -> None:
        if amounts:
            self._run("SPEND", *self._spend_call(key, amounts, period))

    def spent(self, key: str, period: float) -> Spent:
        return self._spent(self._run("SPENT", *self._spent_call(key, period)))

    async def aspend(self, key: str, amounts: Mapping[str, float], period: float) -> None:
        if amounts:
            await self._arun("SPEND", *self._spend_call(key, amounts, period))

    async def aspent(self, key: str, period: float) -> Spent:
        return self._spent(await self._arun("SPENT", *self._spent_call(key, period)))

    def acquire(self, key: str, quota: Quota, tokens: int, ttl: float) -> Grant:
        keys, args = self._acquire_call(key, quota, tokens, ttl)
        return self._grant(self._run("ACQUIRE", keys, args), args[6])

    def release(self, key: str, quota: Quota, lease: str, tokens: int | None) -> None:
        self._run("RELEASE", *self._release_call(key, lease, tokens))

    def in_flight(self, keys: Sequence[str]) -> list[int]:
        return [int(n) for n in self._run("IN_FLIGHT", [self._key(k, "l") for k in keys], [])]

    def admit(self, key: str, breaker: Breaker) -> Admission:
        return self._admission(self._run("ADMIT", *self._admit_call(key, breaker)))

    def record(self, key: str, breaker: Breaker, *, failed: bool, retry_after: float | None = None) -> None:
        self._run("RECORD", *self._record_call(key, breaker, failed, retry_after))

    async def aacquire(self, key: str, quota: Quota, tokens: int, ttl: float) -> Grant:
        keys, args = self._acquire_call(key, quota, tokens, ttl)
        return self._grant(await self._arun("ACQUIRE", keys, args), args[6])

    async def arelease(self, key: str, quota: Quota, lease: str, tokens: int | None) -> None:
        await self._arun("RELEASE", *self._release_call(key, lease, tokens))

    async def ain_flight(self, keys: Sequence[str]) -> list[int]:
        return [int(n) for n in await self._arun("IN_FLIGHT", [self._key(k, "l") for k in keys], [])]

    async def aadmit(self, key: str, breaker: Breaker) -> Admission:
        return self._admission(await self._arun("ADMIT", *self._admit_call(key, breaker)))

    async def arecord(self, key: str, breaker: Breaker, *, failed: bool, retry_after: float | None = None) -> None:
        await self._arun("RECORD", *self._record_call(key, breaker, failed, retry_after))

    def close(self) -> None:
        """Close the sync client's connections."""
        if self._sync is not None:
            self._sync[0].close()
            self._sync = None

    async def aclose(self) -> None:
        """Close the clients of the running loop and the sync client."""
        found = self._async.pop(asyncio.get_running_loop(), None)
        if found is not None:
            await found[0].aclose()
        self.close()
