"""Routing ``model`` to a profile (and an optional vendor model id); pipelines built once."""

from __future__ import annotations

import pytest
from chatpipe.config import parse_config
from chatpipe.gateway import GatewayError, Route, Router
from chatpipe.gateway._routing import MAX_MODEL_CHARS

CONFIG = parse_config(
    """
profiles:
  gpt: {provider: openai, model: gpt-4o-mini, api_key: sk-routing-secret-1}
  fw: {provider: openai, model: base}
  fw/accounts: {provider: openai, model: nested}
""",
    env={},
)


@pytest.mark.parametrize(
    ("model", "route"),
    [
        ("gpt", Route("gpt")),
        ("gpt/gpt-4.1", Route("gpt", "gpt-4.1")),
        ("fw/accounts", Route("fw/accounts")),  # a whole-name match wins
        ("fw/llama", Route("fw", "llama")),
        ("fw/accounts/fireworks/models/x", Route("fw/accounts", "fireworks/models/x")),  # longest prefix
        ("gpt/org/model:tag", Route("gpt", "org/model:tag")),
    ],
)
def test_resolve(model, route):
    assert Router(CONFIG).resolve(model) == route


@pytest.mark.parametrize("model", ["nope", "gpt-4o", "gpt/", "other/gpt", ""])
def test_unknown_model_is_404_listing_profiles(model):
    with pytest.raises(GatewayError) as info:
        Router(CONFIG).resolve(model)
    error = info.value
    assert (error.status, error.code, error.param) == (404, "model_not_found", "model")
    assert "gpt, fw, fw/accounts" in error.message


def test_did_you_mean():
    with pytest.raises(GatewayError) as info:
        Router(CONFIG).resolve("gtp")
    assert "Did you mean 'gpt'?" in info.value.message


def test_did_you_mean_for_the_profile_part_of_an_upstream_form():
    with pytest.raises(GatewayError) as info:
        Router(CONFIG).resolve("gtp/gpt-4.1")
    assert info.value.status == 404
    assert "Did you mean 'gpt'?" in info.value.message


def test_model_of_the_limit_is_still_routed():
    model_id = "m" * (MAX_MODEL_CHARS - len("gpt/"))
    assert Router(CONFIG).resolve(f"gpt/{model_id}") == Route("gpt", model_id)


@pytest.mark.parametrize(
    "model",
    [
        "g" * (MAX_MODEL_CHARS + 1),  # a profile-like name
        "gpt/" + "m" * MAX_MODEL_CHARS,  # a known profile, an over-long upstream model id
        "/" * 100_000,  # every character a split point
        "gtp" + "x" * 1_000_000 + "/id",  # what a did-you-mean would have compared in full
    ],
)
def test_over_long_model_is_400_naming_the_limit_without_a_suggestion(model):
    with pytest.raises(GatewayError) as info:
        Router(CONFIG).resolve(model)
    error = info.value
    assert (error.status, error.type, error.code, error.param) == (400, "invalid_request_error", None, "model")
    assert f"model names are at most 256 characters; got {len(model)}" in error.message
    assert "Did you mean" not in error.message
    assert len(error.message) < 300


def test_unknown_model_is_quoted_cut():
    model = "nope-" + "x" * 200
    with pytest.raises(GatewayError) as info:
        Router(CONFIG).resolve(model)
    assert info.value.status == 404
    assert f"{model[:100]!r}…" in info.value.message
    assert model not in info.value.message


def test_pipeline_is_built_once_per_profile():
    built: list[str] = []

    def factory(config, profile):
        built.append(profile)
        return object()

    router = Router(CONFIG, factory=factory)
    first = router.pipeline("gpt")
    assert router.pipeline("gpt") is first
    router.pipeline("fw")
    assert built == ["gpt", "fw"]


def test_pipeline_build_failure_is_500_without_the_key():
    config = parse_config(
        "profiles: {x: {provider: no-such-vendor, api_key: sk-routing-secret-2}}",
        env={},
    )
    with pytest.raises(GatewayError) as info:
        Router(config).pipeline("x")
    error = info.value
    assert (error.status, error.code) == (500, "gateway_misconfigured")
    assert "no-such-vendor" in error.message
    assert "sk-routing-secret-2" not in error.message


def test_profile_secrets_include_key_and_header_values():
    config = parse_config(
        "profiles: {c: {provider: custom, base_url: 'http://h', api_key: sk-abc-12345, headers: {X-Token: tok-98765}}}",
        env={},
    )
    secrets = Router(config).profile_secrets("c")
    assert "sk-abc-12345" in secrets
    assert "tok-98765" in secrets
