"""OpenAI ``tools`` / ``tool_choice`` / ``parallel_tool_calls`` -> Claude's forms (pure).

* A tool becomes ``{name, description, input_schema}``: ``input_schema`` is the function's
  ``parameters`` without ``$schema`` (an empty object schema when there are none); ``strict``
  is kept; the tool's extra keys (``cache_control``...) are copied onto it. ``$defs``/``$ref``
  stay as they are: Claude's input schemas are JSON Schema (the reference inlines them).
* ``tool_choice``: ``"auto"`` → ``{"type": "auto"}``, ``"none"`` → ``{"type": "none"}``,
  ``"required"`` (and ``"any"``) → ``{"type": "any"}``, ``{"type": "function", "function":
  {"name": N}}`` → ``{"type": "tool", "name": N}``; a Claude-shaped dict (``type`` auto, any,
  tool, none) is passed through. Anything else is an
  :class:`~chatpipe.errors.InvalidRequestError`.
* :func:`web_search_tool`: Claude's server-side web-search tool, ``{"type":
  "web_search_20250305", "name": "web_search"}`` (the profile option ``web_search``), for the
  models that have it (:func:`~chatpipe_claude._models.has_web_search`); asking for it on an
  older model is an :class:`~chatpipe.errors.InvalidRequestError`, not a silent omission.
* ``parallel_tool_calls: false`` adds ``disable_parallel_tool_use: true`` to the choice (an
  ``auto`` choice is created when none was given); it is meaningless with ``none``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chatpipe.plugin import InvalidRequestError, Tool

from ._models import has_web_search

__all__ = ["WEB_SEARCH_TOOL", "tool_choice", "tool_definition", "web_search_tool"]

WEB_SEARCH_TOOL: Mapping[str, str] = {"type": "web_search_20250305", "name": "web_search"}
"""Claude's server-side web-search tool, as the reference sends it."""

_STRING_CHOICES = {"auto": "auto", "none": "none", "required": "any", "any": "any"}
_CLAUDE_CHOICES = frozenset({"auto", "any", "tool", "none"})


def tool_definition(tool: Tool) -> dict[str, Any]:
    """The Claude tool for an OpenAI tool definition."""
    function = tool.function
    schema = dict(function.parameters) if function.parameters is not None else {"type": "object", "properties": {}}
    schema.pop("$schema", None)
    out: dict[str, Any] = {"name": function.name}
    if function.description is not None:
        out["description"] = function.description
    out["input_schema"] = schema
    if function.strict is not None:
        out["strict"] = function.strict
    out.update(tool.extra)
    return out


def web_search_tool(model: str) -> dict[str, Any]:
    """The web-search tool for ``model``; an error for a model before Claude 3.5."""
    if not has_web_search(model):
        raise InvalidRequestError(
            f"{model!r} has no web-search tool (it needs Claude 3.5 or later); pick a newer model "
            "or set the profile option web_search: false",
            where="options.web_search",
        )
    return dict(WEB_SEARCH_TOOL)


def _base_choice(choice: str | Mapping[str, Any] | None) -> dict[str, Any] | None:
    if choice is None:
        return None
    if isinstance(choice, str):
        if choice in _STRING_CHOICES:
            return {"type": _STRING_CHOICES[choice]}
    elif isinstance(choice, Mapping):
        kind = choice.get("type")
        function = choice.get("function")
        if kind == "function" and isinstance(function, Mapping) and isinstance(function.get("name"), str):
            return {"type": "tool", "name": function["name"]}
        if kind in _CLAUDE_CHOICES and (kind != "tool" or isinstance(choice.get("name"), str)):
            return dict(choice)
    raise InvalidRequestError(
        f"tool_choice {choice!r} is not understood; use 'auto', 'none', 'required' or "
        '{"type": "function", "function": {"name": ...}}',
        where="tool_choice",
    )


def tool_choice(choice: str | Mapping[str, Any] | None, parallel_tool_calls: Any) -> dict[str, Any] | None:
    """Claude's ``tool_choice`` for an OpenAI ``tool_choice`` and ``parallel_tool_calls``, or ``None``."""
    out = _base_choice(choice)
    if parallel_tool_calls is False:
        out = out or {"type": "auto"}
        if out["type"] != "none":
            out["disable_parallel_tool_use"] = True
    return out
