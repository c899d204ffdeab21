"""OpenAI content parts -> Claude content blocks (pure, one part at a time).

* A string is one ``text`` block; ``None`` is no block at all (the reference throws on ``null``
  content; difference 6 in docs/post-processing.md handles it).
* A text part becomes a ``text`` block; its extra keys (``cache_control``, ``citations``) are kept.
* An image part becomes an ``image`` block: a ``data:`` URL gives a ``base64`` source with the
  media type and data taken from the URL; an http(s) URL gives a ``url`` source (the reference
  sends garbage for these). ``detail`` has no Claude equivalent and is not sent; the part's
  extra keys (``cache_control``) are kept on the block.
* A part whose type is already a Claude block type (``document``, ``search_result``,
  ``thinking``...) is passed through unchanged, so native blocks can be sent.
* Audio, video and file parts have no Claude equivalent: an
  :class:`~chatpipe.errors.InvalidRequestError` names the part instead of sending a request
  Claude would reject or silently dropping it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from chatpipe.plugin import ImagePart, InvalidRequestError, OtherPart, Part, TextPart

__all__ = ["CLAUDE_BLOCK_TYPES", "MEDIA_BLOCK_TYPES", "content_blocks", "image_source", "part_to_block", "text_block"]

CLAUDE_BLOCK_TYPES = frozenset(
    {
        "text",
        "image",
        "document",
        "search_result",
        "tool_use",
        "tool_result",
        "thinking",
        "redacted_thinking",
        "server_tool_use",
        "web_search_tool_result",
        "web_fetch_tool_result",
        "code_execution_tool_result",
        "bash_code_execution_tool_result",
        "text_editor_code_execution_tool_result",
        "tool_search_tool_result",
        "mcp_tool_use",
        "mcp_tool_result",
        "container_upload",
    }
)
"""Block types passed through verbatim when they arrive as content parts."""

MEDIA_BLOCK_TYPES = frozenset({"image", "document"})
"""Blocks Claude accepts only in user turns (moved out of assistant turns)."""


def text_block(text: str) -> dict[str, Any]:
    """A plain ``{"type": "text", "text": text}`` block."""
    return {"type": "text", "text": text}


def image_source(url: str, where: str) -> dict[str, Any]:
    """The Claude image ``source`` for an OpenAI image URL.

    ``data:<media type>;base64,<data>`` gives ``{"type": "base64", "media_type", "data"}``;
    an http(s) URL gives ``{"type": "url", "url"}``. Anything else raises
    :class:`~chatpipe.errors.InvalidRequestError` located at ``where``.
    """
    if url.startswith("data:"):
        header, comma, data = url[5:].partition(",")
        fields = [f.strip().lower() for f in header.split(";")]
        if not comma or "base64" not in fields[1:] or not fields[0]:
            raise InvalidRequestError(
                "an image data URL must look like data:image/png;base64,<data>; Claude only takes base64 data",
                where=where,
            )
        return {"type": "base64", "media_type": fields[0], "data": data}
    if urlsplit(url).scheme.lower() in ("http", "https"):
        return {"type": "url", "url": url}
    raise InvalidRequestError(f"an image URL must be http(s) or a base64 data: URL, got {url[:40]!r}", where=where)


def part_to_block(part: Part, where: str) -> dict[str, Any]:
    """The Claude block for one OpenAI content part (see the module docstring)."""
    if isinstance(part, TextPart):
        return {**text_block(part.text), **part.extra}
    if isinstance(part, ImagePart):
        return {"type": "image", "source": image_source(part.image_url.url, f"{where}.image_url.url"), **part.extra}
    if isinstance(part, OtherPart) and part.type in CLAUDE_BLOCK_TYPES:
        return dict(part.data)
    raise InvalidRequestError(
        f"Claude does not accept {part.type!r} content parts; remove the part, or send the file as a "
        "Claude 'document' or 'image' block",
        where=where,
    )


def content_blocks(content: str | tuple[Part, ...] | None, where: str) -> list[dict[str, Any]]:
    """The blocks for a message's ``content`` (``None`` gives no block)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [text_block(content)]
    return [part_to_block(part, f"{where}[{i}]") for i, part in enumerate(content)]
