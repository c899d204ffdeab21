"""TLS for the transport: one verified context per process, made when an https connection first needs it.

An HTTP library client given nothing builds a verified TLS context of its own when it is
created, loading the CA certificates: 20 ms a client, over 100 ms the first time in a process
— paid by every ``http://`` endpoint too (a local model, a LiteLLM proxy on localhost). The
transport gives its clients :func:`placeholder` instead, a context without certificates that
no handshake ever uses: the pool's network streams (``._pool``) swap it for :func:`verified`
at ``start_tls``, which makes the library's own default context (``create_ssl_context()``:
certifi's CAs, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``) once per process and HTTP library.

Failing safe: the placeholder verifies peers and host names and trusts no CA, so a handshake
that ever reached it unswapped would fail, never pass unverified.
"""

from __future__ import annotations

import ssl
import threading
from types import ModuleType

__all__ = ["placeholder", "verified"]

_lock = threading.Lock()
_placeholders: dict[str, ssl.SSLContext] = {}  # HTTP library name -> its placeholder
_libraries: dict[int, ModuleType] = {}  # id(placeholder) -> its HTTP library
_verified: dict[str, ssl.SSLContext] = {}  # HTTP library name -> the context it made


def placeholder(library: ModuleType) -> ssl.SSLContext:
    """The context to create ``library``'s clients with (``verify=``): cheap, trusting nothing."""
    found = _placeholders.get(library.__name__)
    if found is None:
        with _lock:
            found = _placeholders.get(library.__name__)
            if found is None:
                found = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies peers and names; no CA loaded
                _libraries[id(found)] = library
                _placeholders[library.__name__] = found
    return found


def verified(context: ssl.SSLContext) -> ssl.SSLContext:
    """The context a handshake uses: the process's verified one for a :func:`placeholder`, else ``context``."""
    library = _libraries.get(id(context))
    if library is None:
        return context
    found = _verified.get(library.__name__)
    if found is None:
        with _lock:
            found = _verified.get(library.__name__)
            if found is None:
                found = library.create_ssl_context()
                # what the HTTP core sets on the context it is given before each handshake
                # (on the placeholder here): chatpipe's clients speak HTTP/1.1
                found.set_alpn_protocols(["http/1.1"])
                _verified[library.__name__] = found
    return found
