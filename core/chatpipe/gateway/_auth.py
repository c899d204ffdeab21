"""Gateway keys: ``Authorization: Bearer KEY`` checked in constant time.

Each configured key is kept only as its SHA-256 digest; a presented key is hashed and
compared with :func:`hmac.compare_digest` against *every* digest (no early exit), so
neither the comparison time nor the key lengths leak which key, or how much of one, matched.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

__all__ = ["KeyChecker", "bearer_token"]


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer TOKEN`` header value, else ``None``."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8")).digest()


class KeyChecker:
    """Checks presented keys against the configured gateway keys.

    With no keys configured :attr:`enabled` is false and every request is allowed here; who
    may then reach the gateway is :meth:`~._settings.GatewaySettings.check_client`'s rule
    (this machine only, unless ``serve.allow_unauthenticated``). The keys themselves are not stored.
    """

    __slots__ = ("_digests", "_labels")

    def __init__(self, keys: Iterable[str], labels: Iterable[str] = ()) -> None:
        """``labels`` names each of ``keys`` in order (:meth:`label`); missing ones are ``key-N``."""
        kept = [key for key in keys if key]
        given = list(labels)
        self._digests = tuple(_digest(key) for key in kept)
        self._labels = tuple(given[i] if i < len(given) else f"key-{i + 1}" for i in range(len(kept)))

    @property
    def enabled(self) -> bool:
        """Whether requests must carry a key."""
        return bool(self._digests)

    def allows(self, authorization: str | None) -> bool:
        """Whether the ``Authorization`` header value carries one of the keys (always true when disabled)."""
        return not self._digests or self.label(authorization) is not None

    def label(self, authorization: str | None) -> str | None:
        """The label of the key the ``Authorization`` header value carries (``None``: no key of these).

        Every digest is compared (no early exit), whichever matches.
        """
        token = bearer_token(authorization)
        presented = _digest(token if token is not None else "")
        found: str | None = None
        for digest, label in zip(self._digests, self._labels, strict=True):
            if hmac.compare_digest(digest, presented):
                found = label
        return found if token is not None else None

    def __repr__(self) -> str:
        return f"KeyChecker(<{len(self._digests)} key(s)>)"
