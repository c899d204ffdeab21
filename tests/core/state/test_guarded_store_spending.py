"""GuardedStore's policy for spending: ``spend`` never fails; ``spent`` follows on_state_error."""

from __future__ import annotations

import pytest
from chatpipe.errors import StateUnavailableError
from chatpipe.state import GuardedStore, LocalStore, StoreUnreachable


class _Down(LocalStore):
    def spend(self, *args: object, **kwargs: object) -> None:
        raise StoreUnreachable("Redis at redis://h:6379 did not answer")

    def spent(self, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        raise StoreUnreachable("Redis at redis://h:6379 did not answer")


def test_open_counts_in_the_process_while_the_store_is_down():
    store = GuardedStore(_Down(), "open")
    store.spend("k", {"tokens": 5}, 60)
    assert store.spent("k", 60).amounts == {"tokens": 5.0}


def test_closed_refuses_to_check_but_spending_never_fails():
    store = GuardedStore(_Down(), "closed")
    store.spend("k", {"tokens": 5}, 60)  # a reply has arrived: it is not failed
    with pytest.raises(StateUnavailableError):
        store.spent("k", 60)
