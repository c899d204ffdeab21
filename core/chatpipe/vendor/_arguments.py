"""A tool call's ``arguments`` as the JSON object native vendor formats carry (Claude, Gemini)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import InvalidRequestError
from ._json import loads_json

if TYPE_CHECKING:
    from ..models import ToolCall

__all__ = ["arguments_object"]


def arguments_object(call: ToolCall, *, where: str, vendor: str) -> dict[str, Any]:
    """``call.function.arguments`` parsed into a JSON object (empty or blank text is ``{}``).

    OpenAI's format carries the arguments as JSON text; ``vendor``'s takes an object. Text that
    is not JSON, or JSON that is not an object, raises :class:`~chatpipe.errors.InvalidRequestError`
    at ``where`` (the message's key path).
    """
    text = call.function.arguments
    if not text.strip():
        return {}
    try:
        value = loads_json(text)
    except ValueError:
        raise InvalidRequestError(
            f"the arguments of tool call {call.id!r} are not valid JSON ({text[:60]!r}); "
            f"{vendor} needs them as a JSON object",
            where=where,
        ) from None
    if not isinstance(value, dict):
        raise InvalidRequestError(
            f"the arguments of tool call {call.id!r} must be a JSON object, got {type(value).__name__}", where=where
        )
    return value
