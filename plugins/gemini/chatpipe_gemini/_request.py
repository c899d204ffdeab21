"""ChatRequest -> Gemini ``generateContent`` body (pure).

Construction, each step overriding the previous one:

1. ``contents`` and ``systemInstruction`` (:mod:`chatpipe_gemini._messages`; unsigned tool
   calls get the placeholder signature on the models that require signatures, the
   ``thinkingLevel`` ones);
2. ``tools`` and ``toolConfig`` when the request defines tools (:mod:`chatpipe_gemini._tools`);
3. ``safetySettings`` from the profile option ``safety_settings`` (:mod:`chatpipe_gemini._safety`);
4. ``generationConfig`` from the OpenAI parameters (:data:`GENERATION_PARAMS`):
   ``temperature``, ``top_p`` → ``topP``, ``top_k`` → ``topK``, ``max_tokens`` /
   ``max_completion_tokens`` → ``maxOutputTokens``, ``stop`` (string or list) →
   ``stopSequences``, ``n`` → ``candidateCount``, ``presence_penalty`` → ``presencePenalty``,
   ``frequency_penalty`` → ``frequencyPenalty``, ``seed``, ``logprobs`` → ``responseLogprobs``,
   ``top_logprobs`` → ``logprobs``; ``response_format``: ``json_object`` →
   ``responseMimeType: application/json``, ``json_schema`` → that plus ``responseSchema`` (the
   schema reduced as tool parameters are), ``text`` → nothing; thinking →
   ``thinkingConfig`` (:mod:`chatpipe_gemini._thinking`); a ``generation_config`` parameter
   (Gemini's own object) is merged over the result;
5. Gemini's ``cached_content`` parameter → ``cachedContent``;
6. ``include_body`` shallow-merged, then ``exclude_body`` keys removed, last of all.

The OpenAI parameters in :data:`IGNORED_PARAMS` have no Gemini counterpart and change nothing
in the answer; they are not sent. Any other parameter is an
:class:`~chatpipe.errors.InvalidRequestError` naming it (Gemini rejects unknown fields;
``include_body`` still sends a raw field).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chatpipe.plugin import DEFAULT_PLACEHOLDER, OPENAI_PARAMS, ChatRequest, InvalidRequestError, Names, ParamType

from ._messages import convert_messages
from ._safety import safety_settings
from ._schema import gemini_schema
from ._thinking import thinking_config, uses_level
from ._tools import tool_config, tools_field

__all__ = ["GENERATION_PARAMS", "IGNORED_PARAMS", "PARAMS", "build_body", "generation_config"]

GENERATION_PARAMS: Mapping[str, str] = {
    "temperature": "temperature",
    "top_p": "topP",
    "top_k": "topK",
    "max_tokens": "maxOutputTokens",
    "max_completion_tokens": "maxOutputTokens",
    "n": "candidateCount",
    "presence_penalty": "presencePenalty",
    "frequency_penalty": "frequencyPenalty",
    "seed": "seed",
    "logprobs": "responseLogprobs",
    "top_logprobs": "logprobs",
}
"""OpenAI parameter → ``generationConfig`` field, for the ones copied as they are."""

IGNORED_PARAMS = frozenset(
    {
        "parallel_tool_calls",
        "stream_options",
        "user",
        "store",
        "metadata",
        "service_tier",
        "prompt_cache_key",
        "safety_identifier",
    }
)
"""OpenAI parameters with no Gemini counterpart that do not change the answer; not sent."""

_HANDLED = frozenset(
    {*GENERATION_PARAMS, "stop", "response_format", "reasoning_effort", "thinking_config", "generation_config"}
)

PARAMS: Mapping[str, ParamType] = {
    **{name: OPENAI_PARAMS.get(name, "any") for name in sorted((_HANDLED | IGNORED_PARAMS) & set(OPENAI_PARAMS))},
    "top_k": "integer",
    "thinking_config": "object",
    "generation_config": "object",
    "cached_content": "string",
}
"""Every parameter the Gemini adapter knows, with its type (``ProviderInfo.params``)."""


def _stop(value: Any) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) for v in values):
        raise InvalidRequestError("stop must be a string or a list of strings", where="stop")
    return list(values)


def _response_format(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidRequestError("response_format must be an object", where="response_format")
    kind = value.get("type")
    if kind == "text":
        return {}
    if kind == "json_object":
        return {"responseMimeType": "application/json"}
    spec = value.get("json_schema")
    if kind == "json_schema" and isinstance(spec, Mapping) and isinstance(spec.get("schema"), Mapping):
        schema = gemini_schema(spec["schema"], where="response_format.json_schema.schema")
        return {"responseMimeType": "application/json", "responseSchema": schema}
    raise InvalidRequestError(
        'response_format must be {"type": "json_object"}, {"type": "json_schema", "json_schema": '
        '{"schema": {...}}} or {"type": "text"}',
        where="response_format",
    )


def generation_config(params: Mapping[str, Any], *, model: str, include_thoughts: bool) -> dict[str, Any]:
    """``generationConfig`` for the (non-``None``) ``params`` (step 4 of the module docstring)."""
    config = {GENERATION_PARAMS[k]: v for k, v in params.items() if k in GENERATION_PARAMS}
    if "stop" in params:
        config["stopSequences"] = _stop(params["stop"])
    if "response_format" in params:
        config.update(_response_format(params["response_format"]))
    thinking = thinking_config(params, model=model, include_thoughts=include_thoughts)
    if thinking is not None:
        config["thinkingConfig"] = thinking
    given = params.get("generation_config", {})
    if not isinstance(given, Mapping):
        raise InvalidRequestError(
            "generation_config must be Gemini's generationConfig object", where="generation_config"
        )
    config.update(given)
    return config


def _check_params(params: Mapping[str, Any]) -> None:
    unknown = sorted(set(params) - _HANDLED - IGNORED_PARAMS - {"cached_content"})
    if unknown:
        raise InvalidRequestError(
            f"Gemini has no parameter {', '.join(unknown)}; remove it (include_body in the profile sends a raw "
            "field of Gemini's API)",
            where=unknown[0],
        )


def build_body(
    request: ChatRequest,
    *,
    options: Mapping[str, Any],
    include_body: Mapping[str, Any],
    exclude_body: Iterable[str],
    placeholder: str = DEFAULT_PLACEHOLDER,
    names: Names | None = None,
) -> dict[str, Any]:
    """The complete JSON body for ``request``, following the steps of the module docstring.

    ``options`` are the provider options (``safety_settings``, ``include_thoughts``);
    ``placeholder`` is the user turn sent when no message is left and ``names`` the profile's
    speaker names (example-prefixing). Raises
    :class:`~chatpipe.errors.InvalidRequestError` for params or messages Gemini cannot take.
    """
    params = {k: v for k, v in request.params.items() if v is not None}
    _check_params(params)
    conversation = convert_messages(
        request.messages,
        placeholder=placeholder,
        fill_signatures=uses_level(request.model),
        names=names or Names(),
    )
    body: dict[str, Any] = {"contents": conversation.contents}
    if conversation.system_instruction is not None:
        body["systemInstruction"] = conversation.system_instruction
    if request.tools:
        body["tools"] = tools_field(request.tools)
        config = tool_config(request.tool_choice)
        if config is not None:
            body["toolConfig"] = config
    if options.get("safety_settings"):
        body["safetySettings"] = safety_settings(options["safety_settings"])
    generation = generation_config(
        params, model=request.model, include_thoughts=bool(options.get("include_thoughts", True))
    )
    if generation:
        body["generationConfig"] = generation
    if "cached_content" in params:
        body["cachedContent"] = params["cached_content"]
    body.update(include_body)
    for key in exclude_body:
        body.pop(key, None)
    return body
