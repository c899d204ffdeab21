"""What the running gateway needs from the config, and the loopback rule for open gateways.

An *open* gateway has no ``serve.keys`` and ``serve.allow_unauthenticated`` false
(:func:`is_open`). It may serve this machine only, which is checked twice from the same rule:
``chatpipe serve`` refuses a non-loopback bind address (:func:`~._run.check_bind`), and the
app answers 403 to any request not certainly local (:meth:`GatewaySettings.check_client`), so
an app started some other way (``uvicorn --factory chatpipe.gateway:create_app --host
0.0.0.0``) is not open to the network either. :data:`OPEN_GATEWAY_FIX` is the fix both name.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import TYPE_CHECKING

import attrs

from .._shown import shown
from ._auth import KeyChecker
from ._errors import GatewayError

if TYPE_CHECKING:
    from ..config import ServeConfig

__all__ = ["OPEN_GATEWAY_FIX", "PROXY_HEADERS", "GatewaySettings", "is_local_client", "is_loopback", "is_open"]

OPEN_GATEWAY_FIX = (
    "set serve.keys (e.g. keys: ['${CHATPIPE_GATEWAY_KEY}']) and send 'Authorization: Bearer <key>', "
    "or set serve.allow_unauthenticated: true if something else authenticates clients"
)
"""How to serve other machines, as the bind refusal and the 403 both say it."""

PROXY_HEADERS = ("forwarded", "x-forwarded-for")
"""Headers a reverse proxy adds: a request carrying one comes from elsewhere, whatever its address."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine (``127.0.0.0/8``, ``::1``, ``localhost``)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback  # ::ffff:127.0.0.1, as dual-stack sockets report it
    return address.is_loopback


def is_open(serve: ServeConfig) -> bool:
    """Whether ``serve`` describes an open gateway: no keys, and ``allow_unauthenticated`` false.

    An open gateway may serve clients on this machine only.
    """
    return not serve.keys and not serve.allow_unauthenticated


def is_local_client(host: str | None, headers: Mapping[str, str]) -> bool:
    """Whether a request certainly comes from this machine.

    ``host`` is the client address the server reports (``None`` when it reports none, as on a
    Unix socket: not certain); ``headers`` must look names up case-insensitively (Starlette's
    ``Headers``) or hold lower-case names. A loopback address with a :data:`PROXY_HEADERS`
    header is a proxy on this machine relaying someone else's request: not local.
    """
    return host is not None and is_loopback(host) and not any(name in headers for name in PROXY_HEADERS)


@attrs.frozen
class GatewaySettings:
    """Request handling limits and the client checks, from :class:`~chatpipe.config.ServeConfig`.

    ``local_only``: the gateway is open (:func:`is_open`), so it answers clients on this
    machine only (:meth:`check_client`). ``scrape_keys`` checks ``GET /metrics``: the gateway
    keys and the metrics keys (``None``: the same as ``keys``).
    """

    keys: KeyChecker
    max_body_size: int
    request_timeout: float
    local_only: bool = False
    scrape_keys: KeyChecker | None = None

    @classmethod
    def from_config(cls, serve: ServeConfig) -> GatewaySettings:
        """The settings the ``serve:`` section describes."""
        return cls(
            keys=KeyChecker(serve.keys, [label for label, _ in serve.labelled_keys()]),
            max_body_size=serve.max_body_size,
            request_timeout=serve.request_timeout,
            local_only=is_open(serve),
            scrape_keys=KeyChecker((*serve.keys, *serve.metrics_keys)) if serve.metrics_keys else None,
        )

    def check_client(self, host: str | None, headers: Mapping[str, str]) -> None:
        """Raise :class:`GatewayError` 403 (``code: unauthenticated_gateway``) for a request an open gateway refuses.

        Does nothing unless :attr:`local_only`; then refuses every request that is not
        :func:`is_local_client`, with a message naming :data:`OPEN_GATEWAY_FIX`. Key checks
        are not done here (:class:`~._auth.KeyChecker`).
        """
        if not self.local_only or is_local_client(host, headers):
            return
        if host is None:
            origin = "from an unknown address"
        elif is_loopback(host):
            origin = "through a proxy (a Forwarded or X-Forwarded-For header)"
        else:
            origin = f"from {shown(host)}"
        raise GatewayError(
            403,
            f"this gateway has no keys and answers clients on its own machine only; this request came {origin}. "
            f"To serve other machines, {OPEN_GATEWAY_FIX}",
            type="permission_error",
            code="unauthenticated_gateway",
        )
