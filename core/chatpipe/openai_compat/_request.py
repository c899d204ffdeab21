"""ChatRequest -> OpenAI ``chat/completions`` JSON body (pure).

Order of construction (docs/configuration.md, custom endpoints), each step overriding the previous one:

1. core fields: ``model``, ``messages``, ``tools`` + ``tool_choice`` (only when tools are given),
   ``stream``, and ``stream_options: {include_usage: true}`` when streaming and enabled;
2. ``request.params`` under their OpenAI names (a ``None`` value removes the key);
3. the adapter's ``adjust_body`` hook (vendor renames and drops);
4. ``include_body`` shallow-merged — except that ``stop``, ``tools``, ``tool_choice`` and
   ``response_format`` given by the request win over it;
5. ``exclude_body`` keys removed, last of all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .. import wire
from ..errors import InvalidRequestError
from ..models import ChatRequest

__all__ = ["REQUEST_WINS_OVER_INCLUDE", "RESERVED_PARAMS", "audio_url_to_input_audio", "build_body", "core_body"]

RESERVED_PARAMS = frozenset({"model", "messages", "tools", "tool_choice", "stream"})
"""Keys that must come from the request's own fields, never from ``params``."""

REQUEST_WINS_OVER_INCLUDE = ("stop", "tools", "tool_choice", "response_format")
"""Request keys that ``include_body`` cannot override (docs/configuration.md)."""

BodyHook = Callable[[dict[str, Any], ChatRequest], dict[str, Any]]


def audio_url_to_input_audio(part: Mapping[str, Any]) -> dict[str, Any] | None:
    """An ``input_audio`` part for an ``audio_url`` part holding a base64 ``data:`` URL, else ``None``.

    The format is ``wav`` for ``audio/wav`` (and its ``x-wav``/``wave`` spellings), ``mp3`` for
    every other media type (docs/vendors/openai.md).
    """
    if part.get("type") != "audio_url":
        return None
    audio = part.get("audio_url")
    url = audio.get("url") if isinstance(audio, Mapping) else audio
    if not isinstance(url, str) or not url.startswith("data:") or "," not in url:
        return None
    header, data = url[5:].split(",", 1)
    media_type = header.split(";", 1)[0].strip().lower()
    fmt = "wav" if media_type in ("audio/wav", "audio/x-wav", "audio/wave") else "mp3"
    return {"type": "input_audio", "input_audio": {"format": fmt, "data": data}}


def _rewrite_audio(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list) and any(isinstance(p, Mapping) and p.get("type") == "audio_url" for p in content):
            parts = [audio_url_to_input_audio(p) or p if isinstance(p, Mapping) else p for p in content]
            message = {**message, "content": parts}
        out.append(message)
    return out


def core_body(request: ChatRequest, *, stream_usage: bool, rewrite_audio: bool) -> dict[str, Any]:
    """Steps 1 and 2: the core fields, then ``request.params`` spread in.

    Raises :class:`~chatpipe.errors.InvalidRequestError` when ``params`` holds a key that has a
    field of its own (``model``, ``messages``, ``tools``, ``tool_choice``, ``stream``).
    """
    if not RESERVED_PARAMS.isdisjoint(request.params):
        reserved = sorted(RESERVED_PARAMS.intersection(request.params))
        raise InvalidRequestError(
            f"{reserved} cannot be passed as parameters; use the request's own arguments for them",
            where="params",
        )
    messages = wire.messages_to_dicts(request.messages)
    if rewrite_audio:
        messages = _rewrite_audio(messages)
    body: dict[str, Any] = {"model": request.model, "messages": messages}
    if request.tools:
        body["tools"] = [wire.tool_to_dict(t) for t in request.tools]
        if request.tool_choice is not None:
            body["tool_choice"] = (
                request.tool_choice if isinstance(request.tool_choice, str) else dict(request.tool_choice)
            )
    body["stream"] = request.stream
    if request.stream and stream_usage:
        body["stream_options"] = {"include_usage": True}
    for key, value in request.params.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def build_body(
    request: ChatRequest,
    *,
    include_body: Mapping[str, Any],
    exclude_body: Iterable[str],
    adjust: BodyHook,
    stream_usage: bool = True,
    rewrite_audio: bool = False,
) -> dict[str, Any]:
    """The complete body, following the five steps in this module's docstring."""
    body = adjust(core_body(request, stream_usage=stream_usage, rewrite_audio=rewrite_audio), request)
    if include_body:
        protected = {k: body[k] for k in REQUEST_WINS_OVER_INCLUDE if k in body and _from_request(k, request)}
        body.update(include_body)
        body.update(protected)
    for key in exclude_body:
        body.pop(key, None)
    return body


def _from_request(key: str, request: ChatRequest) -> bool:
    if key in ("tools", "tool_choice"):
        return bool(request.tools)
    return request.params.get(key) is not None
