"""What every event of one observed call carries (importable from :mod:`chatpipe._observe`).

Apart from :mod:`chatpipe._observe`, which every pipeline imports, so that the class is created
only with the first observed call.
"""

from __future__ import annotations

import attrs

__all__ = ["CallInfo"]


@attrs.frozen
class CallInfo:
    """What every event of one call carries (immutable; never a key, a prompt or a reply).

    ``id`` is shared by all events of one call — through a router, by every target's events
    and the hops between them. ``provider`` is the registered provider name, ``model`` the model
    requested, ``profile`` the config profile of the pipeline (``None`` without one), ``route``
    the router target being tried (``None`` outside a router), ``stream`` whether it streams.
    ``server_address`` and ``server_port`` are the host and port of the pipeline's base URL
    (the port from the scheme when the URL names none; ``None`` when it cannot be told) — never
    its userinfo, path or query. ``router`` is the profile of the router trying ``route``
    (``None`` outside a router, or for a router built in code without a profile).
    """

    id: str
    provider: str
    model: str
    profile: str | None
    route: str | None
    stream: bool
    server_address: str | None = None
    server_port: int | None = None
    router: str | None = None
