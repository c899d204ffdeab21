"""How a caller-supplied value is quoted in an error message: bounded, whatever its size.

Error messages quote what the caller sent (an unknown model, a role, a path) so the caller
can see the mistake; a value of megabytes must not come back whole. :func:`shown` is the one
rule every such message uses (the gateway's, and the request checks the gateway reaches).
"""

from __future__ import annotations

__all__ = ["SHOWN_CHARS", "shown"]

SHOWN_CHARS = 100
"""The most characters of a caller-supplied value an error message quotes."""


def shown(value: str) -> str:
    """``value`` as quoted in an error message: its ``repr``, cut after :data:`SHOWN_CHARS` characters.

    A longer value shows its first :data:`SHOWN_CHARS` characters followed by ``…``; only
    that prefix is copied, so the cost does not grow with ``value``.
    """
    if len(value) <= SHOWN_CHARS:
        return repr(value)
    return f"{value[:SHOWN_CHARS]!r}…"
