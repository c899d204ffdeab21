"""chatpipe messages -> Cohere v2 ``messages`` (pure).

Shapes sent (``ChatMessageV2`` of Cohere's spec):

* ``system`` (and OpenAI's ``developer``): ``{role: system, content}``; text only.
* ``user``: ``{role: user, content}``: a string, or a list of ``{type: text}`` and
  ``{type: image_url, image_url: {url, detail?}}`` parts (http(s) and ``data:`` URLs).
* ``assistant``: ``{role: assistant, content?, tool_calls?, tool_plan?, citations?}``. With tool
  calls, the message's text goes to ``tool_plan`` (Cohere's "what I am about to do" text) unless
  the message already carries a ``tool_plan`` extra key (a Cohere reply sent back); then that is
  the plan and the text stays ``content``. No text and no plan gives the synthetic plan of
  :func:`~chatpipe_cohere._convert.synthetic_tool_plan`. Tool-call ``arguments`` are sent as the
  JSON string given.
* ``tool``: ``{role: tool, tool_call_id, content}``: a string, or a list of ``{type: text}`` and
  ``{type: document, document: {...}}`` parts (documents arrive as chatpipe ``OtherPart`` s).

Extra keys of messages and parts are not sent, except an assistant's ``tool_plan`` and
``citations`` (Cohere rejects fields it does not know). Anything Cohere cannot take (audio,
video or file parts, images outside user turns, an unknown role, a tool result without
``tool_call_id``) raises :class:`~chatpipe.errors.InvalidRequestError` naming the message:
content is never dropped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chatpipe.plugin import ImagePart, InvalidRequestError, Message, OtherPart, Part, TextPart, ToolCall

from ._convert import synthetic_tool_plan

__all__ = ["message_to_cohere", "messages_to_cohere"]

_ASSISTANT_EXTRAS = ("citations",)


def messages_to_cohere(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """Every message in Cohere's shape, in order."""
    return [message_to_cohere(message, where=f"messages[{i}]") for i, message in enumerate(messages)]


def message_to_cohere(message: Message, *, where: str = "message") -> dict[str, Any]:
    """One message in Cohere's shape; :class:`InvalidRequestError` for what Cohere cannot take."""
    role = message.role
    if role in ("system", "developer"):
        return {"role": "system", "content": _text_content(message.content, where, "a system message")}
    if role == "user":
        return {"role": "user", "content": _user_content(message.content, where)}
    if role == "assistant":
        return _assistant(message, where)
    if role == "tool":
        return _tool_result(message, where)
    raise InvalidRequestError(
        f"Cohere takes the roles system, user, assistant and tool, not {role!r}; "
        "change the role or add a converter that rewrites it",
        where=f"{where}.role",
    )


def _unsupported(part: Part, where: str, what: str, accepted: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"Cohere does not accept {part.type!r} parts in {what} (only {accepted}); "
        "remove the part or describe it in text",
        where=where,
    )


def _text_content(content: Any, where: str, what: str) -> str | list[dict[str, Any]]:
    if content is None or isinstance(content, str):
        return content or ""
    out = []
    for i, part in enumerate(content):
        if not isinstance(part, TextPart):
            raise _unsupported(part, f"{where}.content[{i}]", what, "text parts")
        out.append({"type": "text", "text": part.text})
    return out


def _user_content(content: Any, where: str) -> str | list[dict[str, Any]]:
    if content is None or isinstance(content, str):
        return content or ""
    out: list[dict[str, Any]] = []
    for i, part in enumerate(content):
        if isinstance(part, TextPart):
            out.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            image: dict[str, Any] = {"url": part.image_url.url}
            if part.image_url.detail is not None:
                image["detail"] = part.image_url.detail
            out.append({"type": "image_url", "image_url": image})
        else:
            raise _unsupported(part, f"{where}.content[{i}]", "a user message", "text and image_url parts")
    return out


def _tool_call(call: ToolCall) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.function.name, "arguments": call.function.arguments},
    }


def _assistant(message: Message, where: str) -> dict[str, Any]:
    out: dict[str, Any] = {"role": "assistant"}
    content = _text_content(message.content, where, "an assistant message")
    has_text = bool(content)
    if message.tool_calls:
        out["tool_calls"] = [_tool_call(call) for call in message.tool_calls]
        plan = message.extra.get("tool_plan")
        if isinstance(plan, str) and plan:
            out["tool_plan"] = plan
            if has_text:
                out["content"] = content
        elif has_text:
            out["tool_plan"] = message.text
        else:
            out["tool_plan"] = synthetic_tool_plan(message.tool_calls)
    else:
        out["content"] = content
    for key in _ASSISTANT_EXTRAS:
        if key in message.extra:
            out[key] = message.extra[key]
    return out


def _tool_result(message: Message, where: str) -> dict[str, Any]:
    if not message.tool_call_id:
        raise InvalidRequestError(
            "a tool result needs the tool_call_id of the call it answers", where=f"{where}.tool_call_id"
        )
    content = message.content
    body: str | list[dict[str, Any]]
    if content is None or isinstance(content, str):
        body = content or ""
    else:
        body = []
        for i, part in enumerate(content):
            if isinstance(part, TextPart):
                body.append({"type": "text", "text": part.text})
            elif isinstance(part, OtherPart) and part.type == "document":
                body.append(dict(part.data))
            else:
                raise _unsupported(part, f"{where}.content[{i}]", "a tool result", "text and document parts")
    return {"role": "tool", "tool_call_id": message.tool_call_id, "content": body}
