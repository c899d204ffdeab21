"""Folding tool calls into text for the "no tools" modes (chatpipe decision: nothing is lost)."""

from __future__ import annotations

from ..models import ToolCall

__all__ = ["TOOL_CALL_TEMPLATE", "fold_tool_call"]

TOOL_CALL_TEMPLATE = "[Tool call {name}({arguments})]"
"""The text a tool call becomes without tools; ``arguments`` is the raw JSON string as sent."""


def fold_tool_call(call: ToolCall) -> str:
    """The text run that replaces ``call``, e.g. ``[Tool call get_weather({"city":"Paris"})]``."""
    return TOOL_CALL_TEMPLATE.format(name=call.function.name, arguments=call.function.arguments)
