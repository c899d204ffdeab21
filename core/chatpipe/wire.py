"""OpenAI-format dicts ⇄ :mod:`chatpipe.models`: hand-written structure and unstructure functions.

Every request and reply crosses this module: the pipeline structures the caller's messages
and tools, adapters render requests and parse replies with it, the gateway and ``chatpipe
chat --json`` render responses and stream chunks as OpenAI objects. The functions are plain
code over attrs classes (no serialization library), with a fast path for plain message dicts.

Contract:

* ``*_from_dict`` structure a dict into a model. ``message_from_dict(d)`` accepts any OpenAI
  chat message; keys without a field of their own land in ``extra``. Malformed input raises
  :class:`~chatpipe.errors.InvalidRequestError` naming the offending key
  (``messages[1].content[0].type``).
* ``*_to_dict`` unstructure a model into its OpenAI dict; :func:`response_to_dict` and
  :func:`chunk_to_dict` render ``chat.completion`` and ``chat.completion.chunk`` objects; a
  choice's ``logprobs`` and the ``created`` timestamp are rendered only when the vendor sent them.
* ``message_to_dict(message_from_dict(d)) == d`` for every valid message that states
  ``content`` and gives tool-call arguments as text (an absent ``content`` comes back as ``"content": None``); and
  ``message_from_dict(message_to_dict(m)) == m`` for every model instance.
  Both are property-tested.
* Parts of unknown type are kept verbatim as :class:`~chatpipe.models.OtherPart`.
* Tool-call ``arguments`` given as an object (``{"x": 1}``) are taken and stored as compact
  JSON text (``'{"x":1}'``), which is what every adapter sends; such a message therefore comes
  back with string arguments, the one exception to the round trip above.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Mapping  # not typing: isinstance() on those is ~10x slower
from typing import Any, TypeVar

import attrs

from .errors import InvalidRequestError
from .models import (
    AudioPart,
    ChatChunk,
    ChatResponse,
    FunctionCall,
    FunctionDef,
    ImagePart,
    ImageURL,
    InputAudio,
    Message,
    ModelInfo,
    OtherPart,
    Part,
    TextPart,
    Tool,
    ToolCall,
    Usage,
)

__all__ = [
    "MAX_TOKEN_COUNT",
    "chunk_to_dict",
    "completion_to_dict",
    "finite_json",
    "message_from_dict",
    "message_to_dict",
    "messages_from_dicts",
    "messages_to_dicts",
    "model_info_to_dict",
    "new_completion_id",
    "part_from_dict",
    "part_to_dict",
    "response_to_dict",
    "token_count",
    "tool_from_dict",
    "tool_to_dict",
    "tools_from_dicts",
    "usage_from_dict",
    "usage_to_dict",
]

T = TypeVar("T")


class _WireError(Exception):
    def __init__(self, where: str, message: str) -> None:
        self.where = where
        self.message = message


def _check_type(value: Any, expected: type | tuple[type, ...], where: str, what: str) -> None:
    if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
        raise _WireError(where, f"expected {what}, got {type(value).__name__}")


def _make_structure(cls: type[T]) -> Callable[[Any, str], T]:
    """Build ``(data, where) -> instance`` for a flat class whose fields are plain values."""
    all_fields = attrs.fields(cls)  # type: ignore[arg-type]
    fields = {f.name: f for f in all_fields if f.name != "extra" and f.init}
    required = [name for name, f in fields.items() if f.default is attrs.NOTHING]
    has_extra = any(f.name == "extra" for f in all_fields)
    fixed = {f.name: f.default for f in all_fields if not f.init}

    def structure(data: Any, where: str) -> T:
        _check_type(data, Mapping, where, "an object")
        for name in required:
            if name not in data:
                raise _WireError(where, f"missing required key {name!r}")
        kwargs: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in data.items():
            if key in fields:
                kwargs[key] = value
            elif key in fixed:
                if value != fixed[key]:
                    raise _WireError(f"{where}.{key}", f"expected {fixed[key]!r}, got {value!r}")
            else:
                extra[key] = value
        if has_extra:
            kwargs["extra"] = extra
        return cls(**kwargs)

    return structure


def _unstructure_flat(obj: Any, nested: Mapping[str, Callable[[Any], Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in attrs.fields(type(obj)):
        if f.name == "extra":
            continue
        value = getattr(obj, f.name)
        if value is None and f.default is None:
            continue
        if nested and f.name in nested and value is not None:
            value = nested[f.name](value)
        out[f.name] = value
    extra = getattr(obj, "extra", None)
    if extra:
        out.update(extra)
    return out


_image_url = _make_structure(ImageURL)
_input_audio = _make_structure(InputAudio)
_function_call = _make_structure(FunctionCall)
_function_def = _make_structure(FunctionDef)
_usage = _make_structure(Usage)
_model_info = _make_structure(ModelInfo)


def _part(data: Any, where: str) -> Part:
    _check_type(data, Mapping, where, "a content part object")
    kind = data.get("type")
    rest = {k: v for k, v in data.items() if k != "type"}
    if kind == "text":
        text = rest.pop("text", None)
        _check_type(text, str, f"{where}.text", "a string")
        return TextPart(text, extra=rest)
    if kind == "image_url" and isinstance(rest.get("image_url"), Mapping) and "url" in rest["image_url"]:
        image = _image_url(rest.pop("image_url"), f"{where}.image_url")
        _check_type(image.url, str, f"{where}.image_url.url", "a string")
        return ImagePart(image, extra=rest)
    if kind == "input_audio" and isinstance(rest.get("input_audio"), Mapping):
        audio_data = rest["input_audio"]
        if isinstance(audio_data.get("data"), str) and isinstance(audio_data.get("format"), str):
            rest.pop("input_audio")
            return AudioPart(_input_audio(audio_data, f"{where}.input_audio"), extra=rest)
    _check_type(kind, str, f"{where}.type", "a part type string")
    return OtherPart(dict(data))


def _content(data: Any, where: str) -> str | tuple[Part, ...] | None:
    if data is None or isinstance(data, str):
        return data
    if isinstance(data, (list, tuple)):
        return tuple(_part(p, f"{where}[{i}]") for i, p in enumerate(data))
    raise _WireError(where, f"expected a string, a list of parts or null, got {type(data).__name__}")


def _tool_call(data: Any, where: str) -> ToolCall:
    _check_type(data, Mapping, where, "a tool call object")
    for key in ("id", "function"):
        if key not in data:
            raise _WireError(where, f"missing required key {key!r}")
    _check_type(data["id"], str, f"{where}.id", "a string")
    function = _function_call(data["function"], f"{where}.function")
    _check_type(function.name, str, f"{where}.function.name", "a string")
    if isinstance(function.arguments, Mapping):
        function = attrs.evolve(function, arguments=_arguments_text(function.arguments, f"{where}.function.arguments"))
    elif not isinstance(function.arguments, str):
        raise _WireError(
            f"{where}.function.arguments",
            f"expected a JSON string (or an object), got {type(function.arguments).__name__}; "
            'send the arguments as JSON text, e.g. "{"city": "Paris"}"',
        )
    extra = {k: v for k, v in data.items() if k not in ("id", "function", "type")}
    return ToolCall(data["id"], function, type=data.get("type", "function"), extra=extra)


def _arguments_text(arguments: Mapping[str, Any], where: str) -> str:
    """Tool-call arguments given as an object, as the compact JSON text every vendor is sent."""
    try:
        return json.dumps(arguments, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise _WireError(where, f"the arguments object is not JSON ({exc}); send plain JSON values") from None


_MESSAGE_KEYS = ("role", "content", "name", "tool_calls", "tool_call_id")
_PLAIN_KEYS = frozenset(("role", "content"))
_NESTED_KEYS = frozenset(("name", "tool_calls", "tool_call_id"))


def _plain_message(data: Any) -> Message | None:
    """The message for a plain dict (string or null ``content``, no name or tool fields), else ``None``.

    A fast path for the common case (no ABC checks, no error locations built): anything
    else, including every malformed message, returns ``None`` and goes through
    :func:`_message`, which gives the same result for the dicts accepted here.
    """
    if type(data) is dict:
        role = data.get("role")
        content = data.get("content")
        if type(role) is str and role and (content is None or type(content) is str):
            keys = data.keys()
            if keys <= _PLAIN_KEYS:
                return Message(role, content)
            if keys.isdisjoint(_NESTED_KEYS):
                return Message(role, content, extra={k: v for k, v in data.items() if k not in _PLAIN_KEYS})
    return None


def _message(data: Any, where: str) -> Message:
    _check_type(data, Mapping, where, "a message object")
    role = data.get("role")
    if not isinstance(role, str) or not role:
        raise _WireError(
            f"{where}.role", "every message needs a non-empty string 'role' (user, assistant, system, tool...)"
        )
    name = data.get("name")
    if name is not None:
        _check_type(name, str, f"{where}.name", "a string")
    tool_call_id = data.get("tool_call_id")
    if tool_call_id is not None:
        _check_type(tool_call_id, str, f"{where}.tool_call_id", "a string")
    calls = data.get("tool_calls")
    tool_calls = None
    if calls is not None:
        _check_type(calls, (list, tuple), f"{where}.tool_calls", "a list")
        tool_calls = tuple(_tool_call(c, f"{where}.tool_calls[{i}]") for i, c in enumerate(calls))
    return Message(
        role,
        _content(data.get("content"), f"{where}.content"),
        name=name,
        tool_calls=tool_calls,
        tool_call_id=tool_call_id,
        extra={k: v for k, v in data.items() if k not in _MESSAGE_KEYS},
    )


def _tool(data: Any, where: str) -> Tool:
    _check_type(data, Mapping, where, "a tool object")
    if "function" not in data:
        raise _WireError(where, "missing required key 'function'")
    function = _function_def(data["function"], f"{where}.function")
    _check_type(function.name, str, f"{where}.function.name", "a string")
    extra = {k: v for k, v in data.items() if k not in ("function", "type")}
    return Tool(function, type=data.get("type", "function"), extra=extra)


def _wrap(fn: Callable[[Any, str], T], data: Any, where: str) -> T:
    try:
        return fn(data, where)
    except _WireError as exc:
        raise InvalidRequestError(exc.message, where=exc.where) from None


# --- public structure functions -------------------------------------------------------


def message_from_dict(data: Mapping[str, Any], *, where: str = "message") -> Message:
    """Structure one OpenAI message dict; raises InvalidRequestError naming the bad key."""
    return _plain_message(data) or _wrap(_message, data, where)


def messages_from_dicts(data: Iterable[Mapping[str, Any]], *, where: str = "messages") -> tuple[Message, ...]:
    """Structure a message list; ``where`` prefixes error locations (``messages[3].role``)."""
    if type(data) is not list and (isinstance(data, (str, bytes, Mapping)) or not isinstance(data, Iterable)):
        raise InvalidRequestError("expected a list of message objects", where=where)
    return tuple(_plain_message(m) or _wrap(_message, m, f"{where}[{i}]") for i, m in enumerate(data))


def part_from_dict(data: Mapping[str, Any], *, where: str = "part") -> Part:
    """Structure one content part."""
    return _wrap(_part, data, where)


def tool_from_dict(data: Mapping[str, Any], *, where: str = "tool") -> Tool:
    """Structure one OpenAI tool definition."""
    return _wrap(_tool, data, where)


def tools_from_dicts(data: Iterable[Mapping[str, Any]], *, where: str = "tools") -> tuple[Tool, ...]:
    """Structure a tools list."""
    if isinstance(data, (str, bytes, Mapping)) or not isinstance(data, Iterable):
        raise InvalidRequestError("expected a list of tool objects", where=where)
    return tuple(_wrap(_tool, t, f"{where}[{i}]") for i, t in enumerate(data))


_COUNT_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens")

MAX_TOKEN_COUNT = 2**63 - 1
"""The largest token count taken as known (a signed 64-bit integer, what vendors and clients store)."""


def token_count(value: Any) -> int | None:
    """``value`` when it is a token count: an ``int`` (not a ``bool``) from 0 to :data:`MAX_TOKEN_COUNT`.

    Anything else — a float (``1e999`` decodes to ``inf``), a negative or out-of-range
    integer, a string — is ``None``, "unknown"; the caller keeps the raw value in ``extra``.
    """
    return value if type(value) is int and 0 <= value <= MAX_TOKEN_COUNT else None


def usage_from_dict(data: Mapping[str, Any]) -> Usage:
    """Structure an OpenAI ``usage`` object, lifting cached and reasoning token details.

    The three counts become fields when they are token counts (:func:`token_count`); every
    other key (a count that is not one included, with its raw value) is kept in ``extra``.
    """
    prompt = token_count(data.get("prompt_tokens"))
    completion = token_count(data.get("completion_tokens"))
    total = token_count(data.get("total_tokens"))
    extra = {k: v for k, v in data.items() if k not in _COUNT_KEYS or token_count(v) is None}
    cached = _detail(data, "prompt_tokens_details", "cached_tokens", "prompt_cache_hit_tokens")
    reasoning = _detail(data, "completion_tokens_details", "reasoning_tokens", "reasoning_tokens")
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=total,
        cached_tokens=cached,
        reasoning_tokens=reasoning,
        extra=extra,
    )


def _detail(data: Mapping[str, Any], details_key: str, key: str, flat_key: str) -> int | None:
    """``data[details_key][key]``, else the flat ``data[flat_key]`` some vendors send; token counts only."""
    details = data.get(details_key)
    value = details.get(key) if details is not None and isinstance(details, Mapping) else None
    if value is None:
        value = data.get(flat_key)
    return token_count(value)


# --- public unstructure functions -----------------------------------------------------


def part_to_dict(part: Part) -> dict[str, Any]:
    """Unstructure one content part to its OpenAI dict."""
    if isinstance(part, OtherPart):
        return dict(part.data)
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text, **part.extra}
    if isinstance(part, ImagePart):
        return {"type": "image_url", "image_url": _unstructure_flat(part.image_url), **part.extra}
    return {"type": "input_audio", "input_audio": _unstructure_flat(part.input_audio), **part.extra}


def _tool_call_to_dict(call: ToolCall) -> dict[str, Any]:
    return {"id": call.id, "type": call.type, "function": _unstructure_flat(call.function), **call.extra}


def message_to_dict(message: Message) -> dict[str, Any]:
    """Unstructure one message; ``content`` is always present (``None`` as ``null``)."""
    content = message.content
    out: dict[str, Any] = {
        "role": message.role,
        "content": content if content is None or isinstance(content, str) else [part_to_dict(p) for p in content],
    }
    if message.name is not None:
        out["name"] = message.name
    if message.tool_calls is not None:
        out["tool_calls"] = [_tool_call_to_dict(c) for c in message.tool_calls]
    if message.tool_call_id is not None:
        out["tool_call_id"] = message.tool_call_id
    if message.extra:
        out.update(message.extra)
    return out


def messages_to_dicts(messages: Iterable[Message]) -> list[dict[str, Any]]:
    """Unstructure a message sequence."""
    return [message_to_dict(m) for m in messages]


def tool_to_dict(tool: Tool) -> dict[str, Any]:
    """Unstructure one tool definition."""
    return {"type": tool.type, "function": _unstructure_flat(tool.function), **tool.extra}


def usage_to_dict(usage: Usage) -> dict[str, Any]:
    """Unstructure usage to OpenAI's shape (details nested as OpenAI nests them)."""
    out: dict[str, Any] = dict(usage.extra)
    for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
        value = getattr(usage, key)
        if value is not None:
            out[key] = value
    if usage.cached_tokens is not None:
        details = dict(out.get("prompt_tokens_details") or {})
        details["cached_tokens"] = usage.cached_tokens
        out["prompt_tokens_details"] = details
    if usage.reasoning_tokens is not None:
        details = dict(out.get("completion_tokens_details") or {})
        details["reasoning_tokens"] = usage.reasoning_tokens
        out["completion_tokens_details"] = details
    if usage.cache_creation_tokens is not None:
        out.setdefault("cache_creation_input_tokens", usage.cache_creation_tokens)
    return out


def model_info_to_dict(info: ModelInfo) -> dict[str, Any]:
    """Unstructure a model list entry to OpenAI's ``{id, object: "model", ...}``."""
    out = _unstructure_flat(info)
    out.setdefault("object", "model")
    return out


def model_info_from_dict(data: Mapping[str, Any]) -> ModelInfo:
    """Structure an OpenAI model list entry (``id`` required, the rest kept in ``extra``)."""
    return _wrap(_model_info_checked, data, "model")


def _model_info_checked(data: Any, where: str) -> ModelInfo:
    info = _model_info(data, where)
    _check_type(info.id, str, f"{where}.id", "a string")
    extra = dict(info.extra)
    extra.pop("object", None)
    created = info.created if isinstance(info.created, int) else None
    owned_by = info.owned_by if isinstance(info.owned_by, str) else None
    context = info.context_length if isinstance(info.context_length, int) else None
    return ModelInfo(info.id, owned_by=owned_by, created=created, context_length=context, extra=extra)


def response_to_dict(response: ChatResponse) -> dict[str, Any]:
    """Render a response as an OpenAI ``chat.completion`` object."""
    choices = []
    for choice in response.choices:
        message = message_to_dict(choice.message)
        if choice.reasoning and "reasoning_content" not in message:
            message["reasoning_content"] = choice.reasoning
        entry: dict[str, Any] = {"index": choice.index, "message": message, "finish_reason": choice.finish_reason}
        if choice.logprobs is not None:
            entry["logprobs"] = choice.logprobs
        choices.append(entry)
    out: dict[str, Any] = {"id": response.id, "object": "chat.completion"}
    if response.created is not None:
        out["created"] = response.created
    out["model"] = response.model
    out["choices"] = choices
    if response.usage is not None:
        out["usage"] = usage_to_dict(response.usage)
    out.update(response.extra)
    return out


def chunk_to_dict(chunk: ChatChunk) -> dict[str, Any]:
    """Render a stream chunk as an OpenAI ``chat.completion.chunk`` object."""
    delta: dict[str, Any] = {}
    if chunk.role:
        delta["role"] = chunk.role
    if chunk.text:
        delta["content"] = chunk.text
    if chunk.reasoning:
        delta["reasoning_content"] = chunk.reasoning
    if chunk.tool_calls:
        calls = []
        for d in chunk.tool_calls:
            call: dict[str, Any] = {"index": d.index}
            if d.id is not None:
                call["id"] = d.id
                call["type"] = "function"
            function: dict[str, Any] = {"arguments": d.arguments}
            if d.name is not None:
                function["name"] = d.name
            call["function"] = function
            calls.append(call)
        delta["tool_calls"] = calls
    choice: dict[str, Any] = {"index": chunk.index, "delta": delta, "finish_reason": chunk.finish_reason}
    if chunk.logprobs is not None:
        choice["logprobs"] = chunk.logprobs
    out: dict[str, Any] = {"id": chunk.id, "object": "chat.completion.chunk"}
    if chunk.created is not None:
        out["created"] = chunk.created
    out["model"] = chunk.model
    out["choices"] = [choice]
    if chunk.usage is not None:
        out["usage"] = usage_to_dict(chunk.usage)
    return out


def new_completion_id() -> str:
    """A fresh ``chatcmpl-…`` id for a reply whose vendor gave none."""
    import uuid  # not with every pipeline: only replies rendered as OpenAI JSON need an id

    return f"chatcmpl-{uuid.uuid4().hex}"


def completion_to_dict(response: ChatResponse, *, model: str, created: int | None = None) -> dict[str, Any]:
    """The complete ``chat.completion`` object for ``response``, as OpenAI sends one.

    Unlike :func:`response_to_dict` every field OpenAI always sends is there: each choice's
    ``logprobs`` (``null`` when the vendor sent none), an ``id`` (a fresh ``chatcmpl-…`` when
    the vendor gave none), ``created`` (the vendor's integer timestamp, else ``created``,
    else the clock now) and ``model`` (the vendor's, else ``model``). The gateway's replies and
    ``chatpipe batch``'s output rows are this object.
    """
    body = response_to_dict(response)
    for choice in body["choices"]:
        choice.setdefault("logprobs", None)
    body["id"] = body.get("id") or new_completion_id()
    body["object"] = "chat.completion"
    if type(body.get("created")) is not int:
        body["created"] = int(time.time()) if created is None else created
    body["model"] = body.get("model") or model
    return body


def finite_json(obj: Any) -> Any:
    """``obj`` (decoded JSON) with every non-finite float replaced by ``None`` (a copy where needed).

    Standard JSON has no ``Infinity`` or ``NaN``; a vendor's ``1e999`` decodes to ``inf``.
    """
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {key: finite_json(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_json(value) for value in obj]
    return obj
