"""OpenAI ``tools`` / ``tool_choice`` -> Gemini ``tools`` / ``toolConfig`` (pure).

* All function tools go into one ``{"functionDeclarations": [...]}`` tool; each declaration is
  ``{name, description?, parameters?}`` with ``parameters`` reduced by
  :func:`~chatpipe_gemini._schema.gemini_schema`. A tool without parameters, or with an object
  schema without properties, is declared without ``parameters`` (Gemini refuses an object with
  empty properties). ``strict`` has no Gemini counterpart and is not sent.
* A tool whose ``type`` is not ``function`` is an :class:`~chatpipe.errors.InvalidRequestError`.
* ``tool_choice`` → ``toolConfig.functionCallingConfig``: ``"auto"`` → ``{mode: AUTO}``,
  ``"none"`` → ``{mode: NONE}``, ``"required"`` / ``"any"`` → ``{mode: ANY}``,
  ``{"type": "function", "function": {"name": N}}`` → ``{mode: ANY, allowedFunctionNames: [N]}``;
  ``{"type": "allowed_tools", "allowed_tools": {"mode": "auto"|"required", "tools": [...]}}``
  → ``AUTO`` / ``ANY`` with ``allowedFunctionNames`` (only ``ANY`` takes the list: with
  ``auto`` the names are left out). No ``tool_choice`` sends no ``toolConfig``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chatpipe.plugin import InvalidRequestError, Tool

from ._schema import gemini_schema

__all__ = ["tool_config", "tools_field"]

_MODES = {"auto": "AUTO", "none": "NONE", "required": "ANY", "any": "ANY"}


def _declaration(tool: Tool, where: str) -> dict[str, Any]:
    if tool.type != "function":
        raise InvalidRequestError(f"Gemini takes function tools only, not {tool.type!r}", where=f"{where}.type")
    function = tool.function
    out: dict[str, Any] = {"name": function.name}
    if function.description is not None:
        out["description"] = function.description
    if function.parameters is not None:
        schema = gemini_schema(function.parameters, where=f"{where}.function.parameters")
        if schema.get("type") != "OBJECT" or schema.get("properties"):
            out["parameters"] = schema
    return out


def tools_field(tools: Sequence[Tool]) -> list[dict[str, Any]]:
    """Gemini's ``tools`` for the request's tools (one tool holding every declaration)."""
    return [{"functionDeclarations": [_declaration(t, f"tools[{i}]") for i, t in enumerate(tools)]}]


def _names(tools: Any) -> list[str]:
    names: list[str] = []
    for tool in tools if isinstance(tools, Sequence) else ():
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            names.append(function["name"])
    return names


def tool_config(choice: str | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Gemini's ``toolConfig`` for an OpenAI ``tool_choice`` (``None`` when there is none)."""
    if choice is None:
        return None
    config: dict[str, Any] | None = None
    if isinstance(choice, str) and choice in _MODES:
        config = {"mode": _MODES[choice]}
    elif isinstance(choice, Mapping):
        function = choice.get("function")
        allowed = choice.get("allowed_tools")
        if choice.get("type") == "function" and isinstance(function, Mapping) and isinstance(function.get("name"), str):
            config = {"mode": "ANY", "allowedFunctionNames": [function["name"]]}
        elif choice.get("type") == "allowed_tools" and isinstance(allowed, Mapping):
            mode = _MODES.get(str(allowed.get("mode", "auto")))
            names = _names(allowed.get("tools"))
            if mode in ("AUTO", "ANY") and names:
                config = {"mode": mode, **({"allowedFunctionNames": names} if mode == "ANY" else {})}
    if config is None:
        raise InvalidRequestError(
            f"tool_choice {choice!r} is not understood; use 'auto', 'none', 'required' or "
            '{"type": "function", "function": {"name": ...}}',
            where="tool_choice",
        )
    return {"functionCallingConfig": config}
