"""The OpenAI-shaped request body -> the body Mistral's ``ChatCompletionRequest`` accepts (pure).

Mistral validates strictly: every object of its request schema forbids keys it does not
define (a stray key is a 422 ``extra_forbidden``). :func:`adjust_mistral_body` therefore:

* renames ``seed`` to ``random_seed`` (a ``seed`` of ``-1``, "random" in many front ends, is
  dropped as the reference does) and ``max_completion_tokens`` to ``max_tokens`` (an explicit
  ``random_seed`` / ``max_tokens`` wins);
* drops the OpenAI parameters Mistral does not define (:data:`DROPPED_PARAMS`);
* sends ``tool_choice: "required"`` as Mistral's own ``"any"`` (both are accepted by the
  current API; ``"any"`` also by older deployments);
* keeps per message only the keys Mistral's schema has for its role (:data:`MESSAGE_KEYS`):
  ``name`` survives on ``tool`` messages only, ``prefix`` on ``assistant`` messages only, and
  keys from other vendors (``reasoning_content``, ``cache_control``...) are removed; a
  ``system`` message's ``null`` content becomes ``""``;
* reduces tool calls to ``id``/``type``/``function{name, arguments}``/``index``, text parts to
  ``{type, text}``, image parts to ``{type, image_url{url, detail}}`` and turns OpenAI's
  ``input_audio {data, format}`` into Mistral's ``input_audio: "<base64>"``; other part types
  (``document_url``, ``file``, ``thinking``...) pass unchanged;
* gives a tool without ``parameters`` an empty object schema (Mistral requires the key) and
  removes keys Mistral's tool schema lacks.

Messages of roles Mistral does not know are left as they are (the API names them in its error).
The provider applies this before ``include_body`` / ``exclude_body``, so those can still force
anything in or out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chatpipe.plugin import OPENAI_PARAMS, ParamType

__all__ = ["DROPPED_PARAMS", "MESSAGE_KEYS", "PARAMS", "adjust_mistral_body"]

DROPPED_PARAMS = ("top_k", "logit_bias", "logprobs", "top_logprobs", "user", "stream_options")
"""OpenAI body fields Mistral's chat schema does not define; removed before include/exclude apply."""

PARAMS: Mapping[str, ParamType] = {
    **{
        name: OPENAI_PARAMS.get(name, "integer")
        for name in (
            "temperature",
            "top_p",
            "max_tokens",
            "max_completion_tokens",
            "stop",
            "seed",
            "response_format",
            "presence_penalty",
            "frequency_penalty",
            "n",
            "prediction",
            "parallel_tool_calls",
            "metadata",
            *DROPPED_PARAMS,
        )
    },
    "random_seed": "integer",
    "safe_prompt": "boolean",
    "prompt_mode": "string",
}
"""The parameters Mistral's chat schema defines, and the OpenAI ones renamed or dropped for it
(``ProviderInfo.params``): any other key is a 422 ``extra_forbidden`` from Mistral."""

MESSAGE_KEYS: Mapping[str, frozenset[str]] = {
    "system": frozenset({"role", "content"}),
    "user": frozenset({"role", "content"}),
    "assistant": frozenset({"role", "content", "tool_calls", "prefix"}),
    "tool": frozenset({"role", "content", "tool_call_id", "name"}),
}
"""The keys Mistral's message schemas define, per role."""

_TOOL_CALL_KEYS = ("id", "type", "function", "index")
_FUNCTION_KEYS = ("name", "description", "parameters", "strict")
_EMPTY_PARAMETERS: Mapping[str, Any] = {"type": "object", "properties": {}}


def _part(part: Any) -> Any:
    if not isinstance(part, Mapping):
        return part
    kind = part.get("type")
    if kind == "text":
        return {"type": "text", "text": part.get("text")}
    if kind == "image_url" and isinstance(part.get("image_url"), Mapping):
        image = {k: v for k, v in part["image_url"].items() if k in ("url", "detail") and v is not None}
        return {"type": "image_url", "image_url": image}
    if kind == "input_audio" and isinstance(part.get("input_audio"), Mapping):
        return {"type": "input_audio", "input_audio": part["input_audio"].get("data")}
    return part


def _tool_call(call: Any) -> Any:
    if not isinstance(call, Mapping):
        return call
    out = {k: call[k] for k in _TOOL_CALL_KEYS if k in call}
    function = out.get("function")
    if isinstance(function, Mapping):
        out["function"] = {k: function[k] for k in ("name", "arguments") if k in function}
    return out


def _message(message: Any) -> Any:
    if not isinstance(message, Mapping) or message.get("role") not in MESSAGE_KEYS:
        return message
    role = message["role"]
    out = {k: v for k, v in message.items() if k in MESSAGE_KEYS[role]}
    content = out.get("content")
    if isinstance(content, list):
        out["content"] = [_part(p) for p in content]
    elif content is None and role == "system":
        out["content"] = ""
    if isinstance(out.get("tool_calls"), list):
        out["tool_calls"] = [_tool_call(c) for c in out["tool_calls"]]
    return out


def _tool(tool: Any) -> Any:
    if not isinstance(tool, Mapping) or not isinstance(tool.get("function"), Mapping):
        return tool
    function = {k: v for k, v in tool["function"].items() if k in _FUNCTION_KEYS and v is not None}
    function.setdefault("parameters", dict(_EMPTY_PARAMETERS))
    return {"type": tool.get("type", "function"), "function": function}


def adjust_mistral_body(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` (an OpenAI chat body) rewritten for Mistral, as this module's docstring lists."""
    if "seed" in body:
        seed = body.pop("seed")
        if seed != -1:
            body.setdefault("random_seed", seed)
    if "max_completion_tokens" in body:
        body.setdefault("max_tokens", body.pop("max_completion_tokens"))
    for key in DROPPED_PARAMS:
        body.pop(key, None)
    if body.get("tool_choice") == "required":
        body["tool_choice"] = "any"
    if isinstance(body.get("messages"), list):
        body["messages"] = [_message(m) for m in body["messages"]]
    if isinstance(body.get("tools"), list):
        body["tools"] = [_tool(t) for t in body["tools"]]
    return body
