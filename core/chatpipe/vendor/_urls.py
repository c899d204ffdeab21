"""Base-URL normalisation and joining for vendor endpoints (pure string work).

Rules (docs/configuration.md, ``base_url``):

* trailing slashes never double a path: ``https://h/v1/`` + ``/models`` is ``https://h/v1/models``;
* a base URL that already ends in ``/chat/completions`` is cut back to its base, with a
  :class:`ChatpipeWarning`, so the request does not go to ``.../chat/completions/chat/completions``;
* nothing is ever *added*: ``/v1`` is only suggested in hints (:func:`has_version_segment`).
"""

from __future__ import annotations

import re
import warnings
from urllib.parse import urlsplit

from ..errors import ChatpipeWarning, ConfigError
from ..http import safe_url

__all__ = ["has_version_segment", "join_url", "normalise_base_url"]

_CHAT_SUFFIX = "/chat/completions"
_VERSION_SEGMENT = re.compile(r"/v\d+(?:beta\d*|alpha\d*)?(?:/|$)")


def normalise_base_url(url: str, *, provider: str) -> str:
    """The base URL without trailing slashes and without a ``/chat/completions`` suffix.

    Raises :class:`~chatpipe.errors.ConfigError` when ``url`` is not an absolute http(s) URL.
    Warns with :class:`ChatpipeWarning` when it removes a ``/chat/completions`` suffix.
    """
    if not isinstance(url, str) or not url.strip():
        raise ConfigError(f"provider {provider!r} needs a base_url such as http://127.0.0.1:1234/v1", path="base_url")
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"{safe_url(text)!r} is not an absolute http(s) URL; write it like https://host/v1",
            path="base_url",
        )
    base = text.rstrip("/")
    if base.lower().endswith(_CHAT_SUFFIX):
        corrected = base[: -len(_CHAT_SUFFIX)].rstrip("/")
        warnings.warn(
            f"base_url {safe_url(base)!r} ends in {_CHAT_SUFFIX}; chatpipe adds that path itself, so it uses "
            f"{safe_url(corrected)!r}. Set base_url to {safe_url(corrected)!r} to silence this warning.",
            ChatpipeWarning,
            stacklevel=4,
        )
        base = corrected
    return base


def join_url(base: str, path: str) -> str:
    """``base`` and ``path`` joined with exactly one slash between them."""
    if not path:
        return base.rstrip("/")
    return f"{base.rstrip('/')}/{path.lstrip('/')}"


def has_version_segment(base: str) -> bool:
    """Whether the URL's path contains a version segment such as ``/v1`` or ``/v1beta``."""
    return bool(_VERSION_SEGMENT.search(urlsplit(base).path))
