"""OpenRouter's ``GET /models`` entries -> :class:`~chatpipe.models.ModelInfo`, prices included.

Each entry has ``id``, ``created``, ``context_length`` (which becomes ``ModelInfo.context_length``;
``top_provider.context_length`` stands in when it is missing) and ``pricing``: USD **per token**,
as decimal strings (``{"prompt": "0.0000025", "completion": "0.00001", "input_cache_read":
...}``). ``ModelInfo`` has no price fields, so the prices go in ``extra``: ``pricing`` stays as
OpenRouter sent it, and ``extra["prices"]`` holds the token prices in chatpipe's own unit and
names — USD per **million** tokens, the keys of a profile's ``prices:`` (``input``, ``output``,
``cached_input``, ``cache_write``; docs/cost.md) — as exact decimal strings, so a price can be
copied into a config as is. A price that is missing, not a number, or negative (the
``openrouter/auto`` router says ``"-1"``: it depends on the model chosen) is left out; an entry
without both ``input`` and ``output`` gets no ``prices``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs
from chatpipe.plugin import ModelInfo

__all__ = ["PRICE_KEYS", "per_million", "with_prices"]

PRICE_KEYS: Mapping[str, str] = {
    "prompt": "input",
    "completion": "output",
    "input_cache_read": "cached_input",
    "input_cache_write": "cache_write",
}
"""OpenRouter's per-token ``pricing`` keys -> chatpipe's ``prices:`` keys."""

_MILLION = Decimal(1_000_000)


def per_million(value: Any) -> str | None:
    """A per-token USD price (a string or number) as USD per million tokens, an exact decimal string.

    ``None`` for a value that is not a non-negative number.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        return None
    if not price.is_finite() or price < 0:
        return None
    scaled = (price * _MILLION).normalize()
    return format(scaled, "f")


def with_prices(info: ModelInfo) -> ModelInfo:
    """``info`` with ``extra["prices"]`` from its ``pricing`` and a context length from ``top_provider``."""
    extra: dict[str, Any] = dict(info.extra)
    pricing = extra.get("pricing")
    if isinstance(pricing, Mapping):
        prices = {ours: per_million(pricing.get(theirs)) for theirs, ours in PRICE_KEYS.items()}
        kept = {key: value for key, value in prices.items() if value is not None}
        if "input" in kept and "output" in kept:
            extra["prices"] = kept
    context = info.context_length
    if context is None:
        top = extra.get("top_provider")
        length = top.get("context_length") if isinstance(top, Mapping) else None
        if isinstance(length, int) and not isinstance(length, bool):
            context = length
    return attrs.evolve(info, context_length=context, extra=extra)
