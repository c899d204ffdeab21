"""OpenAI ``chat.completion`` JSON -> :class:`~chatpipe.models.ChatResponse` (pure).

Tolerates what real servers send: whitespace or blank keep-alive lines before the JSON
(DeepSeek), missing optional fields, a message without ``role``. Reasoning is read from
``message.reasoning_content`` or ``message.reasoning``; both stay in ``message.extra`` too.
``choices[].logprobs`` (an object, or ``null``) becomes ``Choice.logprobs``, verbatim.
``created`` becomes ``ChatResponse.created`` when it is an integer (anything else stays in
``extra``). Top-level keys chatpipe does not model (``citations``, ``search_results``,
``system_fingerprint``...) are kept in ``ChatResponse.extra``.
"""

from __future__ import annotations

from collections.abc import (
    Callable,
    Mapping,  # not typing.Mapping: its isinstance() is ~10x slower
)
from typing import Any

from .. import wire
from ..errors import InvalidRequestError
from ..models import ChatResponse, Choice, FinishReason, Usage
from ..vendor import FINISH_REASONS, ErrorInBody, MalformedPayload, normalise_finish_reason

__all__ = ["parse_choice", "parse_completion", "parse_logprobs", "parse_usage"]

_MODELLED_KEYS_NO_CREATED = frozenset({"id", "object", "model", "choices", "usage"})
_MODELLED_KEYS = _MODELLED_KEYS_NO_CREATED | {"created"}


def reasoning_of(message: Mapping[str, Any]) -> str | None:
    """A message's reasoning text from ``reasoning_content`` or ``reasoning``; ``None`` if absent."""
    for key in ("reasoning_content", "reasoning"):
        value = message.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def parse_usage(data: Any) -> Usage | None:
    """``usage`` when it is an object, else ``None`` (absent or ``null``)."""
    if data is None:
        return None
    if isinstance(data, Mapping):
        return wire.usage_from_dict(data)
    raise MalformedPayload(f"'usage' should be an object, got {type(data).__name__}")


def parse_logprobs(data: Any, position: int) -> Mapping[str, Any] | None:
    """``choices[position].logprobs`` when it is an object, else ``None`` (absent or ``null``)."""
    if data is None or type(data) is dict:
        return data
    if isinstance(data, Mapping):
        return dict(data)
    raise MalformedPayload(f"choices[{position}].logprobs should be an object or null, got {type(data).__name__}")


def parse_choice(data: Any, position: int, finish_table: Mapping[str, FinishReason] = FINISH_REASONS) -> Choice:
    """One ``choices[i]`` entry; ``position`` stands in for a missing ``index``."""
    if type(data) is not dict and not isinstance(data, Mapping):
        raise MalformedPayload(f"choices[{position}] should be an object, got {type(data).__name__}")
    index = data.get("index", position)
    if type(index) is not int and (not isinstance(index, int) or isinstance(index, bool)):
        raise MalformedPayload(f"choices[{position}].index should be an integer, got {index!r}")
    message = data.get("message")
    if type(message) is not dict and not isinstance(message, Mapping):
        raise MalformedPayload(f"choices[{position}].message should be an object, got {type(message).__name__}")
    if "role" not in message:
        message = {"role": "assistant", **message}
    try:
        parsed = wire.message_from_dict(message, where=f"choices[{position}].message")
    except InvalidRequestError as exc:
        raise MalformedPayload(str(exc)) from None
    finish, raw = normalise_finish_reason(data.get("finish_reason"), finish_table)
    logprobs = data.get("logprobs")
    if logprobs is not None:
        logprobs = parse_logprobs(logprobs, position)
    return Choice(
        index,
        parsed,
        finish_reason=finish,
        raw_finish_reason=raw,
        reasoning=reasoning_of(message),
        logprobs=logprobs,
    )


def parse_completion(
    data: Any,
    *,
    provider: str,
    finish_table: Mapping[str, FinishReason] = FINISH_REASONS,
    choice_hook: Callable[[Choice], Choice] | None = None,
) -> ChatResponse:
    """A decoded ``chat.completion`` object as a :class:`ChatResponse`.

    Raises :class:`ErrorInBody` for an ``{"error": ...}`` object without choices and
    :class:`MalformedPayload` for any other shape problem. ``choice_hook`` post-processes each
    choice (e.g. Perplexity's ``<think>`` split).
    """
    if type(data) is not dict and not isinstance(data, Mapping):
        raise MalformedPayload(f"expected a JSON object, got {type(data).__name__}")
    if "error" in data and not data.get("choices"):
        raise ErrorInBody(data)
    choices_data = data.get("choices")
    if not isinstance(choices_data, list):
        raise MalformedPayload("the response has no 'choices' list")
    choices = tuple([parse_choice(c, i, finish_table) for i, c in enumerate(choices_data)])
    if choice_hook is not None:
        choices = tuple([choice_hook(c) for c in choices])
    response_id = data.get("id")
    model = data.get("model")
    created = data.get("created")
    modelled = _MODELLED_KEYS if type(created) is int else _MODELLED_KEYS_NO_CREATED
    return ChatResponse(
        id=response_id if isinstance(response_id, str) else None,
        model=model if isinstance(model, str) else None,
        choices=choices,
        usage=parse_usage(data.get("usage")),
        provider=provider,
        created=created if modelled is _MODELLED_KEYS else None,
        extra={k: v for k, v in data.items() if k not in modelled},
        raw=data,
    )
