"""response.cost: the bundled genai-prices data per vendor, configured prices, None when unknown, no network."""

from __future__ import annotations

import socket
import sys
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import genai_prices
import pytest
from chatpipe import Pipeline
from chatpipe._cost import PRICE_PROVIDERS, cost_of
from chatpipe.config import parse_config
from chatpipe.models import ChatResponse, Choice, Message, Prices, Usage
from chatpipe.registry import default_registry
from chatpipe.testing import FakeResponse, MockTransport

USAGE = Usage(prompt_tokens=12_000, completion_tokens=3_000, cached_tokens=4_000)


def reply(provider: str | None, model: str | None, usage: Usage | None = USAGE, **kwargs: Any) -> ChatResponse:
    choice = Choice(index=0, message=Message(role="assistant", content="hi"), finish_reason="stop")
    return ChatResponse(id="r", model=model, choices=(choice,), usage=usage, provider=provider, **kwargs)


def package_price(vendor: str, model: str, usage: Usage) -> Any:
    counts = {"input_tokens": usage.prompt_tokens, "output_tokens": usage.completion_tokens}
    if usage.cached_tokens:
        counts["cache_read_tokens"] = usage.cached_tokens
    if usage.cache_creation_tokens:
        counts["cache_write_tokens"] = usage.cache_creation_tokens
    return genai_prices.calc_price(genai_prices.Usage(**counts), model, provider_id=vendor)


@pytest.mark.parametrize("provider", sorted(PRICE_PROVIDERS))
def test_the_default_model_of_each_priced_vendor_costs_what_the_price_data_says(provider: str) -> None:
    info = default_registry().provider(provider).info
    assert info.name == provider, "the mapping is keyed by the provider's registered name"
    usage = Usage(prompt_tokens=12_000, completion_tokens=3_000)
    cost = reply(provider, info.default_model, usage).cost
    expected = package_price(PRICE_PROVIDERS[provider], info.default_model, usage)
    assert cost is not None and cost.currency == "USD"
    assert cost.total == expected.total_price > 0
    assert cost.input + cost.cached + cost.cache_write == expected.input_price
    assert cost.output == expected.output_price


def test_cached_tokens_are_priced_at_the_cache_read_rate() -> None:
    cost = reply("openai", "gpt-4o-mini", USAGE).cost
    rates = package_price("openai", "gpt-4o-mini", USAGE).model_price
    assert rates.cache_read_mtok < rates.input_mtok, "the test needs a model whose cache reads are cheaper"
    assert cost is not None
    assert cost.cached == rates.cache_read_mtok * 4_000 / 1_000_000
    assert cost.input == rates.input_mtok * 8_000 / 1_000_000
    uncached = reply("openai", "gpt-4o-mini", Usage(prompt_tokens=12_000, completion_tokens=3_000)).cost
    assert uncached is not None and uncached.total > cost.total


def test_claude_cache_writes_are_priced_apart() -> None:
    usage = Usage(prompt_tokens=10_000, completion_tokens=100, cached_tokens=2_000, cache_creation_tokens=3_000)
    cost = reply("claude", "claude-sonnet-4-5", usage, created=1_760_000_000).cost
    rates = package_price("anthropic", "claude-sonnet-4-5", usage).model_price
    assert cost is not None  # the rates are tiered by prompt size: 10,000 tokens pay the base rates
    assert cost.cache_write == rates.cache_write_mtok.base * 3_000 / 1_000_000 > 0
    assert cost.cached == rates.cache_read_mtok.base * 2_000 / 1_000_000 > 0
    assert cost.input == rates.input_mtok.base * 5_000 / 1_000_000


SHAPES = (
    Usage(prompt_tokens=12_000, completion_tokens=3_000),
    Usage(prompt_tokens=12_000, completion_tokens=3_000, cached_tokens=4_000),
    Usage(prompt_tokens=10_000, completion_tokens=100, cached_tokens=2_000, cache_creation_tokens=3_000),
    Usage(prompt_tokens=0, completion_tokens=0),
    Usage(prompt_tokens=300_000, completion_tokens=2_000, cached_tokens=100_000, cache_creation_tokens=50_000),
    Usage(prompt_tokens=200_000, completion_tokens=2_000),  # a tier's start: not past it
)


def test_token_rates_cost_exactly_what_genai_prices_computes_for_every_model(monkeypatch: pytest.MonkeyPatch) -> None:
    # chatpipe prices a model whose price is per-token rates (flat or tiered) itself, a few µs
    # instead of ~70; for every such model of every priced vendor, the numbers must be the
    # package's own, below, at and above the tiers (200,000 tokens is a usual start)
    from chatpipe import _cost
    from genai_prices import data_snapshot

    def slow(usage: Usage, vendor: str, model: str) -> Any:
        with monkeypatch.context() as patched:
            patched.setattr(_cost, "_token_rates", lambda price: None)
            return _cost.cost_from_price_data(usage, vendor, model)

    priced = tiered = 0
    for vendor in sorted(set(PRICE_PROVIDERS.values())):
        (provider,) = [p for p in data_snapshot.get_snapshot().providers if p.id == vendor]
        for model in provider.models:
            found = _cost._model_price(vendor, model.id)
            if found is None or found[1] is not model:  # (an id its own match rules do not take)
                continue
            rates = _cost._token_rates(model.get_prices(datetime.now(tz=UTC)))
            if rates is None:
                continue
            priced += 1
            tiered += any(not isinstance(rate, Decimal) for rate in rates)
            for usage in SHAPES:
                assert _cost.cost_from_price_data(usage, vendor, model.id) == slow(usage, vendor, model.id), (
                    f"{vendor} {model.id} {usage}"
                )
    assert priced > 100 and tiered > 5, f"{priced} models with token rates, {tiered} tiered: has the data changed?"


def test_other_units_and_price_variants_take_genai_prices_own_calculation(monkeypatch: pytest.MonkeyPatch) -> None:
    from chatpipe import _cost
    from genai_prices.types import ModelPrice

    fee = ModelPrice(input_mtok=Decimal(1), output_mtok=Decimal(2), requests_kcount=Decimal(5))
    assert _cost._token_rates(fee) is None  # a per-request fee
    assert _cost._token_rates(ModelPrice(input_mtok=Decimal(1), output_mtok=Decimal(2))) is not None
    rated: list[object] = []
    original = _cost._token_rates
    monkeypatch.setattr(_cost, "_token_rates", lambda price: rated.append(price) or original(price))
    standard, batch = reply("openai", "gpt-4o-mini").cost, cost_of(reply("openai", "gpt-4o-mini"), batch=True)
    assert standard is not None and batch is not None and batch.total < standard.total  # the batch variant
    assert len(rated) == 1, "a price variant (batch, a service tier) is left to genai-prices"


def test_unknown_model_provider_or_usage_costs_none() -> None:
    assert reply("openai", "no-such-model-xyz").cost is None
    assert reply("custom", "gpt-4o-mini").cost is None, "a custom endpoint is not priced as a vendor"
    assert reply("local", "smollm2").cost is None
    assert reply(None, "gpt-4o-mini").cost is None
    assert reply("openai", None).cost is None
    assert reply("openai", "gpt-4o-mini", None).cost is None
    assert reply("openai", "gpt-4o-mini", Usage(prompt_tokens=5)).cost is None
    impossible = Usage(prompt_tokens=10, completion_tokens=1, cached_tokens=50)
    assert reply("openai", "gpt-4o-mini", impossible).cost is None, "counts the data refuses are no price"


def test_configured_prices_replace_the_price_data() -> None:
    prices = Prices(input=Decimal("0.5"), output=Decimal("1.5"), cached_input=Decimal("0.05"))
    cost = reply("openai", "gpt-4o-mini", prices=prices).cost
    assert cost is not None
    assert cost.input == Decimal("0.5") * 8_000 / 1_000_000
    assert cost.cached == Decimal("0.05") * 4_000 / 1_000_000
    assert cost.output == Decimal("1.5") * 3_000 / 1_000_000
    assert cost.total == cost.input + cost.cached + cost.output
    assert cost.to_dict() == {
        "input": 0.004,
        "cached": 0.0002,
        "cache_write": 0.0,
        "output": 0.0045,
        "total": 0.0087,
        "currency": "USD",
    }
    flat = Prices(input=Decimal(2), output=Decimal(4))
    written = Usage(prompt_tokens=1_000, completion_tokens=0, cached_tokens=100, cache_creation_tokens=300)
    plain = reply("custom", "m", written, prices=flat).cost
    assert plain is not None, "unset cache rates are the input rate"
    assert (plain.input, plain.cached, plain.cache_write) == (Decimal("0.0012"), Decimal("0.0002"), Decimal("0.0006"))


def test_batch_rates_come_from_the_price_data_variant() -> None:
    response = reply("openai", "gpt-4o-mini")
    batch = cost_of(response, batch=True)
    standard = response.cost
    assert batch is not None and standard is not None
    assert batch.total < standard.total


def test_computing_a_cost_opens_no_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("a cost computation tried to connect")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert reply("mistral", "mistral-small-latest").cost is not None
    assert reply("openai", "no-such-model-xyz").cost is None


def test_without_genai_prices_the_cost_is_none_unless_prices_are_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    from chatpipe import _cost

    _cost._model_price.cache_clear()  # (the entries earlier tests found)
    monkeypatch.setitem(sys.modules, "genai_prices", None)  # import genai_prices now raises ImportError
    monkeypatch.setitem(sys.modules, "genai_prices.data_snapshot", None)
    assert reply("openai", "gpt-4o-mini").cost is None
    assert reply("openai", "gpt-4o-mini", prices=Prices(input=Decimal(1), output=Decimal(1))).cost is not None


def test_the_cost_is_computed_once_per_reply(monkeypatch: pytest.MonkeyPatch) -> None:
    from chatpipe import _cost

    calls: list[object] = []
    original = _cost.cost_from_price_data
    monkeypatch.setattr(_cost, "cost_from_price_data", lambda *a, **k: calls.append(a) or original(*a, **k))
    response = reply("openai", "gpt-4o-mini")
    assert response.cost is response.cost
    assert len(calls) == 1


def test_the_price_entry_of_a_model_is_looked_up_once_and_a_miss_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    from chatpipe import _cost
    from genai_prices import data_snapshot

    _cost._model_price.cache_clear()
    snapshot = data_snapshot.get_snapshot()
    lookups: list[str] = []
    original = snapshot.find_provider_model
    monkeypatch.setattr(snapshot, "find_provider_model", lambda m, *a: lookups.append(m) or original(m, *a))
    for _ in range(3):
        assert reply("openai", "gpt-4o-mini").cost is not None
        assert reply("openai", "no-such-model-xyz").cost is None
    assert sorted(lookups) == ["gpt-4o-mini", "no-such-model-xyz"]
    _cost._model_price.cache_clear()


COMPLETION = {
    "id": "c",
    "object": "chat.completion",
    "model": "my-model",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 2_000_000, "completion_tokens": 1_000_000, "total_tokens": 3_000_000},
}

CONFIG = """
profiles:
  flat:
    provider: custom
    base_url: http://127.0.0.1:9/v1
    model: my-model
    prices: {input: 0.5, output: 1.5}
  listed:
    provider: custom
    base_url: http://127.0.0.1:9/v1
    model: other
    prices: {input: 0.5, output: 1.5, models: {my-model: {input: 3, output: 7}}}
  only-listed:
    provider: custom
    base_url: http://127.0.0.1:9/v1
    model: other
    prices: {models: {elsewhere: {input: 3, output: 7}}}
"""


@pytest.mark.parametrize(
    ("profile", "total"),
    [("flat", Decimal("2.5")), ("listed", Decimal("13")), ("only-listed", None)],
)
def test_a_custom_profile_with_configured_prices(profile: str, total: Decimal | None) -> None:
    transport = MockTransport(lambda request: FakeResponse.json(COMPLETION))
    with Pipeline.from_config(profile, config=parse_config(CONFIG), transport=transport) as pipe:
        response = pipe.complete([{"role": "user", "content": "Hi"}])
    cost = response.cost
    assert (None if cost is None else cost.total) == total


def test_a_streamed_reply_carries_the_profile_prices() -> None:
    chunks = [
        {
            "id": "s",
            "model": "my-model",
            "choices": [{"index": 0, "delta": {"content": "ok"}, "finish_reason": "stop"}],
        },
        {"id": "s", "model": "my-model", "choices": [], "usage": COMPLETION["usage"]},
    ]
    transport = MockTransport(lambda request: FakeResponse.sse(chunks))
    with Pipeline.from_config("listed", config=parse_config(CONFIG), transport=transport) as pipe:
        stream = pipe.stream([{"role": "user", "content": "Hi"}])
        assert stream.collect().cost is not None
        assert stream.response.prices == Prices(input=Decimal(3), output=Decimal(7))


def test_genai_prices_is_imported_only_when_a_cost_is_computed() -> None:
    import subprocess

    code = (
        "import sys\n"
        "from chatpipe import Pipeline\n"
        "from chatpipe.models import ChatResponse, Usage\n"
        "import chatpipe.config, chatpipe.batch, chatpipe._cost\n"
        "r = ChatResponse(id=None, model='gpt-4o-mini', choices=(), usage=Usage(1, 1), provider='openai')\n"
        "assert 'genai_prices' not in sys.modules, 'imported before any cost'\n"
        "assert r.cost is not None and 'genai_prices' in sys.modules\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
