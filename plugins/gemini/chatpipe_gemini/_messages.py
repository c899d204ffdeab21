"""The Gemini conversion: OpenAI messages -> ``systemInstruction`` + ``contents`` (pure).

It is the minimum Gemini's API needs and runs inside request building, after the user's
converter chain, so it applies with post-processing ``none`` too. Steps:

0. **Example-prefixing** (docs/post-processing.md rule 1, as the other native conversions do):
   a ``system`` message named ``example_user`` gets the user's ``"Name: "`` prefix, one named
   ``example_assistant`` the character's (only if missing), from the profile's speaker
   ``names``; without names nothing is added. The name is then dropped.
1. **System.** The leading run of ``system``/``developer`` messages becomes
   ``systemInstruction: {parts: [{text}, ...]}`` (one text part per message, names dropped;
   their media parts go to a user turn at that place). A system message later in the
   conversation becomes a ``user`` turn holding its text (Gemini has one system instruction).
2. **Roles.** ``user`` (and any unknown role) → ``user``; ``assistant`` → ``model``; ``tool`` →
   ``user``. A named user/assistant message gets ``"Name: "`` in front of its text unless it
   already starts with it (Gemini has no ``name`` field).
3. **Parts** (:mod:`chatpipe_gemini._content`): text, ``inlineData`` for data URLs,
   ``fileData`` for file URIs.
4. **Assistant turns**: first the signed thoughts kept on the message, then the text (with its
   signature), then one ``functionCall: {name, args}`` part per tool call (``args`` = the parsed
   ``arguments``, ``""`` meaning ``{}``), each with its signature
   (:mod:`chatpipe_gemini._signatures`); with ``fill_signatures`` (Gemini 3 models), a turn
   whose calls carry none gets the documented placeholder signature on its first call.
5. **Tool results** become ``functionResponse: {name, response}`` parts, ``name`` being the
   function the matching call (by ``tool_call_id``) had; the tool message's own ``name`` is
   used when no earlier call matches; neither is an error. ``response`` is the result parsed as
   JSON when it is a JSON object, else ``{"result": <the parsed JSON value or the text>}``
   (Gemini needs an object). Media parts of a tool result follow its functionResponse part.
6. **Merge**: consecutive turns of the same role become one turn (so consecutive tool results
   form one ``user`` turn of functionResponse parts, as Gemini wants them after the calling
   ``model`` turn). Turns without parts are dropped.
7. **Placeholder**: when no turn remains, one user turn holding ``placeholder`` is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from chatpipe.plugin import (
    InvalidRequestError,
    Message,
    Names,
    arguments_object,
    example_prefixed,
    first_text,
    loads_json,
    name_prefix,
    prepend,
    render,
    to_pieces,
)

from ._content import GeminiPart, content_parts
from ._signatures import SKIP_VALIDATOR, read_signatures

__all__ = ["SYSTEM_ROLES", "Conversation", "convert_messages"]

SYSTEM_ROLES = frozenset({"system", "developer"})

_NO_NAMES = Names()


@attrs.frozen
class Conversation:
    """The converted conversation: ``system_instruction`` (or ``None``) and ``contents``."""

    system_instruction: dict[str, Any] | None
    contents: list[dict[str, Any]]


def _named(message: Message, where: str) -> str | tuple[Any, ...] | None:
    if not message.name or message.content is None:
        return message.content
    pieces = to_pieces(message.content, where=f"{where}.content")
    prefix = name_prefix(message.name)
    if first_text(pieces).startswith(prefix):
        return message.content
    return render(prepend(pieces, prefix))


def _model_parts(message: Message, where: str, fill_signatures: bool) -> list[GeminiPart]:
    records = read_signatures(message.extra, where)
    parts: list[GeminiPart] = [
        {"text": r.get("text", ""), "thought": True, "thoughtSignature": r["signature"]}
        for r in records
        if r["part"] == "thought"
    ]
    body = content_parts(_named(message, where), f"{where}.content")
    text_signature = next((r["signature"] for r in records if r["part"] == "text"), None)
    if text_signature is not None:
        texts = [i for i, p in enumerate(body) if "text" in p]
        if texts:
            body[texts[-1]] = {**body[texts[-1]], "thoughtSignature": text_signature}
        else:
            body.append({"text": "", "thoughtSignature": text_signature})
    parts += body
    call_signatures = {r.get("tool_call_id"): r["signature"] for r in records if r["part"] == "function_call"}
    for i, call in enumerate(message.tool_calls or ()):
        part: GeminiPart = {
            "functionCall": {
                "name": call.function.name,
                "args": arguments_object(call, where=f"{where}.tool_calls[{i}].function.arguments", vendor="Gemini"),
            }
        }
        if call.id in call_signatures:
            part["thoughtSignature"] = call_signatures[call.id]
        elif i == 0 and fill_signatures and not call_signatures:
            part["thoughtSignature"] = SKIP_VALIDATOR
        parts.append(part)
    return parts


def _response_object(text: str) -> dict[str, Any]:
    try:
        value: Any = loads_json(text) if text.strip() else text
    except ValueError:
        value = text
    return dict(value) if isinstance(value, Mapping) else {"result": value}


def _tool_parts(message: Message, where: str, call_names: Mapping[str, str]) -> list[GeminiPart]:
    name = call_names.get(message.tool_call_id or "") or message.name
    if not name:
        raise InvalidRequestError(
            f"no earlier assistant tool call has the id {message.tool_call_id!r}, so the function's name is unknown; "
            "Gemini names tool results by function (keep the calling assistant message, or give the tool message "
            "a 'name')",
            where=where,
        )
    parts = content_parts(message.content, f"{where}.content")
    text = "".join(p["text"] for p in parts if "text" in p)
    media = [p for p in parts if "text" not in p]
    return [{"functionResponse": {"name": name, "response": _response_object(text)}}, *media]


def _system_instruction(messages: Sequence[Message]) -> tuple[dict[str, Any] | None, list[dict[str, Any]], int]:
    texts: list[GeminiPart] = []
    media: list[dict[str, Any]] = []
    count = 0
    while count < len(messages) and messages[count].role in SYSTEM_ROLES:
        parts = content_parts(messages[count].content, f"messages[{count}].content")
        texts += [p for p in parts if "text" in p]
        others = [p for p in parts if "text" not in p]
        if others:
            media.append({"role": "user", "parts": others})
        count += 1
    return ({"parts": texts} if texts else None), media, count


def _merge(turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged: list[dict[str, Any]] = []
    for turn in turns:
        if not turn["parts"]:
            continue
        if merged and merged[-1]["role"] == turn["role"]:
            merged[-1]["parts"].extend(turn["parts"])
        else:
            merged.append({"role": turn["role"], "parts": list(turn["parts"])})
    return merged


def convert_messages(
    messages: Sequence[Message], *, placeholder: str, fill_signatures: bool = False, names: Names = _NO_NAMES
) -> Conversation:
    """Convert ``messages`` following the steps of the module docstring.

    ``placeholder`` is the user text sent when no turn is left (the pipeline's
    ``prompt_placeholder``); ``fill_signatures``: give unsigned tool-call turns the placeholder
    signature (step 4); ``names``: the profile's speaker names (step 0). Raises
    :class:`~chatpipe.errors.InvalidRequestError` for content Gemini cannot take.
    """
    messages = [example_prefixed(m, names, where=f"messages[{i}]") for i, m in enumerate(messages)]
    system, turns, start = _system_instruction(messages)
    call_names: dict[str, str] = {}
    for index in range(start, len(messages)):
        message, where = messages[index], f"messages[{index}]"
        if message.role == "assistant":
            for call in message.tool_calls or ():
                call_names[call.id] = call.function.name
            turns.append({"role": "model", "parts": _model_parts(message, where, fill_signatures)})
        elif message.role == "tool":
            turns.append({"role": "user", "parts": _tool_parts(message, where, call_names)})
        elif message.role in SYSTEM_ROLES:
            turns.append({"role": "user", "parts": content_parts(message.content, f"{where}.content")})
        else:
            turns.append({"role": "user", "parts": content_parts(_named(message, where), f"{where}.content")})
    contents = _merge(turns)
    if not contents:
        contents = [{"role": "user", "parts": [{"text": placeholder}]}]
    return Conversation(system, contents)
