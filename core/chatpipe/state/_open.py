"""The store a configuration names: one per process for each distinct ``state`` setting.

Every pipeline and router built from configs with the same ``state`` shares one store — one
in-process store, or one Redis client pool per server — so their limits and counts add up.
"""

from __future__ import annotations

import itertools
import os
import threading
from typing import TYPE_CHECKING

from ._local import LocalStore
from ._store import Store

if TYPE_CHECKING:
    from ..config import StateConfig

__all__ = ["anonymous", "local_store", "store_for"]

_LOCAL = LocalStore()
_SHARED: dict[tuple[str, str, float, str], Store] = {}
_LOCK = threading.Lock()
_ANONYMOUS = itertools.count(1)


def anonymous(kind: str) -> str:
    """A name no other object of this process has, for state of an object without a profile."""
    return f"{kind}-{os.getpid()}-{next(_ANONYMOUS)}"


def local_store() -> LocalStore:
    """The process's in-process store (``state: {backend: local}``, and every Python-built pipeline's)."""
    return _LOCAL


def store_for(state: StateConfig) -> Store:
    """The store ``state`` describes, built once per process (Redis: with ``on_state_error`` applied)."""
    if state.backend == "local" or state.url is None:
        return _LOCAL
    key = (state.url, state.prefix, state.timeout, state.on_state_error)
    with _LOCK:
        found = _SHARED.get(key)
        if found is None:
            from ._guarded import GuardedStore
            from ._redis import RedisStore

            found = _SHARED[key] = GuardedStore(
                RedisStore(state.url, prefix=state.prefix, timeout=state.timeout), state.on_state_error
            )
        return found
