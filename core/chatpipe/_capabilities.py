"""A request checked against its provider's declared capabilities, before any network call.

A provider declares what its API can do (:class:`~chatpipe.provider.Capabilities`); a request
that needs something the provider lacks fails here with an error naming the problem and the
fix, instead of being sent for the vendor to reject. The model-list and status-check flags are
read by :class:`~chatpipe.pipeline.Pipeline` itself (no request is sent when they are off);
``reasoning`` describes replies, not requests, so only the documentation reads it.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import InvalidRequestError
from .models import ImagePart, Message
from .provider import ProviderInfo

__all__ = ["check_capabilities"]


def check_capabilities(info: ProviderInfo, *, stream: bool, tools: bool, messages: Sequence[Message]) -> None:
    """Raise :class:`~chatpipe.errors.InvalidRequestError` if the request needs a capability ``info`` lacks.

    ``messages`` are the converted messages about to be sent: streaming needs ``streaming``,
    ``tools`` needs ``tools``, and an image part needs ``vision``.
    """
    capabilities = info.capabilities
    if stream and not capabilities.streaming:
        raise InvalidRequestError(
            f"provider {info.name!r} cannot stream replies; use complete() instead of stream() "
            "(on the command line: chatpipe chat --no-stream)"
        )
    if tools and not capabilities.tools:
        raise InvalidRequestError(
            f"provider {info.name!r} does not support tools; remove 'tools' and 'tool_choice' from the "
            "request, or use a provider that supports them",
            where="tools",
        )
    if not capabilities.vision:
        index = _first_image(messages)
        if index is not None:
            raise InvalidRequestError(
                f"provider {info.name!r} does not accept images, but message {index} of the request (after "
                "the converters) has one; remove the image parts, or use a provider with vision "
                "(capabilities in docs/providers.md)"
            )


def _first_image(messages: Sequence[Message]) -> int | None:
    for index, message in enumerate(messages):
        if type(message.content) is tuple and any(type(part) is ImagePart for part in message.content):
            return index
    return None
