"""Request parameters (OpenAI names) -> Cohere v2 chat body fields (pure).

=======================  ==========================================================
chatpipe parameter       Cohere field
=======================  ==========================================================
``temperature``          ``temperature``
``max_tokens``           ``max_tokens`` (``max_completion_tokens`` too, when
                         ``max_tokens`` is not given)
``top_p`` / ``top_k``    ``p`` / ``k``
``stop``                 ``stop_sequences`` (a string or at most 5 strings)
``seed``, penalties      ``seed``, ``frequency_penalty``, ``presence_penalty``
``response_format``      OpenAI ``json_schema`` -> ``{type: json_object, json_schema}``;
                         ``json_object`` and ``text`` as they are
``safety_mode``          upper-cased; ``CONTEXTUAL``, ``STRICT`` or ``OFF``
``documents``            as given (strings or ``{id?, data}`` objects)
Cohere's own names       ``p``, ``k``, ``stop_sequences``, ``citation_options``,
                         ``strict_tools``, ``thinking``, ``priority``, ``logprobs``
=======================  ==========================================================

Any other parameter raises :class:`~chatpipe.errors.InvalidRequestError` (Cohere rejects
fields it does not know); ``include_body`` can still send a raw field. A ``None`` value means
"not set".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chatpipe.plugin import OPENAI_PARAMS, InvalidRequestError, ParamType

__all__ = [
    "MAX_STOP_SEQUENCES",
    "OFF_BY_DEFAULT_SUFFIX",
    "PARAMS",
    "SAFETY_MODES",
    "default_safety_mode",
    "map_params",
    "response_format",
    "safety_mode",
    "stop_sequences",
]

MAX_STOP_SEQUENCES = 5
"""Cohere's limit on ``stop_sequences``."""

SAFETY_MODES = ("CONTEXTUAL", "STRICT", "OFF")
"""The values of Cohere's ``safety_mode``."""

OFF_BY_DEFAULT_SUFFIX = "08-2024"
"""Models whose name ends so (``command-r-08-2024``, ``command-r-plus-08-2024``) get ``OFF`` by default."""

_RENAMED = {"top_p": "p", "top_k": "k"}
_PASSED = frozenset(
    {
        "temperature",
        "max_tokens",
        "seed",
        "frequency_penalty",
        "presence_penalty",
        "p",
        "k",
        "citation_options",
        "strict_tools",
        "thinking",
        "priority",
        "logprobs",
    }
)
_SPECIAL = frozenset({"stop", "stop_sequences", "response_format", "safety_mode", "documents", "max_completion_tokens"})
ACCEPTED = sorted(_PASSED | _SPECIAL | set(_RENAMED))

PARAMS: Mapping[str, ParamType] = {
    **{name: OPENAI_PARAMS.get(name, "any") for name in ACCEPTED},
    "p": "number",
    "k": "integer",
    "top_k": "integer",
    "stop_sequences": ("string", "array"),
    "safety_mode": ("string", "boolean"),
    "documents": "array",
    "citation_options": "object",
    "strict_tools": "boolean",
    "thinking": "object",
    "priority": "integer",
}
""":data:`ACCEPTED` with their types (``ProviderInfo.params``)."""


def stop_sequences(value: Any) -> list[str]:
    """``stop`` as Cohere's ``stop_sequences``: a list of at most :data:`MAX_STOP_SEQUENCES` strings."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(item, str) for item in items):
        raise InvalidRequestError("stop must be a string or a list of strings", where="params.stop")
    if len(items) > MAX_STOP_SEQUENCES:
        raise InvalidRequestError(
            f"Cohere accepts at most {MAX_STOP_SEQUENCES} stop sequences, got {len(items)}; "
            f"keep the {MAX_STOP_SEQUENCES} that matter most",
            where="params.stop",
        )
    return list(items)


def response_format(value: Any) -> dict[str, Any]:
    """An OpenAI ``response_format`` in Cohere's shape (``text`` or ``json_object`` + ``json_schema``)."""
    where = "params.response_format"
    kind = value.get("type") if isinstance(value, Mapping) else None
    if kind == "text":
        return {"type": "text"}
    if kind == "json_object":
        return dict(value)
    if kind == "json_schema":
        spec = value.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, Mapping) else None
        if not isinstance(schema, Mapping):
            raise InvalidRequestError(
                "a json_schema response_format needs json_schema.schema (a JSON schema object)", where=where
            )
        return {"type": "json_object", "json_schema": dict(schema)}
    raise InvalidRequestError(
        f"Cohere's response_format type is 'text', 'json_object' or OpenAI's 'json_schema', got {kind!r}",
        where=where,
    )


def safety_mode(value: Any, *, where: str = "params.safety_mode") -> str:
    """``value`` upper-cased, checked against :data:`SAFETY_MODES`.

    ``False`` means ``OFF``: unquoted ``OFF`` in a YAML 1.1 file loads as a boolean.
    """
    if value is False:
        return "OFF"
    mode = value.upper() if isinstance(value, str) else None
    if mode not in SAFETY_MODES:
        raise InvalidRequestError(
            f"safety_mode must be one of {', '.join(SAFETY_MODES)}, got {value!r} (quote OFF in YAML)", where=where
        )
    return mode


def default_safety_mode(model: str, option: Any) -> str | None:
    """The safety mode for a request that sets none: the profile ``option`` when given, else
    ``OFF`` for a model whose name ends in :data:`OFF_BY_DEFAULT_SUFFIX` (as the reference
    sends), else ``None`` (Cohere's own default applies)."""
    if option is not None:
        return safety_mode(option, where="options.safety_mode")
    return "OFF" if model.endswith(OFF_BY_DEFAULT_SUFFIX) else None


def _documents(value: Any) -> list[Any]:
    if not isinstance(value, (list, tuple)) or not all(isinstance(d, (str, Mapping)) for d in value):
        raise InvalidRequestError(
            "documents must be a list of strings or {id?, data: {...}} objects", where="params.documents"
        )
    return [d if isinstance(d, str) else dict(d) for d in value]


def map_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The Cohere body fields for ``params`` (see the module docstring)."""
    out: dict[str, Any] = {}
    unknown = []
    for key, value in params.items():
        if value is None:
            continue
        if key in _RENAMED:
            out[_RENAMED[key]] = value
        elif key in _PASSED:
            out[key] = value
        elif key in ("stop", "stop_sequences"):
            out["stop_sequences"] = stop_sequences(value)
        elif key == "response_format":
            out["response_format"] = response_format(value)
        elif key == "safety_mode":
            out["safety_mode"] = safety_mode(value)
        elif key == "documents":
            out["documents"] = _documents(value)
        elif key == "max_completion_tokens":
            out.setdefault("max_tokens", value)
        else:
            unknown.append(key)
    if "max_tokens" in params and params["max_tokens"] is not None:
        out["max_tokens"] = params["max_tokens"]
    if unknown:
        raise InvalidRequestError(
            f"Cohere has no parameter {', '.join(map(repr, sorted(unknown)))}; it accepts {', '.join(ACCEPTED)} "
            "(include_body in the profile sends a raw body field)",
            where="params",
        )
    return out
