"""What the running gateway needs from the config, and the loopback rule for binding."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

import attrs

from ._auth import KeyChecker

if TYPE_CHECKING:
    from ..config import ServeConfig

__all__ = ["GatewaySettings", "is_loopback"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine (``127.0.0.0/8``, ``::1``, ``localhost``)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@attrs.frozen
class GatewaySettings:
    """Request handling limits and the key checker, from :class:`~chatpipe.config.ServeConfig`."""

    keys: KeyChecker
    max_body_size: int
    request_timeout: float

    @classmethod
    def from_config(cls, serve: ServeConfig) -> GatewaySettings:
        """The settings the ``serve:`` section describes."""
        return cls(
            keys=KeyChecker(serve.keys), max_body_size=serve.max_body_size, request_timeout=serve.request_timeout
        )
