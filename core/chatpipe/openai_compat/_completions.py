"""Text-completion models: ``POST {base}/completions`` with a flattened ``prompt`` (pure).

Legacy OpenAI models (``gpt-3.5-turbo-instruct``, the ``davinci`` family: :data:`TEXT_COMPLETION_MODELS`)
and, on the custom provider, any model of a profile with ``options: {text_completion: true}``
speak the text-completions API instead of chat completions, as in the reference:

* the conversation (after the converter chain) becomes one ``prompt``
  (:func:`flatten_prompt`): each message one line — ``System: text`` for an unnamed system
  message, ``<name>: text`` for a named one, ``<role>: text`` for every other — joined with
  ``\\n``, then ``\\nassistant:`` appended. A message's text is its string content, or its text
  parts joined (images and tool calls have no place in a prompt);
* the body is the chat body with ``prompt`` in place of ``messages``, and without ``tools`` /
  ``tool_choice`` (:func:`completions_body`);
* the reply's ``choices[].text`` becomes the assistant message (:func:`as_chat_completion`),
  and a stream's ``choices[].text`` the chunks' text (:class:`TextCompletionStreamParser`):
  the same :class:`~chatpipe.models.ChatResponse` / :class:`~chatpipe.models.ChatChunk`
  objects as a chat model's, finish reason and usage included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..models import ChatChunk, Message
from ._stream import OpenAIStreamParser

__all__ = [
    "COMPLETIONS_PATH",
    "TEXT_COMPLETION_MODELS",
    "TextCompletionStreamParser",
    "as_chat_completion",
    "completions_body",
    "flatten_prompt",
    "is_text_completion_model",
]

COMPLETIONS_PATH = "/completions"

TEXT_COMPLETION_MODELS = (
    "gpt-3.5-turbo-instruct",
    "davinci-002",
    "babbage-002",
    "text-davinci-003",
    "text-davinci-002",
    "text-davinci-001",
    "text-curie-001",
    "text-babbage-001",
    "text-ada-001",
    "code-davinci-002",
    "code-davinci-001",
    "code-cushman-002",
    "code-cushman-001",
)
"""OpenAI model ids (and their dated variants, which start with them) served by ``/completions`` only."""

_CHAT_ONLY_FIELDS = ("messages", "tools", "tool_choice")


def is_text_completion_model(model: str) -> bool:
    """Whether ``model`` (optionally ``vendor/``-prefixed) is one of :data:`TEXT_COMPLETION_MODELS`."""
    return model.rsplit("/", 1)[-1].startswith(TEXT_COMPLETION_MODELS)


def flatten_prompt(messages: Sequence[Message]) -> str:
    """The reference's text-completion prompt for ``messages`` (see the module docstring)."""
    lines = []
    for message in messages:
        speaker = (message.name or "System") if message.role == "system" else message.role
        lines.append(f"{speaker}: {message.text}")
    return "\n".join(lines) + "\nassistant:"


def completions_body(chat_body: Mapping[str, Any], messages: Sequence[Message]) -> dict[str, Any]:
    """The ``/completions`` body: ``chat_body`` with ``prompt`` in place of the chat-only fields."""
    body: dict[str, Any] = {"model": chat_body.get("model"), "prompt": flatten_prompt(messages)}
    body.update((key, value) for key, value in chat_body.items() if key not in _CHAT_ONLY_FIELDS)
    return body


def _as_chat_choice(choice: Any) -> Any:
    """One ``text_completion`` choice in ``chat.completion`` shape (anything else unchanged)."""
    if type(choice) is not dict or "message" in choice or "text" not in choice:
        return choice
    chat = {key: value for key, value in choice.items() if key != "text"}
    chat["message"] = {"role": "assistant", "content": choice["text"]}
    return chat


def as_chat_completion(data: Any) -> Any:
    """A decoded ``text_completion`` object as a ``chat.completion`` one (anything else unchanged)."""
    if type(data) is not dict or data.get("object") != "text_completion" or not isinstance(data.get("choices"), list):
        return data
    return {**data, "choices": [_as_chat_choice(choice) for choice in data["choices"]]}


class TextCompletionStreamParser(OpenAIStreamParser):
    """An OpenAI stream parser for ``/completions`` streams: ``choices[].text`` is the chunk's text."""

    def _choice_chunk(self, data: Any, position: int, *args: Any) -> ChatChunk | None:
        if type(data) is dict and "text" in data and "delta" not in data:
            data = {**data, "delta": {"content": data["text"]}}
        return super()._choice_chunk(data, position, *args)
