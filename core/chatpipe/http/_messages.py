"""Plain descriptions of HTTP traffic, so provider adapters never touch a socket.

An adapter *builds* an :class:`HttpRequest` and *parses* an :class:`HttpResponse` or a
sequence of :class:`SSEEvent`; the transport performs the I/O.

Secrets: headers named in ``HttpRequest.secret_headers`` carry credentials. ``repr()`` and
:meth:`HttpRequest.redacted` replace their values with ``"***"`` and show the URL through :func:`safe_url`;
nothing else ever shows them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ._safe_url import safe_url

__all__ = ["REDACTED", "REQUEST_ID_HEADERS", "HttpRequest", "HttpResponse", "SSEEvent", "merge_headers"]

REDACTED = "***"

REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-requestid", "cf-ray")
"""Response headers that carry the vendor's request id (lower-cased), the first present wins."""


def merge_headers(
    base: Mapping[str, str],
    overrides: Iterable[tuple[str, object]],
    *,
    key: str = "",
    secret_names: Iterable[str] = ("authorization",),
) -> tuple[dict[str, str], frozenset[str]]:
    """``base`` with each ``(name, value)`` of ``overrides`` applied in order, and the secret names.

    An override replaces every header of the same name compared case-insensitively (the
    override's spelling wins) and its value is sent as ``str(value)``. A header is secret when
    its name is one of ``secret_names`` (case-insensitive) or, with a non-empty ``key``, its
    value contains the key: pass the result as ``HttpRequest.secret_headers``.
    """
    headers = dict(base)
    for name, value in overrides:
        for existing in [h for h in headers if h.lower() == name.lower()]:
            del headers[existing]
        headers[name] = str(value)
    names = {n.lower() for n in secret_names}
    secret = frozenset(n for n, v in headers.items() if n.lower() in names or (key and key in v))
    return headers, secret


@attrs.frozen(repr=False)
class HttpRequest:
    """A request to send: method, absolute URL, headers and an optional body.

    The body is ``json`` (any JSON value, sent compact as UTF-8 ``application/json``) or
    ``content`` (raw bytes sent as they are, e.g. a ``multipart/form-data`` upload; the request's
    headers must then name the content type). Setting both is a ``ValueError``.

    ``deadline`` (seconds) is how long the whole call may take — for a stream, its total — in
    place of the transport's configured one; the pipeline sets it from a call's ``deadline=``
    (adapters leave it ``None``).
    """

    method: str
    url: str
    headers: Mapping[str, str] = attrs.field(factory=dict)
    json: Any = None
    secret_headers: frozenset[str] = frozenset()
    deadline: float | None = None
    content: bytes | None = None

    def __attrs_post_init__(self) -> None:
        if self.json is not None and self.content is not None:
            raise ValueError("an HttpRequest has a json body or raw content, not both")

    def redacted(self) -> dict[str, Any]:
        """A JSON-able description: secret header values replaced by ``***``, the URL through :func:`safe_url`."""
        secret = {h.lower() for h in self.secret_headers}
        headers = {k: (REDACTED if k.lower() in secret else v) for k, v in self.headers.items()}
        out: dict[str, Any] = {"method": self.method, "url": safe_url(self.url), "headers": headers}
        if self.json is not None:
            out["json"] = self.json
        if self.content is not None:
            out["content"] = f"<{len(self.content)} bytes>"
        return out

    def __repr__(self) -> str:
        r = self.redacted()
        return f"HttpRequest({r['method']} {r['url']}, headers={r['headers']!r})"


@attrs.frozen(repr=False)
class HttpResponse:
    """A complete response: status, headers (lower-cased names) and the raw body bytes."""

    status: int
    headers: Mapping[str, str] = attrs.field(factory=dict)
    content: bytes = b""

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (invalid bytes replaced)."""
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON. Raises ``ValueError`` for invalid or too deeply nested JSON (adapters map it)."""
        from ..vendor._json import loads_json  # the vendor helpers import this module

        return loads_json(self.content)

    @property
    def request_id(self) -> str | None:
        """The vendor's request id header, if any."""
        for name in REQUEST_ID_HEADERS:
            if name in self.headers:
                return self.headers[name]
        return None

    def __repr__(self) -> str:
        return f"HttpResponse({self.status}, {len(self.content)} bytes)"


@attrs.frozen(slots=False)  # a dict class: :func:`sse_event` builds one per streamed event in one step
class SSEEvent:
    """One server-sent event: ``event`` name (``"message"`` when unnamed) and joined ``data``."""

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


_new = object.__new__
_set = object.__setattr__


def sse_event(data: str, event: str, id: str | None, retry: int | None) -> SSEEvent:
    """``SSEEvent(data, event, id, retry)``, built without attrs' ``__init__`` (the decoder's per-event path).

    The instance is the one ``__init__`` builds (the same attributes; a test compares them).
    """
    instance = _new(SSEEvent)
    _set(instance, "__dict__", {"data": data, "event": event, "id": id, "retry": retry})
    return instance
