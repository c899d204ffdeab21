"""The data model: immutable attrs classes for everything that crosses the pipeline.

The OpenAI chat format is the lingua franca on the outside; :mod:`chatpipe.wire` turns
these classes into OpenAI-format dicts and back, losslessly.

Contracts shared by every class here:

* Instances are frozen. Sequences are tuples, so a converter can never mutate its input.
* ``extra`` holds every key of the wire object that has no field of its own (vendor keys
  such as ``cache_control``, ``prefix`` or ``reasoning_content``). Nothing is dropped.
* ``None`` means "absent": such fields are left out of the wire dict.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, Union

import attrs

from ._lazy import lazy_attributes

__all__ = [
    "AudioPart",
    "ChatChunk",
    "ChatRequest",
    "ChatResponse",
    "Choice",
    "Cost",
    "FinishReason",
    "FunctionCall",
    "FunctionDef",
    "ImagePart",
    "ImageURL",
    "InputAudio",
    "Message",
    "ModelInfo",
    "OtherPart",
    "Part",
    "Prices",
    "TextPart",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "Usage",
]

if TYPE_CHECKING:
    from ._cost import Cost, Prices

_EMPTY: Mapping[str, Any] = {}


def _extra() -> Any:
    return attrs.field(factory=dict, kw_only=True, repr=False)


@attrs.frozen
class TextPart:
    """A ``{"type": "text", "text": ...}`` content part."""

    text: str
    extra: Mapping[str, Any] = _extra()
    type: Literal["text"] = attrs.field(default="text", init=False, repr=False)


@attrs.frozen
class ImageURL:
    """The ``image_url`` object of an image part: an http(s) or ``data:`` URL."""

    url: str
    detail: str | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class ImagePart:
    """A ``{"type": "image_url", "image_url": {...}}`` content part."""

    image_url: ImageURL
    extra: Mapping[str, Any] = _extra()
    type: Literal["image_url"] = attrs.field(default="image_url", init=False, repr=False)


@attrs.frozen
class InputAudio:
    """The ``input_audio`` object of an audio part: base64 ``data`` and its ``format``."""

    data: str
    format: str
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class AudioPart:
    """A ``{"type": "input_audio", "input_audio": {...}}`` content part."""

    input_audio: InputAudio
    extra: Mapping[str, Any] = _extra()
    type: Literal["input_audio"] = attrs.field(default="input_audio", init=False, repr=False)


@attrs.frozen
class OtherPart:
    """Any other part type (``video_url``, ``audio_url``, ``file``, vendor blocks...).

    ``data`` is the whole wire object, ``type`` key included, kept verbatim.
    """

    data: Mapping[str, Any]

    @property
    def type(self) -> str:
        return str(self.data.get("type", ""))


Part = Union[TextPart, ImagePart, AudioPart, OtherPart]
"""One element of a multi-part ``content`` list."""

MEDIA_PART_TYPES = frozenset({"image_url", "input_audio", "video_url", "audio_url", "file"})


@attrs.frozen
class FunctionCall:
    """The ``function`` object of a tool call. ``arguments`` is the JSON text as sent."""

    name: str
    arguments: str
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class ToolCall:
    """A complete tool call made by the assistant."""

    id: str
    function: FunctionCall
    type: str = "function"
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class Message:
    """One chat message in OpenAI form.

    ``content`` is a string, a tuple of parts, or ``None`` (serialised as JSON ``null``).
    ``role`` is any string here; a pipeline call accepts only the roles in
    :data:`chatpipe._validate.ROLES` and refuses others before any request.
    """

    role: str
    content: str | tuple[Part, ...] | None = None
    name: str | None = None
    tool_calls: tuple[ToolCall, ...] | None = None
    tool_call_id: str | None = None
    extra: Mapping[str, Any] = _extra()

    @property
    def text(self) -> str:
        """The message's text: the string content, or its text parts joined by blank lines."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "\n\n".join(p.text for p in self.content if isinstance(p, TextPart))


@attrs.frozen
class FunctionDef:
    """The ``function`` object of a tool definition; ``parameters`` is a JSON schema."""

    name: str
    description: str | None = None
    parameters: Mapping[str, Any] | None = None
    strict: bool | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen
class Tool:
    """A tool the model may call: ``{"type": "function", "function": {...}}``."""

    function: FunctionDef
    type: str = "function"
    extra: Mapping[str, Any] = _extra()


FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "error", "pause"]
"""Normalised finish reasons. The vendor's own value is kept beside it as ``raw_finish_reason``."""


@attrs.frozen
class Usage:
    """Token accounting, normalised to OpenAI's meaning (prompt includes cached tokens).

    ``extra`` keeps the vendor's whole usage object details (cost, billed units...).
    """

    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    cached_tokens: int | None = None
    cache_creation_tokens: int | None = None
    reasoning_tokens: int | None = None
    extra: Mapping[str, Any] = _extra()


_cost_of: Callable[[ChatResponse], Cost | None] | None = None


def _load_cost_of() -> Callable[[ChatResponse], Cost | None]:
    """chatpipe._cost.cost_of, imported on the first cost read (then kept: a ``from`` import per read costs ~1 µs)."""
    global _cost_of
    from ._cost import cost_of

    _cost_of = cost_of
    return cost_of


@attrs.frozen
class ChatRequest:
    """What the pipeline hands to a provider adapter after conversion.

    ``params`` are the remaining body fields under their OpenAI names (``temperature``,
    ``max_tokens``, ``stop``, ``response_format``...); each adapter maps them to its API.
    """

    model: str
    messages: tuple[Message, ...]
    tools: tuple[Tool, ...] | None = None
    tool_choice: str | Mapping[str, Any] | None = None
    params: Mapping[str, Any] = attrs.field(factory=dict)
    stream: bool = False


@attrs.frozen
class Choice:
    """One completion alternative. ``reasoning`` is the model's visible thinking, if any.

    ``logprobs`` is the vendor's OpenAI-shaped ``choices[].logprobs`` object, kept verbatim
    (``{"content": [token, ...], "refusal": [...] | None}``, each token
    ``{token, logprob, bytes, top_logprobs}``); ``None`` when the vendor sent none.
    """

    index: int
    message: Message
    finish_reason: FinishReason | None = None
    raw_finish_reason: str | None = None
    reasoning: str | None = None
    logprobs: Mapping[str, Any] | None = None


@attrs.frozen
class ChatResponse:
    """A complete reply. ``raw`` is the vendor's decoded JSON, kept for what we do not model.

    ``created`` is the vendor's Unix timestamp (seconds) for the reply; ``None`` when it sent none.
    ``route`` is the profile that answered when the call went through a router
    (:class:`chatpipe.routing.Router`), for a stream on the assembled reply; ``None`` otherwise.
    ``prices`` are the configured rates of the profile that answered (:class:`Prices`, set by
    the pipeline only when the profile configures ``prices:``); they decide :attr:`cost`.
    """

    id: str | None
    model: str | None
    choices: tuple[Choice, ...]
    usage: Usage | None = None
    provider: str | None = None
    created: int | None = None
    extra: Mapping[str, Any] = _extra()
    raw: Any = attrs.field(default=None, repr=False, eq=False, kw_only=True)
    route: str | None = attrs.field(default=None, kw_only=True)
    prices: Prices | None = attrs.field(default=None, kw_only=True, repr=False, eq=False)

    @cached_property
    def cost(self) -> Cost | None:
        """What this reply cost, computed on first access (see docs/cost.md); ``None`` when unknown.

        From ``usage`` and :attr:`prices` when set, else from the ``genai-prices`` package's
        bundled data (``chatpipe[cost]``; never fetched from the network) for ``provider`` and
        ``model``. ``None`` — never a guess — without usage counts, without a price for the
        model, or without ``genai-prices`` installed.
        """
        return (_cost_of or _load_cost_of())(self)

    @property
    def message(self) -> Message:
        """The first choice's message."""
        return self.choices[0].message

    @property
    def text(self) -> str:
        """The first choice's text content ('' when there is none)."""
        return self.message.text if self.choices else ""

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        """The first choice's tool calls (empty when there are none)."""
        return (self.message.tool_calls or ()) if self.choices else ()

    @property
    def reasoning(self) -> str | None:
        """The first choice's reasoning text, if the model returned any."""
        return self.choices[0].reasoning if self.choices else None

    @property
    def finish_reason(self) -> FinishReason | None:
        """The first choice's normalised finish reason."""
        return self.choices[0].finish_reason if self.choices else None


@attrs.frozen
class ToolCallDelta:
    """A fragment of a streamed tool call; fragments with the same ``index`` concatenate."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@attrs.frozen(slots=False)  # a dict class: :func:`chat_chunk` builds one per streamed chunk in one step
class ChatChunk:
    """One streamed increment. Any field may be empty; ``usage`` usually comes last.

    ``extra`` keys land on the assembled :class:`ChatResponse`'s ``extra`` (citations...);
    ``message_extra`` keys on the assembled message's ``extra``, for vendor data that must
    travel back with the message in the next request (e.g. Claude's signed thinking blocks).
    ``logprobs`` is this increment's ``choices[].logprobs`` object as the vendor sent it (see
    :class:`Choice`); ``created`` the vendor's Unix timestamp for the stream. Both are ``None``
    when absent.
    """

    index: int = 0
    text: str = ""
    reasoning: str = ""
    tool_calls: tuple[ToolCallDelta, ...] = ()
    role: str | None = None
    finish_reason: FinishReason | None = None
    raw_finish_reason: str | None = None
    usage: Usage | None = None
    id: str | None = None
    model: str | None = None
    logprobs: Mapping[str, Any] | None = None
    created: int | None = None
    extra: Mapping[str, Any] = _extra()
    message_extra: Mapping[str, Any] = attrs.field(factory=dict, kw_only=True, repr=False)


_new = object.__new__


def chat_chunk(
    index: int,
    text: str,
    reasoning: str,
    tool_calls: tuple[ToolCallDelta, ...],
    role: str | None,
    finish_reason: FinishReason | None,
    raw_finish_reason: str | None,
    id: str | None,
    model: str | None,
    logprobs: Mapping[str, Any] | None,
    created: int | None,
    extra: Mapping[str, Any],
) -> ChatChunk:
    """A :class:`ChatChunk` without ``usage`` or ``message_extra``, built without attrs' ``__init__``.

    For stream parsers, once per chunk: every argument is required and positional, and the
    instance is the one ``ChatChunk(...)`` builds from the same values (a test compares them).
    """
    chunk = _new(ChatChunk)
    chunk.__dict__.update(  # filling the new instance's own dict: cheaper than assigning a new one
        {
            "index": index,
            "text": text,
            "reasoning": reasoning,
            "tool_calls": tool_calls,
            "role": role,
            "finish_reason": finish_reason,
            "raw_finish_reason": raw_finish_reason,
            "usage": None,
            "id": id,
            "model": model,
            "logprobs": logprobs,
            "created": created,
            "extra": extra,
            "message_extra": {},
        }
    )
    return chunk


def chat_chunk_with_text(chunk: ChatChunk, text: str) -> ChatChunk:
    """``chunk`` with another ``text`` and its own ``extra`` and ``message_extra`` dicts, built in one step.

    For stream parsers, once per chunk: the instance is the one ``attrs.evolve(chunk, text=text)``
    gives, but for ``extra`` and ``message_extra`` being shallow copies rather than the same dicts.
    """
    copy = _new(ChatChunk)
    fields = copy.__dict__
    fields.update(chunk.__dict__)
    fields["text"] = text
    fields["extra"] = {**chunk.extra}
    fields["message_extra"] = {**chunk.message_extra}
    return copy


@attrs.frozen
class ModelInfo:
    """An entry of a provider's model list."""

    id: str
    owned_by: str | None = None
    created: int | None = None
    context_length: int | None = None
    extra: Mapping[str, Any] = _extra()


# Cost and Prices are defined in chatpipe._cost and created on first use (each attrs class
# costs ~0.5 ms to create; building a pipeline and most calls need neither). Importable here.
# Hidden from type checkers, which would otherwise accept any name imported from this module.
if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_attributes(
        globals(), {"Cost": "chatpipe._cost:Cost", "Prices": "chatpipe._cost:Prices"}, {*globals(), *__all__}
    )
