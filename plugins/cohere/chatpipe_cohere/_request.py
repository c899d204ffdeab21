"""ChatRequest -> the JSON body of ``POST /v2/chat`` (pure).

Order of construction, each step overriding the previous one:

1. ``model``, ``messages`` (:mod:`._messages`), ``stream`` (always sent), and with tools
   ``tools`` + ``tool_choice`` (:mod:`._tools`; ``strict_tools: true`` when a tool is strict);
2. ``request.params`` mapped to Cohere's names (:mod:`._params`);
3. the default ``safety_mode`` (the profile's option, else ``OFF`` for the ``08-2024``
   models), when the parameters set none and the request has neither tools nor documents
   (Cohere does not combine safety modes with those);
4. ``include_body`` shallow-merged, except that ``stop_sequences``, ``tools``, ``tool_choice``
   and ``response_format`` set by the request win over it;
5. ``exclude_body`` keys removed, last of all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chatpipe.plugin import ChatRequest, InvalidRequestError

from ._messages import messages_to_cohere
from ._params import map_params
from ._tools import any_strict, tool_choice, tool_to_cohere

__all__ = ["REQUEST_WINS_OVER_INCLUDE", "build_body"]

REQUEST_WINS_OVER_INCLUDE = ("stop_sequences", "tools", "tool_choice", "response_format")
"""Fields set by the request that ``include_body`` cannot override."""

_RESERVED = frozenset({"model", "messages", "tools", "tool_choice", "stream"})


def build_body(
    request: ChatRequest,
    *,
    safety_mode: str | None = None,
    include_body: Mapping[str, Any] | None = None,
    exclude_body: Iterable[str] = (),
) -> dict[str, Any]:
    """The complete body for ``request`` (see the module docstring)."""
    reserved = sorted(_RESERVED.intersection(request.params))
    if reserved:
        raise InvalidRequestError(
            f"{reserved} cannot be passed as parameters; use the request's own arguments for them", where="params"
        )
    body: dict[str, Any] = {
        "model": request.model,
        "messages": messages_to_cohere(request.messages),
        "stream": request.stream,
    }
    tools = request.tools or ()
    if tools:
        body["tools"] = [tool_to_cohere(tool, where=f"tools[{i}]") for i, tool in enumerate(tools)]
        if any_strict(tools):
            body["strict_tools"] = True
    choice = tool_choice(request.tool_choice, has_tools=bool(tools))
    if choice is not None:
        body["tool_choice"] = choice
    body.update(map_params(request.params))
    if safety_mode is not None and "safety_mode" not in body and not tools and not body.get("documents"):
        body["safety_mode"] = safety_mode
    if include_body:
        protected = {key: body[key] for key in REQUEST_WINS_OVER_INCLUDE if key in body}
        body.update(include_body)
        body.update(protected)
    for key in exclude_body:
        body.pop(key, None)
    return body
