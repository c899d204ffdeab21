"""The one way a URL is shown: :func:`safe_url` (pure string work).

Every URL that reaches an error message, a log record, ``explain`` output or a repr goes
through it, so a ``base_url`` such as ``http://user:secret@host/v1`` never shows its password.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["safe_url"]

_SECRET_QUERY_NAMES = frozenset(
    {"key", "api_key", "apikey", "api-key", "access_token", "token", "secret", "password", "sig", "signature"}
)


def safe_url(url: str) -> str:
    """``url`` fit for a message: userinfo removed, credential-like query values replaced by ``***``.

    A string that is not a URL at all comes back as ``<invalid URL>``.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    netloc = parts.netloc.rpartition("@")[2]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(name.lower() in _SECRET_QUERY_NAMES for name, _ in pairs):
            query = urlencode(
                [(name, "***" if name.lower() in _SECRET_QUERY_NAMES else value) for name, value in pairs], safe="*"
            )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
