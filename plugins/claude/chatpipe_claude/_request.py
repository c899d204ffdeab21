"""ChatRequest -> Claude Messages API body (pure).

Construction, each step overriding the previous one:

1. ``model``, ``max_tokens`` (params ``max_tokens`` or ``max_completion_tokens``, else the
   profile option ``max_tokens``, else :func:`~chatpipe_claude._models.default_max_tokens`;
   raised when thinking needs it), ``system`` (omitted when empty), ``messages`` (see
   :mod:`chatpipe_claude._messages`), ``stream``;
2. ``tools`` and ``tool_choice`` when the request defines tools (:mod:`chatpipe_claude._tools`);
   with the profile option ``web_search: true``, Claude's web-search tool first in ``tools``
   (prepended, as in the reference; also when the request defines no tools);
3. mapped params: ``stop`` (string or list) → ``stop_sequences``; ``temperature``, ``top_p``,
   ``top_k`` (left out while thinking, and limited per model by
   :func:`~chatpipe_claude._models.sampling_for`); ``user`` → ``metadata.user_id``; ``response_format``
   ``json_schema`` → ``output_config.format`` (``json_object`` is an error: Claude needs a
   schema; ``text`` sends nothing); thinking (:mod:`chatpipe_claude._thinking`);
4. every other param is passed through under its own name (Claude fields such as
   ``metadata``, ``service_tier``, ``output_config``, ``cache_control``, ``container``),
   except the OpenAI-only ones in :data:`DROPPED_PARAMS`, which Claude would reject, and
   ``n`` (only ``n: 1`` is accepted). A param whose value is ``None`` is not sent;
5. ``include_body`` shallow-merged, then ``exclude_body`` keys removed, last of all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chatpipe.plugin import DEFAULT_PLACEHOLDER, OPENAI_PARAMS, ChatRequest, InvalidRequestError, Names, ParamType

from ._messages import NO_NAMES, convert_messages
from ._models import can_prefill, default_max_tokens, sampling_for
from ._thinking import thinking_for
from ._tools import tool_choice, tool_definition, web_search_tool

__all__ = ["DROPPED_PARAMS", "PARAMS", "RESERVED_PARAMS", "build_body", "max_tokens_for"]

RESERVED_PARAMS = frozenset({"model", "messages", "tools", "tool_choice", "stream", "system"})
"""Keys that come from the request's own fields, never from ``params``."""

DROPPED_PARAMS = frozenset(
    {
        "frequency_penalty",
        "presence_penalty",
        "seed",
        "logit_bias",
        "logprobs",
        "top_logprobs",
        "stream_options",
        "modalities",
        "store",
        "verbosity",
    }
)
"""OpenAI params with no Claude counterpart; not sent (Claude rejects unknown fields)."""

_HANDLED = frozenset(
    {
        "max_tokens",
        "max_completion_tokens",
        "stop",
        "temperature",
        "top_p",
        "top_k",
        "user",
        "response_format",
        "reasoning_effort",
        "thinking",
        "parallel_tool_calls",
        "n",
        "output_config",
        "metadata",
    }
)

PASSED_PARAMS: Mapping[str, ParamType] = {
    "service_tier": "string",
    "cache_control": "object",
    "container": ("string", "object"),
    "context_management": "object",
    "mcp_servers": "array",
}
"""Claude's own fields, passed on under their names (step 4 sends any other name too, which
Claude then refuses)."""

PARAMS: Mapping[str, ParamType] = {
    **{name: OPENAI_PARAMS.get(name, "any") for name in sorted(_HANDLED | DROPPED_PARAMS)},
    "top_k": "integer",
    "thinking": "object",
    "output_config": "object",
    **PASSED_PARAMS,
}
"""Every parameter Claude's adapter knows, with its type (``ProviderInfo.params``)."""


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidRequestError(f"must be a whole number >= 1, got {value!r}", where=where)
    return value


def max_tokens_for(request: ChatRequest, option: Any) -> int:
    """``max_tokens`` from the params, else the ``max_tokens`` option, else the model default."""
    for key in ("max_tokens", "max_completion_tokens"):
        if request.params.get(key) is not None:
            return _positive_int(request.params[key], key)
    if option is not None:
        return _positive_int(option, "options.max_tokens")
    return default_max_tokens(request.model)


def _stop_sequences(stop: Any) -> list[str]:
    values = [stop] if isinstance(stop, str) else stop
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
        raise InvalidRequestError("stop must be a string or a list of strings", where="stop")
    return list(values)


def _output_format(response_format: Any) -> dict[str, Any] | None:
    if response_format is None:
        return None
    if not isinstance(response_format, Mapping):
        raise InvalidRequestError("response_format must be an object", where="response_format")
    kind = response_format.get("type")
    if kind == "text":
        return None
    spec = response_format.get("json_schema")
    if kind == "json_schema" and isinstance(spec, Mapping) and isinstance(spec.get("schema"), Mapping):
        return {"type": "json_schema", "schema": dict(spec["schema"])}
    if kind == "json_object":
        raise InvalidRequestError(
            "Claude has no JSON mode without a schema; use response_format "
            '{"type": "json_schema", "json_schema": {"name": ..., "schema": {...}}}',
            where="response_format",
        )
    raise InvalidRequestError(
        'response_format must be {"type": "json_schema", "json_schema": {"schema": {...}}} or {"type": "text"}',
        where="response_format",
    )


def _metadata(params: Mapping[str, Any]) -> dict[str, Any] | None:
    metadata = params.get("metadata")
    out = dict(metadata) if isinstance(metadata, Mapping) else {}
    if metadata is not None and not isinstance(metadata, Mapping):
        raise InvalidRequestError("metadata must be an object such as {'user_id': '...'}", where="metadata")
    if isinstance(params.get("user"), str) and "user_id" not in out:
        out["user_id"] = params["user"]
    return out or None


def _check_params(params: Mapping[str, Any]) -> None:
    reserved = sorted(RESERVED_PARAMS.intersection(params))
    if reserved:
        raise InvalidRequestError(
            f"{reserved} cannot be passed as parameters; use the request's own arguments for them", where="params"
        )
    n = params.get("n")
    if n is not None and n != 1:
        raise InvalidRequestError("Claude returns one completion per request; n must be 1", where="n")


def build_body(
    request: ChatRequest,
    *,
    options: Mapping[str, Any],
    include_body: Mapping[str, Any],
    exclude_body: Iterable[str],
    placeholder: str = DEFAULT_PLACEHOLDER,
    names: Names = NO_NAMES,
) -> dict[str, Any]:
    """The complete JSON body for ``request``, following the steps of the module docstring.

    ``options`` are the provider options (``max_tokens``, ``adaptive_thinking``,
    ``use_system_prompt``, ``web_search``); ``placeholder`` is the user turn sent when no message is left (the
    pipeline's ``prompt_placeholder``) and ``names`` the speaker names for example-prefixing (the
    profile's ``names``). Raises :class:`~chatpipe.errors.InvalidRequestError` for params or
    messages Claude cannot take.
    """
    params = {k: v for k, v in request.params.items() if v is not None}
    _check_params(params)
    thinking = thinking_for(
        params,
        max_tokens=max_tokens_for(request, options.get("max_tokens")),
        stream=request.stream,
        adaptive=bool(options.get("adaptive_thinking", False)),
    )
    conversation = convert_messages(
        request.messages,
        use_tools=bool(request.tools),
        use_system=bool(options.get("use_system_prompt", True)),
        relabel_prefill=thinking.active or not can_prefill(request.model),
        placeholder=placeholder,
        names=names,
    )
    body: dict[str, Any] = {"model": request.model, "max_tokens": thinking.max_tokens}
    if conversation.system:
        body["system"] = conversation.system
    body["messages"] = conversation.messages
    body["stream"] = request.stream
    tools = [tool_definition(t) for t in request.tools or ()]
    if options.get("web_search", False):
        tools.insert(0, web_search_tool(request.model))
    if tools:
        body["tools"] = tools
    if request.tools:
        choice = tool_choice(request.tool_choice, params.get("parallel_tool_calls"))
        if choice is not None:
            body["tool_choice"] = choice
    if "stop" in params:
        body["stop_sequences"] = _stop_sequences(params["stop"])
    if not thinking.active:
        body.update(sampling_for(request.model, params))
    metadata = _metadata(params)
    if metadata:
        body["metadata"] = metadata
    if thinking.thinking is not None:
        body["thinking"] = dict(thinking.thinking)
    given = params.get("output_config", {})
    if not isinstance(given, Mapping):
        raise InvalidRequestError("output_config must be an object", where="output_config")
    output_config = dict(given)
    output_config.update(thinking.output_config)
    output_format = _output_format(params.get("response_format"))
    if output_format is not None:
        output_config["format"] = output_format
    if output_config:
        body["output_config"] = output_config
    body.update({k: v for k, v in params.items() if k not in _HANDLED and k not in DROPPED_PARAMS})
    body.update(include_body)
    for key in exclude_body:
        body.pop(key, None)
    return body
