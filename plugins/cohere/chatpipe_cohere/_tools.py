"""Tool definitions and ``tool_choice`` in Cohere's shape (pure).

* Tools keep OpenAI's shape ``{type: function, function: {name, description, parameters}}``;
  Cohere requires ``parameters``, so a tool without them gets an empty object schema, and a
  top-level ``$schema`` key is removed (as the reference does). Cohere has no per-tool
  ``strict``: a tool with ``strict: true`` turns on the request-wide ``strict_tools``.
* ``tool_choice``: ``"required"`` -> ``"REQUIRED"``, ``"none"`` -> ``"NONE"``, ``"auto"`` -> left
  out (Cohere's default). Naming one function, or any other form, raises
  :class:`~chatpipe.errors.InvalidRequestError`: Cohere cannot force a particular tool.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chatpipe.plugin import InvalidRequestError, Tool

__all__ = ["EMPTY_PARAMETERS", "any_strict", "tool_choice", "tool_to_cohere"]

EMPTY_PARAMETERS: Mapping[str, Any] = {"type": "object", "properties": {}}
"""The schema sent for a tool defined without ``parameters``."""

_CHOICES = {"required": "REQUIRED", "none": "NONE", "auto": None}


def tool_to_cohere(tool: Tool, *, where: str = "tools") -> dict[str, Any]:
    """One tool definition as Cohere's ``ToolV2``."""
    if tool.type != "function":
        raise InvalidRequestError(
            f"Cohere takes function tools only, not {tool.type!r}; define it as a function tool", where=where
        )
    function = tool.function
    parameters = dict(function.parameters) if function.parameters is not None else dict(EMPTY_PARAMETERS)
    parameters.pop("$schema", None)
    out: dict[str, Any] = {"name": function.name, "parameters": parameters}
    if function.description is not None:
        out["description"] = function.description
    return {"type": "function", "function": out}


def any_strict(tools: Sequence[Tool]) -> bool:
    """Whether any tool asks for strict argument validation."""
    return any(tool.function.strict for tool in tools)


def tool_choice(choice: str | Mapping[str, Any] | None, *, has_tools: bool) -> str | None:
    """Cohere's ``tool_choice`` for an OpenAI one (``None``: leave the field out)."""
    if choice is None:
        return None
    if isinstance(choice, str) and choice.lower() in _CHOICES:
        mapped = _CHOICES[choice.lower()]
        if mapped == "REQUIRED" and not has_tools:
            raise InvalidRequestError("tool_choice 'required' needs tools to choose from", where="tool_choice")
        return mapped if has_tools else None
    if isinstance(choice, Mapping):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, Mapping) else choice.get("name")
        if isinstance(name, str):
            raise InvalidRequestError(
                f"Cohere cannot force one particular tool ({name!r}); use tool_choice 'required' "
                "and pass only that tool",
                where="tool_choice",
            )
    raise InvalidRequestError(
        f"Cohere lacks tool_choice {choice!r}; it accepts 'auto', 'required' or 'none'", where="tool_choice"
    )
