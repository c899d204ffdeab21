"""Where rate limits, cooldowns and in-flight counts live: this process, or a Redis server.

* :class:`Store` is the contract (atomic operations on rate windows, leases, per-target
  health and spending per period; :mod:`chatpipe.state._store` documents the semantics); :class:`LocalStore` keeps
  the state in the process, :class:`RedisStore` in Redis (``pip install 'chatpipe[redis]'``),
  shared across processes and machines.
* :func:`store_for` gives the store a config's ``state`` names (one per process per
  setting); :func:`local_store` the process's in-process store.

Pipelines and routers use them; applications only choose one in the config
(``state: {backend: redis, url: ...}``) or pass ``state=`` to ``Pipeline``/``Router``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes
from ._local import LocalStore
from ._open import anonymous, local_store, store_for
from ._store import Admission, Breaker, Grant, Quota, Spent, Store, StoreUnreachable

if TYPE_CHECKING:
    from ._guarded import GuardedStore
    from ._redis import RedisStore

_LAZY = {
    "GuardedStore": "chatpipe.state._guarded:GuardedStore",
    "RedisStore": "chatpipe.state._redis:RedisStore",
}

__all__ = [
    "Admission",
    "Breaker",
    "Grant",
    "GuardedStore",
    "LocalStore",
    "Quota",
    "RedisStore",
    "Spent",
    "Store",
    "StoreUnreachable",
    "anonymous",
    "local_store",
    "store_for",
]

__getattr__, __dir__ = lazy_attributes(globals(), _LAZY, __all__)
