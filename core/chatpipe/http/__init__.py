"""The HTTP boundary: what crosses between the sans-IO adapters and the transport (no I/O here).

* Requests and responses, as plain data: :class:`HttpRequest` (an adapter builds it; headers
  named in ``secret_headers`` are redacted wherever it is shown), :class:`HttpResponse` (a
  complete reply; its ``request_id`` reads :data:`REQUEST_ID_HEADERS`), :class:`SSEEvent`
  (one server-sent event), :func:`merge_headers` (profile headers over an adapter's own, with
  the secret names) and :data:`REDACTED`.
* :func:`safe_url`: a URL fit to show (no userinfo, credential-like query values ``***``), the one
  way a URL reaches an error, a log, ``explain`` or a repr.
* Server-sent events: :class:`SSEDecoder`, an incremental bytes-to-:class:`SSEEvent` decoder
  following the WHATWG rules (see its module docstring for the details), and
  :class:`EventTooLarge`, raised when an event grows past its ``max_event_size``.
* The transport contract: :class:`TransportProtocol` (what ``Pipeline(transport=...)``
  accepts), :class:`StreamResponseProtocol` and :class:`AsyncStreamResponseProtocol`.

The decoder and the protocols are imported on first use: adapters need only the data classes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_attributes
from ._messages import REDACTED, REQUEST_ID_HEADERS, HttpRequest, HttpResponse, SSEEvent, merge_headers
from ._safe_url import safe_url

if TYPE_CHECKING:
    from ._sse import EventTooLarge, SSEDecoder
    from ._transport import AsyncStreamResponseProtocol, StreamResponseProtocol, TransportProtocol

__all__ = [
    "REDACTED",
    "REQUEST_ID_HEADERS",
    "AsyncStreamResponseProtocol",
    "EventTooLarge",
    "HttpRequest",
    "HttpResponse",
    "SSEDecoder",
    "SSEEvent",
    "StreamResponseProtocol",
    "TransportProtocol",
    "merge_headers",
    "safe_url",
]

_LAZY = {
    "EventTooLarge": "chatpipe.http._sse:EventTooLarge",
    "SSEDecoder": "chatpipe.http._sse:SSEDecoder",
    "AsyncStreamResponseProtocol": "chatpipe.http._transport:AsyncStreamResponseProtocol",
    "StreamResponseProtocol": "chatpipe.http._transport:StreamResponseProtocol",
    "TransportProtocol": "chatpipe.http._transport:TransportProtocol",
}

__getattr__, __dir__ = lazy_attributes(globals(), _LAZY, __all__)
