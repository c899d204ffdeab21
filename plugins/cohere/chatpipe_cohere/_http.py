"""The base URL and headers of Cohere requests (pure string work).

* The base URL is the API root (default ``https://api.cohere.com``): chatpipe adds ``/v2/chat``
  and ``/v1/models`` itself. Trailing slashes never double a path, and a base that already
  ends in a version segment (``/v1`` or ``/v2``) is cut back to the root with a
  :class:`~chatpipe.errors.ChatpipeWarning`.
* Headers: ``Content-Type``, ``Accept`` (``text/event-stream`` when streaming),
  ``Authorization: Bearer <key>`` only when a key is set, ``X-Client-Name: chatpipe``; the
  profile's headers come last and replace any of these (names compared case-insensitively).
  Every header carrying the key is marked secret, so it is redacted wherever it is shown.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping

from chatpipe.plugin import ChatpipeWarning, Secret, merge_headers, normalise_base_url, safe_url

__all__ = ["CLIENT_NAME", "api_root", "request_headers"]

CLIENT_NAME = "chatpipe"
"""Sent as ``X-Client-Name`` (Cohere's optional client identification header)."""

_VERSION_SUFFIX = re.compile(r"/v[12]$")


def api_root(url: str) -> str:
    """``url`` normalised to the API root (see the module docstring)."""
    base = normalise_base_url(url, provider="cohere")
    if _VERSION_SUFFIX.search(base):
        root = base[:-3]
        warnings.warn(
            f"base_url {safe_url(base)!r} ends in a version segment; chatpipe adds /v2/chat and /v1/models itself, "
            f"so it uses {safe_url(root)!r}. Set base_url to {safe_url(root)!r} to silence this warning.",
            ChatpipeWarning,
            stacklevel=4,
        )
        base = root
    return base


def request_headers(
    key: Secret | None, extra: Mapping[str, str], *, stream: bool = False, body: bool = True
) -> tuple[dict[str, str], frozenset[str]]:
    """The headers of one request and the names of those that carry the key."""
    revealed = key.reveal() if key else ""
    headers: dict[str, str] = {"Accept": "text/event-stream" if stream else "application/json"}
    if body:
        headers["Content-Type"] = "application/json"
    if revealed:
        headers["Authorization"] = f"Bearer {revealed}"
    headers["X-Client-Name"] = CLIENT_NAME
    return merge_headers(headers, extra.items(), key=revealed)
