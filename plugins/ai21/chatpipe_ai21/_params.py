"""AI21's request parameters: what is accepted, what is rewritten, what is refused (pure).

AI21's chat endpoint takes, besides ``model``/``messages``/``stream``/``tools``:
``max_tokens``, ``temperature``, ``top_p``, ``stop``, ``n``, ``response_format`` (``text`` or
``json_object``) and ``documents``. chatpipe's rules:

* another parameter is an :class:`~chatpipe.errors.InvalidRequestError` naming it (dropping it
  would silently lose what the caller asked for); ``include_body`` still sends anything;
* ``max_completion_tokens`` (OpenAI's newer name) is sent as ``max_tokens``;
* ``max_tokens`` above the limit (4096 per AI21's docs, option ``max_tokens_limit``) is
  lowered to it with a :class:`~chatpipe.errors.ChatpipeWarning`: it is a ceiling, and the
  vendor cannot produce more anyway;
* ``stream_options`` is accepted and not sent: AI21 reports usage in the last stream chunk
  whatever it says;
* ``tool_choice`` other than ``"auto"`` is an error (AI21 has no such field; ``"auto"`` is its
  behaviour);
* ``response_format`` ``json_schema`` becomes ``json_object`` plus a user message carrying the
  schema (chatpipe's shared :func:`~chatpipe.vendor.json_schema_as_message`, the reference's
  workaround, run by the provider's ``prepare`` before the conversion; docs/vendors/ai21.md).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from chatpipe.plugin import OPENAI_PARAMS, ChatpipeWarning, ChatRequest, InvalidRequestError, ParamType

__all__ = [
    "ACCEPTED_PARAMS",
    "DEFAULT_MAX_TOKENS_LIMIT",
    "PARAMS",
    "adjust_ai21_body",
]

ACCEPTED_PARAMS = frozenset({"max_tokens", "temperature", "top_p", "stop", "n", "response_format", "documents"})
"""Parameters AI21's chat endpoint accepts (besides model, messages, stream, tools)."""

RENAMED_PARAMS: Mapping[str, str] = {"max_completion_tokens": "max_tokens"}
"""OpenAI names sent under AI21's name."""

IGNORED_PARAMS = frozenset({"stream_options"})
"""Accepted and not sent: AI21 always reports stream usage in the last chunk."""

PARAMS: Mapping[str, ParamType] = {
    **{
        name: OPENAI_PARAMS[name]
        for name in sorted(ACCEPTED_PARAMS - {"documents"} | IGNORED_PARAMS | set(RENAMED_PARAMS))
    },
    "documents": "array",
}
"""Every parameter the adapter takes, with its type (``ProviderInfo.params``)."""

DEFAULT_MAX_TOKENS_LIMIT = 4096
"""The largest ``max_tokens`` AI21 documents."""

RESPONSE_FORMATS = ("text", "json_object")
"""``response_format`` types AI21 accepts as they are."""


def _check_tool_choice(choice: object) -> None:
    if choice is None or choice == "auto":
        return
    raise InvalidRequestError(
        f"AI21 does not support tool_choice (got {choice!r}): its models always decide for themselves "
        "whether to call a tool. Remove tool_choice, or leave out the tools to prevent tool calls",
        where="tool_choice",
    )


def _check_params(params: Mapping[str, Any]) -> None:
    known = ACCEPTED_PARAMS | IGNORED_PARAMS | set(RENAMED_PARAMS)
    unknown = sorted(k for k, v in params.items() if k not in known and v is not None)
    if unknown:
        raise InvalidRequestError(
            f"AI21 does not accept the parameter(s) {unknown}; it accepts "
            f"{sorted(ACCEPTED_PARAMS | set(RENAMED_PARAMS))}. Remove them from params (to send a field anyway, "
            "put it in the profile's include_body)",
            where="params",
        )


def _check_response_format(value: Any) -> None:
    if value is None:
        return
    kind = value.get("type") if isinstance(value, Mapping) else None
    if kind not in RESPONSE_FORMATS:
        hint = (
            " (json_schema is rewritten to json_object by the adapter's prepare(), which the pipeline runs)"
            if kind == "json_schema"
            else ""
        )
        raise InvalidRequestError(
            f"AI21 accepts response_format {{'type': 'text'}} or {{'type': 'json_object'}}, not {value!r}{hint}",
            where="params.response_format",
        )


def _check_documents(value: Any) -> None:
    if value is None:
        return
    example = "[{'content': 'text', 'id': 'doc1', 'metadata': {'source': 'wiki'}}]"
    if not isinstance(value, list):
        raise InvalidRequestError(f"documents must be a list of objects like {example}", where="params.documents")
    for i, doc in enumerate(value):
        where = f"params.documents[{i}]"
        if not isinstance(doc, Mapping) or not isinstance(doc.get("content"), str):
            raise InvalidRequestError(f"each document needs a string 'content', like {example}", where=where)
        if doc.get("id") is not None and not isinstance(doc["id"], str):
            raise InvalidRequestError("a document's 'id' must be a string", where=f"{where}.id")
        if doc.get("metadata") is not None and not isinstance(doc["metadata"], Mapping):
            raise InvalidRequestError("a document's 'metadata' must be an object", where=f"{where}.metadata")


def _max_tokens(body: dict[str, Any], limit: int) -> None:
    for old, new in RENAMED_PARAMS.items():
        if old in body:
            value = body.pop(old)
            if new in body and body[new] != value:
                raise InvalidRequestError(
                    f"both {new}={body[new]!r} and {old}={value!r} are set; AI21 takes one {new}: keep one of them",
                    where=f"params.{old}",
                )
            body[new] = value
    value = body.get("max_tokens")
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidRequestError(f"max_tokens must be a positive integer, not {value!r}", where="params.max_tokens")
    if value > limit:
        warnings.warn(
            f"AI21 allows at most {limit} output tokens; max_tokens={value} was lowered to {limit} "
            "(set max_tokens to at most that to silence this warning, or raise the provider option "
            "max_tokens_limit if AI21 raised its limit)",
            ChatpipeWarning,
            stacklevel=2,
        )
        body["max_tokens"] = limit


def adjust_ai21_body(body: dict[str, Any], request: ChatRequest, *, max_tokens_limit: int) -> dict[str, Any]:
    """``body`` (an OpenAI-style chat body) made acceptable to AI21, or a clear error.

    Checks ``tool_choice``, the parameter names, ``response_format`` and ``documents``; renames
    ``max_completion_tokens``; bounds ``max_tokens`` by ``max_tokens_limit``; removes
    ``tool_choice`` and ``stream_options``. Raises
    :class:`~chatpipe.errors.InvalidRequestError` for what AI21 cannot do.
    """
    _check_tool_choice(request.tool_choice)
    _check_params(request.params)
    _check_response_format(body.get("response_format"))
    _check_documents(body.get("documents"))
    for key in ("tool_choice", *IGNORED_PARAMS):
        body.pop(key, None)
    _max_tokens(body, max_tokens_limit)
    return body
