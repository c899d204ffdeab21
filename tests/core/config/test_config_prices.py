"""Profile ``prices:``: flat and per-model rates as exact decimals; errors with key paths."""

from __future__ import annotations

from decimal import Decimal

import pytest
from chatpipe.models import Prices

BASE = "profiles:\n  a: {provider: custom, base_url: 'http://127.0.0.1:9/v1', prices: %s}\n"


def test_flat_and_per_model_rates_are_read(parse):
    body = "{input: 0.15, output: 0.6, cached_input: 0.075, models: {big: {input: '${RATE}', output: 3}}}"
    config = parse(BASE % body, env={"RATE": "2.5"})
    prices = config.profiles["a"].prices
    assert prices == Prices(
        input=Decimal("0.15"),
        output=Decimal("0.6"),
        cached_input=Decimal("0.075"),
        models={"big": Prices(input=Decimal("2.5"), output=Decimal("3.0"))},
    )
    assert prices.for_model("big") == prices.models["big"]
    assert prices.for_model(None, "other") is prices


def test_no_prices_and_models_only(parse):
    assert parse("profiles: {a: {provider: openai}}").profiles["a"].prices is None
    only = parse(BASE % "{models: {m: {input: 1, output: 2}}}").profiles["a"].prices
    assert only is not None and only.for_model("n") is None and only.for_model("n", "m") == only.models["m"]


@pytest.mark.parametrize(
    ("body", "where", "says"),
    [
        ("{input: 1}", "profiles.a.prices.output", "give 'input' and 'output' together"),
        ("{input: -1, output: 1}", "profiles.a.prices.input", "non-negative number of USD per million tokens"),
        ("{input: .nan, output: 1}", "profiles.a.prices.input", "non-negative number"),
        ("{input: cheap, output: 1}", "profiles.a.prices.input", "expected a number"),
        ("{inptu: 1, output: 1}", "profiles.a.prices.inptu", "did you mean 'input'?"),
        ("{models: {m: {input: 1}}}", "profiles.a.prices.models.m.output", "a model's rates need 'input' and 'output'"),
        ("{models: {m: {input: 1, output: 1, models: {}}}}", "profiles.a.prices.models.m.models", "unknown key"),
        ("{models: [m]}", "profiles.a.prices.models", "expected a mapping of model id to rates"),
        ("[1, 2]", "profiles.a.prices", "expected a mapping {input, output, cached_input, cache_write, models}"),
    ],
)
def test_bad_prices_are_named_by_key_path(fail, body, where, says):
    message = str(fail(BASE % body))
    assert f"{where}: " in message and says in message, message


def test_a_router_profile_takes_no_prices(fail):
    message = str(
        fail("profiles:\n  a: {provider: openai}\n  r: {route: {targets: [a]}, prices: {input: 1, output: 1}}\n")
    )
    assert "profiles.r.prices" in message, message
