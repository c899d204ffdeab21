"""Telling whether an async iterator's next item is already here, without waiting for it.

A stream's chunks often arrive several at a time (a vendor flushes a few events together, or
the gateway fell behind for a moment); they are then all in the HTTP library's buffer, and
sending each on its own costs a write per chunk. :class:`Step` starts one ``__anext__`` and runs
it until it would have to wait: if it never has to, its item is :attr:`Step.value` at once
(``ready``), and the caller may keep collecting; if it has to, the caller sends what it has
collected, then ``await``\\ s the step for its item.

A step that had to wait must be finished: awaited, or — when the caller fails in between —
:meth:`Step.abandon`\\ ed, which throws the caller's exception into it and lets it clean up
(an async generator left half-way would stay "running" and could not be closed).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from typing import Any, Generic, TypeVar

__all__ = ["END", "Step"]

T = TypeVar("T")

END: Any = object()
"""What a step gives when the iterator is exhausted."""


class Step(Generic[T]):
    """One ``__anext__`` of ``iterator``, started now (see the module docstring).

    An exception of the iterator raised before it waits is raised by the constructor.
    """

    __slots__ = ("_call", "_waiting", "ready", "value")

    def __init__(self, iterator: AsyncIterator[T]) -> None:
        call: Any = iterator.__anext__()  # a coroutine-like object: send/throw step it
        self._call = call
        self._waiting: Any = None
        self.ready = False
        self.value: T = END
        self._advance(call.send, None)

    def _advance(self, resume: Any, argument: Any) -> bool:
        """Run the step on with ``resume(argument)`` (its ``send`` or ``throw``) until it waits or
        finishes; whether it finished (then :attr:`value` is its item, or :data:`END`)."""
        try:
            self._waiting = resume(argument)
        except StopIteration as stop:
            self.ready, self.value = True, stop.value
        except StopAsyncIteration:
            self.ready, self.value = True, END
        return self.ready

    def __await__(self) -> Generator[Any, Any, T]:
        """The item, once the step has finished waiting (:data:`END` at the end of the iterator)."""
        while not self.ready:
            try:
                sent = yield self._waiting
            except BaseException as exc:  # a cancellation: the step gets it where it waits
                self._advance(self._call.throw, exc)
            else:
                self._advance(self._call.send, sent)
        return self.value

    async def abandon(self, exc: BaseException) -> None:
        """Finish a waiting step by throwing ``exc`` into it; whatever it then raises is dropped."""
        if self.ready:
            return
        try:
            if not self._advance(self._call.throw, exc):
                await self
        except BaseException:
            self.ready = True
