"""A reply's :class:`~chatpipe.models.Cost`: from configured rates, else from ``genai-prices``.

``genai-prices`` (the ``chatpipe[cost]`` extra) is imported on the first cost computed from
price data, never at chatpipe's import. Only its bundled data is read: chatpipe never starts
its ``UpdatePrices`` fetcher, so a cost opens no socket (a process that starts the fetcher
itself gets the fetched prices). Without the package, a reply without configured rates costs
``None``.

A chatpipe provider name maps to a ``genai-prices`` provider id through :data:`PRICE_PROVIDERS`;
a provider without an entry (``custom``, ``local``, ``ai21``, third-party plugins) has a cost
only from configured rates.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import attrs

from ._log import get_logger
from .models import ChatResponse, Usage

__all__ = ["PRICE_PROVIDERS", "Cost", "Prices", "cost_from_price_data", "cost_from_prices", "cost_of"]


@attrs.frozen
class Cost:
    """What a reply cost, in ``currency`` (always ``"USD"``), as exact decimals.

    The parts do not overlap: ``input`` is the prompt tokens read fresh (and any other input
    the price data prices: audio, images), ``cached`` the prompt tokens read from the vendor's
    cache, ``cache_write`` those written to it, ``output`` the completion (reasoning tokens
    included). ``total`` is their sum plus any per-request fee the price data knows.
    A model whose price data has no cache price bills cached tokens as ``input``.
    """

    input: Decimal
    output: Decimal
    cached: Decimal
    cache_write: Decimal
    total: Decimal
    currency: str = "USD"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form: every amount as a float, and the currency."""
        amounts = {k: float(getattr(self, k)) for k in ("input", "cached", "cache_write", "output", "total")}
        return {**amounts, "currency": self.currency}


@attrs.frozen
class Prices:
    """Configured rates in USD per million tokens (a profile's ``prices:``).

    ``input`` and ``output`` are the fresh prompt and the completion rates; ``cached_input``
    (cache reads) and ``cache_write`` (cache writes) default to ``input`` when unset.
    ``models`` holds rates per model id (each a :class:`Prices` without ``models``) that win
    over the flat rates for that model. Without flat ``input`` and ``output``,
    :meth:`for_model` returns ``None`` for a model without rates of its own.
    """

    input: Decimal | None = None
    output: Decimal | None = None
    cached_input: Decimal | None = None
    cache_write: Decimal | None = None
    models: Mapping[str, Prices] = attrs.field(factory=dict)

    def for_model(self, *models: str | None) -> Prices | None:
        """The rates of the first of ``models`` listed in ``models``, else the flat rates (``None``: none)."""
        for model in models:
            if model is not None and model in self.models:
                return self.models[model]
        return self if self.input is not None and self.output is not None else None


_log = get_logger("cost")

PRICE_PROVIDERS: dict[str, str] = {
    "openai": "openai",
    "claude": "anthropic",
    "mistral": "mistral",
    "deepseek": "deepseek",
    "cohere": "cohere",
    "perplexity": "perplexity",
    "fireworks": "fireworks",
    "gemini": "google",
    "xai": "x-ai",
}
"""chatpipe provider name -> ``genai-prices`` provider id (the vendors its data prices)."""

_MILLION = Decimal(1_000_000)
_ZERO = Decimal(0)


@functools.lru_cache(maxsize=512)
def _model_price(vendor: str, model: str) -> tuple[Any, Any] | None:
    """``genai-prices``' provider and model entries for ``model`` of ``vendor`` (``None``: no price).

    Finding them scans the price data (~60 µs); a gateway asks for the same few models on every
    call, so the answer (a miss included) is kept, per process, for 512 (vendor, model) pairs.
    """
    from genai_prices import data_snapshot

    try:
        return data_snapshot.get_snapshot().find_provider_model(model, None, vendor, None)
    except LookupError:
        return None


_TOKEN_RATES = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")
_UNREPORTED = frozenset({"web_searches_kcount", "storage_searches_kcount", "cache_write_1h_mtok"})
"""Priced units whose counts chatpipe never reports to the price data: they add nothing to a cost."""

_Rate = Any  # a Decimal per million tokens, or genai-prices' TieredPrices
_TokenRates = tuple[_Rate, _Rate, _Rate | None, _Rate | None]
_token_rates_of: dict[int, tuple[Any, _TokenRates | None]] = {}


def _token_rates(model_price: Any) -> _TokenRates | None:
    """``model_price``'s (input, output, cache read, cache write) rates when per-token rates —
    flat or tiered by prompt size — are all it charges a chat reply for (no per-request fee, no
    other unit), else ``None``. Kept per price object (the price data's are long-lived)."""
    kept = _token_rates_of.get(id(model_price))
    if kept is not None and kept[0] is model_price:
        return kept[1]
    from genai_prices.types import TieredPrices

    charged = {key: value for key, value in vars(model_price).items() if value is not None and key not in _UNREPORTED}
    rates: _TokenRates | None = None
    if charged.keys() <= set(_TOKEN_RATES) and all(type(v) in (Decimal, TieredPrices) for v in charged.values()):
        fresh, output = charged.get("input_mtok"), charged.get("output_mtok")
        if fresh is not None and output is not None:
            rates = (fresh, output, charged.get("cache_read_mtok"), charged.get("cache_write_mtok"))
    if len(_token_rates_of) >= 1024:
        _token_rates_of.clear()
    _token_rates_of[id(model_price)] = (model_price, rates)
    return rates


def _at(rate: _Rate, prompt_tokens: int) -> Decimal:
    """A rate for a prompt of ``prompt_tokens``: a tiered rate's highest tier whose start the prompt passes."""
    if type(rate) is Decimal:
        return rate
    for tier in reversed(rate.tiers):
        if prompt_tokens > tier.start:
            return tier.price  # type: ignore[no-any-return]
    return rate.base  # type: ignore[no-any-return]


def _token_cost(usage: Usage, rates: _TokenRates) -> Cost | None:
    """``usage`` at per-token ``rates``, as ``genai-prices`` computes it: a tier applies to all
    tokens of its kind once the prompt passes its start; cached or written prompt tokens without
    a rate of their own are billed as fresh input. ``None`` for counts it would refuse (more
    cached and written tokens than prompt tokens)."""
    fresh_rate, output_rate, read_rate, write_rate = rates
    prompt = usage.prompt_tokens or 0
    read = (usage.cached_tokens or 0) if read_rate is not None else 0
    written = (usage.cache_creation_tokens or 0) if write_rate is not None else 0
    fresh_tokens = prompt - read - written
    if fresh_tokens < 0:
        return None
    fresh = _at(fresh_rate, prompt) * fresh_tokens / _MILLION
    cached = _at(read_rate, prompt) * read / _MILLION if read_rate is not None else _ZERO
    cache_write = _at(write_rate, prompt) * written / _MILLION if write_rate is not None else _ZERO
    output = _at(output_rate, prompt) * (usage.completion_tokens or 0) / _MILLION
    return Cost(
        input=fresh, output=output, cached=cached, cache_write=cache_write, total=fresh + cached + cache_write + output
    )


def cost_of(response: ChatResponse, *, batch: bool = False) -> Cost | None:
    """``response``'s cost: its configured :attr:`~ChatResponse.prices`, else the price data; else ``None``.

    The price data's variant is chosen by the reply's ``service_tier`` (OpenAI's ``extra`` key)
    and, with ``batch``, the vendor's batch rates (a reply of a vendor batch API).
    """
    usage = response.usage
    if usage is None or usage.prompt_tokens is None or usage.completion_tokens is None:
        return None
    if response.prices is not None:
        return cost_from_prices(usage, response.prices)
    vendor = PRICE_PROVIDERS.get(response.provider or "")
    if vendor is None or not response.model:
        return None
    when = datetime.fromtimestamp(response.created, tz=UTC) if response.created else None
    context: dict[str, str] = {"processing": "batch"} if batch else {}
    tier = response.extra.get("service_tier")
    if isinstance(tier, str):
        context["service_tier"] = tier
    return cost_from_price_data(usage, vendor, response.model, when, context)


def cost_from_prices(usage: Usage, prices: Prices) -> Cost | None:
    """The cost of ``usage`` at configured rates (``None`` when they set no ``input``/``output``)."""
    if prices.input is None or prices.output is None or usage.prompt_tokens is None:
        return None
    cached_tokens = usage.cached_tokens or 0
    written_tokens = usage.cache_creation_tokens or 0
    fresh_tokens = max(usage.prompt_tokens - cached_tokens - written_tokens, 0)
    cached_rate = prices.input if prices.cached_input is None else prices.cached_input
    write_rate = prices.input if prices.cache_write is None else prices.cache_write
    fresh = prices.input * fresh_tokens / _MILLION
    cached = cached_rate * cached_tokens / _MILLION
    written = write_rate * written_tokens / _MILLION
    output = prices.output * (usage.completion_tokens or 0) / _MILLION
    return Cost(input=fresh, output=output, cached=cached, cache_write=written, total=fresh + cached + written + output)


def cost_from_price_data(
    usage: Usage, vendor: str, model: str, when: datetime | None = None, context: Mapping[str, str] | None = None
) -> Cost | None:
    """The cost of ``usage`` for ``model`` of ``genai-prices`` provider ``vendor`` at time ``when``.

    ``context`` picks a price variant (``{"service_tier": "flex"}``, ``{"processing": "batch"}``).

    ``None`` when ``genai-prices`` is not installed, has no price for the model, or refuses
    the counts (e.g. more cached tokens than prompt tokens).
    """
    try:
        found = _model_price(vendor, model)
    except ImportError:
        return None
    if found is None:
        _log.debug("no price for %s model %r", vendor, model)
        return None
    provider, entry = found
    if not context and (usage.cached_tokens or 0) + (usage.cache_creation_tokens or 0) <= (usage.prompt_tokens or 0):
        # the common case, ~5 µs instead of ~70 in genai-prices' general calculation (the
        # same numbers: tests/core/test_cost.py checks every such price of the data)
        prices = entry.prices  # one price, or prices by date (then the call's date picks one)
        rates = _token_rates(prices if type(prices) is not list else entry.get_prices(when or datetime.now(tz=UTC)))
        if rates is not None:
            return _token_cost(usage, rates)
    import genai_prices
    from genai_prices.types import calc_unit_price

    counts: dict[str, Any] = {"input_tokens": usage.prompt_tokens, "output_tokens": usage.completion_tokens}
    if usage.cached_tokens:
        counts["cache_read_tokens"] = usage.cached_tokens
    if usage.cache_creation_tokens:
        counts["cache_write_tokens"] = usage.cache_creation_tokens
    try:
        price = entry.calc_price(
            genai_prices.Usage(**counts),
            provider,
            genai_request_timestamp=when or datetime.now(tz=UTC),
            auto_update_timestamp=None,
            price_context=context or None,
        )
    except (LookupError, ValueError) as error:
        _log.debug("no price for %s model %r: %s", vendor, model, error)
        return None
    rates = price.model_price
    prompt = usage.prompt_tokens or 0
    cached = calc_unit_price(rates.cache_read_mtok, counts.get("cache_read_tokens"), prompt, 1_000_000)
    written = calc_unit_price(rates.cache_write_mtok, counts.get("cache_write_tokens"), prompt, 1_000_000)
    return Cost(
        input=price.input_price - cached - written,
        output=price.output_price,
        cached=cached,
        cache_write=written,
        total=price.total_price,
    )
