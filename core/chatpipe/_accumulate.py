"""Fold streamed :class:`~chatpipe.models.ChatChunk` objects into a complete reply (pure, provider-neutral).

The pipeline feeds every chunk of every provider's stream through one :class:`StreamAccumulator`:

* text and reasoning are concatenated per choice index;
* tool-call fragments are assembled by their ``index`` into complete
  :class:`~chatpipe.models.ToolCall` objects: ``id`` and ``name`` come from the first fragment
  that carries them, ``arguments`` are concatenated. A fragment whose ``id`` differs from the
  call already at that index starts a new call (servers that send each complete call with
  index 0);
* the finish reason is the last non-empty one; usage is the **last** usage seen (usage in a
  stream is cumulative, so it is never summed); ``id``, ``model`` and ``created`` the first
  ones seen;
  chunk ``extra`` keys are merged, later values winning (Perplexity repeats its citations);
  ``message_extra`` keys are merged the same way into the choice's message ``extra``;
* ``logprobs`` objects are merged per choice: their token lists (``content``, ``refusal``)
  are concatenated in order (a ``null`` list adds nothing), any other key takes the latest
  value. A choice whose chunks carried no ``logprobs`` has ``logprobs=None``.

``partial_text`` / ``partial_reasoning`` expose what arrived so far, for errors mid-stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .errors import ProtocolError
from .models import ChatChunk, ChatResponse, Choice, FinishReason, FunctionCall, Message, ToolCall, Usage

__all__ = ["StreamAccumulator"]

_TOKEN_LISTS = frozenset({"content", "refusal"})


@attrs.define
class _Call:
    id: str | None = None
    name: str | None = None
    arguments: list[str] = attrs.field(factory=list)


@attrs.define
class _ChoiceState:
    role: str | None = None
    text: list[str] = attrs.field(factory=list)
    reasoning: list[str] = attrs.field(factory=list)
    calls: list[_Call] = attrs.field(factory=list)
    slots: dict[int, int] = attrs.field(factory=dict)
    finish_reason: FinishReason | None = None
    raw_finish_reason: str | None = None
    message_extra: dict[str, Any] = attrs.field(factory=dict)
    logprobs: dict[str, Any] | None = None


class StreamAccumulator:
    """Collects chunks with :meth:`add`; :meth:`response` builds the :class:`ChatResponse`."""

    def __init__(self, *, provider: str | None = None) -> None:
        self.provider = provider
        self.id: str | None = None
        self.model: str | None = None
        self.created: int | None = None
        self.usage: Usage | None = None
        self.extra: dict[str, Any] = {}
        self._choices: dict[int, _ChoiceState] = {}

    def add(self, chunk: ChatChunk) -> None:
        """Fold one chunk in."""
        if self.id is None and chunk.id:
            self.id = chunk.id
        if self.model is None and chunk.model:
            self.model = chunk.model
        if self.created is None and chunk.created is not None:
            self.created = chunk.created
        if chunk.usage is not None:
            self.usage = chunk.usage
        if chunk.extra:
            self.extra.update(chunk.extra)
        has_content = chunk.text or chunk.reasoning or chunk.tool_calls or chunk.role or chunk.raw_finish_reason
        if not has_content and chunk.finish_reason is None and not chunk.message_extra and chunk.logprobs is None:
            return
        state = self._choices.get(chunk.index)
        if state is None:  # not setdefault: that would build a throw-away state for every chunk
            state = self._choices[chunk.index] = _ChoiceState()
        if chunk.message_extra:
            state.message_extra.update(chunk.message_extra)
        if chunk.role and state.role is None:
            state.role = chunk.role
        if chunk.text:
            state.text.append(chunk.text)
        if chunk.reasoning:
            state.reasoning.append(chunk.reasoning)
        for delta in chunk.tool_calls:
            slot = state.slots.get(delta.index)
            call = state.calls[slot] if slot is not None else None
            if call is None or (delta.id is not None and call.id is not None and delta.id != call.id):
                call = _Call()
                state.slots[delta.index] = len(state.calls)
                state.calls.append(call)
            if call.id is None and delta.id:
                call.id = delta.id
            if call.name is None and delta.name:
                call.name = delta.name
            if delta.arguments:
                call.arguments.append(delta.arguments)
        if chunk.finish_reason is not None or chunk.raw_finish_reason is not None:
            state.finish_reason = chunk.finish_reason
            state.raw_finish_reason = chunk.raw_finish_reason
        if chunk.logprobs is not None:
            state.logprobs = _merge_logprobs(state.logprobs, chunk.logprobs)

    @property
    def partial_text(self) -> str:
        """The text of the first choice received so far."""
        state = self._first()
        return "".join(state.text) if state else ""

    @property
    def partial_reasoning(self) -> str:
        """The reasoning of the first choice received so far."""
        state = self._first()
        return "".join(state.reasoning) if state else ""

    def _first(self) -> _ChoiceState | None:
        return self._choices[min(self._choices)] if self._choices else None

    def response(self) -> ChatResponse:
        """The complete reply assembled from every chunk added so far.

        Raises :class:`~chatpipe.errors.ProtocolError` when a tool call never received a name.
        A stream that sent nothing gives one empty assistant choice.
        """
        states = self._choices or {0: _ChoiceState()}
        choices = tuple(self._choice(index, states[index]) for index in sorted(states))
        return ChatResponse(
            id=self.id,
            model=self.model,
            choices=choices,
            usage=self.usage,
            provider=self.provider,
            created=self.created,
            extra=dict(self.extra),
        )

    def _choice(self, index: int, state: _ChoiceState) -> Choice:
        calls = []
        for position, call in enumerate(state.calls):
            if not call.name:
                raise ProtocolError(
                    f"tool call {position} of choice {index} in the stream never received a function name",
                    provider=self.provider,
                )
            calls.append(
                ToolCall(call.id or f"call_{index}_{position}", FunctionCall(call.name, "".join(call.arguments)))
            )
        text = "".join(state.text)
        reasoning = "".join(state.reasoning)
        message = Message(
            state.role or "assistant",
            text if text or not calls else None,
            tool_calls=tuple(calls) or None,
            extra=dict(state.message_extra),
        )
        return Choice(
            index,
            message,
            finish_reason=state.finish_reason,
            raw_finish_reason=state.raw_finish_reason,
            reasoning=reasoning or None,
            logprobs=_snapshot(state.logprobs),
        )


def _merge_logprobs(into: dict[str, Any] | None, new: Mapping[str, Any]) -> dict[str, Any]:
    """``into`` (owned by the accumulator, so mutated) with one chunk's ``logprobs`` folded in."""
    if into is None:
        into = {}
    for key, value in new.items():
        if key not in _TOKEN_LISTS:
            into[key] = value
        elif isinstance(value, list):
            held = into.get(key)
            if isinstance(held, list):
                held.extend(value)
            else:
                into[key] = list(value)  # a copy: the chunk's list is never mutated
        elif key not in into:
            into[key] = value  # null (or malformed): kept until a list arrives
    return into


def _snapshot(logprobs: dict[str, Any] | None) -> dict[str, Any] | None:
    """A copy the accumulator will not change when more chunks arrive."""
    if logprobs is None:
        return None
    return {key: list(value) if isinstance(value, list) else value for key, value in logprobs.items()}
