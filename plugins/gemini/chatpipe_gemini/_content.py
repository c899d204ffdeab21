"""OpenAI content parts -> Gemini ``Part`` objects (pure, one part at a time).

* A string, or a ``text`` part, is ``{"text": ...}``; empty text gives no part (Gemini
  refuses an empty text).
* ``image_url``, ``audio_url``, ``video_url`` and ``file`` parts whose URL (``file.file_data``
  for ``file``) is a base64 ``data:`` URL become ``{"inlineData": {"mimeType", "data"}}``
  with the media type of the URL.
* Any other URL (``https://``, ``gs://``, a Files API URI such as
  ``https://generativelanguage.googleapis.com/v1beta/files/abc``), and a ``file`` part's
  ``file_id``, becomes ``{"fileData": {"fileUri"}}``, with a ``mimeType`` when the part gives
  one (``mime_type`` / ``format`` keys) or the URL's extension names one.
* ``input_audio`` (``{data, format}``) becomes ``inlineData`` of type ``audio/<format>``.
* Any other part type is an :class:`~chatpipe.errors.InvalidRequestError` naming it.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from chatpipe.plugin import AudioPart, ImagePart, InvalidRequestError, OtherPart, Part, TextPart

__all__ = ["content_parts", "media_part", "part_of"]

GeminiPart = dict[str, Any]

_URL_PARTS = ("image_url", "audio_url", "video_url")


def _data_url(url: str, where: str) -> GeminiPart:
    header, comma, data = url[5:].partition(",")
    fields = [f.strip() for f in header.split(";")]
    if not comma or not fields[0] or "base64" not in [f.lower() for f in fields[1:]]:
        raise InvalidRequestError(
            "a data URL must look like data:<media type>;base64,<data> (Gemini takes base64 data only)", where=where
        )
    return {"inlineData": {"mimeType": fields[0].lower(), "data": data}}


def media_part(url: str, where: str, mime_type: str | None = None) -> GeminiPart:
    """The Gemini part for a media ``url``: ``inlineData`` for a data URL, ``fileData`` otherwise."""
    if url.startswith("data:"):
        return _data_url(url, where)
    if not urlsplit(url).scheme:
        raise InvalidRequestError(
            f"{url[:40]!r} is neither a data: URL nor a file URI (https://..., gs://...)", where=where
        )
    guessed = mime_type or mimetypes.guess_type(urlsplit(url).path)[0]
    return {"fileData": {"fileUri": url, **({"mimeType": guessed} if guessed else {})}}


def _other(part: OtherPart, where: str) -> GeminiPart:
    kind = part.type
    data = part.data
    if kind in _URL_PARTS:
        value = data.get(kind)
        url = value.get("url") if isinstance(value, Mapping) else value
        mime = value.get("mime_type") if isinstance(value, Mapping) else None
        if isinstance(url, str) and url:
            return media_part(url, f"{where}.{kind}.url", mime if isinstance(mime, str) else None)
        raise InvalidRequestError(f"a {kind} part needs a url", where=f"{where}.{kind}")
    if kind == "file":
        file = data.get("file")
        if isinstance(file, Mapping):
            mime = file.get("mime_type")
            mime = mime if isinstance(mime, str) else None
            if isinstance(file.get("file_data"), str):
                return media_part(file["file_data"], f"{where}.file.file_data", mime)
            if isinstance(file.get("file_id"), str):
                return media_part(file["file_id"], f"{where}.file.file_id", mime)
        raise InvalidRequestError("a file part needs file.file_data (a data URL) or file.file_id (a URI)", where=where)
    raise InvalidRequestError(
        f"Gemini does not accept {kind!r} content parts; send text, images, audio, video or files", where=where
    )


def part_of(part: Part, where: str) -> GeminiPart | None:
    """The Gemini part for one OpenAI content part (``None`` for empty text)."""
    if isinstance(part, TextPart):
        return {"text": part.text} if part.text else None
    if isinstance(part, ImagePart):
        return media_part(part.image_url.url, f"{where}.image_url.url")
    if isinstance(part, AudioPart):
        fmt = part.input_audio.format.lower()
        return {"inlineData": {"mimeType": f"audio/{fmt}", "data": part.input_audio.data}}
    return _other(part, where)


def content_parts(content: str | tuple[Part, ...] | None, where: str) -> list[GeminiPart]:
    """The Gemini parts of a message's ``content`` (``None`` and empty text give none)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}] if content else []
    found = (part_of(p, f"{where}[{i}]") for i, p in enumerate(content))
    return [p for p in found if p is not None]
