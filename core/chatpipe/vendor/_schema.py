"""The JSON-schema workaround for vendors that only have JSON mode (DeepSeek, AI21) (pure)."""

from __future__ import annotations

import json
from collections.abc import Mapping

import attrs

from ..errors import InvalidRequestError
from ..models import ChatRequest, Message

__all__ = ["SCHEMA_MESSAGE_PREFIX", "json_schema_as_message"]

SCHEMA_MESSAGE_PREFIX = "JSON schema for the response:\n"
"""The text in front of the schema in the workaround's user message (the reference's)."""


def json_schema_as_message(request: ChatRequest) -> ChatRequest:
    """``request`` with a ``json_schema`` response format turned into ``json_object`` plus a user message.

    For a vendor whose ``response_format`` knows ``json_object`` but not ``json_schema``, as the
    reference does for DeepSeek and AI21: the schema (``response_format.json_schema.schema``)
    is appended as a user message, :data:`SCHEMA_MESSAGE_PREFIX` plus the schema as
    4-space-indented JSON, and ``response_format`` becomes ``{"type": "json_object"}``. The
    caller runs its forced conversion afterwards, so the message merges into a trailing user
    turn. The vendor does not enforce the schema: the model is asked to follow it. Any other
    request comes back unchanged (the same object). Raises
    :class:`~chatpipe.errors.InvalidRequestError` when the schema is missing.
    """
    fmt = request.params.get("response_format")
    if not isinstance(fmt, Mapping) or fmt.get("type") != "json_schema":
        return request
    spec = fmt.get("json_schema")
    schema = spec.get("schema") if isinstance(spec, Mapping) else None
    if not isinstance(schema, Mapping):
        raise InvalidRequestError(
            "a json_schema response format needs the schema under json_schema.schema, like "
            "{'type': 'json_schema', 'json_schema': {'name': 'answer', 'schema': {...}}}",
            where="params.response_format",
        )
    text = SCHEMA_MESSAGE_PREFIX + json.dumps(schema, indent=4, ensure_ascii=False)
    params = {**request.params, "response_format": {"type": "json_object"}}
    return attrs.evolve(request, messages=(*request.messages, Message("user", text)), params=params)
